// Takes a fresh state file's schema back a version, for the tests of the migrations from it.
#pragma once

#include "storage/sqlite.hpp"

// Removes what version 8 added (the runs' seconds and requests, host_totals and its triggers);
// the caller sets user_version.
inline void undo_sqlite_schema_v8(imgsync::storage::Database& db) {
    db.exec("ALTER TABLE runs DROP COLUMN seconds");
    db.exec("ALTER TABLE runs DROP COLUMN requests");
    db.exec("DROP TRIGGER images_host_insert");
    db.exec("DROP TRIGGER images_host_update");
    db.exec("DROP TRIGGER images_host_delete");
    db.exec("DROP TABLE host_totals");
}
