#include "util/fs.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::util {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset(other.release());
    }
    return *this;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

Result<void> make_dirs(const std::string& path, unsigned mode) {
    if (path.empty()) {
        return {};
    }
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) {
            continue;
        }
        if (::mkdir(partial.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
            return util::fail(
                fmt::format("cannot create directory {}: {}", partial, std::strerror(errno)));
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return util::fail(fmt::format("{} is not a directory", path));
    }
    return {};
}

namespace {

// Removes the temporary file unless it was renamed into place.
struct TempFile {
    std::string path;
    bool keep = false;
    ~TempFile() {
        if (!path.empty() && !keep) {
            ::unlink(path.c_str());
        }
    }
};

std::string errno_text(int err) {
    return std::strerror(err);
}

} // namespace

std::string file_kind(unsigned st_mode) {
    switch (st_mode & S_IFMT) {
    case S_IFREG:
        return "a regular file";
    case S_IFLNK:
        return "a symbolic link";
    case S_IFDIR:
        return "a directory";
    case S_IFIFO:
        return "a FIFO";
    case S_IFSOCK:
        return "a socket";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    default:
        return "not a regular file";
    }
}

int write_all(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        if (n == 0) {
            return ENOSPC;
        }
        done += static_cast<std::size_t>(n);
    }
    return 0;
}

Result<void> write_file_atomic(const std::string& path, std::string_view content, unsigned mode) {
    TempFile tmp;
    std::string name = path + ".tmp.XXXXXX";
    UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd) {
        return util::fail(
            fmt::format("cannot create a temporary file for {}: {}", path, errno_text(errno)));
    }
    tmp.path = name;
    auto failed = [&](const char* step) {
        return util::fail(
            fmt::format("cannot write {} ({} {}): {}", path, step, tmp.path, errno_text(errno)));
    };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
        return failed("chmod");
    }
    if (int err = write_all(fd.get(), content)) {
        errno = err;
        return failed("write");
    }
    if (::fsync(fd.get()) != 0) {
        return failed("fsync");
    }
    if (::close(fd.release()) != 0) {
        return failed("close");
    }
    if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
        return util::fail(
            fmt::format("cannot rename {} to {}: {}", tmp.path, path, errno_text(errno)));
    }
    tmp.keep = true;
    // The rename itself survives a power loss only once the directory is on disk. Best effort:
    // the file is complete either way.
    UniqueFd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) {
        (void)::fsync(dir.get());
    }
    return {};
}

Result<UniqueFd> open_regular_file(const std::string& path, const std::string& what,
                                   const std::string& hint, unsigned mode, bool writable) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
    int access = writable ? O_RDWR : O_RDONLY;
    UniqueFd fd(::open(path.c_str(), access | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                       static_cast<mode_t>(mode)));
    if (!fd) {
        int err = errno;
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            return util::fail(
                fmt::format("{} {} is {}, not a regular file: imgsync does not follow or use "
                            "it ({})",
                            what, path, file_kind(st.st_mode), hint));
        }
        return util::fail(fmt::format("cannot open {} {}: {}", what, path, errno_text(err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return util::fail(fmt::format("cannot open {} {}: {}", what, path, errno_text(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
        return util::fail(
            fmt::format("{} {} is {}, not a regular file: imgsync does not use it ({})", what, path,
                        file_kind(st.st_mode), hint));
    }
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) {
        (void)::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    }
    return fd;
}

Result<std::optional<std::string>> read_text_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            return std::optional<std::string>();
        }
        return util::fail(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::fail(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return std::optional<std::string>(std::move(out));
}

std::string parent_dir(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) {
        return ".";
    }
    if (slash == 0) {
        return "/";
    }
    return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<FileStat> stat_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return std::nullopt;
    }
    return file_stat(st);
}

FileStat file_stat(const struct stat& st) {
    FileStat out;
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    out.mode = st.st_mode;
    out.links = static_cast<std::uint64_t>(st.st_nlink);
    out.inode = static_cast<std::uint64_t>(st.st_ino);
    return out;
}

long long read_at(int fd, void* buf, std::size_t size, std::uint64_t offset,
                  std::uint64_t expected_end) {
    std::size_t done = 0;
    auto* p = static_cast<char*>(buf);
    while (done < size) {
        ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
        if (offset + done == expected_end) {
            break;
        }
    }
    return static_cast<long long>(done);
}

} // namespace imgsync::util
