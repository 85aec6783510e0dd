// The SQLite backend's schema, versioned by PRAGMA user_version: created on first use, migrated
// forward on open, refused when newer than this imgsync or when the file is somebody else's.
#pragma once

#include "storage/sqlite.hpp"

namespace imgsync::storage {

// Brings the schema of a writable database up to `target`, in one transaction.
void migrate_sqlite(Database& db, int target);

// Throws Error(state_error) unless the schema is exactly `target` (read-only opens).
void require_sqlite_version(Database& db, int target);

} // namespace imgsync::storage
