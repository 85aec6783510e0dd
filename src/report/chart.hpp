// The backlog over the status window as a small chart, pure: pending images at the end of each
// hour, rebuilt from the hourly arrivals and uploads, and drawn as a sparkline.
#pragma once

#include "model/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imgsync::core {

// Pending (with uploading) images at the end of each hour of the window, oldest first, the last
// being now. Walked back from `backlog_now`: an hour ago there were the images of now, minus
// those added since, plus those uploaded since. Images that failed or were forgotten in the
// window are not in the activity, so an hour's figure is an estimate; it is never below 0.
// Empty when the window is under an hour.
std::vector<std::int64_t> backlog_by_hour(const storage::ArrivalWindow& window,
                                          std::int64_t backlog_now, std::int64_t now);

// Whether the terminal takes UTF-8, as the C library would decide from the environment: the
// first of LC_ALL, LC_CTYPE and LANG that is set and not empty names a UTF-8 charset.
bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang);

// One block character per value (U+2581 to U+2588), scaled from 0 to the largest value: an
// empty backlog is the lowest block, the largest the full one. Empty for no values.
std::string sparkline(const std::vector<std::int64_t>& values);

} // namespace imgsync::core
