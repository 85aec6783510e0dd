#include "pass/throttle.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace imgsync::core {
namespace {

// A request whose tokens will be there within this many seconds is granted now. It absorbs the
// rounding of "now + wait" (the ulp of an epoch-sized double is ~0.1 us) so that a caller that
// sleeps exactly wait_seconds() is never sent back for a few more nanoseconds.
constexpr double time_slack = 1e-6;

void check_rate(double rate) {
    if (std::isnan(rate) || rate < 0) {
        throw std::invalid_argument(fmt::format("token bucket rate must be >= 0, got {}", rate));
    }
}

void check_burst(double burst) {
    if (!std::isfinite(burst) || burst <= 0) {
        throw std::invalid_argument(
            fmt::format("token bucket burst must be a positive number, got {}", burst));
    }
}

bool means_unlimited(double rate) {
    return rate == 0 || std::isinf(rate);
}

int positive_mod(int a, int m) {
    const int r = a % m;
    return r < 0 ? r + m : r;
}

constexpr std::string_view schedule_help =
    "expected a limit such as 10M or off, or a timetable such as \"08:00,512K 19:00,10M "
    "23:00,off\" whose entries may start with a day (\"Mon-08:00,512K\")";

// Monday first: week minutes count from Monday 00:00, as rclone's timetable weeks do.
constexpr std::array<std::string_view, 7> short_days{"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};

std::optional<int> parse_day(std::string_view name) {
    for (std::size_t i = 0; i < short_days.size(); ++i) {
        if (util::iequals(name, short_days[i]) || util::iequals(name, long_days[i])) {
            return static_cast<int>(i);
        }
    }
    return std::nullopt;
}

// "H:MM" or "HH:MM" to the minute of the day.
std::optional<int> parse_time_of_day(std::string_view s) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() != colon + 3) {
        return std::nullopt;
    }
    int hour = 0;
    for (std::size_t i = 0; i < colon; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
        hour = hour * 10 + (s[i] - '0');
    }
    const char m1 = s[colon + 1];
    const char m2 = s[colon + 2];
    if (m1 < '0' || m1 > '9' || m2 < '0' || m2 > '9') {
        return std::nullopt;
    }
    const int minute = (m1 - '0') * 10 + (m2 - '0');
    if (hour > 23 || minute > 59) {
        return std::nullopt;
    }
    return hour * 60 + minute;
}

// "off", or a size. rclone's "UP:DOWN" pairs are refused rather than half-read: a lone "08:00"
// would otherwise parse as 8 bytes/s up, where the operator forgot the limit of a time entry.
util::Result<std::uint64_t> parse_limit(std::string_view text) {
    if (text.find(':') != std::string_view::npos) {
        const std::string shown =
            text.size() > 64 ? std::string(text.substr(0, 64)) + "..." : std::string(text);
        return util::fail(fmt::format("\"{}\" is not a limit (a timetable entry is HH:MM,LIMIT; "
                                      "rclone's UP:DOWN pairs are not supported)",
                                      shown));
    }
    if (util::iequals(text, "off")) {
        return 0;
    }
    return util::parse_size(text);
}

std::string weekday_time(int week_minute) {
    const int day = week_minute / minutes_per_day;
    const int minute = week_minute % minutes_per_day;
    return fmt::format("{} {:02}:{:02}", short_days[static_cast<std::size_t>(day)], minute / 60,
                       minute % 60);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// TokenBucket

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst), unlimited_(means_unlimited(rate_per_second)),
      tokens_(burst) {
    check_rate(rate_per_second);
    check_burst(burst);
}

double TokenBucket::available(double now) const {
    if (unlimited_) {
        return burst_;
    }
    if (!started_ || !(now > last_)) {
        return tokens_;
    }
    return std::min(burst_, tokens_ + (now - last_) * rate_);
}

void TokenBucket::advance(double now) {
    if (std::isnan(now)) {
        return;
    }
    tokens_ = available(now);
    if (!started_ || now > last_) {
        last_ = now;
        started_ = true;
    }
}

double TokenBucket::wait_seconds(double now, double n) const {
    if (unlimited_ || !(n > 0)) {
        return 0;
    }
    const double need = std::min(n, burst_);
    const double have = available(now);
    return have >= need ? 0 : (need - have) / rate_;
}

