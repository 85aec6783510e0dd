// add's look-up of a batch of files found, in one statement.
#include "storage/pg_store.hpp"

#include <unordered_map>

namespace imgsync::storage {

std::vector<std::optional<Store::Known>>
PgStore::find_by_paths(const std::vector<std::string_view>& paths) {
    std::vector<std::optional<Known>> out(paths.size());
    if (paths.empty()) {
        return out;
    }
    std::unordered_map<std::string_view, std::size_t> index;
    std::vector<std::pair<std::size_t, std::size_t>> again; // a path given twice: (i, first)
    for (std::size_t i = 0; i < paths.size(); ++i) {
        auto [at, fresh] = index.emplace(paths[i], i);
        if (!fresh) {
            again.emplace_back(i, at->second);
        }
    }
    auto r =
        db_.run("SELECT path, id, size, mtime_ns, state, inode FROM images "
                "WHERE path = ANY($1::text[])",
                PgParams().add(pg_array(std::vector<std::string>(paths.begin(), paths.end()))));
    for (int row = 0; row < r.rows(); ++row) {
        auto at = index.find(r.text(row, 0));
        if (at == index.end()) {
            continue;
        }
        auto state = core::parse_image_state(r.text(row, 4));
        out[at->second] = Known{r.int64(row, 1), static_cast<std::uint64_t>(r.int64(row, 2)),
                                r.int64(row, 3), state.value_or(core::ImageState::pending),
                                static_cast<std::uint64_t>(r.int64(row, 5))};
    }
    for (const auto& [i, first] : again) {
        out[i] = out[first];
    }
    return out;
}

} // namespace imgsync::storage
