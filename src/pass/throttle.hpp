// Pacing: the token bucket behind --rate/--burst (images per second) and --bandwidth (bytes per
// second), rclone-style bandwidth timetables, and the adaptive back-off on S3 throttling.
//
// Time is always a parameter: "now" is seconds on a monotonic clock for TokenBucket and
// AdaptiveLimiter, and minutes of local wall-clock time for BandwidthSchedule. Nothing here reads
// a clock or sleeps; callers sleep for the returned waits.
#pragma once

#include "util/units.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace imgsync::core {

// Starts full (burst tokens) and refills at rate_per_second up to burst.
//
// Large requests: a request for more than burst is granted as soon as the bucket is full and
// leaves it in debt (negative tokens) that later requests wait out, so the long-run rate holds
// for any chunk size. A bandwidth caller can therefore ask for whole 8 MiB parts even with a
// 1 MiB burst, or call take() per read() chunk and sleep what it returns.
//
// Unlimited: a rate of 0 or +infinity grants everything at once and never waits.
//
// Rounding: a request whose tokens will be there within a microsecond is granted, so try_take()
// at now + wait_seconds() succeeds despite floating-point error.
//
// Time that goes backwards is ignored: the bucket neither refills nor drains.
class TokenBucket {
  public:
    // Throws std::invalid_argument for a negative or NaN rate, or a burst that is not a finite
    // positive number.
    TokenBucket(double rate_per_second, double burst);

    // Takes n tokens if they are available (min(n, burst) of them, see above) and returns true;
    // otherwise takes nothing and returns false. n <= 0 always succeeds.
    bool try_take(double now, double n = 1);

    // Takes n tokens unconditionally (possibly into debt) and returns how long the caller must
    // wait before acting on them: 0 if they were there, else the time to pay back the debt.
    // This is the reservation form for callers that will proceed anyway after sleeping.
    double take(double now, double n);

    // Seconds until try_take(now + result, n) succeeds; 0 if it would succeed now.
    double wait_seconds(double now, double n = 1) const;

    // Tokens at now; negative while in debt. burst when unlimited.
    double available(double now) const;

    // Takes effect at now: tokens earned until now are credited at the old rate first. A debt is
    // kept across changes between limited rates; unlimited forgets it, and going from unlimited
    // to limited starts from a full bucket.
    // Throws std::invalid_argument as the constructor does.
    void set_rate(double now, double rate_per_second);
    // Clamps the current tokens to the new burst. Throws as the constructor does.
    void set_burst(double now, double burst);

    double rate() const { return rate_; }
    double burst() const { return burst_; }
    bool unlimited() const { return unlimited_; }

  private:
    void advance(double now);

    double rate_;
    double burst_;
    bool unlimited_;
    double tokens_;
    double last_ = 0;
    bool started_ = false;
};

// Minutes since Monday 00:00 local time, 0 to 10079.
inline constexpr int minutes_per_day = 24 * 60;
inline constexpr int minutes_per_week = 7 * minutes_per_day;

// tm_wday (0 = Sunday) and the minute of that day, as localtime_r gives them, to a week minute.
int week_minute(int tm_wday, int minute_of_day);

struct ScheduleEntry {
    int week_minute;                // when it takes effect
    std::uint64_t bytes_per_second; // 0 = unlimited
};

struct ScheduleChange {
    int in_minutes;                 // 1 to minutes_per_week
    std::uint64_t bytes_per_second; // the limit from then on; 0 = unlimited
};

// rclone's --bwlimit syntax:
//   "10M", "off"                          one limit all the time
//   "08:00,512K 19:00,10M 23:00,off"      a daily timetable
//   "Mon-08:00,512K Sat-00:00,off"        entries for one weekday (Mon or Monday, any case)
// Entries without a day apply to every day, so "Mon-00:00,512K 12:00,1M" has eight entries.
// The limit in effect is that of the last entry at or before now, wrapping around to the last
// entry of the week (for a daily timetable: of the previous day) before the first one.
// Limits: "off" or 0 = unlimited, else parse_size (K = KiB/s). Unlike rclone, whose bwlimit takes
// a plain number as KiB/s, a plain number is bytes/s here, as everywhere in imgsync. rclone's
// "UP:DOWN" pairs ("10M:off") are refused. Times are H:MM or HH:MM, 00:00 to 23:59; two entries
// for the same minute are an error.
class BandwidthSchedule {
  public:
    BandwidthSchedule(); // unlimited all the time
    explicit BandwidthSchedule(std::uint64_t bytes_per_second);

    // Errors name the bad token and show the accepted syntax.
    static util::Result<BandwidthSchedule> parse(std::string_view text);

    // The limit at a week minute; 0 = unlimited. The argument is taken modulo a week. For a
    // timetable without weekdays any day gives the same answer, so a bare minute of the day
    // (0 to 1439) works; once has_weekdays(), pass week_minute(tm.tm_wday, minute_of_day) or a
    // bare minute of the day is read as Monday's.
    std::uint64_t limit_at(int week_minute) const;

    // The next moment after week_minute at which the limit becomes different, nullopt if it
    // never does (a constant limit, or a timetable whose entries all agree).
    std::optional<ScheduleChange> next_change_after(int week_minute) const;

    bool has_weekdays() const { return has_weekdays_; }
    // Sorted by week_minute, never empty.
    const std::vector<ScheduleEntry>& entries() const { return entries_; }

  private:
    std::size_t index_at(int week_minute) const;

    std::vector<ScheduleEntry> entries_;
    bool has_weekdays_ = false;
};

// AIMD on S3 throttling, in the spirit of aws-cli's adaptive retry mode: each throttling episode
// multiplies the allowed concurrency and the rate factor by decrease_factor; after
// increase_window_seconds of successes with no throttling both grow back additively by one step,
// one step per window, up to where they started.
//
// Several in-flight requests usually get throttled together; signals within
// decrease_cooldown_seconds of the last decrease belong to the same episode and do not decrease
// again (they do restart the success window).
//
// The caller applies the result: at most concurrency() uploads in flight, and the operator's rate
// times rate_factor() passed to TokenBucket::set_rate().
struct AdaptiveConfig {
    int max_concurrency = 4;
    int min_concurrency = 1;
    double decrease_factor = 0.5;      // in (0, 1)
    double min_rate_factor = 1.0 / 64; // in (0, 1]
    int concurrency_step = 1;          // >= 1
    double rate_step = 0.05;           // > 0
    double increase_window_seconds = 60;
    double decrease_cooldown_seconds = 5;
};

class AdaptiveLimiter {
  public:
    // Throws std::invalid_argument for a config outside the ranges above, or with
    // min_concurrency < 1 or > max_concurrency, or negative windows.
    explicit AdaptiveLimiter(AdaptiveConfig config);

    // A throttling response (see core::is_throttling). True if the limits went down.
    bool on_throttled(double now);
    // A successful request. True if the limits went up.
    bool on_success(double now);

    int concurrency() const { return concurrency_; }
    double rate_factor() const { return rate_factor_; }
    bool at_full_speed() const;

  private:
    AdaptiveConfig config_;
    int concurrency_;
    double rate_factor_ = 1;
    std::optional<double> last_decrease_;
    double window_start_ = 0;
};

} // namespace imgsync::core
