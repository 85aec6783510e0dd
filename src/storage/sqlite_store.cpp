#include "storage/sqlite_store.hpp"

#include "storage/sqlite_rows.hpp"
#include "storage/sqlite_schema.hpp"

#include "util/json.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace imgsync::storage {

namespace {

// SQLite creates a database with the process umask and follows a symbolic link: the state file
// is checked (and created 0600) first, see state_file.hpp.
Database open_database(const std::string& path, SqliteStore::Access access, bool& fresh) {
    if (access == SqliteStore::Access::read_only) {
        return Database(path, Database::Mode::read_only);
    }
    fresh = check_state_file(path);
    return Database(path, Database::Mode::read_write_create);
}

core::ImageState read_state(const Statement& s, int column) {
    auto state = core::parse_image_state(s.text(column));
    if (!state) {
        throw Error(ExitCode::state_error,
                    fmt::format("unknown image state '{}' in the state file", s.text(column)));
    }
    return *state;
}

} // namespace

ImageRecord read_sqlite_image(const Statement& s) {
    ImageRecord r;
    r.id = s.int64(0);
    r.path = s.text(1);
    r.key = s.text(2);
    r.size = static_cast<std::uint64_t>(s.int64(3));
    r.mtime_ns = s.int64(4);
    r.sha256 = s.text(5);
    r.md5 = s.text(6);
    r.content_type = s.text(7);
    r.state = read_state(s, 8);
    r.attempts = s.int64(9);
    r.last_error = s.optional_text(10);
    r.next_attempt_at = s.int64(11);
    r.added_at = s.int64(12);
    r.uploaded_at = s.optional_int64(13);
    r.etag = s.optional_text(14);
    r.upload_id = s.optional_text(15);
    r.part_size = s.int64(16);
    r.host_id = s.text(17);
    r.inode = static_cast<std::uint64_t>(s.int64(18));
    r.pruned_at = s.optional_int64(19);
    r.pruned_to = s.optional_text(20);
    return r;
}

SqliteStore::SqliteStore(const std::string& path, Access access)
    : db_(open_database(path, access, fresh_)) {
    db_.exec("PRAGMA foreign_keys = ON");
    if (access == Access::read_write) {
        // First make sure it is ours (or empty): switching somebody else's database, or a newer
        // imgsync's, to WAL would already write to it.
        migrate_sqlite(db_, schema_version);
        // Ours now (or it was empty): its mode can be fixed. Before WAL, so that SQLite gives a
        // new -wal the fixed mode.
        make_state_private(path, fresh_, mode_fixes_);
        // WAL: status can read while a pass writes. NORMAL: a power loss may forget the last
        // commits (an image is then uploaded again, which is harmless) but never corrupts.
        db_.exec("PRAGMA journal_mode = WAL");
        db_.exec("PRAGMA synchronous = NORMAL");
    } else {
        require_sqlite_version(db_, schema_version);
    }
}

void SqliteStore::begin_write() {
    txn_.emplace(db_);
}

void SqliteStore::commit_write() {
    if (txn_) {
        txn_->commit();
        txn_.reset();
    }
}

void SqliteStore::rollback_write() noexcept {
    txn_.reset(); // Transaction rolls back when destroyed uncommitted
}

void SqliteStore::begin_read() {
    read_.emplace(db_);
}

void SqliteStore::end_read() noexcept {
    read_.reset();
}

PassLock SqliteStore::lock_pass(const std::string& path, bool wait, double wait_seconds,
                                const std::string& started_at) {
    return PassLock::acquire(PassLock::path_for(path), wait, wait_seconds, started_at)
        .or_throw(ExitCode::locked);
}

Statement& SqliteStore::stmt(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        it = statements_.emplace(sql, db_.prepare(sql)).first;
    }
    it->second.reset();
    return it->second;
}

