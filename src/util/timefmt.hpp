// UTC timestamps as SigV4, S3 listings and HTTP headers spell them.
//
// Everything works on seconds since the Unix epoch (UTC, leap seconds ignored as POSIX does) with
// the proleptic Gregorian calendar from Howard Hinnant's days-from-civil algorithm, so nothing
// depends on the process time zone, the locale or the range of time_t/struct tm. Negative epochs
// (before 1970) work. Parsers return nullopt for anything malformed or out of range (month 13,
// 31 April, 29 February outside leap years, hour 24); a seconds field of 60 is accepted and counts
// as the first second of the next minute, since HTTP and ISO 8601 allow a leap second there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::util {

struct CivilDate {
    std::int64_t year;
    unsigned month; // 1-12
    unsigned day;   // 1-31
};

// Days since 1970-01-01 of a valid proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
CivilDate civil_from_days(std::int64_t days);
unsigned days_in_month(std::int64_t year, unsigned month);
// 0 = Sunday, as struct tm's tm_wday.
unsigned weekday_from_days(std::int64_t days);

// 1369353600 -> "20130524T000000Z" (SigV4 X-Amz-Date), "20130524" (credential scope),
// "2013-05-24T00:00:00Z", "Fri, 24 May 2013 00:00:00 GMT" (RFC 7231 IMF-fixdate).
std::string amz_date(std::int64_t epoch);
std::string amz_day(std::int64_t epoch);
std::string iso8601_utc(std::int64_t epoch);
// The same for a time that may be unknown (none stays none: JSON's null).
std::optional<std::string> iso8601_utc(const std::optional<std::int64_t>& epoch);
// Nanoseconds since the epoch (a file's mtime): "2013-05-24T00:00:00.000000001Z", the fraction
// left out when it is zero.
std::string iso8601_utc_ns(std::int64_t epoch_ns);
std::string http_date(std::int64_t epoch);

// ISO 8601 / RFC 3339 date-time with an explicit zone:
//   "2013-05-24T00:00:00Z", "2013-05-24T00:00:00.000Z" (S3 LastModified; fractions are dropped),
//   "2013-05-24 02:00:00+02:00", "2013-05-24T00:00:00-0130", and the basic form
//   "20130524T000000Z" that amz_date prints. "T"/"Z" may be lower case.
// A time without a zone is local time per ISO 8601 and is refused.
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text);

// The three HTTP-date forms of RFC 7231 section 7.1.1.1:
//   "Wed, 21 Oct 2015 07:28:00 GMT"    IMF-fixdate
//   "Wednesday, 21-Oct-15 07:28:00 GMT" obsolete RFC 850
//   "Wed Oct 21 07:28:00 2015"          obsolete asctime (day may be space-padded: "Oct  1")
// Names are case-insensitive and the weekday is checked for spelling but not against the date
// (senders get it wrong and the date is what matters). "UTC" is accepted for "GMT". A two-digit
// RFC 850 year is 20YY below 70 and 19YY otherwise; RFC 7231 asks for a "50 years from now"
// rule instead, which would need the clock and differs only for dates decades away.
std::optional<std::int64_t> parse_http_date(std::string_view text);

} // namespace imgsync::util
