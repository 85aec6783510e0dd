#include "util/clock.hpp"

#include <ctime>

namespace imgsync::util {

double wall_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

namespace {
class SystemClock final : public Clock {
  public:
    double wall_seconds() const override { return util::wall_seconds(); }
    double monotonic_seconds() const override { return util::monotonic_seconds(); }
};
} // namespace

const Clock& Clock::system() {
    static const SystemClock clock;
    return clock;
}

LocalTimeOfWeek local_time_of_week(std::int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    localtime_r(&t, &tm);
    return {tm.tm_wday, tm.tm_hour * 60 + tm.tm_min};
}

} // namespace imgsync::util
