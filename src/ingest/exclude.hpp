// add --exclude: glob patterns matched against a file's or a directory's path relative to the
// argument it was found under ("2026/raw/a.jpg" under `add /srv/photos`). fnmatch(3) without
// FNM_PATHNAME or FNM_PERIOD: '*', '?' and brackets also match '/' and a leading '.', so
// "*.tmp" excludes every .tmp file at any depth and "*/cache" every directory named cache below
// the top. A pattern that ends with '/' matches directories only. A match on a directory prunes
// it: nothing under it is listed.
#pragma once

#include "util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace imgsync::core {

class ExcludeList {
  public:
    ExcludeList() = default;
    // Refuses an empty pattern (or one that is only "/").
    static util::Result<ExcludeList> parse(const std::vector<std::string>& patterns);

    bool empty() const { return patterns_.empty(); }
    // The pattern that excludes this relative path (a directory's when is_dir), or nullptr.
    // Safe to call from several threads at once.
    const std::string* match(std::string_view relative, bool is_dir) const;

  private:
    struct Pattern {
        std::string glob;  // as matched: without the trailing '/'
        std::string given; // as typed, for the log
        bool dir_only = false;
    };
    std::vector<Pattern> patterns_;
};

} // namespace imgsync::core
