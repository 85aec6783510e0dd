// PgStore's side of imgsync verify: the uploaded images in pages, a random sample, requeues and
// the verifications table. Each call is one short statement.
#include "storage/pg_rows.hpp"
#include "storage/pg_store.hpp"

namespace imgsync::storage {

std::vector<ImageRecord> PgStore::uploaded_page(std::int64_t after_id,
                                                std::optional<std::int64_t> uploaded_since,
                                                int limit) {
    auto r = db_.run("SELECT " IMAGE_COLUMNS " FROM images WHERE state = 'uploaded' AND id > $1 "
                     "AND ($2::bigint IS NULL OR uploaded_at >= $2) ORDER BY id LIMIT $3",
                     PgParams().add(after_id).add(uploaded_since).add(std::int64_t{limit}));
    std::vector<ImageRecord> page;
    page.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        page.push_back(read_pg_image(r, i));
    }
    return page;
}

std::vector<std::int64_t> PgStore::sample_uploaded(std::int64_t n) {
    auto r = db_.run("SELECT id FROM (SELECT id FROM images WHERE state = 'uploaded' ORDER BY "
                     "random() LIMIT $1) s ORDER BY id",
                     PgParams().add(n));
    std::vector<std::int64_t> ids;
    ids.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        ids.push_back(r.int64(i, 0));
    }
    return ids;
}

bool PgStore::requeue_uploaded(std::int64_t id, const std::string& reason) {
    return db_.run("UPDATE images SET state = 'pending', attempts = 0, next_attempt_at = 0, "
                   "last_error = $2, uploaded_at = NULL, etag = NULL WHERE id = $1 AND state = "
                   "'uploaded'",
                   PgParams().add(id).add(reason))
               .affected() != 0;
}

void PgStore::record_verification(const VerificationRecord& v) {
    db_.run("INSERT INTO verifications (started_at, finished_at, host_id, scope, outcome, "
            "checked, ok, missing, changed, unverified, requeued, message) VALUES ($1, $2, $3, "
            "$4, $5, $6, $7, $8, $9, $10, $11, $12)",
            PgParams()
                .add(v.started_at)
                .add(v.finished_at)
                .add(v.host_id)
                .add(v.scope)
                .add(std::string(core::to_string(v.outcome)))
                .add(v.totals.checked)
                .add(v.totals.ok)
                .add(v.totals.missing)
                .add(v.totals.changed)
                .add(v.totals.unverified)
                .add(v.totals.requeued)
                .add(v.message));
}

std::optional<VerificationRecord> PgStore::last_verification() {
    auto r = db_.run("SELECT id, started_at, finished_at, host_id, scope, outcome, checked, ok, "
                     "missing, changed, unverified, requeued, message FROM verifications ORDER BY "
                     "id DESC LIMIT 1");
    if (r.rows() == 0) {
        return std::nullopt;
    }
    VerificationRecord v;
    v.id = r.int64(0, 0);
    v.started_at = r.int64(0, 1);
    v.finished_at = r.int64(0, 2);
    v.host_id = r.text(0, 3);
    v.scope = r.text(0, 4);
    v.outcome = core::parse_verify_outcome(r.text(0, 5)).value_or(core::VerifyOutcome::failed);
    v.totals = {r.int64(0, 6), r.int64(0, 7),  r.int64(0, 8),
                r.int64(0, 9), r.int64(0, 10), r.int64(0, 11)};
    v.message = r.text(0, 12);
    return v;
}

} // namespace imgsync::storage
