// PgStore's side of imgsync migrate: an image's multipart progress and digests out, whole images
// and passes in.
#include "storage/pg_store.hpp"

namespace imgsync::storage {

// Here rather than in pg_store.cpp for its length.
FleetStatus PgStore::fleet(int recent) {
    FleetStatus f;
    auto r =
        db_.run("SELECT r.id, r.host_id, r.pid, r.started_at, r.finished_at, r.outcome, "
                "(SELECT count(*) FROM images i WHERE i.state = 'uploading' AND i.run_id = r.id), "
                "floor(extract(epoch FROM r.lease_expires_at))::bigint, r.requests "
                "FROM (SELECT * FROM runs WHERE outcome = 'running' UNION ALL "
                "(SELECT * FROM runs WHERE outcome <> 'running' ORDER BY id DESC LIMIT $1)) r "
                "ORDER BY r.id DESC",
                PgParams().add(static_cast<std::int64_t>(recent)));
    f.passes.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        PassRecord p;
        p.run_id = r.int64(i, 0);
        p.host_id = r.text(i, 1);
        p.pid = r.int64(i, 2);
        p.started_at = r.int64(i, 3);
        p.finished_at = r.optional_int64(i, 4);
        p.outcome = core::parse_run_outcome(r.text(i, 5)).value_or(core::RunOutcome::crashed);
        p.in_flight = r.int64(i, 6);
        p.lease_expires_at = r.optional_int64(i, 7);
        p.requests = r.int64(i, 8);
        f.passes.push_back(std::move(p));
    }
    f.expired_leases = db_.exec("SELECT count(*) FROM images WHERE state = 'uploading' "
                                "AND lease_expires_at < now()")
                           .int64(0, 0);
    auto hosts = db_.exec("SELECT host_id, state, sum(images), sum(bytes) FROM host_deltas "
                          "GROUP BY host_id, state HAVING sum(images) <> 0 ORDER BY host_id");
    for (int i = 0; i < hosts.rows(); ++i) {
        f.add_host_state(hosts.text(i, 0), hosts.text(i, 1), hosts.int64(i, 2),
                         static_cast<std::uint64_t>(hosts.int64(i, 3)));
    }
    return f;
}

// Here rather than in pg_store.cpp for its length. One statement (core::fleet_take in SQL, with
// the database's clock): the row is locked for the statement only.
std::int64_t PgStore::take_fleet_tokens(double rate, double burst, std::int64_t want, double now) {
    (void)now;
    db_.run("INSERT INTO fleet_bucket (id, tokens, updated_at) VALUES (1, $1, now()) "
            "ON CONFLICT (id) DO NOTHING",
            PgParams().add(burst));
    auto r = db_.run(
        "WITH cur AS (SELECT least($2, tokens + greatest(0, extract(epoch FROM clock_timestamp() "
        "  - updated_at)) * $1) AS avail FROM fleet_bucket WHERE id = 1 FOR UPDATE), "
        "g AS (SELECT avail, greatest(0, least($3, floor(avail))) AS granted FROM cur) "
        "UPDATE fleet_bucket SET tokens = g.avail - g.granted, "
        "  updated_at = greatest(updated_at, clock_timestamp()) "
        "FROM g WHERE id = 1 RETURNING g.granted::bigint",
        PgParams().add(rate).add(burst).add(static_cast<double>(want)));
    return r.rows() == 0 ? 0 : r.int64(0, 0);
}

ImageExport PgStore::export_image(const ImageRecord& image) {
    ImageExport e;
    e.image = image;
    auto parts = db_.run("SELECT part_number, etag, size FROM parts WHERE image_id = $1 "
                         "ORDER BY part_number",
                         PgParams().add(image.id));
    e.parts.reserve(static_cast<std::size_t>(parts.rows()));
    for (int i = 0; i < parts.rows(); ++i) {
        e.parts.push_back(
            {parts.int64(i, 0), parts.text(i, 1), static_cast<std::uint64_t>(parts.int64(i, 2))});
    }
    auto digests = db_.run("SELECT part_size, part_number, md5, sha256 FROM part_digests "
                           "WHERE image_id = $1 ORDER BY part_number",
                           PgParams().add(image.id));
    e.digests.reserve(static_cast<std::size_t>(digests.rows()));
    for (int i = 0; i < digests.rows(); ++i) {
        e.digest_part_size = static_cast<std::uint64_t>(digests.int64(i, 0));
        e.digests.push_back({digests.int64(i, 1), digests.text(i, 2), digests.text(i, 3)});
    }
    return e;
}

bool PgStore::import_image(const ImageExport& e) {
    const ImageRecord& i = e.image;
    auto state = i.state == core::ImageState::uploading ? core::ImageState::pending : i.state;
    auto r = db_.run(
        "INSERT INTO images (path, key, size, mtime_ns, sha256, md5, content_type, state, "
        "attempts, last_error, next_attempt_at, added_at, uploaded_at, etag, upload_id, "
        "part_size, host_id, inode, pruned_at, pruned_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (path) DO "
        "NOTHING RETURNING id",
        PgParams()
            .add(i.path)
            .add(i.key)
            .add(static_cast<std::int64_t>(i.size))
            .add(i.mtime_ns)
            .add(i.sha256)
            .add(i.md5)
            .add(i.content_type)
            .add(std::string(core::to_string(state)))
            .add(i.attempts)
            .add(i.last_error)
            .add(i.next_attempt_at)
            .add(i.added_at)
            .add(i.uploaded_at)
            .add(i.etag)
            .add(i.upload_id)
            .add(i.part_size)
            .add(i.host_id)
            .add(static_cast<std::int64_t>(i.inode))
            .add(i.pruned_at)
            .add(i.pruned_to));
    if (r.rows() == 0) {
        return false;
    }
    std::int64_t id = r.int64(0, 0);
    if (!e.parts.empty()) {
        std::vector<std::int64_t> numbers, sizes;
        std::vector<std::string> etags;
        for (const auto& p : e.parts) {
            numbers.push_back(p.part_number);
            sizes.push_back(static_cast<std::int64_t>(p.size));
            etags.push_back(p.etag);
        }
        db_.run(
            "INSERT INTO parts (image_id, part_number, etag, size) SELECT $1, n, t, s "
            "FROM unnest($2::int[], $3::text[], $4::bigint[]) AS p(n, t, s)",
            PgParams().add(id).add(pg_array(numbers)).add(pg_array(etags)).add(pg_array(sizes)));
    }
    NewImage digests;
    digests.digest_part_size = e.digest_part_size;
    digests.part_digests = e.digests;
    insert_part_digests(id, digests);
    return true;
}

bool PgStore::import_run(const RunRecord& run) {
    auto r = db_.run(
        "INSERT INTO runs (started_at, finished_at, pid, host_id, uploaded, failed, retried, "
        "bytes, outcome, message, seconds) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 "
        "WHERE NOT EXISTS (SELECT 1 FROM runs WHERE started_at = $1 AND pid = $3 "
        "AND host_id = $4)",
        PgParams()
            .add(run.started_at)
            .add(run.finished_at)
            .add(run.pid)
            .add(run.host_id)
            .add(run.uploaded)
            .add(run.failed)
            .add(run.retried)
            .add(static_cast<std::int64_t>(run.bytes))
            .add(std::string(core::to_string(run.outcome)))
            .add(run.message)
            .add(run.seconds));
    return r.affected() != 0;
}

} // namespace imgsync::storage
