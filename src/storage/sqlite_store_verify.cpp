// SqliteStore's side of imgsync verify: the uploaded images in pages, a random sample, requeues
// and the verifications table.
#include "storage/sqlite_rows.hpp"
#include "storage/sqlite_store.hpp"

#include <fmt/format.h>

namespace imgsync::storage {

std::vector<ImageRecord> SqliteStore::uploaded_page(std::int64_t after_id,
                                                    std::optional<std::int64_t> uploaded_since,
                                                    int limit) {
    auto s = db_.prepare(fmt::format("SELECT {} FROM images INDEXED BY images_state WHERE state "
                                     "= 'uploaded' AND id > ?1 AND (?2 IS NULL OR uploaded_at >= "
                                     "?2) ORDER BY id LIMIT ?3",
                                     sqlite_image_columns));
    s.bind(1, after_id).bind(2, uploaded_since).bind(3, std::int64_t{limit});
    std::vector<ImageRecord> page;
    while (s.step()) {
        page.push_back(read_sqlite_image(s));
    }
    return page;
}

std::vector<std::int64_t> SqliteStore::sample_uploaded(std::int64_t n) {
    auto& s = stmt("SELECT id FROM (SELECT id FROM images WHERE state = 'uploaded' ORDER BY "
                   "random() LIMIT ?1) ORDER BY id");
    s.bind(1, n);
    std::vector<std::int64_t> ids;
    while (s.step()) {
        ids.push_back(s.int64(0));
    }
    s.reset();
    return ids;
}

bool SqliteStore::requeue_uploaded(std::int64_t id, const std::string& reason) {
    return stmt("UPDATE images SET state = 'pending', attempts = 0, next_attempt_at = 0, "
                "last_error = ?2, uploaded_at = NULL, etag = NULL WHERE id = ?1 AND state = "
                "'uploaded'")
               .bind(1, id)
               .bind(2, reason)
               .run() != 0;
}

void SqliteStore::record_verification(const VerificationRecord& v) {
    stmt("INSERT INTO verifications (started_at, finished_at, host_id, scope, outcome, checked, "
         "ok, missing, changed, unverified, requeued, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
         "?7, ?8, ?9, ?10, ?11, ?12)")
        .bind(1, v.started_at)
        .bind(2, v.finished_at)
        .bind(3, v.host_id)
        .bind(4, v.scope)
        .bind(5, core::to_string(v.outcome))
        .bind(6, v.totals.checked)
        .bind(7, v.totals.ok)
        .bind(8, v.totals.missing)
        .bind(9, v.totals.changed)
        .bind(10, v.totals.unverified)
        .bind(11, v.totals.requeued)
        .bind(12, v.message)
        .run();
}

std::optional<VerificationRecord> SqliteStore::last_verification() {
    auto& s = stmt("SELECT id, started_at, finished_at, host_id, scope, outcome, checked, ok, "
                   "missing, changed, unverified, requeued, message FROM verifications ORDER BY "
                   "id DESC LIMIT 1");
    std::optional<VerificationRecord> v;
    if (s.step()) {
        v.emplace();
        v->id = s.int64(0);
        v->started_at = s.int64(1);
        v->finished_at = s.int64(2);
        v->host_id = s.text(3);
        v->scope = s.text(4);
        v->outcome = core::parse_verify_outcome(s.text(5)).value_or(core::VerifyOutcome::failed);
        v->totals = {s.int64(6), s.int64(7), s.int64(8), s.int64(9), s.int64(10), s.int64(11)};
        v->message = s.text(12);
    }
    s.reset();
    return v;
}

} // namespace imgsync::storage
