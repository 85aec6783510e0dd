// One pass at a time: an exclusive flock() on a file beside the state file. The kernel drops the
// lock when the process dies, however it dies, so a crashed pass never blocks the next one and the
// next pass knows that any image still "uploading" belongs to a dead pass.
#pragma once

#include "util/fs.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace imgsync::storage {

class PassLock {
  public:
    struct Holder {
        long pid = 0;
        std::string started_at; // ISO 8601, as the holder wrote it
    };
    // Takes the lock, or fails with a message naming the current holder ("another pass holds
    // the lock (pid N, started T); ..."), for the caller's Error(locked). With `wait`, blocks
    // until the lock is free (up to wait_seconds; 0 = no limit). A lock file that cannot be used
    // throws Error(state_error).
    static util::Result<PassLock> acquire(const std::string& lock_path, bool wait,
                                          double wait_seconds, const std::string& started_at);
    // The holder as its line in the lock file says ("PID STARTED_AT").
    static Holder parse_holder(std::string_view line);
    static std::string path_for(const std::string& db_path) { return db_path + ".lock"; }

  private:
    explicit PassLock(util::UniqueFd fd) : fd_(std::move(fd)) {}
    util::UniqueFd fd_;
};

} // namespace imgsync::storage
