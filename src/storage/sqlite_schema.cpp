#include "storage/sqlite_schema.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

namespace imgsync::storage {

namespace {

// Version 1. Counters per state and per hour are kept by triggers so that `status` reads a handful
// of rows instead of scanning a million (the 50 ms target on 1,000,000 images).
constexpr const char* schema_v1 = R"sql(
CREATE TABLE images (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    key             TEXT NOT NULL UNIQUE,
    size            INTEGER NOT NULL CHECK (size >= 0),
    mtime_ns        INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    md5             TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'uploading', 'uploaded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    added_at        INTEGER NOT NULL,
    uploaded_at     INTEGER,
    etag            TEXT,
    run_id          INTEGER,
    upload_id       TEXT,
    part_size       INTEGER NOT NULL DEFAULT 0
);
-- The pass's queue: oldest pending first.
CREATE INDEX images_queue ON images (added_at, id) WHERE state = 'pending';
CREATE INDEX images_state ON images (state, id);

CREATE TABLE parts (
    image_id    INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (image_id, part_number)
) WITHOUT ROWID;

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    pid         INTEGER NOT NULL,
    uploaded    INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    retried     INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT NOT NULL DEFAULT 'running',
    message     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE totals (
    state  TEXT PRIMARY KEY,
    images INTEGER NOT NULL,
    bytes  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO totals VALUES ('pending', 0, 0), ('uploading', 0, 0), ('uploaded', 0, 0),
                          ('failed', 0, 0);

CREATE TABLE activity (
    hour           INTEGER PRIMARY KEY,
    added          INTEGER NOT NULL DEFAULT 0,
    added_bytes    INTEGER NOT NULL DEFAULT 0,
    uploaded       INTEGER NOT NULL DEFAULT 0,
    uploaded_bytes INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER images_insert AFTER INSERT ON images BEGIN
    UPDATE totals SET images = images + 1, bytes = bytes + NEW.size WHERE state = NEW.state;
    INSERT INTO activity (hour, added, added_bytes) VALUES (NEW.added_at / 3600, 1, NEW.size)
        ON CONFLICT (hour) DO UPDATE SET added = added + 1,
                                         added_bytes = added_bytes + excluded.added_bytes;
END;
CREATE TRIGGER images_update AFTER UPDATE OF state, size ON images BEGIN
    UPDATE totals SET images = images - 1, bytes = bytes - OLD.size WHERE state = OLD.state;
    UPDATE totals SET images = images + 1, bytes = bytes + NEW.size WHERE state = NEW.state;
END;
CREATE TRIGGER images_uploaded AFTER UPDATE OF state ON images
    WHEN NEW.state = 'uploaded' AND OLD.state <> 'uploaded' BEGIN
    INSERT INTO activity (hour, uploaded, uploaded_bytes)
        VALUES (NEW.uploaded_at / 3600, 1, NEW.size)
        ON CONFLICT (hour) DO UPDATE SET uploaded = uploaded + 1,
                                         uploaded_bytes = uploaded_bytes + excluded.uploaded_bytes;
END;
CREATE TRIGGER images_delete AFTER DELETE ON images BEGIN
    UPDATE totals SET images = images - 1, bytes = bytes - OLD.size WHERE state = OLD.state;
END;
)sql";

// Version 2: part digests computed by add, so a pass reads a multipart file once.
constexpr const char* schema_v2 = R"sql(
CREATE TABLE part_digests (
    image_id    INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    part_size   INTEGER NOT NULL,
    part_number INTEGER NOT NULL,
    md5         TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (image_id, part_number)
) WITHOUT ROWID;
)sql";

// Version 3: the host id that registered each image and that ran each pass (--host-id).
constexpr const char* schema_v3 = R"sql(
ALTER TABLE images ADD COLUMN host_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN host_id TEXT NOT NULL DEFAULT '';
)sql";

// Version 4: the fleet's token bucket (upload --fleet-rate), one row.
constexpr const char* schema_v4 = R"sql(
CREATE TABLE fleet_bucket (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    tokens     REAL NOT NULL,
    updated_at REAL NOT NULL
);
)sql";

// Version 5: the verifications imgsync verify finished, for status and the metrics.
constexpr const char* schema_v5 = R"sql(
CREATE TABLE verifications (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    host_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    checked     INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    missing     INTEGER NOT NULL,
    changed     INTEGER NOT NULL,
    unverified  INTEGER NOT NULL,
    requeued    INTEGER NOT NULL,
    message     TEXT NOT NULL
);
)sql";

// Version 6: what prune needs. The inode of the file add hashed (0 for older rows: unknown), and
// when and where an uploaded image's local file was pruned; the prune queue; and the pruned
// images and bytes as a totals row of their own ("pruned", among the uploaded), kept by triggers
// like the states' rows: status shows the bytes still on the local disk without a scan.
constexpr const char* schema_v6 = R"sql(
ALTER TABLE images ADD COLUMN inode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN pruned_at INTEGER;
ALTER TABLE images ADD COLUMN pruned_to TEXT;
CREATE INDEX images_prunable ON images (uploaded_at, id)
    WHERE state = 'uploaded' AND pruned_at IS NULL;
INSERT INTO totals VALUES ('pruned', 0, 0);
CREATE TRIGGER images_pruned_insert AFTER INSERT ON images
    WHEN NEW.state = 'uploaded' AND NEW.pruned_at IS NOT NULL BEGIN
    UPDATE totals SET images = images + 1, bytes = bytes + NEW.size WHERE state = 'pruned';
