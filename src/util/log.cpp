#include "util/log.hpp"

#include <cmath>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "util/clock.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "util/timefmt.hpp"

namespace imgsync::util {

double log_precision(double d) {
    const double a = std::fabs(d);
    if (!std::isfinite(d) || d == 0 || a >= 1e12) {
        return d;
    }
    if (a >= 1) {
        return std::round(d * 1000) / 1000;
    }
    const double scale = std::pow(10.0, 2 - std::floor(std::log10(a)));
    return std::round(d * scale) / scale;
}

namespace {

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

bool is_reserved_key(std::string_view key) {
    return key == "ts" || key == "level" || key == "event";
}

// A field named like a fixed column would produce a duplicate key, and most parsers keep only the
// last one, which could overwrite the level.
std::string field_key(std::string_view key) {
    std::string out;
    if (is_reserved_key(key)) {
        out.push_back('_');
    }
    out.append(key);
    return out;
}

// logfmt keys have no quoting, so anything that would break key=value parsing becomes '_'.
void append_logfmt_key(std::string& out, std::string_view key) {
    if (key.empty()) {
        out.push_back('_');
        return;
    }
    for (const char ch : key) {
        const auto c = static_cast<unsigned char>(ch);
        const bool bad = c <= 0x20 || c == '=' || c == '"' || c >= 0x7F;
        out.push_back(bad ? '_' : ch);
    }
}

std::string logfmt_double(double d) {
    if (std::isnan(d)) {
        return "NaN";
    }
    if (std::isinf(d)) {
        return d > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", log_precision(d));
}

std::string_view color_of(Level level) {
    switch (level) {
    case Level::debug:
        return "\x1b[90m";
    case Level::info:
        return "\x1b[32m";
    case Level::warn:
        return "\x1b[33m";
    case Level::error:
        return "\x1b[31m";
    }
    return "";
}

} // namespace

std::string_view to_string(Logger::Format format) {
    switch (format) {
    case Logger::Format::logfmt:
        return "logfmt";
    case Logger::Format::json:
        return "json";
    }
    return "logfmt";
}

std::string_view to_string(Level level) {
    switch (level) {
    case Level::debug:
        return "debug";
    case Level::info:
        return "info";
    case Level::warn:
        return "warn";
    case Level::error:
        return "error";
    }
    return "info";
}

std::optional<Level> parse_level(std::string_view text) {
    const std::string lower = ascii_lower(text);
    if (lower == "debug") {
        return Level::debug;
    }
    if (lower == "info") {
        return Level::info;
    }
    if (lower == "warn" || lower == "warning") {
        return Level::warn;
    }
    if (lower == "error") {
        return Level::error;
    }
    return std::nullopt;
}

Level threshold_for(bool verbose, bool quiet) {
    if (verbose) {
        return Level::debug;
    }
    return quiet ? Level::warn : Level::info;
}

std::string format_utc_millis(double epoch_seconds) {
    // Rounding, not truncation: 1.123 is 1.12299999... in binary and must still print .123.
    const auto ms = static_cast<std::int64_t>(std::llround(epoch_seconds * 1000.0));
    const std::int64_t secs = floor_div(ms, 1000);
    std::string out = iso8601_utc(secs);
    out.pop_back(); // the 'Z', which goes after the fraction
    fmt::format_to(std::back_inserter(out), ".{:03}Z", ms - secs * 1000);
    return out;
}

std::string logfmt_value(std::string_view v) {
    bool quote = v.empty();
    for (std::size_t i = 0; i < v.size() && !quote; ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        // 0xC2 0x80..0x9F: a C1 control in UTF-8.
        const bool c1 =
            c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9F;
        quote = c <= 0x20 || c == '=' || c == '"' || c == 0x7F || c1;
    }
    if (!quote && !is_valid_utf8(v)) {
        quote = true;
    }
    if (!quote) {
        return std::string(v);
    }
    // JSON leaves DEL and the C1 controls as they are; a terminal showing the log may obey
    // them, so they are escaped too. json_quote's output is valid UTF-8: 0xC2 starts a character.
    const std::string quoted = json_quote(v);
    std::string out;
    out.reserve(quoted.size());
    for (std::size_t i = 0; i < quoted.size(); ++i) {
        const auto c = static_cast<unsigned char>(quoted[i]);
        const auto next = i + 1 < quoted.size() ? static_cast<unsigned char>(quoted[i + 1]) : 0;
        if (c == 0x7F) {
            out.append("\\u007f");
        } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(next));
            ++i;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

Logger::Logger(std::FILE* sink, Format format, Level threshold, Clock clock)
    : sink_(sink), format_(format), threshold_(threshold), clock_(std::move(clock)) {
    if (!clock_) {
        clock_ = wall_seconds;
    }
}

std::string Logger::format_line(Level level, double ts, std::string_view event, const Field* begin,
                                const Field* end) const {
    if (format_ == Format::json) {
        JsonWriter w;
        w.begin_object();
        w.field("ts", format_utc_millis(ts));
        w.field("level", to_string(level));
        w.field("event", event);
        for (const Field* f = begin; f != end; ++f) {
            w.key(field_key(f->key()));
            std::visit(
                [&w](const auto& v) {
                    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
                        w.value(log_precision(v));
                    } else {
                        w.value(v);
                    }
                },
                f->value());
        }
        w.end_object();
        std::string line = w.take();
        line.push_back('\n');
        return line;
    }

    std::string line = "ts=";
    line.append(format_utc_millis(ts));
    line.append(" level=");
    if (color_) {
        line.append(color_of(level));
        line.append(to_string(level));
        line.append("\x1b[0m");
    } else {
        line.append(to_string(level));
    }
    line.append(" event=");
    line.append(logfmt_value(event));
    for (const Field* f = begin; f != end; ++f) {
        line.push_back(' ');
        append_logfmt_key(line, field_key(f->key()));
        line.push_back('=');
        std::visit(
            [&line](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    line.append(logfmt_value(v));
                } else if constexpr (std::is_same_v<T, bool>) {
                    line.append(v ? "true" : "false");
                } else if constexpr (std::is_same_v<T, double>) {
                    line.append(logfmt_double(v));
                } else {
                    fmt::format_to(std::back_inserter(line), "{}", v);
                }
            },
            f->value());
    }
    line.push_back('\n');
    return line;
}

void Logger::log(Level level, std::string_view event, const Field* begin, const Field* end) {
    if (sink_ == nullptr || !enabled(level)) {
        return;
    }
    const std::string line = format_line(level, clock_(), event, begin, end);
    // A failed log write has nowhere better to be reported; the pass itself must carry on.
    std::fwrite(line.data(), 1, line.size(), sink_);
    std::fflush(sink_);
}

} // namespace imgsync::util
