// The pass's writes to the state file, in batches: one transaction takes writes until 64 of them
// or 250 ms have gone by, so that thousands of small uploads a minute cost a few commits a
// second, and a crash loses at most the last quarter second (the next pass recovers those
// images as orphans and uploads them again: same key, same bytes).
#pragma once

#include "storage/sqlite.hpp"

#include <optional>

namespace imgsync::core::pass {

// Pure: whether a transaction opened at `opened_at` holding `writes` writes is due at `now`.
bool commit_due(int writes, double opened_at, double now);

class WriteBatch {
  public:
    explicit WriteBatch(storage::Database& db) : db_(db) {}

    // Runs f inside the open transaction, opening one at `now` if there is none.
    template <typename F> void write(double now, F&& f) {
        if (!txn_) {
            txn_.emplace(db_);
            opened_at_ = now;
            writes_ = 0;
        }
        f();
        ++writes_;
    }
    bool open() const { return txn_.has_value(); }
    bool due(double now) const { return txn_ && commit_due(writes_, opened_at_, now); }
    void commit() {
        if (txn_) {
            txn_->commit();
            txn_.reset();
        }
    }

  private:
    storage::Database& db_;
    std::optional<storage::Transaction> txn_;
    double opened_at_ = 0;
    int writes_ = 0;
};

} // namespace imgsync::core::pass
