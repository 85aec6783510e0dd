#include "util/units.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

using namespace imgsync::util;
using std::chrono::milliseconds;

namespace {

std::uint64_t size_of(std::string_view text) {
    const auto parsed = parse_size(text);
    INFO("input: ", std::string(text), " error: ", parsed.error());
    REQUIRE(parsed.ok());
    CHECK(parsed.error().empty());
    return *parsed;
}

std::int64_t ms_of(std::string_view text) {
    const auto parsed = parse_duration(text);
    INFO("input: ", std::string(text), " error: ", parsed.error());
    REQUIRE(parsed.ok());
    return parsed->count();
}

double rate_of(std::string_view text) {
    const auto parsed = parse_rate(text);
    INFO("input: ", std::string(text), " error: ", parsed.error());
    REQUIRE(parsed.ok());
    return *parsed;
}

// Every failure must carry a one-line message that contains `needle`.
template <class P> std::string error_of(const P& parsed, std::string_view needle) {
    INFO("error: ", parsed.error());
    CHECK_FALSE(parsed.ok());
    CHECK_FALSE(static_cast<bool>(parsed));
    CHECK(parsed.error().find('\n') == std::string::npos);
    CHECK(parsed.error().find(needle) != std::string::npos);
    return parsed.error();
}

} // namespace

