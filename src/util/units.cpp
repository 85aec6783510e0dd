#include "util/units.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace imgsync::util {
namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

constexpr std::string_view size_help =
    "expected bytes with an optional unit K, M, G, T (powers of 1024, also KiB to TiB) or KB, MB, "
    "GB, TB (powers of 1000), e.g. 512K or 1.5G";
constexpr std::string_view duration_help =
    "expected a duration such as 90s, 500ms, 4m30s, 1h30m or 2d (units ms, s, m, h, d from "
    "largest to smallest; a plain number is seconds)";
constexpr std::string_view rate_help =
    "expected images per second such as 5 or 2.5, or a count per period such as 100/1m, 10/s or "
    "3600/h";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void skip_spaces(std::string_view& s) {
    while (!s.empty() && ascii_space(s.front())) {
        s.remove_prefix(1);
    }
}

// Error messages must stay on one line and readable whatever the operator (or a broken config
// generator) typed, so control bytes are escaped and long input is cut.
std::string quote(std::string_view s) {
    constexpr std::size_t max_shown = 64;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c > 0x7e) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max_shown) {
        out += "...";
    }
    out += '"';
    return out;
}

enum class NumberStatus { ok, absent, malformed, overflow };

struct Number {
    std::uint64_t whole = 0;
    std::string_view fraction; // the digits after the point, if any
    std::string_view text;
};

// Consumes the leading run of digits and points. Decimal arithmetic is done on the digits rather
// than through double so that "1.1G" and friends give the exact byte count.
NumberStatus scan_number(std::string_view& s, Number& out) {
    std::size_t len = 0;
    while (len < s.size() && (is_digit(s[len]) || s[len] == '.')) {
        ++len;
    }
    if (len == 0) {
        return NumberStatus::absent;
    }
    const std::string_view run = s.substr(0, len);
    s.remove_prefix(len);
    out.text = run;
    const std::size_t dot = run.find('.');
    const std::string_view whole = run.substr(0, dot);
    out.fraction = dot == std::string_view::npos ? std::string_view() : run.substr(dot + 1);
    if (out.fraction.find('.') != std::string_view::npos ||
        (whole.empty() && out.fraction.empty())) {
        return NumberStatus::malformed;
    }
    std::uint64_t w = 0;
    for (const char c : whole) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (w > (u64_max - digit) / 10) {
            return NumberStatus::overflow;
        }
        w = w * 10 + digit;
    }
    out.whole = w;
    return NumberStatus::ok;
}

// floor((whole + 0.fraction) * unit), or nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> scale(const Number& n, std::uint64_t unit) {
    if (n.whole != 0 && n.whole > u64_max / unit) {
        return std::nullopt;
    }
    const std::uint64_t whole = n.whole * unit;
    // Horner's rule from the last digit: floor((d * unit + floor(x)) / 10) == floor((d * unit +
    // x) / 10) for integer d * unit, so truncating at every step is exact and the accumulator
    // stays below unit.
    std::uint64_t frac = 0;
    for (auto it = n.fraction.rbegin(); it != n.fraction.rend(); ++it) {
        frac = (static_cast<std::uint64_t>(*it - '0') * unit + frac) / 10;
    }
    if (whole > u64_max - frac) {
        return std::nullopt;
    }
    return whole + frac;
}

struct Unit {
    std::string_view name;
    std::uint64_t factor;
};

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t kb = 1000;

constexpr std::array<Unit, 14> size_units{{
    {"", 1},
    {"b", 1},
    {"k", kib},
    {"kib", kib},
    {"kb", kb},
    {"m", kib* kib},
    {"mib", kib* kib},
    {"mb", kb* kb},
    {"g", kib* kib* kib},
    {"gib", kib* kib* kib},
    {"gb", kb* kb* kb},
    {"t", kib* kib* kib* kib},
    {"tib", kib* kib* kib* kib},
    {"tb", kb* kb* kb* kb},
}};