END;
CREATE TRIGGER images_pruned_update AFTER UPDATE OF state, size, pruned_at ON images
    WHEN (OLD.state = 'uploaded' AND OLD.pruned_at IS NOT NULL)
      OR (NEW.state = 'uploaded' AND NEW.pruned_at IS NOT NULL) BEGIN
    UPDATE totals SET
        images = images - (OLD.state = 'uploaded' AND OLD.pruned_at IS NOT NULL)
                        + (NEW.state = 'uploaded' AND NEW.pruned_at IS NOT NULL),
        bytes = bytes
            - CASE WHEN OLD.state = 'uploaded' AND OLD.pruned_at IS NOT NULL THEN OLD.size ELSE 0 END
            + CASE WHEN NEW.state = 'uploaded' AND NEW.pruned_at IS NOT NULL THEN NEW.size ELSE 0 END
        WHERE state = 'pruned';
END;
CREATE TRIGGER images_pruned_delete AFTER DELETE ON images
    WHEN OLD.state = 'uploaded' AND OLD.pruned_at IS NOT NULL BEGIN
    UPDATE totals SET images = images - 1, bytes = bytes - OLD.size WHERE state = 'pruned';
END;
)sql";

// Version 7: files add refused, remembered by path with the size and mtime they had, so that
// a later add skips them while they stay the same.
constexpr const char* schema_v7 = R"sql(
CREATE TABLE refusals (
    path       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    host_id    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql";

// Version 8: how long each pass ran, to the millisecond (started_at and finished_at are whole
// seconds), and the HTTP requests a running pass has in flight, which it reports about once a
// second, so that status tells images claimed from requests being made. And the backlog (every
// state but uploaded) by host id, kept by triggers like totals, so that status shows it without
// reading the images.
constexpr const char* schema_v8 = R"sql(
ALTER TABLE runs ADD COLUMN seconds REAL;
ALTER TABLE runs ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
CREATE TABLE host_totals (
    host_id TEXT NOT NULL,
    state   TEXT NOT NULL,
    images  INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host_id, state)
) WITHOUT ROWID;
INSERT INTO host_totals SELECT host_id, state, count(*), sum(size) FROM images
    WHERE state <> 'uploaded' GROUP BY host_id, state;
CREATE TRIGGER images_host_insert AFTER INSERT ON images WHEN NEW.state <> 'uploaded' BEGIN
    INSERT INTO host_totals VALUES (NEW.host_id, NEW.state, 1, NEW.size)
        ON CONFLICT (host_id, state) DO UPDATE SET images = images + 1,
                                                   bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER images_host_update AFTER UPDATE OF state, size, host_id ON images
    WHEN OLD.state <> 'uploaded' OR NEW.state <> 'uploaded' BEGIN
    UPDATE host_totals SET images = images - 1, bytes = bytes - OLD.size
        WHERE OLD.state <> 'uploaded' AND host_id = OLD.host_id AND state = OLD.state;
    INSERT INTO host_totals SELECT NEW.host_id, NEW.state, 1, NEW.size WHERE NEW.state <> 'uploaded'
        ON CONFLICT (host_id, state) DO UPDATE SET images = images + 1,
                                                   bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER images_host_delete AFTER DELETE ON images WHEN OLD.state <> 'uploaded' BEGIN
    UPDATE host_totals SET images = images - 1, bytes = bytes - OLD.size
        WHERE host_id = OLD.host_id AND state = OLD.state;
END;
)sql";

std::int64_t user_version(Database& db) {
    auto s = db.prepare("PRAGMA user_version");
    s.step();
    return s.int64(0);
}

} // namespace

void migrate_sqlite(Database& db_, int schema_version) {
    std::int64_t version = user_version(db_);
    if (version == schema_version) {
        return;
    }
    if (version > schema_version) {
        throw Error(ExitCode::state_error,
                    fmt::format("state file {} has schema version {}, newer than this imgsync "
                                "understands ({}); upgrade imgsync",
                                db_.path(), version, schema_version));
    }
    Transaction txn(db_);
    if (version < 1) {
        // A file that is not empty but has no schema is somebody else's database.
        auto tables = db_.prepare("SELECT count(*) FROM sqlite_master");
        tables.step();
        if (tables.int64(0) != 0) {
            throw Error(
                ExitCode::state_error,
                fmt::format("{} is an SQLite database but not an imgsync state file", db_.path()));
        }
        db_.exec(schema_v1);
    }
    if (version < 2) {
        db_.exec(schema_v2);
    }
    if (version < 3) {
        db_.exec(schema_v3);
    }
    if (version < 4) {
        db_.exec(schema_v4);
    }
    if (version < 5) {
        db_.exec(schema_v5);
    }
    if (version < 6) {
        db_.exec(schema_v6);
    }
    if (version < 7) {
        db_.exec(schema_v7);
    }
    if (version < 8) {
        db_.exec(schema_v8);
    }
    // Future migrations go here: if (version < 9) { ... }
    db_.exec(fmt::format("PRAGMA user_version = {}", schema_version));
    txn.commit();
}

void require_sqlite_version(Database& db, int target) {
    std::int64_t version = user_version(db);
    if (version != target) {
        throw Error(ExitCode::state_error,
                    fmt::format("state file {} has schema version {}, expected {}", db.path(),
                                version, target));
    }
}

} // namespace imgsync::storage
