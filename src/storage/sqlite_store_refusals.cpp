// The SQLite backend's remembered refusals (schema version 7): files add refused, with the size
// and mtime they had, so that a later add skips them while they stay the same.
#include "storage/sqlite_store.hpp"

namespace imgsync::storage {

namespace {

Refusal read_refusal(const Statement& s) {
    Refusal r;
    r.path = s.text(0);
    r.size = static_cast<std::uint64_t>(s.int64(1));
    r.mtime_ns = s.int64(2);
    r.reason = s.text(3);
    r.first_seen = s.int64(4);
    r.last_seen = s.int64(5);
    r.host_id = s.text(6);
    return r;
}

} // namespace

std::optional<Refusal> SqliteStore::find_refusal(const std::string& path) {
    auto& s = stmt("SELECT path, size, mtime_ns, reason, first_seen, last_seen, host_id "
                   "FROM refusals WHERE path = ?1");
    s.bind(1, path);
    if (!s.step()) {
        return std::nullopt;
    }
    Refusal r = read_refusal(s);
    s.reset(); // an unfinished SELECT would hold its read snapshot open
    return r;
}

void SqliteStore::remember_refusal(const Refusal& r, std::int64_t now) {
    auto& s = stmt("INSERT INTO refusals (path, size, mtime_ns, reason, first_seen, last_seen, "
                   "host_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (path) DO UPDATE "
                   "SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
                   "reason = excluded.reason, last_seen = excluded.last_seen, "
                   "host_id = excluded.host_id");
    s.bind(1, r.path)
        .bind(2, static_cast<std::int64_t>(r.size))
        .bind(3, r.mtime_ns)
        .bind(4, r.reason)
        .bind(5, now)
        .bind(6, r.host_id);
    s.run();
}

void SqliteStore::drop_refusal(const std::string& path) {
    auto& s = stmt("DELETE FROM refusals WHERE path = ?1");
    s.bind(1, path);
    s.run();
}

std::int64_t SqliteStore::count_refusals() {
    auto& s = stmt("SELECT count(*) FROM refusals");
    s.step();
    std::int64_t n = s.int64(0);
    s.reset();
    return n;
}

void SqliteStore::for_each_refusal(std::int64_t limit,
                                   const std::function<void(const Refusal&)>& visit) {
    auto s = db_.prepare("SELECT path, size, mtime_ns, reason, first_seen, last_seen, host_id "
                         "FROM refusals ORDER BY path LIMIT ?1");
    s.bind(1, limit);
    while (s.step()) {
        visit(read_refusal(s));
    }
}

bool SqliteStore::import_refusal(const Refusal& r) {
    auto& s = stmt("INSERT INTO refusals (path, size, mtime_ns, reason, first_seen, last_seen, "
                   "host_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (path) DO NOTHING");
    s.bind(1, r.path)
        .bind(2, static_cast<std::int64_t>(r.size))
        .bind(3, r.mtime_ns)
        .bind(4, r.reason)
        .bind(5, r.first_seen)
        .bind(6, r.last_seen)
        .bind(7, r.host_id);
    return s.run() == 1;
}

int SqliteStore::forget_refusals() {
    return stmt("DELETE FROM refusals").run();
}

} // namespace imgsync::storage
