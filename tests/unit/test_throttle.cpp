#include "pass/throttle.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

using namespace imgsync::core;

namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * 1024;
constexpr double inf_value = std::numeric_limits<double>::infinity();
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

int day_minute(int hour, int minute) {
    return hour * 60 + minute;
}
// Monday = 0 ... Sunday = 6
int at(int day, int hour, int minute) {
    return day * minutes_per_day + day_minute(hour, minute);
}

BandwidthSchedule schedule(std::string_view text) {
    auto parsed = BandwidthSchedule::parse(text);
    INFO("input: ", std::string(text), " error: ", parsed.error());
    REQUIRE(parsed.ok());
    CHECK(parsed.error().empty());
    return std::move(*parsed);
}

std::string schedule_error(std::string_view text) {
    const auto parsed = BandwidthSchedule::parse(text);
    INFO("input: ", std::string(text));
    CHECK_FALSE(parsed.ok());
    CHECK(parsed.error().find('\n') == std::string::npos);
    return parsed.error();
}

bool contains(const std::string& haystack, std::string_view needle) {
    INFO("in: ", haystack, " looking for: ", std::string(needle));
    return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_SUITE("throttle") {

    // ---------------------------------------------------------------------------------------------
    // TokenBucket

    TEST_CASE("token bucket starts full and refills at the rate") {
        TokenBucket b(2, 5);
        CHECK(b.available(0) == 5.0);
        for (int i = 0; i < 5; ++i)
            CHECK(b.try_take(0));
        CHECK_FALSE(b.try_take(0));
        CHECK(b.available(0) == 0.0);
        CHECK(b.wait_seconds(0) == 0.5);
        CHECK(b.wait_seconds(0, 3) == 1.5);
        CHECK_FALSE(b.try_take(0.49));
        CHECK(b.try_take(0.5));
        CHECK(b.available(100) == 5.0); // refill stops at burst
    }

    TEST_CASE("token bucket: try_take after exactly wait_seconds succeeds") {
        TokenBucket b(3, 1);
        CHECK(b.try_take(0));
        const double w = b.wait_seconds(0);
        CHECK(w == doctest::Approx(1.0 / 3.0));
        CHECK(b.try_take(w));

        // Bandwidth-sized numbers at an epoch-sized clock, where rounding is at its worst.
        const double now = 1.7e9 + 0.123456;
        TokenBucket bw(10.0 * M, 1.0 * M);
        CHECK(bw.try_take(now, 1.0 * M));
        for (int i = 0; i < 100; ++i) {
            const double t = now + i * 0.01;
            const double wait = bw.wait_seconds(t, 65536);
            CHECK(bw.try_take(t + wait, 65536));
        }
    }

    TEST_CASE("token bucket: long-run rate is burst + rate * time") {
        TokenBucket b(4, 2);
        int taken = 0;
        for (int i = 0; i <= 80; ++i) { // every 1/8 s for 10 s
            if (b.try_take(i / 8.0))
                ++taken;
        }
        CHECK(taken == 42);
    }

    TEST_CASE("token bucket: a request larger than burst goes into debt when full") {
        TokenBucket b(100, 10);
        CHECK(b.try_take(0, 50));
        CHECK(b.available(0) == -40.0);
        CHECK(b.wait_seconds(0, 1) == doctest::Approx(0.41));
        CHECK_FALSE(b.try_take(0.4, 1));
        CHECK(b.try_take(0.41, 1));

        TokenBucket c(100, 10);
        CHECK(c.try_take(0, 1));
        CHECK_FALSE(c.try_take(0, 50)); // needs a full bucket, has 9
        CHECK(c.wait_seconds(0, 50) == doctest::Approx(0.01));
        CHECK(c.try_take(0.01, 50));
        CHECK(c.available(0.01) == doctest::Approx(-40.0));
    }

    TEST_CASE("token bucket: take() reserves and returns the wait") {
        TokenBucket b(10, 5);
        CHECK(b.take(0, 5) == 0.0);
        CHECK(b.take(0, 1) == doctest::Approx(0.1));
        CHECK(b.take(0, 10) == doctest::Approx(1.1));
        CHECK(b.available(0) == -11.0);
        CHECK(b.available(1.1) == doctest::Approx(0.0));
        CHECK(b.take(1.1, 0) == 0.0);
        // Reserving chunk by chunk paces at the rate: 100 chunks of 1 at 10/s after the burst.
        TokenBucket c(10, 1);
        double now = 0;
        for (int i = 0; i < 100; ++i)
            now += c.take(now, 1);
        CHECK(now == doctest::Approx(9.9));
    }

    TEST_CASE("token bucket: non-positive requests always succeed") {
        TokenBucket b(1, 1);
        CHECK(b.try_take(0, 1));
        CHECK(b.try_take(0, 0));
        CHECK(b.try_take(0, -5));
        CHECK(b.wait_seconds(0, 0) == 0.0);
        CHECK(b.take(0, -1) == 0.0);
        CHECK(b.available(0) == 0.0);
    }

    TEST_CASE("token bucket: unlimited at rate 0 or infinity") {
        for (const double rate : {0.0, inf_value}) {
            TokenBucket b(rate, 1);
            CHECK(b.unlimited());
            for (int i = 0; i < 1000; ++i)
                CHECK(b.try_take(0, 1e12));
            CHECK(b.wait_seconds(0, 1e18) == 0.0);
            CHECK(b.take(0, 1e18) == 0.0);
            CHECK(b.available(0) == 1.0);
        }
        CHECK_FALSE(TokenBucket(1, 1).unlimited());
    }

    TEST_CASE("token bucket: set_rate credits at the old rate first") {
        TokenBucket b(1, 10);
        CHECK(b.try_take(0, 10));
        b.set_rate(5, 2);
        CHECK(b.rate() == 2.0);
        CHECK(b.available(5) == 5.0);
        CHECK(b.available(6) == 7.0);
    }

    TEST_CASE("token bucket: set_rate keeps a debt between limited rates") {
        TokenBucket b(10, 1);
        CHECK(b.try_take(0, 21));
        b.set_rate(0, 5);
        CHECK(b.wait_seconds(0, 1) == doctest::Approx(4.2));
    }

    TEST_CASE("token bucket: unlimited and back starts full") {
        TokenBucket b(1, 10);
        CHECK(b.try_take(0, 30));
        b.set_rate(0, 0);
        CHECK(b.unlimited());
        CHECK(b.try_take(0, 1000));
        b.set_rate(1, 1);
        CHECK_FALSE(b.unlimited());
        CHECK(b.available(1) == 10.0);
    }

    TEST_CASE("token bucket: set_burst clamps") {
        TokenBucket b(1, 10);
        b.set_burst(0, 4);
        CHECK(b.burst() == 4.0);
        CHECK(b.available(0) == 4.0);
        CHECK(b.try_take(0, 4));
        CHECK(b.available(100) == 4.0);
        b.set_burst(100, 8);
        CHECK(b.available(100) == 4.0); // raising the burst grants nothing by itself
        CHECK(b.available(104) == 8.0);
    }

    TEST_CASE("token bucket: time going backwards neither refills nor drains") {
        TokenBucket b(1, 2);
        CHECK(b.try_take(10));
        CHECK(b.try_take(10));
        CHECK_FALSE(b.try_take(5));
        CHECK(b.available(5) == 0.0);
        CHECK(b.available(11) == 1.0);
        CHECK_FALSE(b.try_take(nan_value));
        CHECK(b.available(11) == 1.0);
    }

    TEST_CASE("token bucket: invalid arguments") {
        CHECK_THROWS_AS(TokenBucket(-1, 1), std::invalid_argument);
        CHECK_THROWS_AS(TokenBucket(nan_value, 1), std::invalid_argument);
        CHECK_THROWS_AS(TokenBucket(1, 0), std::invalid_argument);
        CHECK_THROWS_AS(TokenBucket(1, -1), std::invalid_argument);
        CHECK_THROWS_AS(TokenBucket(1, inf_value), std::invalid_argument);
        CHECK_THROWS_AS(TokenBucket(1, nan_value), std::invalid_argument);
        TokenBucket b(1, 1);
        CHECK_THROWS_AS(b.set_rate(0, -2), std::invalid_argument);
        CHECK_THROWS_AS(b.set_burst(0, 0), std::invalid_argument);
        CHECK(b.rate() == 1.0);
        CHECK(b.burst() == 1.0);
    }

    // ---------------------------------------------------------------------------------------------
    // BandwidthSchedule

    TEST_CASE("week_minute from struct tm fields") {
        CHECK(week_minute(1, 0) == 0);                       // Monday 00:00
        CHECK(week_minute(1, 480) == 480);                   // Monday 08:00
        CHECK(week_minute(3, 600) == at(2, 10, 0));          // Wednesday 10:00
        CHECK(week_minute(0, 0) == at(6, 0, 0));             // Sunday 00:00
        CHECK(week_minute(6, 1439) == at(5, 23, 59));        // Saturday 23:59
        CHECK(week_minute(0, 1439) == minutes_per_week - 1); // Sunday 23:59
    }

    TEST_CASE("bandwidth schedule: constant forms") {
        CHECK(BandwidthSchedule().limit_at(123) == 0);
        CHECK(BandwidthSchedule(5).limit_at(123) == 5);
        const auto ten = schedule("10M");
        CHECK(ten.limit_at(0) == 10 * M);
        CHECK(ten.limit_at(at(4, 13, 0)) == 10 * M);
        CHECK_FALSE(ten.next_change_after(0));
        CHECK(ten.entries().size() == 1);
        CHECK_FALSE(ten.has_weekdays());
        CHECK(schedule("off").limit_at(0) == 0);
        CHECK(schedule("OFF").limit_at(0) == 0);
        CHECK(schedule("0").limit_at(0) == 0);
        CHECK(schedule("  512K ").limit_at(0) == 512 * K);
        CHECK(schedule("1000").limit_at(0) == 1000); // bytes, unlike rclone's KiB
    }

    TEST_CASE("bandwidth schedule: daily timetable") {
        const auto s = schedule("08:00,512K 19:00,10M 23:00,off");
        CHECK(s.entries().size() == 21);
        CHECK_FALSE(s.has_weekdays());
        CHECK(s.limit_at(0) == 0); // before the first entry: yesterday's 23:00 still holds
        CHECK(s.limit_at(day_minute(7, 59)) == 0);
        CHECK(s.limit_at(day_minute(8, 0)) == 512 * K);
        CHECK(s.limit_at(day_minute(18, 59)) == 512 * K);
        CHECK(s.limit_at(day_minute(19, 0)) == 10 * M);
        CHECK(s.limit_at(day_minute(22, 59)) == 10 * M);
        CHECK(s.limit_at(day_minute(23, 0)) == 0);
        CHECK(s.limit_at(day_minute(23, 59)) == 0);
        // Any day gives the same answer.
        CHECK(s.limit_at(at(2, 10, 0)) == 512 * K);
        CHECK(s.limit_at(at(6, 20, 0)) == 10 * M);
        // Out-of-range minutes wrap around the week.
        CHECK(s.limit_at(-1) == 0);
        CHECK(s.limit_at(minutes_per_week + day_minute(8, 0)) == 512 * K);
        CHECK(s.limit_at(-minutes_per_week + day_minute(19, 30)) == 10 * M);
    }

    TEST_CASE("bandwidth schedule: entries are sorted whatever the input order") {
        const auto s = schedule("23:00,off 8:00,512K 19:00,10M");
        CHECK(s.limit_at(day_minute(8, 0)) == 512 * K);
        CHECK(s.limit_at(day_minute(19, 0)) == 10 * M);
        CHECK(s.limit_at(day_minute(7, 0)) == 0);
        for (std::size_t i = 1; i < s.entries().size(); ++i)
            CHECK(s.entries()[i - 1].week_minute < s.entries()[i].week_minute);
    }

    TEST_CASE("bandwidth schedule: next_change_after") {
        const auto s = schedule("08:00,512K 19:00,10M 23:00,off");
        auto c = s.next_change_after(0);
        REQUIRE(c);
        CHECK(c->in_minutes == 480);
        CHECK(c->bytes_per_second == 512 * K);
        c = s.next_change_after(day_minute(8, 0));
        REQUIRE(c);
        CHECK(c->in_minutes == 660);
        CHECK(c->bytes_per_second == 10 * M);
        c = s.next_change_after(day_minute(23, 0));
        REQUIRE(c);
        CHECK(c->in_minutes == 540);
        CHECK(c->bytes_per_second == 512 * K);
        c = s.next_change_after(at(6, 23, 30)); // Sunday night wraps to Monday 08:00
        REQUIRE(c);
        CHECK(c->in_minutes == 510);
        c = s.next_change_after(day_minute(18, 59));
        REQUIRE(c);
        CHECK(c->in_minutes == 1);
    }

    TEST_CASE("bandwidth schedule: entries with the same limit are not changes") {
        const auto same = schedule("08:00,1M 20:00,1M");
        CHECK(same.limit_at(0) == M);
        CHECK_FALSE(same.next_change_after(0));
        const auto s = schedule("08:00,1M 12:00,1M 20:00,off");
        const auto c = s.next_change_after(day_minute(9, 0));
        REQUIRE(c);
        CHECK(c->in_minutes == 660); // to 20:00, skipping 12:00
        CHECK(c->bytes_per_second == 0);
    }

    TEST_CASE("bandwidth schedule: weekdays (rclone's documented example)") {
        // rclone: "Mon-00:00,512 12:00,1M Sun-20:00,off"; the 12:00 entry applies every day.
        const auto s = schedule("Mon-00:00,512 12:00,1M Sun-20:00,off");
        CHECK(s.has_weekdays());
        CHECK(s.entries().size() == 9);
        CHECK(s.limit_at(at(0, 6, 0)) == 512);
        CHECK(s.limit_at(at(0, 13, 0)) == M);
        CHECK(s.limit_at(at(1, 6, 0)) == M); // Tuesday morning: Monday's 12:00 still holds
        CHECK(s.limit_at(at(6, 11, 0)) == M);
        CHECK(s.limit_at(at(6, 19, 59)) == M);
        CHECK(s.limit_at(at(6, 21, 0)) == 0);
        CHECK(s.limit_at(at(0, 0, 0)) == 512);
        const auto c = s.next_change_after(at(6, 21, 0));
        REQUIRE(c);
        CHECK(c->in_minutes == 180);
        CHECK(c->bytes_per_second == 512);
    }

    TEST_CASE("bandwidth schedule: weekday-only timetable wraps around the week") {
        const auto s = schedule("mon-08:00,1M Friday-18:00,off");
        CHECK(s.entries().size() == 2);
        CHECK(s.limit_at(at(0, 0, 0)) == 0); // still Friday's off
        CHECK(s.limit_at(at(0, 9, 0)) == M);
        CHECK(s.limit_at(at(4, 17, 59)) == M);
        CHECK(s.limit_at(at(6, 12, 0)) == 0);
        const auto c = s.next_change_after(at(0, 0, 0));
        REQUIRE(c);
        CHECK(c->in_minutes == 480);
    }

    TEST_CASE("bandwidth schedule: errors name the bad token") {
        CHECK(contains(schedule_error(""), "empty bandwidth limit"));
        CHECK(contains(schedule_error("   "), "empty bandwidth limit"));
        CHECK(contains(schedule_error("12X"), "unknown unit \"X\""));
        CHECK(contains(schedule_error("-5M"), "negative"));
        const std::string e = schedule_error("08:00,512K 25:00,1M");
        CHECK(contains(e, "\"25:00,1M\""));
        CHECK(contains(e, "HH:MM"));
        CHECK(contains(e, "08:00,512K 19:00,10M 23:00,off")); // shows the accepted syntax
        CHECK(contains(schedule_error("08:60,1M"), "\"08:60,1M\""));
        CHECK(contains(schedule_error("8:0,1M"), "\"8:0,1M\""));
        CHECK(contains(schedule_error("123:00,1M"), "\"123:00,1M\""));
        CHECK(contains(schedule_error(",1M"), "\",1M\""));
        CHECK(contains(schedule_error("Foo-08:00,1M"), "unknown day \"Foo\""));
        CHECK(contains(schedule_error("08:00,12X"), "unknown unit \"X\""));
        CHECK(contains(schedule_error("08:00,12X"), "\"08:00,12X\""));
        CHECK(contains(schedule_error("08:00,"), "\"08:00,\""));
        CHECK(contains(schedule_error("08:00,1M foo"), "\"foo\": expected [DAY-]HH:MM,LIMIT"));
        CHECK(contains(schedule_error("10M 20M"), "\"10M\": expected [DAY-]HH:MM,LIMIT"));
        // A lone time is not read as rclone's UP:DOWN pair (8 bytes/s up).
        CHECK(contains(schedule_error("08:00"), "not a limit"));
        CHECK(contains(schedule_error("10M:off"), "UP:DOWN"));
        CHECK(contains(schedule_error("08:00,1M:2M"), "UP:DOWN"));
    }

    TEST_CASE("bandwidth schedule: two entries for the same minute") {
        const std::string daily = schedule_error("08:00,1M 19:00,2M 8:00,3M");
        CHECK(contains(daily, "\"08:00,1M\" and \"8:00,3M\" both set Mon 08:00"));
        const std::string mixed = schedule_error("Wed-08:00,1M 08:00,2M");
        CHECK(contains(mixed, "\"Wed-08:00,1M\" and \"08:00,2M\" both set Wed 08:00"));
    }

    // ---------------------------------------------------------------------------------------------
    // AdaptiveLimiter

    TEST_CASE("adaptive limiter: multiplicative decrease, one per episode") {
        AdaptiveLimiter a(AdaptiveConfig{});
        CHECK(a.concurrency() == 4);
        CHECK(a.rate_factor() == 1.0);
        CHECK(a.at_full_speed());
        CHECK_FALSE(a.on_success(0));

        CHECK(a.on_throttled(10));
        CHECK(a.concurrency() == 2);
        CHECK(a.rate_factor() == 0.5);
        CHECK_FALSE(a.at_full_speed());
        CHECK_FALSE(a.on_throttled(12)); // same episode: within the 5 s cooldown
        CHECK(a.concurrency() == 2);
        CHECK(a.on_throttled(15));
        CHECK(a.concurrency() == 1);
        CHECK(a.rate_factor() == 0.25);
        CHECK(a.on_throttled(20));
        CHECK(a.concurrency() == 1); // floor
        CHECK(a.rate_factor() == 0.125);
    }

    TEST_CASE("adaptive limiter: additive increase after a quiet window") {
        AdaptiveLimiter a(AdaptiveConfig{});
        CHECK(a.on_throttled(0));
        CHECK(a.on_throttled(5));
        CHECK(a.on_throttled(10)); // 1 / 0.125, last signal at 10
        CHECK_FALSE(a.on_success(69));
        CHECK(a.on_success(70));
        CHECK(a.concurrency() == 2);
        CHECK(a.rate_factor() == 0.125 + 0.05);
        CHECK_FALSE(a.on_success(100));
        CHECK(a.on_success(130));
        CHECK(a.concurrency() == 3);
        CHECK(a.rate_factor() == 0.125 + 0.05 + 0.05);
        CHECK(a.on_success(190));
        CHECK(a.concurrency() == 4);
        CHECK(a.on_success(250));
        CHECK(a.concurrency() == 4); // capped at max
        // The rate keeps climbing to 1 in steps of 0.05.
        double t = 250;
        int steps = 0;
        while (!a.at_full_speed() && steps < 100) {
            t += 60;
            CHECK(a.on_success(t));
            ++steps;
        }
        CHECK(a.at_full_speed());
        CHECK(a.rate_factor() == 1.0);
        CHECK(steps == 14);
        CHECK_FALSE(a.on_success(t + 1000));
    }

    TEST_CASE("adaptive limiter: throttling during cooldown restarts the success window") {
        AdaptiveLimiter a(AdaptiveConfig{});
        CHECK(a.on_throttled(0));
        CHECK_FALSE(a.on_throttled(3));
        CHECK_FALSE(a.on_success(60));
        CHECK(a.on_success(63));
    }

    TEST_CASE("adaptive limiter: rate factor floor") {
        AdaptiveConfig c;
        c.min_rate_factor = 0.1;
        c.decrease_cooldown_seconds = 0;
        AdaptiveLimiter a(c);
        CHECK(a.on_throttled(0));
        CHECK(a.on_throttled(0)); // no cooldown: every signal counts
        CHECK(a.on_throttled(0));
        CHECK(a.rate_factor() == 0.125);
        CHECK(a.on_throttled(0));
        CHECK(a.rate_factor() == 0.1);
        CHECK_FALSE(a.on_throttled(0)); // nothing left to reduce
        CHECK(a.concurrency() == 1);
    }

    TEST_CASE("adaptive limiter: custom steps") {
        AdaptiveConfig c;
        c.max_concurrency = 16;
        c.min_concurrency = 2;
        c.concurrency_step = 4;
        c.decrease_factor = 0.25;
        c.increase_window_seconds = 10;
        AdaptiveLimiter a(c);
        CHECK(a.on_throttled(0));
        CHECK(a.concurrency() == 4);
        CHECK(a.on_throttled(10));
        CHECK(a.concurrency() == 2);
        CHECK(a.on_success(20));
        CHECK(a.concurrency() == 6);
        CHECK(a.on_success(30));
        CHECK(a.on_success(40));
        CHECK(a.on_success(50));
        CHECK(a.concurrency() == 16);
    }

    TEST_CASE("adaptive limiter: drives a token bucket") {
        const double operator_rate = 8;
        AdaptiveLimiter a(AdaptiveConfig{});
        TokenBucket b(operator_rate, 1);
        CHECK(a.on_throttled(0));
        b.set_rate(0, operator_rate * a.rate_factor());
        CHECK(b.rate() == 4.0);
    }

    TEST_CASE("adaptive limiter: invalid configs") {
        const auto bad = [](auto change) {
            AdaptiveConfig c;
            change(c);
            return c;
        };
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.min_concurrency = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.max_concurrency = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.decrease_factor = 1; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.decrease_factor = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(
            AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.decrease_factor = nan_value; })),
            std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.min_rate_factor = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.min_rate_factor = 1.5; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.concurrency_step = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.rate_step = 0; })),
                        std::invalid_argument);
        CHECK_THROWS_AS(
            AdaptiveLimiter(bad([](AdaptiveConfig& c) { c.increase_window_seconds = -1; })),
            std::invalid_argument);
        CHECK_THROWS_AS(AdaptiveLimiter(bad(
                            [](AdaptiveConfig& c) { c.decrease_cooldown_seconds = nan_value; })),
                        std::invalid_argument);
        CHECK_NOTHROW(AdaptiveLimiter(AdaptiveConfig{}));
    }

} // TEST_SUITE
