#include "report/chart.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace imgsync::core {

std::vector<std::int64_t> backlog_by_hour(const storage::ArrivalWindow& window,
                                          std::int64_t backlog_now, std::int64_t now) {
    const std::int64_t hours = window.window_seconds / 3600;
    std::vector<std::int64_t> out;
    if (hours <= 0) {
        return out;
    }
    std::map<std::int64_t, const storage::HourActivity*> by_hour;
    for (const auto& h : window.hours) {
        by_hour[h.hour] = &h;
    }
    out.resize(static_cast<std::size_t>(hours));
    std::int64_t backlog = std::max<std::int64_t>(0, backlog_now);
    const std::int64_t current = now / 3600;
    for (std::int64_t i = 0; i < hours; ++i) { // from now back, one hour a step
        out[static_cast<std::size_t>(hours - 1 - i)] = backlog;
        if (auto it = by_hour.find(current - i); it != by_hour.end()) {
            backlog = std::max<std::int64_t>(0, backlog - it->second->added + it->second->uploaded);
        }
    }
    return out;
}

bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang) {
    for (const char* v : {lc_all, lc_ctype, lang}) {
        if (v != nullptr && *v != '\0') {
            std::string s(v);
            std::transform(s.begin(), s.end(), s.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos;
        }
    }
    return false;
}

std::string sparkline(const std::vector<std::int64_t>& values) {
    static constexpr std::array<const char*, 8> blocks = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    std::string out;
    if (values.empty()) {
        return out;
    }
    const std::int64_t top =
        std::max<std::int64_t>(1, *std::max_element(values.begin(), values.end()));
    for (std::int64_t v : values) {
        const auto level = static_cast<std::size_t>((std::max<std::int64_t>(0, v) * 7 + top / 2) /
                                                    top); // 0..7, rounded
        out += blocks[std::min<std::size_t>(level, 7)];
    }
    return out;
}

} // namespace imgsync::core
