// The clock edge: the only place that reads the time. Pure code takes times as parameters.
#pragma once

#include <cstdint>

namespace imgsync::util {

// Seconds since the epoch, wall clock (what S3 signatures and the state file use).
double wall_seconds();
inline std::int64_t wall_epoch() {
    return static_cast<std::int64_t>(wall_seconds());
}
// Seconds on a clock that never jumps (deadlines, throttles, timeouts).
double monotonic_seconds();
// Local weekday (0 = Sunday, as tm_wday) and minutes since local midnight: bandwidth timetables
// are written in local time.
struct LocalTimeOfWeek {
    int weekday = 0;
    int minute_of_day = 0;
};
LocalTimeOfWeek local_time_of_week(std::int64_t epoch);

// Both clocks behind one seam, for code that runs long enough to be tested with a clock of its
// own (the pass). system() is the machine's.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual double wall_seconds() const = 0;
    virtual double monotonic_seconds() const = 0;
    std::int64_t wall_epoch() const { return static_cast<std::int64_t>(wall_seconds()); }
    static const Clock& system();
};

} // namespace imgsync::util
