// How SqliteStore's files read an image row: the columns they select, in this order, and the
// record they make of them.
#pragma once

#include "model/records.hpp"
#include "storage/sqlite.hpp"

namespace imgsync::storage {

inline constexpr const char* sqlite_image_columns =
    "id, path, key, size, mtime_ns, sha256, md5, content_type, state, attempts, last_error, "
    "next_attempt_at, added_at, uploaded_at, etag, upload_id, part_size, host_id, inode, "
    "pruned_at, "
    "pruned_to";

// Throws Error(state_error) for a state it does not know.
ImageRecord read_sqlite_image(const Statement& s);

} // namespace imgsync::storage
