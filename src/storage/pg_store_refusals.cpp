// The PostgreSQL backend's remembered refusals (schema version 4): files add refused, with the
// size and mtime they had, so that a later add skips them while they stay the same.
#include "storage/pg_store.hpp"

#include <algorithm>

namespace imgsync::storage {

namespace {

#define REFUSAL_COLUMNS "path, size, mtime_ns, reason, first_seen, last_seen, host_id"

Refusal read_refusal(const PgResult& r, int row) {
    Refusal out;
    out.path = r.text(row, 0);
    out.size = static_cast<std::uint64_t>(r.int64(row, 1));
    out.mtime_ns = r.int64(row, 2);
    out.reason = r.text(row, 3);
    out.first_seen = r.int64(row, 4);
    out.last_seen = r.int64(row, 5);
    out.host_id = r.text(row, 6);
    return out;
}

} // namespace

std::optional<Refusal> PgStore::find_refusal(const std::string& path) {
    auto r =
        db_.run("SELECT " REFUSAL_COLUMNS " FROM refusals WHERE path = $1", PgParams().add(path));
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return read_refusal(r, 0);
}

void PgStore::remember_refusal(const Refusal& refusal, std::int64_t now) {
    db_.run("INSERT INTO refusals (" REFUSAL_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $5, $6) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, reason = excluded.reason, "
            "last_seen = excluded.last_seen, host_id = excluded.host_id",
            PgParams()
                .add(refusal.path)
                .add(static_cast<std::int64_t>(refusal.size))
                .add(refusal.mtime_ns)
                .add(refusal.reason)
                .add(now)
                .add(refusal.host_id));
}

void PgStore::drop_refusal(const std::string& path) {
    db_.run("DELETE FROM refusals WHERE path = $1", PgParams().add(path));
}

std::int64_t PgStore::count_refusals() {
    return db_.exec("SELECT count(*) FROM refusals").int64(0, 0);
}

// In pages by path, as for_each_image pages by id.
void PgStore::for_each_refusal(std::int64_t limit,
                               const std::function<void(const Refusal&)>& visit) {
    std::optional<std::string> after;
    std::int64_t seen = 0;
    constexpr std::int64_t page = 1000;
    for (;;) {
        std::int64_t n = limit < 0 ? page : std::min(page, limit - seen);
        if (n <= 0) {
            return;
        }
        auto r = db_.run("SELECT " REFUSAL_COLUMNS " FROM refusals "
                         "WHERE $1::text IS NULL OR path > $1 ORDER BY path LIMIT $2",
                         PgParams().add(after).add(n));
        for (int i = 0; i < r.rows(); ++i) {
            Refusal refusal = read_refusal(r, i);
            after = refusal.path;
            visit(refusal);
        }
        seen += r.rows();
        if (r.rows() < n) {
            return;
        }
    }
}

bool PgStore::import_refusal(const Refusal& refusal) {
    return db_.run("INSERT INTO refusals (" REFUSAL_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
                   "ON CONFLICT (path) DO NOTHING",
                   PgParams()
                       .add(refusal.path)
                       .add(static_cast<std::int64_t>(refusal.size))
                       .add(refusal.mtime_ns)
                       .add(refusal.reason)
                       .add(refusal.first_seen)
                       .add(refusal.last_seen)
                       .add(refusal.host_id))
               .affected() == 1;
}

int PgStore::forget_refusals() {
    return db_.run("DELETE FROM refusals").affected();
}

#undef REFUSAL_COLUMNS

} // namespace imgsync::storage
