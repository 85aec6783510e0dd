// A small streaming JSON writer: compact or 2-space pretty output built in a std::string that can
// be handed to a sink as it grows, so a million-element `list --json` needs bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace imgsync::util {

// Appends s as a quoted JSON string. Quotes, backslashes and control characters are escaped;
// valid UTF-8 passes through unchanged; every ill-formed UTF-8 sequence (maximal subpart, as
// Unicode recommends) becomes U+FFFD, so the output is always valid UTF-8 and valid JSON.
void append_json_string(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);

// True if s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s);

class JsonWriter {
  public:
    enum class Style { compact, pretty };
    // Receives finished text; returns false when the output is gone (closed pipe, full disk), after
    // which the writer discards further text instead of buffering it.
    using Sink = std::function<bool(std::string_view)>;

    // Without a sink everything stays in the buffer: read it with str() or take().
    explicit JsonWriter(Style style = Style::compact);
    // With a sink the buffer is passed on whenever it exceeds flush_threshold at the end of a
    // value, and by flush()/finish().
    JsonWriter(Style style, Sink sink, std::size_t flush_threshold = 64 * 1024);

    // Structural misuse (a value where a key is expected, unbalanced end_*, a second top-level
    // value) throws std::logic_error: it is a bug in the caller, not a data problem.
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    // Without this a string literal would pick the bool overload.
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b);
    JsonWriter& value(double d); // NaN and infinities are written as null
    JsonWriter& value(std::int64_t i);
    JsonWriter& value(std::uint64_t u);
    template <typename T,
              std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    JsonWriter& value(T i) {
        if constexpr (std::is_signed_v<T>) {
            return value(static_cast<std::int64_t>(i));
        } else {
            return value(static_cast<std::uint64_t>(i));
        }
    }
    JsonWriter& value(float f) { return value(static_cast<double>(f)); }
    template <typename T> JsonWriter& value(const std::optional<T>& v) {
        return v ? value(*v) : null();
    }
    JsonWriter& null();

    template <typename T> JsonWriter& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

    // True once one complete top-level value has been written.
    bool complete() const { return complete_; }
    // False once the sink has refused text.
    bool ok() const { return ok_; }

    const std::string& str() const { return buffer_; }
    std::string take();
    // Passes buffered text to the sink; returns ok().
    bool flush();
    // Checks that the document is complete (throws std::logic_error otherwise) and flushes.
    bool finish();
    // Forget everything written so far, so one writer can produce many documents (JSON lines).
    void reset();

  private:
    struct Frame {
        bool object;
        bool key_pending = false;
        std::size_t count = 0;
    };
    void before_value();
    void after_value();
    void newline_indent(std::size_t depth);
    void close(bool object);

    Style style_;
    Sink sink_;
    std::size_t flush_threshold_ = 0;
    std::string buffer_;
    std::vector<Frame> stack_;
    bool complete_ = false;
    bool ok_ = true;
};

// A sink that fwrite()s to f (which stays owned by the caller).
JsonWriter::Sink file_sink(std::FILE* f);

} // namespace imgsync::util
