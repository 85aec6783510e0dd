// PgStore's side of prune: the uploaded images whose local file may go, in upload order, and the
// record that it went. One short statement each.
#include "storage/pg_rows.hpp"
#include "storage/pg_store.hpp"

namespace imgsync::storage {

std::vector<ImageRecord> PgStore::prunable_page(std::int64_t uploaded_before,
                                                const PruneCursor& after,
                                                const std::optional<std::string>& host_id,
                                                int limit) {
    auto r = db_.run("SELECT " IMAGE_COLUMNS " FROM images WHERE state = 'uploaded' AND "
                     "pruned_at IS NULL AND uploaded_at <= $1 AND (uploaded_at, id) > ($2, $3) "
                     "AND ($4::text IS NULL OR host_id = $4) ORDER BY uploaded_at, id LIMIT $5",
                     PgParams()
                         .add(uploaded_before)
                         .add(after.uploaded_at)
                         .add(after.id)
                         .add(host_id)
                         .add(std::int64_t{limit}));
    std::vector<ImageRecord> page;
    page.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        page.push_back(read_pg_image(r, i));
    }
    return page;
}

bool PgStore::mark_pruned(std::int64_t id, std::uint64_t size, std::int64_t mtime_ns,
                          std::int64_t now, const std::optional<std::string>& moved_to) {
    return db_.run("UPDATE images SET pruned_at = $4, pruned_to = $5 WHERE id = $1 AND state = "
                   "'uploaded' AND pruned_at IS NULL AND size = $2 AND mtime_ns = $3",
                   PgParams()
                       .add(id)
                       .add(static_cast<std::int64_t>(size))
                       .add(mtime_ns)
                       .add(now)
                       .add(moved_to))
               .affected() != 0;
}

} // namespace imgsync::storage