bool TokenBucket::try_take(double now, double n) {
    if (unlimited_ || !(n > 0)) {
        return true;
    }
    advance(now);
    if (wait_seconds(now, n) > time_slack) {
        return false;
    }
    tokens_ -= n;
    return true;
}

double TokenBucket::take(double now, double n) {
    if (unlimited_ || !(n > 0)) {
        return 0;
    }
    advance(now);
    tokens_ -= n;
    const double wait = tokens_ >= 0 ? 0 : -tokens_ / rate_;
    return wait > time_slack ? wait : 0;
}

void TokenBucket::set_rate(double now, double rate_per_second) {
    check_rate(rate_per_second);
    advance(now);
    const bool was_unlimited = unlimited_;
    rate_ = rate_per_second;
    unlimited_ = means_unlimited(rate_per_second);
    if (was_unlimited) {
        tokens_ = burst_;
    }
}

void TokenBucket::set_burst(double now, double burst) {
    check_burst(burst);
    advance(now);
    burst_ = burst;
    tokens_ = std::min(tokens_, burst_);
}

// ---------------------------------------------------------------------------------------------
// BandwidthSchedule

int week_minute(int tm_wday, int minute_of_day) {
    const int monday_first = positive_mod(tm_wday + 6, 7);
    return positive_mod(monday_first * minutes_per_day + minute_of_day, minutes_per_week);
}

BandwidthSchedule::BandwidthSchedule() : BandwidthSchedule(0) {}

BandwidthSchedule::BandwidthSchedule(std::uint64_t bytes_per_second)
    : entries_{ScheduleEntry{0, bytes_per_second}} {}

util::Result<BandwidthSchedule> BandwidthSchedule::parse(std::string_view text) {
    const auto is_space = util::ascii_isspace;
    std::vector<std::string_view> tokens;
    for (std::size_t i = 0; i < text.size();) {
        if (is_space(text[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && !is_space(text[end])) {
            ++end;
        }
        tokens.push_back(text.substr(i, end - i));
        i = end;
    }
    if (tokens.empty()) {
        return util::fail(fmt::format("empty bandwidth limit; {}", schedule_help));
    }

    if (tokens.size() == 1 && tokens[0].find(',') == std::string_view::npos) {
        const auto limit = parse_limit(tokens[0]);
        if (!limit) {
            return util::fail(fmt::format("invalid bandwidth limit: {}", limit.error()));
        }
        return BandwidthSchedule(*limit);
    }

    struct Raw {
        ScheduleEntry entry;
        std::size_t token;
    };
    std::vector<Raw> raw;
    BandwidthSchedule schedule;
    schedule.entries_.clear();
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        const std::string_view token = tokens[t];
        const auto fail = [&](std::string_view why) {
            // Tokens contain no whitespace and are printed as typed; cut very long ones.
            const std::string shown =
                token.size() > 64 ? std::string(token.substr(0, 64)) + "..." : std::string(token);
            return util::fail(fmt::format("invalid bandwidth schedule entry \"{}\": {}; {}", shown,
                                          why, schedule_help));
        };
        const std::size_t comma = token.find(',');
        if (comma == std::string_view::npos) {
            return fail("expected [DAY-]HH:MM,LIMIT");
        }
        std::string_view when = token.substr(0, comma);
        std::optional<int> day;
        if (const std::size_t dash = when.find('-'); dash != std::string_view::npos) {
            day = parse_day(when.substr(0, dash));
            if (!day) {
                return fail(fmt::format("unknown day \"{}\" (use Mon to Sun)",
                                        when.substr(0, std::min<std::size_t>(dash, 16))));
            }
            when.remove_prefix(dash + 1);
        }
        const auto minute = parse_time_of_day(when);
        if (!minute) {
            return fail("the time must be HH:MM between 00:00 and 23:59");
        }
        const auto limit = parse_limit(token.substr(comma + 1));
        if (!limit) {
            return fail(limit.error());
        }
        if (day) {
            raw.push_back(Raw{ScheduleEntry{*day * minutes_per_day + *minute, *limit}, t});
            schedule.has_weekdays_ = true;
        } else {
            for (int d = 0; d < 7; ++d) {
                raw.push_back(Raw{ScheduleEntry{d * minutes_per_day + *minute, *limit}, t});
            }
        }
    }
    std::stable_sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
        return a.entry.week_minute < b.entry.week_minute;
    });
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (i > 0 && raw[i].entry.week_minute == raw[i - 1].entry.week_minute) {
            const std::size_t first = std::min(raw[i].token, raw[i - 1].token);
            const std::size_t second = std::max(raw[i].token, raw[i - 1].token);
            return util::fail(
                fmt::format("invalid bandwidth schedule: entries \"{}\" and \"{}\" both set {}; {}",
                            tokens[first], tokens[second], weekday_time(raw[i].entry.week_minute),
                            schedule_help));
        }
        schedule.entries_.push_back(raw[i].entry);
    }
    return schedule;
}

