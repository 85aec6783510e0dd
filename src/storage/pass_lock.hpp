// One pass at a time: an exclusive flock() on a file beside the state file. The kernel drops the
// lock when the process dies, however it dies, so a crashed pass never blocks the next one and the
// next pass knows that any image still "uploading" belongs to a dead pass.
#pragma once

#include "util/fs.hpp"

#include <optional>
#include <string>

namespace imgsync::storage {

class PassLock {
  public:
    struct Holder {
        long pid = 0;
        std::string started_at; // ISO 8601, as the holder wrote it
    };
    // Takes the lock or returns nullopt with the current holder in *holder. With `wait`, blocks
    // until the lock is free (up to wait_seconds; 0 = no limit).
    static std::optional<PassLock> acquire(const std::string& lock_path, bool wait,
                                           double wait_seconds, const std::string& started_at,
                                           Holder* holder);
    static std::string path_for(const std::string& db_path) { return db_path + ".lock"; }

  private:
    explicit PassLock(util::UniqueFd fd) : fd_(std::move(fd)) {}
    util::UniqueFd fd_;
};

} // namespace imgsync::storage
