#include "report/threshold.hpp"

#include <string>

#include <doctest/doctest.h>

using namespace imgsync::core;

namespace {

Threshold parsed(const char* text) {
    auto t = parse_threshold(text, parse_count);
    REQUIRE_MESSAGE(t.ok(), t.error());
    return *t;
}

std::string error_of(const char* text) {
    auto t = parse_threshold(text, parse_count);
    return t.ok() ? std::string("(parsed)") : t.error();
}

std::string show(std::int64_t n) {
    return std::to_string(n);
}

} // namespace

TEST_CASE("a plain number keeps imgsync's meaning: alert at >= N") {
    const Threshold t = parsed("10");
    CHECK(t.plain());
    CHECK_FALSE(t.alerts(9));
    CHECK(t.alerts(10));
    CHECK(t.alerts(11));
    CHECK(t.perfdata() == "10");
    CHECK(t.describe(show) == ">= 10");
}

TEST_CASE("Monitoring Plugins ranges") {
    const Threshold low = parsed("10:"); // alert below 10
    CHECK(low.alerts(9));
    CHECK_FALSE(low.alerts(10));
    CHECK_FALSE(low.alerts(1000000));
    CHECK(low.perfdata() == "10:");
    CHECK(low.describe(show) == "< 10");

    const Threshold high = parsed("~:10"); // alert above 10
    CHECK_FALSE(high.alerts(-5));
    CHECK_FALSE(high.alerts(10));
    CHECK(high.alerts(11));
    CHECK(high.perfdata() == "~:10");
    CHECK(high.describe(show) == "> 10");

    const Threshold outside = parsed("10:20");
    CHECK(outside.alerts(9));
    CHECK_FALSE(outside.alerts(10));
    CHECK_FALSE(outside.alerts(20));
    CHECK(outside.alerts(21));
    CHECK(outside.describe(show) == "outside 10:20");

    const Threshold inside = parsed("@10:20");
    CHECK_FALSE(inside.alerts(9));
    CHECK(inside.alerts(10));
    CHECK(inside.alerts(20));
    CHECK_FALSE(inside.alerts(21));
    CHECK(inside.perfdata() == "@10:20");
    CHECK(inside.describe(show) == "inside 10:20");
}

TEST_CASE("bad thresholds are refused with the text quoted") {
    CHECK(error_of("") == "threshold '': expected N, N:, ~:N, N:M or @N:M");
    CHECK(error_of("@10") == "threshold '@10': expected N, N:, ~:N, N:M or @N:M");
    CHECK(error_of(":10") == "threshold ':10': expected N, N:, ~:N, N:M or @N:M");
    CHECK(error_of("20:10") == "threshold '20:10': the start is above the end");
    CHECK(error_of("~:") == "threshold '~:': a range needs a start or an end");
    CHECK(error_of("ten") == "threshold 'ten': 'ten' is not a whole number");
    CHECK(error_of("1:x") == "threshold '1:x': 'x' is not a whole number");
}
