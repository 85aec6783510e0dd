#include "util/timefmt.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

#include <array>

namespace imgsync::util {
namespace {

constexpr std::int64_t seconds_per_day = 86400;

constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> full_day_names{
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct UtcTime {
    CivilDate date;
    unsigned weekday;
    unsigned hour, minute, second;
};

UtcTime split(std::int64_t epoch) {
    const std::int64_t days = floor_div(epoch, seconds_per_day);
    const auto secs = static_cast<unsigned>(epoch - days * seconds_per_day);
    return UtcTime{civil_from_days(days), weekday_from_days(days), secs / 3600, secs / 60 % 60,
                   secs % 60};
}

class Scanner {
  public:
    explicit Scanner(std::string_view s) : s_(s) {}

    bool at_end() const { return s_.empty(); }

    bool eat(char c) {
        if (s_.empty() || s_.front() != c) {
            return false;
        }
        s_.remove_prefix(1);
        return true;
    }

    bool eat_ci(char c) {
        if (s_.empty() || ascii_lower(s_.front()) != ascii_lower(c)) {
            return false;
        }
        s_.remove_prefix(1);
        return true;
    }

    // Between min and max digits, greedily.
    std::optional<unsigned> digits(std::size_t min, std::size_t max, std::size_t* count = nullptr) {
        std::size_t n = 0;
        unsigned value = 0;
        while (n < max && n < s_.size() && s_[n] >= '0' && s_[n] <= '9') {
            value = value * 10 + static_cast<unsigned>(s_[n] - '0');
            ++n;
        }
        if (n < min) {
            return std::nullopt;
        }
        s_.remove_prefix(n);
        if (count) {
            *count = n;
        }
        return value;
    }

    std::string_view letters() {
        std::size_t n = 0;
        while (n < s_.size() &&
               ((s_[n] >= 'a' && s_[n] <= 'z') || (s_[n] >= 'A' && s_[n] <= 'Z'))) {
            ++n;
        }
        const std::string_view out = s_.substr(0, n);
        s_.remove_prefix(n);
        return out;
    }

    bool spaces() {
        std::size_t n = 0;
        while (n < s_.size() && s_[n] == ' ') {
            ++n;
        }
        s_.remove_prefix(n);
        return n > 0;
    }

  private:
    std::string_view s_;
};

struct Clock {
    unsigned hour = 0, minute = 0, second = 0;
};

// "HH:MM:SS"
std::optional<Clock> scan_clock(Scanner& p) {
    const auto h = p.digits(2, 2);
    if (!h || !p.eat(':')) {
        return std::nullopt;
    }
    const auto m = p.digits(2, 2);
    if (!m || !p.eat(':')) {
        return std::nullopt;
    }
    const auto s = p.digits(2, 2);
    if (!s) {
        return std::nullopt;
    }
    return Clock{*h, *m, *s};
}

std::optional<std::int64_t> compose(std::int64_t year, unsigned month, unsigned day,
                                    const Clock& c) {
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || c.hour > 23 ||
        c.minute > 59 || c.second > 60) {
        return std::nullopt;
    }
    return days_from_civil(year, month, day) * seconds_per_day + c.hour * 3600 + c.minute * 60 +
           c.second;
}

std::optional<unsigned> month_from_name(std::string_view name) {
    for (std::size_t i = 0; i < month_names.size(); ++i) {
        if (iequals(name, month_names[i])) {
            return static_cast<unsigned>(i + 1);
        }
    }
    return std::nullopt;
}

bool is_weekday_name(std::string_view name) {
    for (std::size_t i = 0; i < day_names.size(); ++i) {
        if (iequals(name, day_names[i]) || iequals(name, full_day_names[i])) {
            return true;
        }
    }
    return false;
}

} // namespace

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
    const std::int64_t y = year - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t days) {
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
    return CivilDate{year, month, day};
}

unsigned days_in_month(std::int64_t year, unsigned month) {
    constexpr std::array<unsigned, 12> lengths{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) {
        return 0;
    }
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : lengths[month - 1];
}

unsigned weekday_from_days(std::int64_t days) {
    // 1970-01-01 was a Thursday.
    return static_cast<unsigned>(days - floor_div(days + 4, 7) * 7 + 4);
}

std::string amz_date(std::int64_t epoch) {
    const UtcTime t = split(epoch);
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.date.year, t.date.month, t.date.day,
                       t.hour, t.minute, t.second);
}

std::string amz_day(std::int64_t epoch) {
    const UtcTime t = split(epoch);
    return fmt::format("{:04}{:02}{:02}", t.date.year, t.date.month, t.date.day);
}

std::optional<std::string> iso8601_utc(const std::optional<std::int64_t>& epoch) {
    return epoch ? std::optional<std::string>(iso8601_utc(*epoch)) : std::nullopt;
}

