#include "util/timefmt.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>

using namespace imgsync::util;

namespace {
constexpr std::int64_t may_24_2013 = 1369353600; // 2013-05-24T00:00:00Z, a Friday
constexpr std::int64_t oct_21_2015 = 1445412480; // 2015-10-21T07:28:00Z, a Wednesday
constexpr std::int64_t nov_6_1994 = 784111777;   // 1994-11-06T08:49:37Z, a Sunday (RFC 7231)
} // namespace

TEST_SUITE("timefmt") {

    TEST_CASE("days_from_civil at known dates") {
        CHECK(days_from_civil(1970, 1, 1) == 0);
        CHECK(days_from_civil(1969, 12, 31) == -1);
        CHECK(days_from_civil(2000, 3, 1) == 11017);
        CHECK(days_from_civil(2013, 5, 24) == 15849);
        CHECK(days_from_civil(1, 1, 1) == -719162);
        CHECK(days_from_civil(9999, 12, 31) == 2932896);
    }

    TEST_CASE("civil_from_days inverts days_from_civil day by day") {
        // Covers 400-year era boundaries on both sides of the epoch and of year 0.
        std::int64_t expected_weekday = weekday_from_days(-800000);
        CivilDate previous = civil_from_days(-800001);
        for (std::int64_t d = -800000; d <= 800000; ++d) {
            const CivilDate c = civil_from_days(d);
            if (days_from_civil(c.year, c.month, c.day) != d || c.day < 1 ||
                c.day > days_in_month(c.year, c.month) ||
                weekday_from_days(d) != expected_weekday) {
                FAIL("mismatch at day ", d);
            }
            // Consecutive: either the next day of the month or the first of the next month.
            const bool next_day =
                c.year == previous.year && c.month == previous.month && c.day == previous.day + 1;
            const bool next_month =
                c.day == 1 &&
                ((c.year == previous.year && c.month == previous.month + 1) ||
                 (c.year == previous.year + 1 && c.month == 1 && previous.month == 12));
            if (!next_day && !next_month)
                FAIL("not consecutive at day ", d);
            previous = c;
            expected_weekday = (expected_weekday + 1) % 7;
        }
        const CivilDate c = civil_from_days(15849);
        CHECK(c.year == 2013);
        CHECK(c.month == 5);
        CHECK(c.day == 24);
    }

    TEST_CASE("weekday and month lengths") {
        CHECK(weekday_from_days(0) == 4); // Thursday
        CHECK(weekday_from_days(-1) == 3);
        CHECK(weekday_from_days(-7) == 4);
        CHECK(weekday_from_days(15849) == 5); // Friday
        CHECK(days_in_month(2000, 2) == 29);
        CHECK(days_in_month(1900, 2) == 28);
        CHECK(days_in_month(2024, 2) == 29);
        CHECK(days_in_month(2023, 2) == 28);
        CHECK(days_in_month(2023, 4) == 30);
        CHECK(days_in_month(2023, 12) == 31);
        CHECK(days_in_month(2023, 0) == 0);
        CHECK(days_in_month(2023, 13) == 0);
    }

    TEST_CASE("formatting") {
        CHECK(amz_date(may_24_2013) == "20130524T000000Z");
        CHECK(amz_day(may_24_2013) == "20130524");
        CHECK(iso8601_utc(may_24_2013) == "2013-05-24T00:00:00Z");
        CHECK(http_date(may_24_2013) == "Fri, 24 May 2013 00:00:00 GMT");
        CHECK(http_date(oct_21_2015) == "Wed, 21 Oct 2015 07:28:00 GMT");
        CHECK(http_date(nov_6_1994) == "Sun, 06 Nov 1994 08:49:37 GMT");
        CHECK(amz_date(0) == "19700101T000000Z");
        CHECK(amz_date(-1) == "19691231T235959Z");
        CHECK(iso8601_utc(951782400) == "2000-02-29T00:00:00Z");
        CHECK(amz_date(4102444799) == "20991231T235959Z");
        CHECK(iso8601_utc(253402300799) == "9999-12-31T23:59:59Z");
        CHECK(iso8601_utc(-2208988800) == "1900-01-01T00:00:00Z");
        CHECK(http_date(-2208988800) == "Mon, 01 Jan 1900 00:00:00 GMT");
    }

    TEST_CASE("iso8601_utc_ns: a file's mtime with its nanoseconds") {
        CHECK(iso8601_utc_ns(may_24_2013 * 1000000000LL) == "2013-05-24T00:00:00Z");
        CHECK(iso8601_utc_ns(may_24_2013 * 1000000000LL + 1) == "2013-05-24T00:00:00.000000001Z");
        CHECK(iso8601_utc_ns(1500000000123456789LL) == "2017-07-14T02:40:00.123456789Z");
        CHECK(iso8601_utc_ns(-1) == "1969-12-31T23:59:59.999999999Z");
        CHECK(iso8601_utc_ns(0) == "1970-01-01T00:00:00Z");
    }

    TEST_CASE("parse_iso8601_utc accepts the usual spellings") {
        CHECK(parse_iso8601_utc("2013-05-24T00:00:00Z") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-24T00:00:00.000Z") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-24T00:00:00.999999Z") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-24t00:00:00z") == may_24_2013);
        CHECK(parse_iso8601_utc("  2013-05-24T00:00:00Z ") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-24 02:00:00+02:00") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-23T22:30:00-0130") == may_24_2013);
        CHECK(parse_iso8601_utc("2013-05-24T00:00:00+00:00") == may_24_2013);
        CHECK(parse_iso8601_utc("20130524T000000Z") == may_24_2013);
        CHECK(parse_iso8601_utc("2012-02-29T12:00:00Z") == 1330516800);
        CHECK(parse_iso8601_utc("1969-12-31T23:59:59Z") == -1);
        // A leap second is the first second of the next minute.
        CHECK(parse_iso8601_utc("2016-12-31T23:59:60Z") == 1483228800);
    }

    TEST_CASE("parse_iso8601_utc round-trips its own output") {
        for (const std::int64_t t :
             {std::int64_t{0}, std::int64_t{-1}, may_24_2013, std::int64_t{951782400},
              std::int64_t{253402300799}, std::int64_t{-62135596800}}) {
            CHECK(parse_iso8601_utc(iso8601_utc(t)) == t);
            CHECK(parse_iso8601_utc(amz_date(t)) == t);
        }
    }

    TEST_CASE("parse_iso8601_utc refuses malformed or ambiguous input") {
        CHECK_FALSE(parse_iso8601_utc(""));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:00")); // local time
        CHECK_FALSE(parse_iso8601_utc("2013-05-24"));
        CHECK_FALSE(parse_iso8601_utc("2013-02-29T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-04-31T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-13-01T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-00-01T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-00T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T24:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:60:00Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:61Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:00.Z"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:00Zjunk"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:00+24:00"));
        CHECK_FALSE(parse_iso8601_utc("2013-05-24T00:00:00+01:60"));
        CHECK_FALSE(parse_iso8601_utc("2013-0524T000000Z"));
        CHECK_FALSE(
            parse_iso8601_utc("20130524 000000Z")); // the space only goes with extended form
        CHECK_FALSE(parse_iso8601_utc("2013-5-24T00:00:00Z"));
        CHECK_FALSE(parse_iso8601_utc("13-05-24T00:00:00Z"));
    }

    TEST_CASE("parse_http_date: the three RFC 7231 forms") {
        CHECK(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT") == oct_21_2015);
        CHECK(parse_http_date("Wednesday, 21-Oct-15 07:28:00 GMT") == oct_21_2015);
        CHECK(parse_http_date("Wed Oct 21 07:28:00 2015") == oct_21_2015);
        CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == nov_6_1994);
        CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == nov_6_1994);
        CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == nov_6_1994);
        CHECK(parse_http_date("Sun Nov 06 08:49:37 1994") == nov_6_1994);
    }

    TEST_CASE("parse_http_date: leniency") {
        CHECK(parse_http_date("wed, 21 oct 2015 07:28:00 gmt") == oct_21_2015);
        CHECK(parse_http_date("Wed, 21 Oct 2015 07:28:00 UTC") == oct_21_2015);
        CHECK(parse_http_date("  Wed, 21 Oct 2015 07:28:00 GMT\r\n") == oct_21_2015);
        CHECK(parse_http_date("Wed, 6 Nov 1994 08:49:37 GMT") == nov_6_1994);
        CHECK(parse_http_date("Sunday, 06-Nov-1994 08:49:37 GMT") == nov_6_1994);
        // The weekday is only spell-checked: the date wins.
        CHECK(parse_http_date("Mon, 21 Oct 2015 07:28:00 GMT") == oct_21_2015);
    }

    TEST_CASE("parse_http_date: two-digit years pivot at 70") {
        CHECK(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT") == 0);
        CHECK(parse_http_date("Tuesday, 31-Dec-69 00:00:00 GMT") == 3155673600); // 2069
        CHECK(parse_http_date("Friday, 31-Dec-99 23:59:59 GMT") == 946684799);   // 1999
        CHECK(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT") == 946684800); // 2000
    }

    TEST_CASE("parse_http_date: refuses malformed dates") {
        CHECK_FALSE(parse_http_date(""));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 2015 07:28:00"));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 2015 07:28:00 PST"));
        CHECK_FALSE(parse_http_date("Xyz, 21 Oct 2015 07:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 31 Feb 2015 07:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 21 Foo 2015 07:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 2015 7:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 15 07:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 2015 24:00:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT junk"));
        CHECK_FALSE(parse_http_date("Wednesday, 21-Oct-015 07:28:00 GMT"));
        CHECK_FALSE(parse_http_date("Wed Oct 21 07:28:00 15"));
        CHECK_FALSE(parse_http_date("Wed Oct 21 07:28:00 2015 GMT"));
        CHECK_FALSE(parse_http_date("2015-10-21T07:28:00Z"));
        CHECK_FALSE(parse_http_date("120"));
    }

    TEST_CASE("parse_http_date round-trips http_date") {
        for (const std::int64_t t : {std::int64_t{0}, may_24_2013, oct_21_2015, nov_6_1994,
                                     std::int64_t{4102444799}, std::int64_t{-2208988800}}) {
            CHECK(parse_http_date(http_date(t)) == t);
        }
    }

} // TEST_SUITE
