#include "util/walk_ahead.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace imgsync::util {

namespace {

struct Stopped {}; // thrown through walk_tree when the caller went away

} // namespace

WalkAhead::WalkAhead(std::string root, EnterDir enter)
    : thread_([this, root = std::move(root), enter = std::move(enter)] { run(root, enter); }) {}

WalkAhead::~WalkAhead() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void WalkAhead::push(std::vector<Entry>&& chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return stop_ || chunks_.size() < chunks_ahead; });
    if (stop_) {
        throw Stopped{};
    }
    chunks_.push_back(std::move(chunk));
    lock.unlock();
    changed_.notify_all();
}

void WalkAhead::run(const std::string& root, const EnterDir& enter) {
    std::vector<Entry> chunk;
    chunk.reserve(chunk_entries);
    const std::string prefix = root.empty() || root.back() != '/' ? root + '/' : root;
    const std::size_t root_len = prefix.size();
    Result<void> walked{};
    std::exception_ptr error;
    try {
        auto flush = [&] {
            push(std::move(chunk));
            chunk = std::vector<Entry>();
            chunk.reserve(chunk_entries);
        };
        walked = walk_tree(
            root,
            [&](const WalkEntry& e) {
                Entry out{e.kind == EntryKind::regular   ? Entry::Kind::regular
                          : e.kind == EntryKind::symlink ? Entry::Kind::symlink
                                                         : Entry::Kind::other,
                          e.path, root_len};
                if (e.kind == EntryKind::regular) {
                    struct stat st {};
                    if (::fstatat(e.dir_fd, e.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        out.size = static_cast<std::uint64_t>(st.st_size);
                        out.inode = static_cast<std::uint64_t>(st.st_ino);
                        out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                                       st.st_mtim.tv_nsec;
                        out.stat_ok = true;
                    }
                }
                chunk.push_back(std::move(out));
                if (chunk.size() == chunk_entries) {
                    flush();
                }
            },
            enter ? EnterDir([&](std::string_view relative) {
                if (enter(relative)) {
                    return true;
                }
                chunk.push_back(
                    Entry{Entry::Kind::pruned, prefix + std::string(relative), root_len});
                if (chunk.size() == chunk_entries) {
                    flush();
                }
                return false;
            })
                  : EnterDir());
        if (!chunk.empty()) {
            flush();
        }
    } catch (const Stopped&) {
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        result_ = std::move(walked);
        error_ = error;
        done_ = true;
    }
    changed_.notify_all();
}

bool WalkAhead::next(std::vector<Entry>& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return done_ || !chunks_.empty(); });
    if (!chunks_.empty()) {
        out = std::move(chunks_.front());
        chunks_.pop_front();
        lock.unlock();
        changed_.notify_all();
        return true;
    }
    if (error_) {
        std::rethrow_exception(error_);
    }
    return false;
}

} // namespace imgsync::util
