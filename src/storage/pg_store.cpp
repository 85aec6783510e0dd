#include "storage/pg_store.hpp"

#include "storage/pg_rows.hpp"
#include "storage/pg_schema.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace imgsync::storage {

namespace {

// The claim, one statement: up to $4 images, oldest due first, among the pending ones that are
// due and the uploading ones whose lease expired; each gets the run, a fresh fencing token and
// an expiry from the database's clock, and a row in claims. SKIP LOCKED: passes that claim at
// the same moment take disjoint images and never wait for one another. `scope` is the extra
// condition of --claim local.
std::string claim_sql(const char* scope) {
    return fmt::format(
        "WITH due AS ("
        "  SELECT id, added_at FROM images WHERE state = 'pending' AND next_attempt_at <= $2 {0}"
        "  ORDER BY added_at, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " expired AS ("
        "  SELECT id, added_at FROM images WHERE state = 'uploading' AND lease_expires_at < now() "
        "  {0} ORDER BY added_at, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " picked AS ("
        "  SELECT id FROM (SELECT * FROM due UNION ALL SELECT * FROM expired) c"
        "  ORDER BY added_at, id LIMIT $4),"
        " claimed AS ("
        "  UPDATE images i SET state = 'uploading', run_id = $1,"
        "    lease_token = nextval('imgsync_lease_tokens'),"
        "    lease_expires_at = now() + make_interval(secs => $5)"
        "  FROM picked WHERE i.id = picked.id"
        "  RETURNING i.id, i.path, i.key, i.size, i.mtime_ns, i.sha256, i.md5, i.content_type,"
        "    i.state, i.attempts, i.last_error, i.next_attempt_at, i.added_at, i.uploaded_at,"
        "    i.etag, i.upload_id, i.part_size, i.host_id, i.inode, i.pruned_at, i.pruned_to,"
        "    i.lease_token, i.lease_expires_at,"
        "    EXISTS (SELECT 1 FROM part_digests d WHERE d.image_id = i.id) AS digests),"
        " logged AS ("
        "  INSERT INTO claims (token, image_id, run_id, host_id, claimed_at, expires_at)"
        "  SELECT lease_token, id, $1, $3, now(), lease_expires_at FROM claimed)"
        " SELECT * FROM claimed",
        scope);
}

// An outcome under the lease ($1 image, $2 token): `set` applies only while the image is still
// uploading under that token, and then the claim is recorded as released. Returns one row, the
// number of images changed (0 or 1).
#define UNDER_LEASE(set) /* NOLINT(bugprone-macro-parentheses): string literals */                 \
    "WITH u AS (UPDATE images SET " set ", run_id = NULL, lease_token = NULL, "                    \
    "lease_expires_at = NULL WHERE id = $1 AND lease_token = $2 AND state = 'uploading' "          \
    "RETURNING id), "                                                                              \
    "r AS (UPDATE claims SET released_at = now() WHERE token = $2 AND EXISTS (SELECT 1 FROM u)) "

} // namespace

ImageRecord read_pg_image(const PgResult& r, int row) {
    ImageRecord i;
    i.id = r.int64(row, 0);
    i.path = r.text(row, 1);
    i.key = r.text(row, 2);
    i.size = static_cast<std::uint64_t>(r.int64(row, 3));
    i.mtime_ns = r.int64(row, 4);
    i.sha256 = r.text(row, 5);
    i.md5 = r.text(row, 6);
    i.content_type = r.text(row, 7);
    auto state = core::parse_image_state(r.text(row, 8));
    if (!state) {
        throw Error(ExitCode::state_error,
                    fmt::format("unknown image state '{}' in the backlog", r.text(row, 8)));
    }
    i.state = *state;
    i.attempts = r.int64(row, 9);
    i.last_error = r.optional_text(row, 10);
    i.next_attempt_at = r.int64(row, 11);
    i.added_at = r.int64(row, 12);
    i.uploaded_at = r.optional_int64(row, 13);
    i.etag = r.optional_text(row, 14);
    i.upload_id = r.optional_text(row, 15);
    i.part_size = r.int64(row, 16);
    i.host_id = r.text(row, 17);
    i.inode = static_cast<std::uint64_t>(r.int64(row, 18));
    i.pruned_at = r.optional_int64(row, 19);
    i.pruned_to = r.optional_text(row, 20);
    return i;
}

PgStore::PgStore(const std::string& conninfo) : db_(conninfo) {
    migrate_pg(db_);
}

void PgStore::begin_write() {
    db_.exec("BEGIN");
}

void PgStore::commit_write() {
    db_.exec("COMMIT");
}

void PgStore::rollback_write() noexcept {
    try {
        db_.exec("ROLLBACK");
    } catch (...) { // the connection is gone: so is the transaction
    }
}

void PgStore::begin_read() {
    db_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

void PgStore::end_read() noexcept {
    try {
        db_.exec("COMMIT");
    } catch (...) {
    }
}

std::optional<Store::Known> PgStore::find_by_path(const std::string& path) {
    auto r = db_.run("SELECT id, size, mtime_ns, state, inode FROM images WHERE path = $1",
                     PgParams().add(path));
    if (r.rows() == 0) {
        return std::nullopt;
    }
    auto state = core::parse_image_state(r.text(0, 3));
    return Known{r.int64(0, 0), static_cast<std::uint64_t>(r.int64(0, 1)), r.int64(0, 2),
                 state.value_or(core::ImageState::pending),
                 static_cast<std::uint64_t>(r.int64(0, 4))};
}

std::optional<std::string> PgStore::path_for_key(const std::string& key) {
    auto r = db_.run("SELECT path FROM images WHERE key = $1", PgParams().add(key));
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return r.text(0, 0);
}

void PgStore::insert_image(const NewImage& image, std::int64_t now) {
    auto r = db_.run("INSERT INTO images (path, key, size, mtime_ns, sha256, md5, content_type, "
                     "added_at, host_id, inode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                     "RETURNING id",
                     PgParams()
                         .add(image.path)
                         .add(image.key)
                         .add(static_cast<std::int64_t>(image.size))
                         .add(image.mtime_ns)
                         .add(image.sha256)
                         .add(image.md5)
                         .add(image.content_type)
                         .add(now)
                         .add(image.host_id)
                         .add(static_cast<std::int64_t>(image.inode)));
    insert_part_digests(r.int64(0, 0), image);
}

void PgStore::insert_part_digests(std::int64_t id, const NewImage& image) {
    if (image.part_digests.empty()) {
        return;
    }
    std::vector<std::int64_t> numbers;
    std::vector<std::string> md5s, sha256s;
    for (const auto& d : image.part_digests) {
        numbers.push_back(d.part_number);
        md5s.push_back(d.md5);
        sha256s.push_back(d.sha256);
    }
    db_.run("INSERT INTO part_digests (image_id, part_size, part_number, md5, sha256) "
            "SELECT $1, $2, n, m, s FROM unnest($3::int[], $4::text[], $5::text[]) AS d(n, m, s)",
            PgParams()
                .add(id)
                .add(static_cast<std::int64_t>(image.digest_part_size))
                .add(pg_array(numbers))
                .add(pg_array(md5s))
                .add(pg_array(sha256s)));
}

std::vector<PartDigest> PgStore::part_digests(std::int64_t id, std::uint64_t part_size) {
    auto r = db_.run("SELECT part_number, md5, sha256 FROM part_digests "
                     "WHERE image_id = $1 AND part_size = $2 ORDER BY part_number",
                     PgParams().add(id).add(static_cast<std::int64_t>(part_size)));
    std::vector<PartDigest> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back({r.int64(i, 0), r.text(i, 1), r.text(i, 2)});
    }
    return out;
}

bool PgStore::replace_content(std::int64_t id, const NewImage& image, std::int64_t now) {
    auto r = db_.run(
        "WITH u AS (UPDATE images SET size = $2, mtime_ns = $3, sha256 = $4, md5 = $5, "
        "content_type = $6, state = 'pending', attempts = 0, last_error = NULL, "
        "next_attempt_at = 0, added_at = $7, uploaded_at = NULL, etag = NULL, upload_id = NULL, "
        "part_size = 0, run_id = NULL, host_id = $8, inode = $9, pruned_at = NULL, "
        "pruned_to = NULL WHERE id = $1 AND state <> 'uploading' "
        "RETURNING id), "
        "p AS (DELETE FROM parts WHERE image_id IN (SELECT id FROM u)), "
        "d AS (DELETE FROM part_digests WHERE image_id IN (SELECT id FROM u)) "
        "SELECT count(*) FROM u",
        PgParams()
            .add(id)
            .add(static_cast<std::int64_t>(image.size))
            .add(image.mtime_ns)
            .add(image.sha256)
            .add(image.md5)
            .add(image.content_type)
            .add(now)
            .add(image.host_id)
            .add(static_cast<std::int64_t>(image.inode)));
    if (r.int64(0, 0) == 0) {
        return false;
    }
    insert_part_digests(id, image);
    return true;
}

int PgStore::recover_orphans(std::int64_t now, const std::string& host_id,
                             const PidAlive& pid_alive) {
    // This host's passes whose process is gone need not wait for their leases: their images go
    // back to pending now (a pid reused by another process only makes us wait for the lease).
    auto running = db_.run("SELECT id, pid FROM runs WHERE outcome = 'running' AND host_id = $1",
                           PgParams().add(host_id));
    std::vector<std::int64_t> dead;
    for (int i = 0; i < running.rows(); ++i) {
        if (!pid_alive(running.int64(i, 1))) {
            dead.push_back(running.int64(i, 0));
        }
    }
    int recovered = 0;
    if (!dead.empty()) {
        auto r = db_.run(
            "WITH u AS (UPDATE images SET state = 'pending', run_id = NULL, lease_token = NULL, "
            "  lease_expires_at = NULL WHERE state = 'uploading' AND run_id = ANY($1::bigint[]) "
            "  RETURNING id), "
            "c AS (UPDATE claims SET expires_at = least(expires_at, now()) "
            "  WHERE run_id = ANY($1::bigint[]) AND released_at IS NULL), "
            "r AS (UPDATE runs SET outcome = 'crashed', finished_at = $2, lease_expires_at = NULL, "
            "  message = 'the pass ended without recording its end (killed or crashed)' "
            "  WHERE id = ANY($1::bigint[]) AND outcome = 'running') "
            "SELECT count(*) FROM u",
            PgParams().add(pg_array(dead)).add(now));
        recovered = static_cast<int>(r.int64(0, 0));
    }
    db_.run("UPDATE runs SET outcome = 'crashed', finished_at = $1, "
            "message = 'the pass ended without recording its end (killed, crashed or cut off)' "
            "WHERE outcome = 'running' AND lease_expires_at < now()",
            PgParams().add(now));
    // Their images are claimable as they are; this says how many wait for it.
    auto r = db_.exec("SELECT count(*) FROM images WHERE state = 'uploading' "
                      "AND lease_expires_at < now()");
    return recovered + static_cast<int>(r.int64(0, 0));
}

// The record of claims keeps what could still overlap a live lease: a claim that ended (released,
// or expired) more than 30 days ago is deleted. Oldest first by token (the primary key): each
// statement looks at the 10,000 oldest claims only, so its cost is bounded however large the
// table is, and up to 10 of them run per pass (100,000 claims), each a short transaction.
void PgStore::forget_old_claims() {
    for (int batch = 0; batch < 10; ++batch) {
        auto r = db_.exec(
            "DELETE FROM claims WHERE token IN (SELECT token FROM (SELECT token, released_at, "
            "expires_at FROM claims ORDER BY token LIMIT 10000) oldest "
            "WHERE coalesce(released_at, expires_at) < now() - interval '30 days')");
        if (r.affected() < 10000) {
            return;
        }
    }
}

std::int64_t PgStore::begin_run(std::int64_t now, std::int64_t pid, const std::string& host_id,
                                double lease_seconds) {
    // Fold the counter deltas into one row per key, once per pass: the tables stay small.
    begin_write();
    db_.exec("WITH d AS (DELETE FROM counter_deltas RETURNING state, images, bytes) "
             "INSERT INTO counter_deltas SELECT state, sum(images), sum(bytes) FROM d "
             "GROUP BY state");
    db_.exec("WITH d AS (DELETE FROM activity_deltas RETURNING *) "
             "INSERT INTO activity_deltas SELECT hour, sum(added), sum(added_bytes), "
             "sum(uploaded), sum(uploaded_bytes) FROM d GROUP BY hour");
    db_.exec("WITH d AS (DELETE FROM host_deltas RETURNING *) "
             "INSERT INTO host_deltas SELECT host_id, state, sum(images), sum(bytes) FROM d "
             "GROUP BY host_id, state HAVING sum(images) <> 0 OR sum(bytes) <> 0");
    commit_write();
    forget_old_claims();
    auto r = db_.run("INSERT INTO runs (started_at, pid, host_id, lease_expires_at) "
                     "VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id",
                     PgParams().add(now).add(pid).add(host_id).add(lease_seconds));
    return r.int64(0, 0);
}

void PgStore::finish_run(const RunRecord& totals, std::int64_t now) {
    db_.run("UPDATE runs SET finished_at = $2, uploaded = $3, failed = $4, retried = $5, "
            "bytes = $6, outcome = $7, message = $8, seconds = $9, requests = 0, "
            "lease_expires_at = NULL WHERE id = $1",
            PgParams()
                .add(totals.id)
                .add(now)
                .add(totals.uploaded)
                .add(totals.failed)
                .add(totals.retried)
                .add(static_cast<std::int64_t>(totals.bytes))
                .add(std::string(core::to_string(totals.outcome)))
                .add(totals.message)
                .add(totals.seconds));
}

void PgStore::set_run_requests(std::int64_t run_id, std::int64_t requests) {
    db_.run("UPDATE runs SET requests = $2 WHERE id = $1", PgParams().add(run_id).add(requests));
}

std::vector<ImageRecord> PgStore::claim(const Claimant& who, std::int64_t now, int limit) {
    std::vector<ImageRecord> claimed;
    if (limit <= 0) {
        return claimed;
    }
    static const std::string any = claim_sql("");
    static const std::string local = claim_sql("AND host_id = $3");
    const std::string& sql = who.scope == ClaimScope::any ? any : local;
    auto r = db_.run(sql.c_str(), PgParams()
                                      .add(who.run_id)
                                      .add(now)
                                      .add(who.host_id)
                                      .add(static_cast<std::int64_t>(limit))
                                      .add(who.lease_seconds));
    for (int i = 0; i < r.rows(); ++i) {
        claimed.push_back(read_pg_image(r, i));
        claimed.back().lease_token = r.int64(i, 21);
        claimed.back().has_part_digests = r.boolean(i, 23);
    }
    // RETURNING gives no order; the pass promises oldest first.
    std::sort(claimed.begin(), claimed.end(), [](const ImageRecord& a, const ImageRecord& b) {
        return a.added_at != b.added_at ? a.added_at < b.added_at : a.id < b.id;
    });
    return claimed;
}

// One statement for every lease the pass holds, and the run's own. A lease already expired is not
// renewed (another pass may be claiming it this moment): the image is the pass's no more.
std::vector<std::int64_t> PgStore::renew(const Claimant& who, const std::vector<Lease>& held) {
    std::vector<std::int64_t> ids, tokens;
    for (const auto& l : held) {
        ids.push_back(l.image_id);
        tokens.push_back(l.token);
    }
    auto r = db_.run(
        "WITH h AS (SELECT * FROM unnest($2::bigint[], $3::bigint[]) AS h(id, token)), "
        "renewed AS (UPDATE images i SET lease_expires_at = now() + make_interval(secs => $4) "
        "  FROM h WHERE i.id = h.id AND i.lease_token = h.token AND i.state = 'uploading' "
        "  AND i.lease_expires_at > now() RETURNING i.id, i.lease_token, i.lease_expires_at), "
        "logged AS (UPDATE claims c SET expires_at = renewed.lease_expires_at FROM renewed "
        "  WHERE c.token = renewed.lease_token), "
        "run AS (UPDATE runs SET lease_expires_at = now() + make_interval(secs => $4) "
        "  WHERE id = $1 AND outcome = 'running') "
        "SELECT id FROM renewed",
        PgParams().add(who.run_id).add(pg_array(ids)).add(pg_array(tokens)).add(who.lease_seconds));
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(r.int64(i, 0));
    }
    return out;
}

bool PgStore::mark_uploaded(const Lease& lease, const std::string& etag, std::int64_t now) {
    auto r = db_.run(
        UNDER_LEASE("state = 'uploaded', uploaded_at = $3, etag = $4, "
                    "last_error = NULL, upload_id = NULL") ", p AS (DELETE FROM parts WHERE "
                                                           "image_id IN (SELECT id FROM u)), "
                                                           "d AS (DELETE FROM part_digests WHERE "
                                                           "image_id IN (SELECT id FROM u)) "
                                                           "SELECT count(*) FROM u",
        PgParams().add(lease.image_id).add(lease.token).add(now).add(etag));
    return r.int64(0, 0) != 0;
}

std::vector<std::int64_t> PgStore::mark_uploaded(const std::vector<Uploaded>& images,
                                                 std::int64_t now) {
    std::vector<std::int64_t> held;
    if (images.empty()) {
        return held;
    }
    std::vector<std::int64_t> ids, tokens;
    std::vector<std::string> etags;
    for (const auto& image : images) {
        ids.push_back(image.lease.image_id);
        tokens.push_back(image.lease.token);
        etags.push_back(image.etag);
    }
    auto r =
        db_.run("WITH b AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
                "  AS b(id, token, etag)), "
                "u AS (UPDATE images i SET state = 'uploaded', uploaded_at = $4, etag = b.etag, "
                "  last_error = NULL, upload_id = NULL, run_id = NULL, lease_token = NULL, "
                "  lease_expires_at = NULL FROM b "
                "  WHERE i.id = b.id AND i.lease_token = b.token AND i.state = 'uploading' "
                "  RETURNING i.id, b.token), "
                "r AS (UPDATE claims c SET released_at = now() FROM u WHERE c.token = u.token) "
                "SELECT id FROM u",
                PgParams().add(pg_array(ids)).add(pg_array(tokens)).add(pg_array(etags)).add(now));
    for (int i = 0; i < r.rows(); ++i) {
        held.push_back(r.int64(i, 0));
    }
    return held;
}

bool PgStore::mark_pending(const Lease& lease, std::int64_t attempts, std::int64_t next_attempt_at,
                           const std::optional<std::string>& last_error) {
    auto r = db_.run(UNDER_LEASE("state = 'pending', attempts = $3, next_attempt_at = $4, "
                                 "last_error = coalesce($5, last_error)") "SELECT count(*) FROM u",
                     PgParams()
                         .add(lease.image_id)
                         .add(lease.token)
                         .add(attempts)
                         .add(next_attempt_at)
                         .add(last_error));
    return r.int64(0, 0) != 0;
}

bool PgStore::mark_failed(const Lease& lease, std::int64_t attempts, const std::string& error) {
    auto r = db_.run(
        UNDER_LEASE("state = 'failed', attempts = $3, last_error = $4") "SELECT count(*) FROM u",
        PgParams().add(lease.image_id).add(lease.token).add(attempts).add(error));
    return r.int64(0, 0) != 0;
}

bool PgStore::set_multipart(const Lease& lease, const std::optional<std::string>& upload_id,
                            std::int64_t part_size) {
    auto r = db_.run(
        "WITH u AS (UPDATE images SET upload_id = $3, part_size = $4 "
        "  WHERE id = $1 AND lease_token = $2 AND state = 'uploading' RETURNING id), "
        "p AS (DELETE FROM parts WHERE $3::text IS NULL AND image_id IN (SELECT id FROM u)) "
        "SELECT count(*) FROM u",
        PgParams().add(lease.image_id).add(lease.token).add(upload_id).add(part_size));
    return r.int64(0, 0) != 0;
}

bool PgStore::add_part(const Lease& lease, const PartRecord& part) {
    auto r = db_.run("INSERT INTO parts (image_id, part_number, etag, size) "
                     "SELECT id, $3, $4, $5 FROM images "
                     "WHERE id = $1 AND lease_token = $2 AND state = 'uploading' "
                     "ON CONFLICT (image_id, part_number) DO UPDATE "
                     "SET etag = excluded.etag, size = excluded.size",
                     PgParams()
                         .add(lease.image_id)
                         .add(lease.token)
                         .add(part.part_number)
                         .add(part.etag)
                         .add(static_cast<std::int64_t>(part.size)));
    return r.affected() != 0;
}

int PgStore::requeue_failed(const std::vector<std::int64_t>& ids, bool all) {
    auto r = db_.run("UPDATE images SET state = 'pending', attempts = 0, next_attempt_at = 0 "
                     "WHERE state = 'failed' AND ($1 OR id = ANY($2::bigint[]))",
                     PgParams().add(all).add(pg_array(ids)));
    return r.affected();
}

int PgStore::forget(const std::vector<std::int64_t>& ids, std::optional<core::ImageState> state) {
    std::optional<std::string> wanted;
    if (state) {
        wanted = std::string(core::to_string(*state));
    }
    auto r = db_.run("DELETE FROM images WHERE state <> 'uploading' AND "
                     "(CASE WHEN $1::text IS NULL THEN id = ANY($2::bigint[]) ELSE state = $1 END)",
                     PgParams().add(wanted).add(pg_array(ids)));
    return r.affected();
}

// In pages, as the claim orders them: pending and due, or uploading under an expired lease.
void PgStore::for_each_claimable(const Claimant& who, std::int64_t now,
                                 const std::function<bool(const ImageRecord&)>& visit) {
    std::int64_t after_added = -1, after_id = 0;
    constexpr std::int64_t page = 1000;
    for (;;) {
        auto r = db_.run("SELECT " IMAGE_COLUMNS " FROM images WHERE "
                         "((state = 'pending' AND next_attempt_at <= $1) OR "
                         " (state = 'uploading' AND lease_expires_at < now())) "
                         "AND ($2 OR host_id = $3) AND (added_at, id) > ($4, $5) "
                         "ORDER BY added_at, id LIMIT $6",
                         PgParams()
                             .add(now)
                             .add(who.scope == ClaimScope::any)
                             .add(who.host_id)
                             .add(after_added)
                             .add(after_id)
                             .add(page));
        for (int i = 0; i < r.rows(); ++i) {
            auto image = read_pg_image(r, i);
            after_added = image.added_at;
            after_id = image.id;
            if (!visit(image)) {
                return;
            }
        }
        if (r.rows() < page) {
            return;
        }
    }
}

std::optional<ImageRecord> PgStore::image(std::int64_t id) {
    auto r = db_.run("SELECT " IMAGE_COLUMNS " FROM images WHERE id = $1", PgParams().add(id));
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return read_pg_image(r, 0);
}

// In pages by id, each its own statement: a million rows neither sit in memory nor keep a
// transaction open.
void PgStore::for_each_image(std::optional<core::ImageState> state, std::int64_t limit,
                             const std::function<void(const ImageRecord&)>& visit) {
    std::optional<std::string> wanted;
    if (state) {
        wanted = std::string(core::to_string(*state));
    }
    std::int64_t after = 0, seen = 0;
    constexpr std::int64_t page = 1000;
    for (;;) {
        std::int64_t n = limit < 0 ? page : std::min(page, limit - seen);
        if (n <= 0) {
            return;
        }
        auto r = db_.run("SELECT " IMAGE_COLUMNS " FROM images WHERE id > $1 "
                         "AND ($2::text IS NULL OR state = $2) ORDER BY id LIMIT $3",
                         PgParams().add(after).add(wanted).add(n));
        for (int i = 0; i < r.rows(); ++i) {
            auto image = read_pg_image(r, i);
            after = image.id;
            visit(image);
        }
        seen += r.rows();
        if (r.rows() < n) {
            return;
        }
    }
}

BacklogCounts PgStore::counts() {
    BacklogCounts c;
    auto r = db_.exec("SELECT state, sum(images), sum(bytes) FROM counter_deltas GROUP BY state");
    for (int i = 0; i < r.rows(); ++i) {
        c.set(r.text(i, 0), r.int64(i, 1), static_cast<std::uint64_t>(r.int64(i, 2)));
    }
    auto oldest = db_.exec("SELECT min(added_at) FROM images WHERE state = 'pending'");
    c.oldest_pending_added_at = oldest.optional_int64(0, 0);
    return c;
}

std::optional<std::int64_t> PgStore::last_success_at() {
    std::vector<std::string> names;
    for (auto o : core::all_run_outcomes) {
        if (core::is_success(o)) {
            names.emplace_back(core::to_string(o));
        }
    }
    auto r = db_.run("SELECT finished_at FROM runs WHERE outcome = ANY($1::text[]) AND "
                     "finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                     PgParams().add(pg_array(names)));
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return r.int64(0, 0);
}

std::vector<RunRecord> PgStore::recent_runs(int limit) {
    auto r = db_.run("SELECT id, started_at, finished_at, uploaded, failed, retried, bytes, "
                     "outcome, message, pid, host_id, seconds FROM runs ORDER BY id DESC LIMIT $1",
                     PgParams().add(static_cast<std::int64_t>(limit)));
    std::vector<RunRecord> runs;
    for (int i = 0; i < r.rows(); ++i) {
        RunRecord run;
        run.id = r.int64(i, 0);
        run.started_at = r.int64(i, 1);
        run.finished_at = r.optional_int64(i, 2);
        run.uploaded = r.int64(i, 3);
        run.failed = r.int64(i, 4);
        run.retried = r.int64(i, 5);
        run.bytes = static_cast<std::uint64_t>(r.int64(i, 6));
        auto outcome = core::parse_run_outcome(r.text(i, 7));
        if (!outcome) {
            throw Error(ExitCode::state_error,
                        fmt::format("unknown pass outcome '{}' in the runs table of {}",
                                    r.text(i, 7), describe()));
        }
        run.outcome = *outcome;
        run.message = r.text(i, 8);
        run.pid = r.int64(i, 9);
        run.host_id = r.text(i, 10);
        run.seconds = r.optional_real(i, 11);
        runs.push_back(std::move(run));
    }
    return runs;
}

ArrivalWindow PgStore::window(std::int64_t now, std::int64_t seconds) {
    auto r = db_.run("SELECT coalesce(sum(added), 0), coalesce(sum(added_bytes), 0), "
                     "coalesce(sum(uploaded), 0), coalesce(sum(uploaded_bytes), 0) "
                     "FROM activity_deltas WHERE hour >= $1",
                     PgParams().add((now - seconds) / 3600));
    ArrivalWindow w;
    w.window_seconds = seconds;
    w.images_added = r.int64(0, 0);
    w.bytes_added = static_cast<std::uint64_t>(r.int64(0, 1));
    w.images_uploaded = r.int64(0, 2);
    w.bytes_uploaded = static_cast<std::uint64_t>(r.int64(0, 3));
    auto h = db_.run("SELECT hour, sum(added), sum(uploaded) FROM activity_deltas "
                     "WHERE hour >= $1 GROUP BY hour ORDER BY hour",
                     PgParams().add((now - seconds) / 3600));
    for (int row = 0; row < h.rows(); ++row) {
        w.hours.push_back({h.int64(row, 0), h.int64(row, 1), h.int64(row, 2)});
    }
    return w;
}

// PostgreSQL checks its own pages; what can drift is imgsync's: the counters against the rows.
std::string PgStore::integrity_check() {
    auto r = db_.exec("SELECT s.state, coalesce(d.n, 0), coalesce(i.n, 0) FROM "
                      "(VALUES ('pending'), ('uploading'), ('uploaded'), ('failed'), ('pruned')) "
                      "s(state) LEFT JOIN (SELECT state, sum(images) n FROM counter_deltas GROUP "
                      "BY state) d USING (state) LEFT JOIN (SELECT state, count(*) n FROM images "
                      "GROUP BY state UNION ALL SELECT 'pruned', count(*) FROM images WHERE state "
                      "= 'uploaded' AND pruned_at IS NOT NULL) i USING (state) WHERE "
                      "coalesce(d.n, 0) <> coalesce(i.n, 0)");
    if (r.rows() == 0) {
        return "ok";
    }
    return fmt::format("the {} counter says {} images, the table has {}", r.text(0, 0),
                       r.int64(0, 1), r.int64(0, 2));
}

} // namespace imgsync::storage
