// add's look-up of a batch of files found, in one statement: what a rescan of an unchanged tree
// spends its SQLite time on (doc/benchmarks.md, 2026-12-07).
#include "storage/sqlite_store.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <unordered_map>

namespace imgsync::storage {

namespace {

// "SELECT ... WHERE path IN (?1, ..., ?N)", built once: unused slots are bound to NULL, which
// matches nothing.
const std::string& lookup_sql() {
    static const std::string sql = [] {
        std::string s = "SELECT path, id, size, mtime_ns, state, inode FROM images WHERE path IN (";
        for (std::size_t i = 1; i <= SqliteStore::lookup_batch; ++i) {
            s += fmt::format("{}?{}", i > 1 ? ", " : "", i);
        }
        return s + ")";
    }();
    return sql;
}

} // namespace

std::vector<std::optional<Store::Known>>
SqliteStore::find_by_paths(const std::vector<std::string_view>& paths) {
    std::vector<std::optional<Known>> out(paths.size());
    for (std::size_t start = 0; start < paths.size(); start += lookup_batch) {
        const std::size_t n = std::min(lookup_batch, paths.size() - start);
        std::unordered_map<std::string_view, std::size_t> index;
        std::vector<std::pair<std::size_t, std::size_t>> again; // a path given twice: (i, first)
        auto& s = stmt(lookup_sql());
        for (std::size_t i = 0; i < lookup_batch; ++i) {
            if (i < n) {
                s.bind(static_cast<int>(i + 1), paths[start + i]);
                auto [at, fresh] = index.emplace(paths[start + i], start + i);
                if (!fresh) {
                    again.emplace_back(start + i, at->second);
                }
            } else {
                s.bind(static_cast<int>(i + 1), std::nullopt);
            }
        }
        while (s.step()) {
            auto at = index.find(s.text(0));
            if (at == index.end()) {
                continue;
            }
            auto state = core::parse_image_state(s.text(4));
            if (!state) {
                throw Error(ExitCode::state_error,
                            fmt::format("unknown image state '{}' in the state file", s.text(4)));
            }
            out[at->second] = Known{s.int64(1), static_cast<std::uint64_t>(s.int64(2)), s.int64(3),
                                    *state, static_cast<std::uint64_t>(s.int64(5))};
        }
        for (const auto& [i, first] : again) {
            out[i] = out[first];
        }
    }
    return out;
}

} // namespace imgsync::storage
