#include "ingest/exclude.hpp"

#include <fmt/format.h>

#include <fnmatch.h>

namespace imgsync::core {

util::Result<ExcludeList> ExcludeList::parse(const std::vector<std::string>& patterns) {
    ExcludeList list;
    for (const auto& p : patterns) {
        Pattern pattern;
        pattern.given = p;
        pattern.glob = p;
        while (!pattern.glob.empty() && pattern.glob.back() == '/') {
            pattern.glob.pop_back();
            pattern.dir_only = true;
        }
        if (pattern.glob.empty()) {
            return util::fail(p.empty() ? std::string("an empty pattern matches nothing")
                                        : fmt::format("pattern '{}' matches no path", p));
        }
        list.patterns_.push_back(std::move(pattern));
    }
    return list;
}

const std::string* ExcludeList::match(std::string_view relative, bool is_dir) const {
    if (patterns_.empty()) {
        return nullptr;
    }
    thread_local std::string buf; // the path, NUL-terminated for fnmatch
    buf.assign(relative);
    for (const auto& p : patterns_) {
        if (p.dir_only && !is_dir) {
            continue;
        }
        if (::fnmatch(p.glob.c_str(), buf.c_str(), 0) == 0) {
            return &p.given;
        }
    }
    return nullptr;
}

} // namespace imgsync::core