TEST_SUITE("units") {

    TEST_CASE("parse_size: plain bytes and binary suffixes") {
        CHECK(size_of("0") == 0);
        CHECK(size_of("512") == 512);
        CHECK(size_of("100B") == 100);
        CHECK(size_of("100b") == 100);
        CHECK(size_of("512K") == 524288);
        CHECK(size_of("512k") == 524288);
        CHECK(size_of("512KiB") == 524288);
        CHECK(size_of("512kib") == 524288);
        CHECK(size_of("1M") == 1048576);
        CHECK(size_of("1MiB") == 1048576);
        CHECK(size_of("1G") == 1073741824);
        CHECK(size_of("2GiB") == 2147483648ULL);
        CHECK(size_of("1T") == 1099511627776ULL);
        CHECK(size_of("1TiB") == 1099511627776ULL);
    }

    TEST_CASE("parse_size: decimal suffixes") {
        CHECK(size_of("1KB") == 1000);
        CHECK(size_of("1kb") == 1000);
        CHECK(size_of("10MB") == 10000000);
        CHECK(size_of("3GB") == 3000000000ULL);
        CHECK(size_of("1TB") == 1000000000000ULL);
    }

    TEST_CASE("parse_size: decimals are exact and round down") {
        CHECK(size_of("1.5M") == 1572864);
        CHECK(size_of("1.5 MiB") == 1572864);
        CHECK(size_of(".5K") == 512);
        CHECK(size_of("0.1K") == 102);        // 102.4
        CHECK(size_of("1.1G") == 1181116006); // 1181116006.4
        CHECK(size_of("0.5") == 0);
        CHECK(size_of("2.25KB") == 2250);
        CHECK(size_of("1.999999999999999999999K") == 2047);
    }

    TEST_CASE("parse_size: surrounding whitespace and the 64-bit limit") {
        CHECK(size_of("  7K\t") == 7168);
        CHECK(size_of("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
        CHECK(size_of("15.99999999999999999T") == 17592186044415ULL);
        error_of(parse_size("18446744073709551616"), "too large");
        error_of(parse_size("16777216T"), "too large");    // exactly 2^64
        error_of(parse_size("17179869184G"), "too large"); // exactly 2^64
        error_of(parse_size("99999999999999999999999"), "too large");
    }

    TEST_CASE("parse_size: errors quote the input and list what is accepted") {
        const std::string e =
            error_of(parse_size("12X"), "invalid size \"12X\": unknown unit \"X\"");
        CHECK(e.find("KiB") != std::string::npos);
        CHECK(e.find("KB, MB") != std::string::npos);
        error_of(parse_size(""), "empty size");
        error_of(parse_size("   "), "empty size");
        error_of(parse_size("-1K"), "negative");
        error_of(parse_size("K"), "not a number");
        error_of(parse_size("+5"), "not a number");
        error_of(parse_size("1.2.3M"), "not a number");
        error_of(parse_size("."), "not a number");
        error_of(parse_size("1e3"), "unknown unit \"e3\"");
        error_of(parse_size("1 K B"), "unknown unit \"K B\"");
        error_of(parse_size("5P"), "unknown unit \"P\"");
    }

    TEST_CASE("parse_size: hostile input stays on one line") {
        error_of(parse_size("12\n3"), "\"12\\x0a3\"");
        error_of(parse_size("1\x01"), "\\x01");
        error_of(parse_size("1\"Q"), "\"1\\\"Q\"");
        const std::string long_input = "1" + std::string(200, 'Q');
        const std::string e = error_of(parse_size(long_input), "...\"");
        CHECK(e.size() < 400);
    }

    TEST_CASE("parse_duration: units, combinations, plain seconds") {
        CHECK(ms_of("500ms") == 500);
        CHECK(ms_of("90s") == 90000);
        CHECK(ms_of("4m30s") == 270000);
        CHECK(ms_of("1h30m") == 5400000);
        CHECK(ms_of("1h 30m") == 5400000);
        CHECK(ms_of("2h 03m") == 7380000);
        CHECK(ms_of("2d") == 172800000);
        CHECK(ms_of("1d2h3m4s5ms") == 93784005);
        CHECK(ms_of("90") == 90000);
        CHECK(ms_of(" 90 ") == 90000);
        CHECK(ms_of("1.5") == 1500);
        CHECK(ms_of("1.5h") == 5400000);
        CHECK(ms_of("0") == 0);
        CHECK(ms_of("0s") == 0);
        CHECK(ms_of("1.0009s") == 1000); // rounded down to whole milliseconds
        CHECK(ms_of("0.0005s") == 0);
        CHECK(ms_of("9223372036854775807ms") == std::numeric_limits<std::int64_t>::max());
        CHECK(ms_of("106751991167d") == 9223372036828800000LL);
    }

    TEST_CASE("parse_duration: errors") {
        const std::string e =
            error_of(parse_duration("5x"), "invalid duration \"5x\": unknown unit");
        CHECK(e.find("ms, s, m, h, d") != std::string::npos);
        error_of(parse_duration(""), "empty duration");
        error_of(parse_duration("-5s"), "negative");
        error_of(parse_duration("5M"), "unknown unit \"M\"");
        error_of(parse_duration("5S"), "unknown unit \"S\"");
        error_of(parse_duration("30m1h"), "unit \"h\" repeated or out of order");
        error_of(parse_duration("1h1h"), "unit \"h\" repeated or out of order");
        error_of(parse_duration("1s500ms1s"), "unit \"s\" repeated or out of order");
        error_of(parse_duration("1h30"), "missing unit after \"30\"");
        error_of(parse_duration("1 30m"), "missing unit after \"1\"");
        error_of(parse_duration("h"), "not a number");
        error_of(parse_duration("1h-5m"), "expected a number at \"-5m\"");
        error_of(parse_duration("1..5s"), "malformed number \"1..5\"");
        error_of(parse_duration("106751991168d"), "too large");
        error_of(parse_duration("9223372036854775808ms"), "too large");
        error_of(parse_duration("999999999999999999999d"), "too large");
    }

    TEST_CASE("parse_rate: per second and per period") {
        CHECK(rate_of("5") == 5.0);
        CHECK(rate_of("2.5") == 2.5);
        CHECK(rate_of("10/s") == 10.0);
        CHECK(rate_of("3600/h") == 1.0);
        CHECK(rate_of("100/1m") == 100.0 / 60.0);
        CHECK(rate_of("100/m") == 100.0 / 60.0);
        CHECK(rate_of("1/90s") == 1.0 / 90.0);
        CHECK(rate_of("30/500ms") == 60.0);
        CHECK(rate_of(" 10 / 2s ") == 5.0);
        CHECK(rate_of("86400/d") == 1.0);
        CHECK(rate_of("1/1h30m") == 1.0 / 5400.0);
    }

    TEST_CASE("parse_rate: errors") {
        const std::string e =
            error_of(parse_rate("0"), "invalid rate \"0\": must be greater than 0");
        CHECK(e.find("100/1m") != std::string::npos);
        error_of(parse_rate(""), "empty rate");
        error_of(parse_rate("0/s"), "must be greater than 0");
        error_of(parse_rate("0.000"), "must be greater than 0");
        error_of(parse_rate("-1"), "must be greater than 0");
        error_of(parse_rate("abc"), "\"abc\" is not a number");
        error_of(parse_rate("inf"), "is not a number");
        error_of(parse_rate("nan"), "is not a number");
        error_of(parse_rate("1e3"), "is not a number");
        error_of(parse_rate("5/"), "missing period");
        error_of(parse_rate("5/x"), "bad period \"x\"");
        error_of(parse_rate("5/-1s"), "bad period");
        error_of(parse_rate("5/0s"), "longer than 0");
        error_of(parse_rate("/s"), "is not a number");
    }

    TEST_CASE("format_bytes") {
        CHECK(format_bytes(0) == "0 B");
        CHECK(format_bytes(1) == "1 B");
        CHECK(format_bytes(1023) == "1023 B");
        CHECK(format_bytes(1024) == "1 KiB");
        CHECK(format_bytes(1536) == "1.5 KiB");
        CHECK(format_bytes(1048575) == "1023.9 KiB"); // rounded down, never "1024.0 KiB"
        CHECK(format_bytes(1048576) == "1 MiB");
        CHECK(format_bytes(1572864) == "1.5 MiB");
        CHECK(format_bytes(10737418240ULL) == "10 GiB");
        CHECK(format_bytes(1ULL << 40) == "1 TiB");
        CHECK(format_bytes(1ULL << 50) == "1 PiB");
        CHECK(format_bytes(1ULL << 60) == "1 EiB");
        CHECK(format_bytes(std::numeric_limits<std::uint64_t>::max()) == "15.9 EiB");
        // What format_bytes prints, parse_size reads back to within the dropped digits.
        CHECK(size_of(format_bytes(1572864)) == 1572864);
    }

    TEST_CASE("format_duration") {
        CHECK(format_duration(0) == "0s");
        CHECK(format_duration(45) == "45s");
        CHECK(format_duration(59) == "59s");
        CHECK(format_duration(60) == "1m 00s");
        CHECK(format_duration(270) == "4m 30s");
        CHECK(format_duration(3599) == "59m 59s");
        CHECK(format_duration(3600) == "1h 00m");
        CHECK(format_duration(7380) == "2h 03m");
        CHECK(format_duration(7439) == "2h 03m");
        CHECK(format_duration(86399) == "23h 59m");
        CHECK(format_duration(86400) == "1d 00h");
        CHECK(format_duration(93784) == "1d 02h");
        CHECK(format_duration(-45) == "-45s");
        CHECK(format_duration(-7380) == "-2h 03m");
        CHECK(format_duration(std::numeric_limits<std::int64_t>::min()) == "-106751991167300d 15h");
        CHECK(ms_of(format_duration(7380)) == 7380000);
        CHECK(ms_of(format_duration(270)) == 270000);
    }

    TEST_CASE("format_elapsed: milliseconds under a minute, then as format_duration") {
        CHECK(format_elapsed(0) == "0.000s");
        CHECK(format_elapsed(0.0093) == "0.009s");
        CHECK(format_elapsed(12.387812193000002) == "12.388s");
        CHECK(format_elapsed(59.9994) == "59.999s");
        CHECK(format_elapsed(59.9996) == "1m 00s");
        CHECK(format_elapsed(270.4) == "4m 30s");
        CHECK(format_elapsed(-1) == "0.000s"); // a measurement is never negative
    }

} // TEST_SUITE
