// How PgStore's files read an image row: the columns they select, in this order (a macro, so
// that it joins the string literals of the SQL around it), and the record they make of them.
#pragma once

#include "model/records.hpp"
#include "storage/pg.hpp"

#define IMAGE_COLUMNS                                                                              \
    "id, path, key, size, mtime_ns, sha256, md5, content_type, state, attempts, last_error, "      \
    "next_attempt_at, added_at, uploaded_at, etag, upload_id, part_size, host_id, inode, "         \
    "pruned_at, pruned_to"

namespace imgsync::storage {

// Row `row` of a result selecting IMAGE_COLUMNS first. Throws Error(state_error) for a state it
// does not know.
ImageRecord read_pg_image(const PgResult& r, int row);

} // namespace imgsync::storage