// Ordered from largest to smallest: a component's index must grow along the input.
constexpr std::array<Unit, 5> duration_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// Strict decimal (digits and at most one point) to double; from_chars alone would also take
// "inf", "nan", exponents and signs.
std::optional<double> decimal_to_double(std::string_view s) {
    std::string_view rest = s;
    Number n;
    const NumberStatus status = scan_number(rest, n);
    // A whole part beyond 2^64 is still a fine double.
    if ((status != NumberStatus::ok && status != NumberStatus::overflow) || !rest.empty()) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

} // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
    const std::string_view t = trim(text);
    const auto fail = [&](std::string_view why) {
        return util::fail(fmt::format("invalid size {}: {}; {}", quote(text), why, size_help));
    };
    if (t.empty()) {
        return util::fail(fmt::format("empty size; {}", size_help));
    }
    if (t.front() == '-') {
        return fail("negative sizes are not allowed");
    }
    std::string_view rest = t;
    Number n;
    switch (scan_number(rest, n)) {
    case NumberStatus::absent:
    case NumberStatus::malformed:
        return fail("not a number");
    case NumberStatus::overflow:
        return fail("too large (the limit is 16 EiB)");
    case NumberStatus::ok:
        break;
    }
    skip_spaces(rest);
    const std::string unit = ascii_lower(rest);
    for (const Unit& u : size_units) {
        if (u.name != unit) {
            continue;
        }
        if (const auto bytes = scale(n, u.factor)) {
            return *bytes;
        }
        return fail("too large (the limit is 16 EiB)");
    }
    return fail(fmt::format("unknown unit {}", quote(rest)));
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const std::string_view t = trim(text);
    const auto fail = [&](std::string_view why) {
        return util::fail(
            fmt::format("invalid duration {}: {}; {}", quote(text), why, duration_help));
    };
    if (t.empty()) {
        return util::fail(fmt::format("empty duration; {}", duration_help));
    }
    if (t.front() == '-') {
        return fail("negative durations are not allowed");
    }

    constexpr std::string_view too_large = "too large";
    std::string_view rest = t;
    std::uint64_t total = 0;
    std::size_t next_unit = 0; // index into duration_units that the next component may use
    bool first = true;
    while (!rest.empty()) {
        Number n;
        switch (scan_number(rest, n)) {
        case NumberStatus::absent:
            return first ? fail("not a number")
                         : fail(fmt::format("expected a number at {}", quote(rest)));
        case NumberStatus::malformed:
            return fail(fmt::format("malformed number {}", quote(n.text)));
        case NumberStatus::overflow:
            return fail(too_large);
        case NumberStatus::ok:
            break;
        }
        skip_spaces(rest);
        std::size_t len = 0;
        while (len < rest.size() && is_alpha(rest[len])) {
            ++len;
        }
        const std::string_view unit = rest.substr(0, len);
        rest.remove_prefix(len);
        skip_spaces(rest);

        std::uint64_t factor = 0;
        if (unit.empty()) {
            if (!first || !rest.empty()) {
                return fail(fmt::format("missing unit after {}", quote(n.text)));
            }
            factor = 1000; // the whole input is one plain number: seconds
        } else {
            std::size_t index = 0;
            while (index < duration_units.size() && duration_units[index].name != unit) {
                ++index;
            }
            if (index == duration_units.size()) {
                return fail(fmt::format("unknown unit {}", quote(unit)));
            }
            if (index < next_unit) {
                return fail(fmt::format("unit {} repeated or out of order", quote(unit)));
            }
            next_unit = index + 1;
            factor = duration_units[index].factor;
        }
        const auto ms = scale(n, factor);
        if (!ms || total > u64_max - *ms) {
            return fail(too_large);
        }
        total += *ms;
        first = false;
    }
    if (total >
        static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
        return fail(too_large);
    }
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(total));
}

Result<double> parse_rate(std::string_view text) {
    const std::string_view t = trim(text);
    const auto fail = [&](std::string_view why) {
        return util::fail(fmt::format("invalid rate {}: {}; {}", quote(text), why, rate_help));
    };
    if (t.empty()) {
        return util::fail(fmt::format("empty rate; {}", rate_help));
    }
    const std::size_t slash = t.find('/');
    const std::string_view count_text = trim(t.substr(0, slash));
    if (!count_text.empty() && count_text.front() == '-') {
        return fail("must be greater than 0");
    }
    const auto count = decimal_to_double(count_text);
    if (!count) {
        return fail(fmt::format("{} is not a number", quote(count_text)));
    }
    if (!(*count > 0)) {
        return fail("must be greater than 0");
    }

    double period_seconds = 1;
    if (slash != std::string_view::npos) {
        const std::string_view period_text = trim(t.substr(slash + 1));
        if (period_text.empty()) {
            return fail("missing period after \"/\"");
        }
        // "10/s" reads as "10/1s"; the explicit form goes through parse_duration unchanged.
        const std::string with_count = is_alpha(period_text.front())
                                           ? "1" + std::string(period_text)
                                           : std::string(period_text);
        const auto period = parse_duration(with_count);
        if (!period) {
            return fail(fmt::format("bad period {}", quote(period_text)));
        }
        if (period->count() == 0) {
            return fail("the period must be longer than 0");
        }
        period_seconds = static_cast<double>(period->count()) / 1000.0;
    }
    const double rate = *count / period_seconds;
    if (!(rate > 0) || !std::isfinite(rate)) {
        return fail("out of range");
    }
    return rate;
}

std::string format_bytes(std::uint64_t bytes) {
    constexpr std::array<std::string_view, 6> names{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < kib) {
        return fmt::format("{} B", bytes);
    }
    std::size_t index = 0;
    std::uint64_t unit = kib;
    while (index + 1 < names.size() && bytes / unit >= kib) {
        unit *= kib;
        ++index;
    }
    const std::uint64_t whole = bytes / unit;
    // bytes % unit < 2^60, so the product stays below 2^64.
    const std::uint64_t tenths = bytes % unit * 10 / unit;
    if (tenths == 0) {
        return fmt::format("{} {}", whole, names[index]);
    }
    return fmt::format("{}.{} {}", whole, tenths, names[index]);
}

std::string format_duration(std::int64_t seconds) {
    // Negate in unsigned arithmetic so INT64_MIN does not overflow.
    const bool negative = seconds < 0;
    const std::uint64_t s = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(seconds)
                                     : static_cast<std::uint64_t>(seconds);
    const char* sign = negative ? "-" : "";
    if (s < 60) {
        return fmt::format("{}{}s", sign, s);
    }
    if (s < 3600) {
        return fmt::format("{}{}m {:02}s", sign, s / 60, s % 60);
    }
    if (s < 86400) {
        return fmt::format("{}{}h {:02}m", sign, s / 3600, s % 3600 / 60);
    }
    return fmt::format("{}{}d {:02}h", sign, s / 86400, s % 86400 / 3600);
}

std::string format_elapsed(double seconds) {
    if (seconds < 59.9995) {
        return fmt::format("{:.3f}s", std::max(0.0, seconds));
    }
    return format_duration(static_cast<std::int64_t>(std::llround(seconds)));
}

} // namespace imgsync::util
