// SqliteStore's side of prune: the uploaded images whose local file may go, in upload order, and
// the record that it went.
#include "storage/sqlite_rows.hpp"
#include "storage/sqlite_store.hpp"

#include <fmt/format.h>

namespace imgsync::storage {

std::vector<ImageRecord> SqliteStore::prunable_page(std::int64_t uploaded_before,
                                                    const PruneCursor& after,
                                                    const std::optional<std::string>& host_id,
                                                    int limit) {
    auto s = db_.prepare(fmt::format(
        "SELECT {} FROM images INDEXED BY images_prunable WHERE state = 'uploaded' AND pruned_at "
        "IS NULL AND uploaded_at <= ?1 AND (uploaded_at, id) > (?2, ?3) AND (?4 IS NULL OR "
        "host_id = ?4) ORDER BY uploaded_at, id LIMIT ?5",
        sqlite_image_columns));
    s.bind(1, uploaded_before)
        .bind(2, after.uploaded_at)
        .bind(3, after.id)
        .bind(4, host_id)
        .bind(5, std::int64_t{limit});
    std::vector<ImageRecord> page;
    while (s.step()) {
        page.push_back(read_sqlite_image(s));
    }
    return page;
}

bool SqliteStore::mark_pruned(std::int64_t id, std::uint64_t size, std::int64_t mtime_ns,
                              std::int64_t now, const std::optional<std::string>& moved_to) {
    return stmt("UPDATE images SET pruned_at = ?4, pruned_to = ?5 WHERE id = ?1 AND state = "
                "'uploaded' AND pruned_at IS NULL AND size = ?2 AND mtime_ns = ?3")
               .bind(1, id)
               .bind(2, static_cast<std::int64_t>(size))
               .bind(3, mtime_ns)
               .bind(4, now)
               .bind(5, moved_to)
               .run() != 0;
}

} // namespace imgsync::storage
