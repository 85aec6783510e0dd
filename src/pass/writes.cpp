#include "pass/writes.hpp"

namespace imgsync::core::pass {

bool commit_due(int writes, double opened_at, double now) {
    constexpr int max_writes = 64;
    constexpr double max_seconds = 0.25;
    return writes >= max_writes || now - opened_at >= max_seconds;
}

bool requests_report_due(std::int64_t reported, std::int64_t current, double reported_at,
                         double now) {
    constexpr double min_interval = 1.0;
    return current != reported && now - reported_at >= min_interval;
}

} // namespace imgsync::core::pass
