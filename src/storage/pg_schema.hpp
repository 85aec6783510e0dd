// The PostgreSQL backend's schema, versioned in the table imgsync_schema: created on first use and
// migrated forward under an advisory lock (several hosts may start at once), refused when newer
// than this imgsync or when the database holds tables of somebody else's under imgsync's names.
#pragma once

#include "storage/pg.hpp"

namespace imgsync::storage {

constexpr int pg_schema_version = 5;

void migrate_pg(PgConnection& db);

} // namespace imgsync::storage