std::size_t BandwidthSchedule::index_at(int minute) const {
    const int m = positive_mod(minute, minutes_per_week);
    const auto after =
        std::upper_bound(entries_.begin(), entries_.end(), m,
                         [](int value, const ScheduleEntry& e) { return value < e.week_minute; });
    // Before the week's first entry the last one of the previous week is still in effect.
    if (after == entries_.begin()) {
        return entries_.size() - 1;
    }
    return static_cast<std::size_t>(after - entries_.begin()) - 1;
}

std::uint64_t BandwidthSchedule::limit_at(int minute) const {
    return entries_[index_at(minute)].bytes_per_second;
}

std::optional<ScheduleChange> BandwidthSchedule::next_change_after(int minute) const {
    const int m = positive_mod(minute, minutes_per_week);
    const std::size_t current = index_at(m);
    const std::uint64_t limit = entries_[current].bytes_per_second;
    for (std::size_t k = 1; k < entries_.size(); ++k) {
        const ScheduleEntry& e = entries_[(current + k) % entries_.size()];
        if (e.bytes_per_second != limit) {
            return ScheduleChange{positive_mod(e.week_minute - m, minutes_per_week),
                                  e.bytes_per_second};
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// AdaptiveLimiter

AdaptiveLimiter::AdaptiveLimiter(AdaptiveConfig config)
    : config_(config), concurrency_(config.max_concurrency) {
    const auto& c = config_;
    if (c.min_concurrency < 1 || c.max_concurrency < c.min_concurrency) {
        throw std::invalid_argument(
            "adaptive limiter: need 1 <= min_concurrency <= max_concurrency");
    }
    if (!(c.decrease_factor > 0 && c.decrease_factor < 1)) {
        throw std::invalid_argument("adaptive limiter: decrease_factor must be in (0, 1)");
    }
    if (!(c.min_rate_factor > 0 && c.min_rate_factor <= 1)) {
        throw std::invalid_argument("adaptive limiter: min_rate_factor must be in (0, 1]");
    }
    if (c.concurrency_step < 1 || !(c.rate_step > 0)) {
        throw std::invalid_argument("adaptive limiter: increase steps must be positive");
    }
    if (!(c.increase_window_seconds >= 0) || !(c.decrease_cooldown_seconds >= 0)) {
        throw std::invalid_argument("adaptive limiter: windows must be >= 0 seconds");
    }
}

bool AdaptiveLimiter::at_full_speed() const {
    return concurrency_ >= config_.max_concurrency && rate_factor_ >= 1;
}

bool AdaptiveLimiter::on_throttled(double now) {
    window_start_ = now;
    if (last_decrease_ && now - *last_decrease_ < config_.decrease_cooldown_seconds) {
        return false;
    }
    last_decrease_ = now;
    const int old_concurrency = concurrency_;
    const double old_rate = rate_factor_;
    concurrency_ = std::max(config_.min_concurrency,
                            static_cast<int>(std::floor(concurrency_ * config_.decrease_factor)));
    rate_factor_ = std::max(config_.min_rate_factor, rate_factor_ * config_.decrease_factor);
    return concurrency_ != old_concurrency || rate_factor_ != old_rate;
}

bool AdaptiveLimiter::on_success(double now) {
    if (at_full_speed() || now - window_start_ < config_.increase_window_seconds) {
        return false;
    }
    window_start_ = now;
    concurrency_ = config_.max_concurrency - concurrency_ <= config_.concurrency_step
                       ? config_.max_concurrency
                       : concurrency_ + config_.concurrency_step;
    rate_factor_ = std::min(1.0, rate_factor_ + config_.rate_step);
    return true;
}

} // namespace imgsync::core
