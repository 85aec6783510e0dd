// The pass's writes to the state file, in batches: one transaction takes writes until 64 of them
// or 250 ms have gone by, so that thousands of small uploads a minute cost a few commits a
// second, and a crash loses at most the last quarter second (the next pass recovers those
// images as orphans and uploads them again: same key, same bytes). The store decides what a
// batch is (Store::begin_batch): on PostgreSQL each write commits on its own, and the batch only
// paces when the single PUTs confirmed meanwhile are written, in one statement.
#pragma once

#include "storage/store.hpp"

namespace imgsync::core::pass {

// Pure: whether a transaction opened at `opened_at` holding `writes` writes is due at `now`.
bool commit_due(int writes, double opened_at, double now);

// Pure: whether the pass writes its number of requests in flight (Store::set_run_requests) at
// `now`, having last written `reported` at `reported_at`: when the number changed, at most once
// a second, so that status is about a second behind and the state file gains one small write a
// second at most.
bool requests_report_due(std::int64_t reported, std::int64_t current, double reported_at,
                         double now);

class WriteBatch {
  public:
    explicit WriteBatch(storage::Store& store) : store_(store) {}
    WriteBatch(const WriteBatch&) = delete;
    WriteBatch& operator=(const WriteBatch&) = delete;
    ~WriteBatch() {
        if (open_) {
            store_.rollback_batch();
        }
    }

    // Runs f inside the open batch, opening one at `now` if there is none.
    template <typename F> void write(double now, F&& f) {
        if (!open_) {
            store_.begin_batch();
            open_ = true;
            opened_at_ = now;
            writes_ = 0;
        }
        f();
        ++writes_;
    }
    bool open() const { return open_; }
    bool due(double now) const { return open_ && commit_due(writes_, opened_at_, now); }
    void commit() {
        if (open_) {
            store_.commit_batch();
            open_ = false;
        }
    }

  private:
    storage::Store& store_;
    bool open_ = false;
    double opened_at_ = 0;
    int writes_ = 0;
};

} // namespace imgsync::core::pass
