// walk_tree on a thread of its own, ahead of its caller: the walk (getdents64 and one fstatat per
// file, under the directory it has open) and what the caller does with each file (look-ups in a
// database, say) run on two cores instead of one. Entries come back in walk order, in chunks,
// at most a bounded number of them ahead (the memory bound). The enter predicate runs on the
// walking thread. Generic: nothing here knows about images.
#pragma once

#include "util/dir_walk.hpp"
#include "util/result.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace imgsync::util {

class WalkAhead {
  public:
    struct Entry {
        enum class Kind { regular, symlink, other, pruned }; // pruned: enter() said no
        Kind kind;
        std::string path;          // root, "/", then the names below it
        std::size_t relative_at;   // where the part below root starts in `path`
        std::uint64_t size = 0;    // regular files, when `stat_ok`: lstat's size and mtime
        std::int64_t mtime_ns = 0; // taken when the file was listed
        std::uint64_t inode = 0;
        bool stat_ok = false;
        std::string_view relative() const { return std::string_view(path).substr(relative_at); }
    };

    // Starts walking `root` (as walk_tree does, links never followed).
    WalkAhead(std::string root, EnterDir enter);
    ~WalkAhead(); // stops the walk if it is not done, and waits for the thread
    WalkAhead(const WalkAhead&) = delete;
    WalkAhead& operator=(const WalkAhead&) = delete;

    // The next entries in walk order into `out` (replacing what it held); false once the walk
    // is over and every entry was handed out. Rethrows what the walk threw.
    bool next(std::vector<Entry>& out);
    // After next() returned false: walk_tree's result.
    const Result<void>& result() const { return result_; }

    static constexpr std::size_t chunk_entries = 256;
    static constexpr std::size_t chunks_ahead = 16;

  private:
    void run(const std::string& root, const EnterDir& enter);
    void push(std::vector<Entry>&& chunk);

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::vector<Entry>> chunks_;
    bool done_ = false, stop_ = false;
    Result<void> result_{};
    std::exception_ptr error_;
    std::thread thread_; // last: started once the rest exists
};

} // namespace imgsync::util
