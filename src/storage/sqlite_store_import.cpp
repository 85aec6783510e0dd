// SqliteStore's side of imgsync migrate: an image's multipart progress and digests out, whole
// images and passes in.
#include "storage/sqlite_store.hpp"

#include "model/fleet_bucket.hpp"

namespace imgsync::storage {

// Here rather than in sqlite_store.cpp for its length. One pass at a time: the running one (if
// any) holds every uploading image; no leases expire.
FleetStatus SqliteStore::fleet(int recent) {
    FleetStatus f;
    auto& s = stmt(
        "SELECT r.id, r.host_id, r.pid, r.started_at, r.finished_at, r.outcome, "
        "(SELECT count(*) FROM images i WHERE i.state = 'uploading' AND "
        "i.run_id = r.id), r.requests FROM (SELECT * FROM runs WHERE outcome = 'running' UNION "
        "SELECT * FROM (SELECT * FROM runs WHERE outcome <> 'running' ORDER BY id "
        "DESC LIMIT ?1)) r ORDER BY r.id DESC");
    s.bind(1, static_cast<std::int64_t>(recent));
    while (s.step()) {
        PassRecord p;
        p.run_id = s.int64(0);
        p.host_id = s.text(1);
        p.pid = s.int64(2);
        p.started_at = s.int64(3);
        p.finished_at = s.optional_int64(4);
        p.outcome = core::parse_run_outcome(s.text(5)).value_or(core::RunOutcome::crashed);
        p.in_flight = s.int64(6);
        p.requests = s.int64(7);
        f.passes.push_back(std::move(p));
    }
    s.reset();
    auto& hosts = stmt("SELECT host_id, state, images, bytes FROM host_totals "
                       "WHERE images <> 0 ORDER BY host_id");
    while (hosts.step()) {
        f.add_host_state(hosts.text(0), hosts.text(1), hosts.int64(2),
                         static_cast<std::uint64_t>(hosts.int64(3)));
    }
    hosts.reset();
    return f;
}

// Here rather than in sqlite_store.cpp for its length: the bucket, read and written in one
// transaction (the pass's batch is committed before).
std::int64_t SqliteStore::take_fleet_tokens(double rate, double burst, std::int64_t want,
                                            double now) {
    Transaction txn(db_);
    double tokens = burst, updated_at = now;
    auto& read = stmt("SELECT tokens, updated_at FROM fleet_bucket WHERE id = 1");
    if (read.step()) {
        tokens = read.real(0);
        updated_at = read.real(1);
    }
    read.reset();
    auto grant = core::fleet_take(tokens, updated_at, now, rate, burst, static_cast<double>(want));
    stmt("INSERT INTO fleet_bucket (id, tokens, updated_at) VALUES (1, ?1, ?2) "
         "ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens, "
         "updated_at = max(updated_at, excluded.updated_at)")
        .bind(1, grant.tokens_left)
        .bind(2, now)
        .run();
    txn.commit();
    return static_cast<std::int64_t>(grant.granted);
}

ImageExport SqliteStore::export_image(const ImageRecord& image) {
    ImageExport e;
    e.image = image;
    auto& parts = stmt("SELECT part_number, etag, size FROM parts WHERE image_id = ?1 "
                       "ORDER BY part_number");
    parts.bind(1, image.id);
    while (parts.step()) {
        e.parts.push_back(
            {parts.int64(0), parts.text(1), static_cast<std::uint64_t>(parts.int64(2))});
    }
    parts.reset();
    auto& digests = stmt("SELECT part_size, part_number, md5, sha256 FROM part_digests "
                         "WHERE image_id = ?1 ORDER BY part_number");
    digests.bind(1, image.id);
    while (digests.step()) {
        e.digest_part_size = static_cast<std::uint64_t>(digests.int64(0));
        e.digests.push_back({digests.int64(1), digests.text(2), digests.text(3)});
    }
    digests.reset();
    return e;
}

bool SqliteStore::import_image(const ImageExport& e) {
    const ImageRecord& i = e.image;
    if (find_by_path(i.path)) {
        return false;
    }
    auto state = i.state == core::ImageState::uploading ? core::ImageState::pending : i.state;
    stmt("INSERT INTO images (path, key, size, mtime_ns, sha256, md5, content_type, state, "
         "attempts, last_error, next_attempt_at, added_at, uploaded_at, etag, upload_id, "
         "part_size, host_id, inode, pruned_at, pruned_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
         "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)")
        .bind(1, i.path)
        .bind(2, i.key)
        .bind(3, static_cast<std::int64_t>(i.size))
        .bind(4, i.mtime_ns)
        .bind(5, i.sha256)
        .bind(6, i.md5)
        .bind(7, i.content_type)
        .bind(8, std::string(core::to_string(state)))
        .bind(9, i.attempts)
        .bind(10, i.last_error)
        .bind(11, i.next_attempt_at)
        .bind(12, i.added_at)
        .bind(13, i.uploaded_at)
        .bind(14, i.etag)
        .bind(15, i.upload_id)
        .bind(16, i.part_size)
        .bind(17, i.host_id)
        .bind(18, static_cast<std::int64_t>(i.inode))
        .bind(19, i.pruned_at)
        .bind(20, i.pruned_to)
        .run();
    std::int64_t id = db_.last_insert_rowid();
    for (const auto& p : e.parts) {
        stmt("INSERT INTO parts (image_id, part_number, etag, size) VALUES (?1, ?2, ?3, ?4)")
            .bind(1, id)
            .bind(2, p.part_number)
            .bind(3, p.etag)
            .bind(4, static_cast<std::int64_t>(p.size))
            .run();
    }
    NewImage digests;
    digests.digest_part_size = e.digest_part_size;
    digests.part_digests = e.digests;
    insert_part_digests(id, digests);
    return true;
}

bool SqliteStore::import_run(const RunRecord& r) {
    return stmt("INSERT INTO runs (started_at, finished_at, pid, host_id, uploaded, failed, "
                "retried, bytes, outcome, message, seconds) "
                "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
                "WHERE NOT EXISTS (SELECT 1 FROM runs WHERE started_at = ?1 AND pid = ?3 "
                "AND host_id = ?4)")
               .bind(1, r.started_at)
               .bind(2, r.finished_at)
               .bind(3, r.pid)
               .bind(4, r.host_id)
               .bind(5, r.uploaded)
               .bind(6, r.failed)
               .bind(7, r.retried)
               .bind(8, static_cast<std::int64_t>(r.bytes))
               .bind(9, std::string(core::to_string(r.outcome)))
               .bind(10, r.message)
               .bind(11, r.seconds)
               .run() != 0;
}

} // namespace imgsync::storage
