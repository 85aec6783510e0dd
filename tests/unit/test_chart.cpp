// The backlog chart of status: pending by hour rebuilt from the activity, and the sparkline.
#include "report/chart.hpp"
#include "report/report.hpp"

#include <doctest/doctest.h>

using imgsync::core::backlog_by_hour;
using imgsync::core::sparkline;
using imgsync::core::utf8_locale;
using imgsync::storage::ArrivalWindow;
using imgsync::storage::HourActivity;

namespace {

constexpr std::int64_t now = 1795878245; // 2026-11-28T15:04:05Z, 4 minutes into hour H
constexpr std::int64_t H = now / 3600;

ArrivalWindow hours(std::int64_t n, std::vector<HourActivity> activity) {
    ArrivalWindow w;
    w.window_seconds = n * 3600;
    w.hours = std::move(activity);
    return w;
}

} // namespace

TEST_SUITE("chart") {
    TEST_CASE("backlog_by_hour walks back from now: minus what arrived, plus what went up") {
        // 4 hours; 100 pending now. This hour 10 added and 30 uploaded; an hour before, 50 added
        // and none uploaded; two hours before, nothing; three hours before, 5 uploaded.
        const auto w = hours(4, {{H - 3, 0, 5}, {H - 1, 50, 0}, {H, 10, 30}});
        CHECK(backlog_by_hour(w, 100, now) == std::vector<std::int64_t>{70, 70, 120, 100});
    }

    TEST_CASE("an estimate never goes below zero; a window under an hour has no chart") {
        CHECK(backlog_by_hour(hours(2, {{H, 500, 0}}), 10, now) ==
              std::vector<std::int64_t>{0, 10});
        CHECK(backlog_by_hour(hours(0, {}), 10, now).empty());
        CHECK(backlog_by_hour(hours(3, {}), 7, now) == std::vector<std::int64_t>{7, 7, 7});
    }

    TEST_CASE("sparkline: 0 is the lowest block, the largest value the full one") {
        CHECK(sparkline({}).empty());
        CHECK(sparkline({0, 0}) == "\u2581\u2581");
        CHECK(sparkline({0, 7, 14}) == "\u2581\u2585\u2588");
        CHECK(sparkline({1500, 1000, 500, 0}) == "\u2588\u2586\u2583\u2581");
        CHECK(sparkline({-3, 4}) == "\u2581\u2588");
    }

    TEST_CASE("utf8_locale: the first of LC_ALL, LC_CTYPE, LANG that is set decides") {
        CHECK(utf8_locale(nullptr, nullptr, "en_US.UTF-8"));
        CHECK(utf8_locale("", nullptr, "C.utf8"));
        CHECK_FALSE(utf8_locale("C", nullptr, "en_US.UTF-8"));
        CHECK_FALSE(utf8_locale(nullptr, nullptr, nullptr));
        CHECK_FALSE(utf8_locale(nullptr, "POSIX", "de_DE.UTF-8"));
    }

    TEST_CASE("status text draws the chart only when asked, after the window's rates") {
        using namespace imgsync::core;
        BacklogCounts c;
        c.pending = 40;
        const StatusReport r = compute_status(c, {}, hours(3, {{H - 1, 0, 20}, {H, 0, 20}}), now);
        CHECK(render_status_text(r).find("backlog:") == std::string::npos);
        CHECK(render_status_text(r, true).find(
                  "backlog:     \u2588\u2586\u2585 pending each hour of the last 3h, 0 to 80\n") !=
              std::string::npos);
    }
}