std::optional<Store::Known> SqliteStore::find_by_path(const std::string& path) {
    auto& s = stmt("SELECT id, size, mtime_ns, state, inode FROM images WHERE path = ?1");
    s.bind(1, path);
    if (!s.step()) {
        return std::nullopt;
    }
    Known known{s.int64(0), static_cast<std::uint64_t>(s.int64(1)), s.int64(2), read_state(s, 3),
                static_cast<std::uint64_t>(s.int64(4))};
    s.reset(); // an unfinished SELECT would hold its read snapshot open
    return known;
}

std::optional<std::string> SqliteStore::path_for_key(const std::string& key) {
    auto& s = stmt("SELECT path FROM images WHERE key = ?1");
    s.bind(1, key);
    if (!s.step()) {
        return std::nullopt;
    }
    std::string path = s.text(0);
    s.reset();
    return path;
}

void SqliteStore::insert_image(const NewImage& image, std::int64_t now) {
    auto& s = stmt("INSERT INTO images (path, key, size, mtime_ns, sha256, md5, content_type, "
                   "added_at, host_id, inode) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    s.bind(1, image.path)
        .bind(2, image.key)
        .bind(3, static_cast<std::int64_t>(image.size))
        .bind(4, image.mtime_ns)
        .bind(5, image.sha256)
        .bind(6, image.md5)
        .bind(7, image.content_type)
        .bind(8, now)
        .bind(9, image.host_id)
        .bind(10, static_cast<std::int64_t>(image.inode));
    s.run();
    insert_part_digests(db_.last_insert_rowid(), image);
}

void SqliteStore::insert_part_digests(std::int64_t id, const NewImage& image) {
    for (const auto& d : image.part_digests) {
        stmt("INSERT INTO part_digests (image_id, part_size, part_number, md5, sha256) "
             "VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(1, id)
            .bind(2, static_cast<std::int64_t>(image.digest_part_size))
            .bind(3, d.part_number)
            .bind(4, d.md5)
            .bind(5, d.sha256)
            .run();
    }
}

// Multipart progress and part digests belong to one content of one image: gone when it is
// uploaded or replaced.
void SqliteStore::forget_parts(std::int64_t id) {
    stmt("DELETE FROM parts WHERE image_id = ?1").bind(1, id).run();
    stmt("DELETE FROM part_digests WHERE image_id = ?1").bind(1, id).run();
}

std::vector<PartDigest> SqliteStore::part_digests(std::int64_t id, std::uint64_t part_size) {
    auto& s = stmt("SELECT part_number, md5, sha256 FROM part_digests "
                   "WHERE image_id = ?1 AND part_size = ?2 ORDER BY part_number");
    s.bind(1, id).bind(2, static_cast<std::int64_t>(part_size));
    std::vector<PartDigest> out;
    while (s.step()) {
        out.push_back({s.int64(0), s.text(1), s.text(2)});
    }
    return out;
}

bool SqliteStore::replace_content(std::int64_t id, const NewImage& image, std::int64_t now) {
    // Never under a running pass: it is sending the old bytes and would record them as these.
    // (add looked at the state before hashing; a pass may have claimed the row since.)
    auto& s = stmt(
        "UPDATE images SET size = ?2, mtime_ns = ?3, sha256 = ?4, md5 = ?5, content_type = ?6, "
        "state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = 0, added_at = ?7, "
        "uploaded_at = NULL, etag = NULL, upload_id = NULL, part_size = 0, run_id = NULL, "
        "inode = ?8, pruned_at = NULL, pruned_to = NULL WHERE id = ?1 AND state <> 'uploading'");
    s.bind(1, id)
        .bind(2, static_cast<std::int64_t>(image.size))
        .bind(3, image.mtime_ns)
        .bind(4, image.sha256)
        .bind(5, image.md5)
        .bind(6, image.content_type)
        .bind(7, now)
        .bind(8, static_cast<std::int64_t>(image.inode));
    if (s.run() == 0) {
        return false;
    }
    forget_parts(id);
    insert_part_digests(id, image);
    return true;
}

int SqliteStore::recover_orphans(std::int64_t now, const std::string& host_id,
                                 const PidAlive& pid_alive) {
    (void)host_id; // under the flock, every pass but this one is gone
    (void)pid_alive;
    Transaction txn(db_);
    int n = stmt("UPDATE images SET state = 'pending', run_id = NULL "
                 "WHERE state = 'uploading'")
                .run();
    stmt("UPDATE runs SET outcome = 'crashed', finished_at = ?1, "
         "message = 'the pass ended without recording its end (killed or crashed)' "
         "WHERE outcome = 'running'")
        .bind(1, now)
        .run();
    txn.commit();
    return n;
}

std::int64_t SqliteStore::begin_run(std::int64_t now, std::int64_t pid, const std::string& host_id,
                                    double lease_seconds) {
    (void)lease_seconds; // the flock is the lease
    stmt("INSERT INTO runs (started_at, pid, host_id) VALUES (?1, ?2, ?3)")
        .bind(1, now)
        .bind(2, pid)
        .bind(3, host_id)
        .run();
    return db_.last_insert_rowid();
}

void SqliteStore::finish_run(const RunRecord& totals, std::int64_t now) {
    stmt("UPDATE runs SET finished_at = ?2, uploaded = ?3, failed = ?4, retried = ?5, "
         "bytes = ?6, outcome = ?7, message = ?8, seconds = ?9, requests = 0 WHERE id = ?1")
        .bind(1, totals.id)
        .bind(2, now)
        .bind(3, totals.uploaded)
        .bind(4, totals.failed)
        .bind(5, totals.retried)
        .bind(6, static_cast<std::int64_t>(totals.bytes))
        .bind(7, std::string(core::to_string(totals.outcome)))
        .bind(8, totals.message)
        .bind(9, totals.seconds)
        .run();
}

void SqliteStore::set_run_requests(std::int64_t run_id, std::int64_t requests) {
    stmt("UPDATE runs SET requests = ?2 WHERE id = ?1").bind(1, run_id).bind(2, requests).run();
}

std::vector<ImageRecord> SqliteStore::claim(const Claimant& who, std::int64_t now, int limit) {
    std::vector<ImageRecord> claimed;
    if (limit <= 0) {
        return claimed;
    }
    // Built once and prepared once: preparing it on every claim cost a pass measurably
    // (doc/benchmarks.md).
    static const std::string sql =
        fmt::format("UPDATE images SET state = 'uploading', run_id = ?1 WHERE id IN ("
                    "SELECT id FROM images INDEXED BY images_queue WHERE state = 'pending' "
                    "AND next_attempt_at <= ?2 "
                    "ORDER BY added_at, id LIMIT ?3) RETURNING {}, "
                    "EXISTS (SELECT 1 FROM part_digests d WHERE d.image_id = images.id)",
                    sqlite_image_columns);
    Transaction txn(db_);
    auto& s = stmt(sql);
    s.bind(1, who.run_id).bind(2, now).bind(3, static_cast<std::int64_t>(limit));
    while (s.step()) {
        claimed.push_back(read_sqlite_image(s));
        claimed.back().has_part_digests = s.int64(21) != 0;
    }
    s.reset();
    txn.commit();
    // RETURNING gives no order; the pass promises oldest first.
    std::sort(claimed.begin(), claimed.end(), [](const ImageRecord& a, const ImageRecord& b) {
        return a.added_at != b.added_at ? a.added_at < b.added_at : a.id < b.id;
    });
    return claimed;
}

// The outcomes of a pass apply only to rows this pass claimed and still holds: a stale pass (its
// rows recovered and claimed again by another) changes nothing. No row has run id 0.
std::vector<std::int64_t> SqliteStore::renew(const Claimant& who, const std::vector<Lease>& held) {
    (void)who;
    std::vector<std::int64_t> ids;
    ids.reserve(held.size());
    for (const auto& lease : held) {
        ids.push_back(lease.image_id);
    }
    return ids;
}

bool SqliteStore::mark_uploaded(const Lease& lease, const std::string& etag, std::int64_t now) {
    const std::int64_t id = lease.image_id;
    const std::int64_t run_id = lease.run_id;
    int n = stmt("UPDATE images SET state = 'uploaded', uploaded_at = ?2, etag = ?3, "
                 "last_error = NULL, upload_id = NULL, run_id = NULL "
                 "WHERE id = ?1 AND state = 'uploading' AND run_id = ?4")
                .bind(1, id)
                .bind(2, now)
                .bind(3, etag)
                .bind(4, run_id)
                .run();
    if (n == 0) {
        return false;
    }
    forget_parts(id);
    return true;
}

std::vector<std::int64_t> SqliteStore::mark_uploaded(const std::vector<Uploaded>& images,
                                                     std::int64_t now) {
    std::vector<std::int64_t> held;
    if (images.empty()) {
        return held;
    }
    const std::int64_t run_id = images.front().lease.run_id; // one pass's batch
    // The batch as one JSON object, id -> ETag: json_each() gives the ids, json_extract() each
    // row's ETag.
    std::string etags = "{";
    for (const auto& image : images) {
        if (etags.size() > 1) {
            etags += ',';
        }
        etags += fmt::format("\"{}\":", image.lease.image_id);
        util::append_json_string(etags, image.etag);
    }
    etags += '}';
    auto& s = stmt("UPDATE images SET state = 'uploaded', uploaded_at = ?2, "
                   "etag = json_extract(?1, '$.\"' || id || '\"'), "
                   "last_error = NULL, upload_id = NULL, run_id = NULL "
                   "WHERE id IN (SELECT CAST(key AS INTEGER) FROM json_each(?1)) "
                   "AND state = 'uploading' AND run_id = ?3 RETURNING id");
    s.bind(1, etags).bind(2, now).bind(3, run_id);
    while (s.step()) {
        held.push_back(s.int64(0));
    }
    s.reset();
    return held;
}

bool SqliteStore::mark_pending(const Lease& lease, std::int64_t attempts,
                               std::int64_t next_attempt_at,
                               const std::optional<std::string>& last_error) {
    const std::int64_t id = lease.image_id;
    const std::int64_t run_id = lease.run_id;
    return stmt("UPDATE images SET state = 'pending', attempts = ?2, next_attempt_at = ?3, "
                "last_error = coalesce(?4, last_error), run_id = NULL "
                "WHERE id = ?1 AND state = 'uploading' AND run_id = ?5")
               .bind(1, id)
               .bind(2, attempts)
               .bind(3, next_attempt_at)
               .bind(4, last_error)
               .bind(5, run_id)
               .run() != 0;
}

bool SqliteStore::mark_failed(const Lease& lease, std::int64_t attempts, const std::string& error) {
    const std::int64_t id = lease.image_id;
    const std::int64_t run_id = lease.run_id;
    return stmt("UPDATE images SET state = 'failed', attempts = ?2, last_error = ?3, "
                "run_id = NULL WHERE id = ?1 AND state = 'uploading' AND run_id = ?4")
               .bind(1, id)
               .bind(2, attempts)
               .bind(3, error)
               .bind(4, run_id)
               .run() != 0;
}

// Multipart progress is written under the run's claim too (the flock makes the run id enough).
bool SqliteStore::set_multipart(const Lease& lease, const std::optional<std::string>& upload_id,
                                std::int64_t part_size) {
    const std::int64_t id = lease.image_id;
    int n = stmt("UPDATE images SET upload_id = ?2, part_size = ?3 "
                 "WHERE id = ?1 AND state = 'uploading' AND run_id = ?4")
                .bind(1, id)
                .bind(2, upload_id)
                .bind(3, part_size)
                .bind(4, lease.run_id)
                .run();
    if (n == 0) {
        return false;
    }
    if (!upload_id) {
        stmt("DELETE FROM parts WHERE image_id = ?1").bind(1, id).run();
    }
    return true;
}

bool SqliteStore::add_part(const Lease& lease, const PartRecord& part) {
    return stmt("INSERT OR REPLACE INTO parts (image_id, part_number, etag, size) "
                "SELECT ?1, ?2, ?3, ?4 FROM images "
                "WHERE id = ?1 AND state = 'uploading' AND run_id = ?5")
               .bind(1, lease.image_id)
               .bind(2, part.part_number)
               .bind(3, part.etag)
               .bind(4, static_cast<std::int64_t>(part.size))
               .bind(5, lease.run_id)
               .run() != 0;
}

int SqliteStore::requeue_failed(const std::vector<std::int64_t>& ids, bool all) {
    Transaction txn(db_);
    int n = 0;
    constexpr const char* requeue = "UPDATE images SET state = 'pending', attempts = 0, "
                                    "next_attempt_at = 0 WHERE state = 'failed'";
    if (all) {
        n = stmt(requeue).run();
    } else {
        auto s = db_.prepare(std::string(requeue) + " AND id = ?1");
        for (auto id : ids) {
            n += s.bind(1, id).run();
        }
    }
    txn.commit();
    return n;
}

int SqliteStore::forget(const std::vector<std::int64_t>& ids,
                        std::optional<core::ImageState> state) {
    Transaction txn(db_);
    int n = 0;
    if (state) {
        auto s = db_.prepare("DELETE FROM images WHERE state = ?1 AND state <> 'uploading'");
        n = s.bind(1, std::string(core::to_string(*state))).run();
    } else {
        auto s = db_.prepare("DELETE FROM images WHERE id = ?1 AND state <> 'uploading'");
        for (auto id : ids) {
            n += s.bind(1, id).run();
        }
    }
    txn.commit();
    return n;
}

void SqliteStore::for_each_claimable(const Claimant&, std::int64_t now,
                                     const std::function<bool(const ImageRecord&)>& visit) {
    // One pass at a time on SQLite: every due image is this pass's, whatever the host id.
    auto s = db_.prepare(fmt::format("SELECT {} FROM images INDEXED BY images_queue WHERE state = "
                                     "'pending' AND next_attempt_at <= ?1 ORDER BY added_at, id",
                                     sqlite_image_columns));
    s.bind(1, now);
    while (s.step() && visit(read_sqlite_image(s))) {
    }
}

std::optional<ImageRecord> SqliteStore::image(std::int64_t id) {
    auto s = db_.prepare(fmt::format("SELECT {} FROM images WHERE id = ?1", sqlite_image_columns));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_sqlite_image(s);
}

void SqliteStore::for_each_image(std::optional<core::ImageState> state, std::int64_t limit,
                                 const std::function<void(const ImageRecord&)>& visit) {
    auto s = db_.prepare(fmt::format("SELECT {} FROM images WHERE (?1 IS NULL OR state = ?1) "
                                     "ORDER BY id LIMIT ?2",
                                     sqlite_image_columns));
    s.bind(1,
           state ? std::optional<std::string>(std::string(core::to_string(*state))) : std::nullopt)
        .bind(2, limit < 0 ? std::int64_t{-1} : limit);
    while (s.step()) {
        visit(read_sqlite_image(s));
    }
}

BacklogCounts SqliteStore::counts() {
    BacklogCounts c;
    auto& s = stmt("SELECT state, images, bytes FROM totals");
    while (s.step()) {
        c.set(s.text(0), s.int64(1), static_cast<std::uint64_t>(s.int64(2)));
    }
    auto& oldest =
        stmt("SELECT min(added_at) FROM images INDEXED BY images_queue WHERE state = 'pending'");
    oldest.step();
    c.oldest_pending_added_at = oldest.optional_int64(0);
    oldest.reset();
    return c;
}

std::optional<std::int64_t> SqliteStore::last_success_at() {
    std::string names;
    for (auto o : core::all_run_outcomes) {
        if (core::is_success(o)) {
            names += fmt::format("{}'{}'", names.empty() ? "" : ", ", core::to_string(o));
        }
    }
    // Newest first by id, so the scan stops at the first success.
    auto s = db_.prepare(fmt::format("SELECT finished_at FROM runs WHERE outcome IN ({}) AND "
                                     "finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                                     names));
    if (!s.step()) {
        return std::nullopt;
    }
    return s.int64(0);
}

std::vector<RunRecord> SqliteStore::recent_runs(int limit) {
    auto& s = stmt("SELECT id, started_at, finished_at, uploaded, failed, retried, bytes, "
                   "outcome, message, pid, host_id, seconds FROM runs ORDER BY id DESC LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<RunRecord> runs;
    while (s.step()) {
        RunRecord r;
        r.id = s.int64(0);
        r.started_at = s.int64(1);
        r.finished_at = s.optional_int64(2);
        r.uploaded = s.int64(3);
        r.failed = s.int64(4);
        r.retried = s.int64(5);
        r.bytes = static_cast<std::uint64_t>(s.int64(6));
        auto outcome = core::parse_run_outcome(s.text(7));
        if (!outcome) {
            throw Error(ExitCode::state_error,
                        fmt::format("unknown pass outcome '{}' in the runs table of the state file",
                                    s.text(7)));
        }
        r.outcome = *outcome;
        r.message = s.text(8);
        r.pid = s.int64(9);
        r.host_id = s.text(10);
        r.seconds = s.optional_real(11);
        runs.push_back(std::move(r));
    }
    return runs;
}

ArrivalWindow SqliteStore::window(std::int64_t now, std::int64_t seconds) {
    auto& s = stmt("SELECT coalesce(sum(added), 0), coalesce(sum(added_bytes), 0), "
                   "coalesce(sum(uploaded), 0), coalesce(sum(uploaded_bytes), 0) "
                   "FROM activity WHERE hour >= ?1");
    s.bind(1, (now - seconds) / 3600);
    s.step();
    ArrivalWindow w;
    w.window_seconds = seconds;
    w.images_added = s.int64(0);
    w.bytes_added = static_cast<std::uint64_t>(s.int64(1));
    w.images_uploaded = s.int64(2);
    w.bytes_uploaded = static_cast<std::uint64_t>(s.int64(3));
    s.reset();
    auto& h = stmt("SELECT hour, added, uploaded FROM activity WHERE hour >= ?1 ORDER BY hour");
    h.bind(1, (now - seconds) / 3600);
    while (h.step()) {
        w.hours.push_back({h.int64(0), h.int64(1), h.int64(2)});
    }
    return w;
}

std::string SqliteStore::integrity_check() {
    // "ok", or the first few problems on one line (SQLite's own lines can hold newlines).
    auto s = db_.prepare("PRAGMA integrity_check(100)");
    std::vector<std::string> problems;
    while (s.step()) {
        std::string line = s.text(0);
        std::replace(line.begin(), line.end(), '\n', ' ');
        if (line.rfind("*** in database", 0) == 0) { // a heading, not a problem
            continue;
        }
        problems.push_back(line);
    }
    if (problems.size() == 1 && problems[0] == "ok") {
        return "ok";
    }
    std::string out;
    for (std::size_t i = 0; i < problems.size() && i < 3; ++i) {
        out += (i ? "; " : "") + problems[i];
    }
    if (problems.size() > 3) {
        out += fmt::format("; and {}{} more", problems.size() - 3,
                           problems.size() >= 100 ? " or" : "");
    }
    return out.empty() ? "no answer from the integrity check" : out;
}

} // namespace imgsync::storage
