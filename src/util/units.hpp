// Operator-facing quantities: sizes, durations and rates as typed on the command line or in the
// config file, and their human-readable rendering for logs and progress lines.
//
// Error convention: the parsers never throw on bad input. They return util::Result<T>: either a
// value or a one-line message that quotes the offending text and says what is accepted, so the CLI
// can print "imgsync: --bandwidth: <error>" and exit. The quoted text is escaped and truncated, so
// even hostile input cannot break the message across lines. Only std::bad_alloc escapes.
#pragma once

#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace imgsync::util {

// Bytes. A plain number is bytes; "B" is allowed as an explicit unit. K, M, G, T and
// KiB, MiB, GiB, TiB are powers of 1024 (as in rclone); KB, MB, GB, TB are powers of 1000.
// Units are case-insensitive and may be separated from the number by spaces ("1.5 MiB", which is
// what format_bytes prints). Decimals are allowed; the result is rounded down to whole bytes
// ("0.1K" = 102). "0" parses to 0: whether zero is meaningful is the caller's decision.
// Errors: empty, negative, not a number, unknown unit, more than 2^64-1 bytes.
Result<std::uint64_t> parse_size(std::string_view text);

// Units ms, s, m, h, d (lower case only: "M" would be read as months elsewhere), combined from
// the largest to the smallest, each at most once: "1h30m", "4m30s", "90s", "500ms", "1h 30m".
// A plain number is seconds ("90", "1.5"). Each component may have decimals ("1.5h"); the total
// is rounded down to whole milliseconds.
// Errors: empty, negative, unknown or missing unit, repeated or out-of-order unit, overflow.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// Images per second, always > 0 and finite. "5" and "2.5" are per second; "COUNT/PERIOD" divides
// by a duration as parse_duration reads it, where a bare unit means one of it:
// "100/1m" = 1.667, "10/s" = 10, "3600/h" = 1, "1/90s" = 0.0111.
// Errors: empty, zero or negative, not a number, bad or zero period.
Result<double> parse_rate(std::string_view text);

// Binary units with one decimal, rounded down so a value never displays as its next unit:
// 0 -> "0 B", 512 -> "512 B", 1536 -> "1.5 KiB", 1048576 -> "1 MiB", 2^64-1 -> "15.9 EiB".
// A ".0" is not printed.
std::string format_bytes(std::uint64_t bytes);

// Two most significant units, rounded down: 45 -> "45s", 270 -> "4m 30s", 7380 -> "2h 03m",
// 93784 -> "1d 02h"; negative values get a leading "-". parse_duration reads the others back
// (to within the dropped smaller unit).
std::string format_duration(std::int64_t seconds);
// A measured duration: to the millisecond under a minute ("0.009s", "12.388s"), then as
// format_duration.
std::string format_elapsed(double seconds);

} // namespace imgsync::util
