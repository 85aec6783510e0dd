// Structured event log, one event per line, as logfmt or JSON lines.
//
//   log.info("uploaded", {{"key", key}, {"bytes", n}, {"ms", ms}});
//   ts=2026-11-28T15:04:05.123Z level=info event=uploaded key="a b.png" bytes=123 ms=45
//   {"ts":"2026-11-28T15:04:05.123Z","level":"info","event":"uploaded","key":"a b.png",...}
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace imgsync::util {

enum class Level { debug, info, warn, error };

std::string_view to_string(Level level);
// Accepts debug, info, warn, warning, error (any case).
std::optional<Level> parse_level(std::string_view text);
// -v asks for debug, -q for warnings and errors only; with both, -v wins because someone asked to
// see more.
Level threshold_for(bool verbose, bool quiet);

// "2026-11-28T15:04:05.123Z", rounded to the nearest millisecond (whole seconds: iso8601_utc in
// util/timefmt.hpp).
std::string format_utc_millis(double epoch_seconds);

// A double as a log field shows it: 3 decimals from 1 up (seconds=12.388, not
// 12.387812193000002), 3 significant digits below 1 (0.00123), unchanged from 1e12 up or when
// not finite.
double log_precision(double d);

// One key/value pair of an event. Holds views: build fields in the logging call itself (as the
// initializer list does), do not keep them.
class Field {
  public:
    using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

    Field(std::string_view key, std::string_view v) : key_(key), value_(v) {}
    Field(std::string_view key, const std::string& v) : key_(key), value_(std::string_view(v)) {}
    Field(std::string_view key, const char* v) : key_(key), value_(std::string_view(v)) {}
    Field(std::string_view key, bool v) : key_(key), value_(v) {}
    Field(std::string_view key, double v) : key_(key), value_(v) {}
    template <typename T,
              std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    Field(std::string_view key, T v) : key_(key), value_(widen(v)) {}

    std::string_view key() const { return key_; }
    const Value& value() const { return value_; }

  private:
    template <typename T> static Value widen(T v) {
        if constexpr (std::is_signed_v<T>) {
            return static_cast<std::int64_t>(v);
        } else {
            return static_cast<std::uint64_t>(v);
        }
    }
    std::string_view key_;
    Value value_;
};

class Logger {
  public:
    enum class Format { logfmt, json };
    // Epoch seconds with a fractional part.
    using Clock = std::function<double()>;

    // sink stays owned by the caller; a null sink discards everything. An empty clock means the
    // system clock.
    explicit Logger(std::FILE* sink, Format format = Format::logfmt, Level threshold = Level::info,
                    Clock clock = {});

    void set_threshold(Level level) { threshold_ = level; }
    Level threshold() const { return threshold_; }
    bool enabled(Level level) const { return level >= threshold_; }
    // ANSI colour on the level of logfmt lines. Off by default; the caller turns it on only when
    // the sink is a terminal (isatty) and the user did not ask for plain output.
    void set_color(bool on) { color_ = on; }
    Format format() const { return format_; }

    void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
        log(Level::debug, event, fields);
    }
    void info(std::string_view event, std::initializer_list<Field> fields = {}) {
        log(Level::info, event, fields);
    }
    void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
        log(Level::warn, event, fields);
    }
    void error(std::string_view event, std::initializer_list<Field> fields = {}) {
        log(Level::error, event, fields);
    }
    void log(Level level, std::string_view event, std::initializer_list<Field> fields) {
        log(level, event, fields.begin(), fields.end());
    }
    void log(Level level, std::string_view event, const std::vector<Field>& fields) {
        log(level, event, fields.data(), fields.data() + fields.size());
    }
    // Writes the line (ending in '\n') with one fwrite and flushes, so a pass killed by a timeout
    // loses no finished line and concurrent writers never interleave within a line.
    void log(Level level, std::string_view event, const Field* begin, const Field* end);

    // The exact line log() would write at time ts, newline included. Pure.
    std::string format_line(Level level, double ts, std::string_view event, const Field* begin,
                            const Field* end) const;
    std::string format_line(Level level, double ts, std::string_view event,
                            std::initializer_list<Field> fields) const {
        return format_line(level, ts, event, fields.begin(), fields.end());
    }

  private:
    std::FILE* sink_;
    Format format_;
    Level threshold_;
    Clock clock_;
    bool color_ = false;
};

// "logfmt" or "json": the names --log-format takes.
std::string_view to_string(Logger::Format format);

// The logfmt rendering of one value: bare if it is a safe token, otherwise quoted with JSON-style
// escapes (invalid UTF-8 becomes U+FFFD; DEL and the C1 controls become \u007f, \u0080..\u009f,
// which JSON itself leaves raw). Exposed for tests and for other key=value output.
std::string logfmt_value(std::string_view v);

} // namespace imgsync::util
