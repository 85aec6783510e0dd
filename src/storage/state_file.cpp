#include "storage/state_file.hpp"

#include "util/error.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::storage {

namespace {

// SQLite would open a file it cannot write read-only, or fail later with "unable to open database
// file" when it cannot create -wal and -shm beside it. Say which it is, before anything is read.
void require_writable(const std::string& path) {
    if (::access(path.c_str(), W_OK) != 0) {
        int err = errno;
        throw Error(ExitCode::state_error,
                    err == EROFS ? fmt::format("state file {} is on a read-only file system "
                                               "(imgsync writes it; remount it read-write or "
                                               "use --db)",
                                               path)
                                 : fmt::format("state file {} is not writable: {}", path,
                                               std::strerror(err)));
    }
    std::string dir = util::parent_dir(path);
    if (::access(dir.c_str(), W_OK) != 0) {
        int err = errno;
        throw Error(ExitCode::state_error,
                    fmt::format("directory {} of the state file is not writable ({}); SQLite "
                                "keeps {}-wal and -shm there",
                                dir, std::strerror(err), util::base_name(path)));
    }
}

// Takes the permission bits in `mask` away from `path` (if it exists and is a regular file) and
// records the change; refuses to go on when that is not allowed.
//
// This runs while SQLite has the files open. POSIX record locks belong to the process, and
// closing any descriptor of a file drops every one of them, which would let another process
// reset the WAL index under this one. An O_PATH descriptor is the exception (closing it leaves
// locks alone), so the file is looked at through one and changed through its /proc name, which
// names the same inode without following a link at `path`.
void take_permissions(const std::string& path, unsigned mask, std::vector<ModeFix>& fixes) {
    util::UniqueFd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    auto st = fd ? util::stat_fd(fd.get()) : std::nullopt;
    if (!st || !S_ISREG(st->mode) || (st->mode & mask) == 0) {
        return;
    }
    unsigned was = st->mode & 07777;
    unsigned now = was & ~mask;
    std::string self = fmt::format("/proc/self/fd/{}", fd.get());
    if (::chmod(self.c_str(), static_cast<mode_t>(now)) != 0) {
        throw Error(ExitCode::state_error,
                    fmt::format("state file {} is open to others (mode {:04o}) and imgsync "
                                "cannot change that: {} (chmod {:o} it as its owner)",
                                path, was, std::strerror(errno), now));
    }
    fixes.push_back({path, was, now});
}

} // namespace

bool check_state_file(const std::string& path) {
    // Read-only: only to look at it; SQLite opens it itself.
    const util::UniqueFd fd =
        util::open_regular_file(path, "state file", "point --db at the file itself", 0600, false)
            .or_throw(ExitCode::state_error);
    require_writable(path);
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        std::string side = path + suffix;
        struct stat st {};
        if (::lstat(side.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            throw Error(ExitCode::state_error,
                        fmt::format("{} beside the state file is {}, not a regular file: "
                                    "imgsync does not follow or use it (remove it)",
                                    side, util::file_kind(st.st_mode)));
        }
    }
    auto st = util::stat_fd(fd.get());
    return st && st->size == 0;
}

void make_state_private(const std::string& path, bool fresh, std::vector<ModeFix>& fixes) {
    unsigned mask = fresh ? 077 : 007;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        take_permissions(path + suffix, mask, fixes);
    }
}

} // namespace imgsync::storage