std::string iso8601_utc(std::int64_t epoch) {
    const UtcTime t = split(epoch);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.date.year, t.date.month,
                       t.date.day, t.hour, t.minute, t.second);
}

std::string iso8601_utc_ns(std::int64_t epoch_ns) {
    constexpr std::int64_t ns_per_s = 1000000000;
    std::int64_t secs = epoch_ns / ns_per_s, frac = epoch_ns % ns_per_s;
    if (frac < 0) {
        --secs;
        frac += ns_per_s;
    }
    std::string text = iso8601_utc(secs);
    if (frac != 0) {
        text.insert(text.size() - 1, fmt::format(".{:09}", frac));
    }
    return text;
}

std::string http_date(std::int64_t epoch) {
    const UtcTime t = split(epoch);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", day_names[t.weekday], t.date.day,
                       month_names[t.date.month - 1], t.date.year, t.hour, t.minute, t.second);
}

std::optional<std::int64_t> parse_iso8601_utc(std::string_view text) {
    Scanner p(trim(text));
    const auto year = p.digits(4, 4);
    if (!year) {
        return std::nullopt;
    }
    const bool extended = p.eat('-');
    const auto month = p.digits(2, 2);
    if (!month || (extended && !p.eat('-'))) {
        return std::nullopt;
    }
    const auto day = p.digits(2, 2);
    if (!day || !(p.eat_ci('T') || (extended && p.eat(' ')))) {
        return std::nullopt;
    }
    const auto hour = p.digits(2, 2);
    if (!hour || (extended && !p.eat(':'))) {
        return std::nullopt;
    }
    const auto minute = p.digits(2, 2);
    if (!minute || (extended && !p.eat(':'))) {
        return std::nullopt;
    }
    const auto second = p.digits(2, 2);
    if (!second) {
        return std::nullopt;
    }
    const Clock c{*hour, *minute, *second};
    if (p.eat('.') || p.eat(',')) {
        // Sub-second precision does not matter to anything that compares these timestamps. The
        // value may wrap for long fractions; only the digit count is used.
        if (!p.digits(1, std::string_view::npos)) {
            return std::nullopt;
        }
    }
    std::int64_t offset = 0;
    if (!p.eat_ci('Z')) {
        const bool plus = p.eat('+');
        if (!plus && !p.eat('-')) {
            return std::nullopt;
        }
        const auto oh = p.digits(2, 2);
        if (!oh) {
            return std::nullopt;
        }
        p.eat(':');
        const auto om = p.digits(2, 2);
        if (!om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset = (plus ? 1 : -1) * static_cast<std::int64_t>(*oh * 3600 + *om * 60);
    }
    if (!p.at_end()) {
        return std::nullopt;
    }
    const auto local = compose(*year, *month, *day, c);
    if (!local) {
        return std::nullopt;
    }
    return *local - offset;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    Scanner p(trim(text));
    if (!is_weekday_name(p.letters())) {
        return std::nullopt;
    }
    std::int64_t year = 0;
    std::optional<unsigned> month;
    std::optional<unsigned> day;
    std::optional<Clock> clock;
    if (p.eat(',')) {
        p.spaces();
        day = p.digits(1, 2);
        if (!day) {
            return std::nullopt;
        }
        if (p.eat('-')) {
            // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; some senders write four-digit years.
            month = month_from_name(p.letters());
            std::size_t n = 0;
            const auto y = p.eat('-') ? p.digits(2, 4, &n) : std::nullopt;
            if (!month || !y || n == 3) {
                return std::nullopt;
            }
            year = n == 4 ? *y : (*y < 70 ? 2000 + *y : 1900 + *y);
        } else {
            if (!p.spaces()) {
                return std::nullopt;
            }
            month = month_from_name(p.letters());
            const auto y = p.spaces() ? p.digits(4, 4) : std::nullopt;
            if (!month || !y) {
                return std::nullopt;
            }
            year = *y;
        }
        if (!p.spaces()) {
            return std::nullopt;
        }
        clock = scan_clock(p);
        if (!clock || !p.spaces()) {
            return std::nullopt;
        }
        const std::string_view zone = p.letters();
        if (!iequals(zone, "GMT") && !iequals(zone, "UTC")) {
            return std::nullopt;
        }
    } else {
        // asctime: "Sun Nov  6 08:49:37 1994"
        if (!p.spaces()) {
            return std::nullopt;
        }
        month = month_from_name(p.letters());
        if (!month || !p.spaces()) {
            return std::nullopt;
        }
        day = p.digits(1, 2);
        if (!day || !p.spaces()) {
            return std::nullopt;
        }
        clock = scan_clock(p);
        if (!clock || !p.spaces()) {
            return std::nullopt;
        }
        const auto y = p.digits(4, 4);
        if (!y) {
            return std::nullopt;
        }
        year = *y;
    }
    if (!p.at_end()) {
        return std::nullopt;
    }
    return compose(year, *month, *day, *clock);
}

} // namespace imgsync::util
