#include "util/safe_remove.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace imgsync::util {

namespace {

std::string hidden_name(const std::string& path, const FileStat& expected) {
    return fmt::format("{}/.imgsync-removing-{}", parent_dir(path), expected.inode);
}

// rename(2) that never replaces `to`: RENAME_NOREPLACE, or link(2) and unlink(2) where the file
// system does not take the flag. Returns 0 or the errno.
int rename_noreplace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS) {
        return errno;
    }
    if (::link(from.c_str(), to.c_str()) != 0) {
        return errno;
    }
    if (::unlink(from.c_str()) != 0) {
        int e = errno;
        ::unlink(to.c_str());
        return e;
    }
    return 0;
}

// Copies `path` (which must be `expected`) into a new file beside `dest`, fsynced, with the
// original's mtime and mode, and links it to `dest`.
Result<void> copy_to(const std::string& path, const std::string& dest, const FileStat& expected) {
    UniqueFd in(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) {
        return fail(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    }
    auto st = stat_fd(in.get());
    if (!st || !same_file(*st, expected)) {
        return fail(fmt::format("{} changed while being moved", path));
    }
    const std::string tmp = fmt::format("{}/.imgsync-moving-{}", parent_dir(dest), expected.inode);
    ::unlink(tmp.c_str()); // what a killed move left: ours (if it was linked, dest keeps it)
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(expected.mode & 07777)));
    if (!out) {
        return fail(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
    }
    struct Cleanup { // the temporary name goes whatever happens; once linked, dest keeps the file
        const std::string& tmp;
        ~Cleanup() { ::unlink(tmp.c_str()); }
    } cleanup{tmp};
    std::vector<char> buf(1 << 20);
    std::uint64_t offset = 0;
    while (offset < expected.size) {
        long long n = read_at(in.get(), buf.data(), buf.size(), offset, expected.size);
        if (n <= 0) {
            return fail(fmt::format("cannot read {}: {}", path,
                                    n < 0 ? std::strerror(errno) : "it got shorter"));
        }
        if (int e =
                write_all(out.get(), std::string_view(buf.data(), static_cast<std::size_t>(n)))) {
            return fail(fmt::format("cannot write {}: {}", tmp, std::strerror(e)));
        }
        offset += static_cast<std::uint64_t>(n);
    }
    const struct timespec times[2] = {
        {0, UTIME_OMIT},
        {static_cast<time_t>(expected.mtime_ns / 1000000000), expected.mtime_ns % 1000000000}};
    if (::futimens(out.get(), times) != 0 || ::fsync(out.get()) != 0) {
        return fail(fmt::format("cannot finish {}: {}", tmp, std::strerror(errno)));
    }
    if (::link(tmp.c_str(), dest.c_str()) != 0) {
        return fail(fmt::format("cannot create {}: {}", dest, std::strerror(errno)));
    }
    return {};
}

// After `from` was renamed to `to`: keeps it there (done) when what arrived is `expected`;
// otherwise another file took `from` just before, and it is put back (changed).
Result<Removal> keep_if_same(const std::string& from, const std::string& to,
                             const FileStat& expected, std::string_view doing) {
    auto arrived = lstat_path(to);
    if (arrived && *arrived && same_file(**arrived, expected)) {
        return Removal::done;
    }
    if (int e = rename_noreplace(to, from)) {
        return fail(fmt::format("{} changed while being {}, and cannot be put back from {}: {}",
                                from, doing, to, std::strerror(e)));
    }
    return Removal::changed;
}

} // namespace

Result<std::optional<FileStat>> lstat_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::optional<FileStat>();
        }
        return fail(fmt::format("cannot look at {}: {}", path, std::strerror(errno)));
    }
    return std::optional<FileStat>(file_stat(st));
}

bool same_file(const FileStat& a, const FileStat& b) {
    return a.inode == b.inode && a.size == b.size && a.mtime_ns == b.mtime_ns && S_ISREG(a.mode) &&
           S_ISREG(b.mode);
}

Result<Removal> remove_if_same(const std::string& path, const FileStat& expected) {
    const std::string hidden = hidden_name(path, expected);
    if (int e = rename_noreplace(path, hidden)) {
        return fail(fmt::format("cannot remove {}: {}", path, std::strerror(e)));
    }
    auto kept = keep_if_same(path, hidden, expected, "removed");
    if (!kept || *kept != Removal::done) {
        return kept;
    }
    if (::unlink(hidden.c_str()) != 0) {
        return fail(fmt::format("cannot remove {}: {}", hidden, std::strerror(errno)));
    }
    return Removal::done;
}

Result<bool> remove_leftover(const std::string& path, const FileStat& expected) {
    const std::string hidden = hidden_name(path, expected);
    auto st = lstat_path(hidden);
    if (!st) {
        return fail(st.error());
    }
    if (!*st || !same_file(**st, expected)) {
        return false;
    }
    if (::unlink(hidden.c_str()) != 0) {
        return fail(fmt::format("cannot remove {}: {}", hidden, std::strerror(errno)));
    }
    return true;
}

Result<Removal> move_if_same(const std::string& path, const std::string& dest,
                             const FileStat& expected) {
    if (auto made = make_dirs(parent_dir(dest), 0755); !made) {
        return fail(made.error());
    }
    int e = rename_noreplace(path, dest);
    if (e == 0) {
        return keep_if_same(path, dest, expected, "moved");
    }
    if (e != EXDEV) {
        return fail(fmt::format("cannot move {} to {}: {}", path, dest, std::strerror(e)));
    }
    if (auto copied = copy_to(path, dest, expected); !copied) {
        return fail(copied.error());
    }
    return remove_if_same(path, expected);
}

} // namespace imgsync::util
