// The filesystem edge: file descriptors, private directories, atomic writes.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace imgsync::util {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

// mkdir -p with `mode` for the directories it creates.
Result<void> make_dirs(const std::string& path, unsigned mode);

// Writes a file by writing a temporary file beside it and renaming it over the target, so readers
// (node_exporter's textfile collector) never see half a file. The one way the program writes a
// file atomically:
// - the temporary file is `path` + ".tmp." + six random characters, created by mkostemp (O_EXCL):
//   nothing planted in the directory beforehand (a link at a guessable name) is followed or reused;
// - it gets exactly `mode` (fchmod, whatever the umask), is fsynced, renamed over `path`, and the
//   directory is fsynced;
// - a symbolic link at `path` is replaced by the new file; the file it pointed to is not touched.
// A failure names the file; on failure no temporary file is left.
Result<void> write_file_atomic(const std::string& path, std::string_view content,
                               unsigned mode = 0644);

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0, or the errno of the
// write that failed (ENOSPC for a write that wrote nothing).
int write_all(int fd, std::string_view data);

// Opens `path` (read-write, or read-only with `writable` false), creating it with `mode` if it
// does not exist, but only as a regular file: a symbolic link there is not followed (O_NOFOLLOW;
// a dangling one creates nothing), and a directory, FIFO, socket or device is refused before
// anything is read or written. `what` names the file in the error ("lock file"), `hint` ends it
// ("remove it").
Result<UniqueFd> open_regular_file(const std::string& path, const std::string& what,
                                   const std::string& hint, unsigned mode, bool writable = true);

// "a symbolic link", "a directory", "a FIFO", ... for a st_mode; "a regular file" for one.
std::string file_kind(unsigned st_mode);

// Reads a whole small file (configuration, credentials): its text, nullopt when it does not
// exist, or a failure naming the file when it exists but cannot be read.
Result<std::optional<std::string>> read_text_file(const std::string& path);

std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

struct FileStat {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    unsigned mode = 0;
    std::uint64_t links = 1;
    std::uint64_t inode = 0;
};
// What fstat(2) or lstat(2) gave, as a FileStat.
FileStat file_stat(const struct stat& st);
std::optional<FileStat> stat_fd(int fd);

// pread() until `size` bytes or EOF; returns bytes read or -1 (errno set). With `expected_end`
// (the size fstat gave), a short read that ends there is taken as the end too: a regular file
// reads short only at its end, and confirming that with one more pread costs a system call.
long long read_at(int fd, void* buf, std::size_t size, std::uint64_t offset,
                  std::uint64_t expected_end = UINT64_MAX);

} // namespace imgsync::util
