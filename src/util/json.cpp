#include "util/json.hpp"

#include <cmath>
#include <iterator>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace imgsync::util {

namespace {

constexpr std::string_view replacement_char = "\xEF\xBF\xBD"; // U+FFFD

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is ill-formed; in that case
// *bad is set to the length of the maximal subpart to replace with a single U+FFFD.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t* bad) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 < 0x80) {
        return 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) {
            lo = 0xA0; // overlong
        } else if (b0 == 0xED) {
            hi = 0x9F; // UTF-16 surrogates
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) {
            lo = 0x90; // overlong
        } else if (b0 == 0xF4) {
            hi = 0x8F; // above U+10FFFF
        }
    } else {
        *bad = 1;
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if (i + k >= s.size()) {
            *bad = k;
            return 0;
        }
        const unsigned char b = byte(i + k);
        const unsigned char min = k == 1 ? lo : 0x80;
        const unsigned char max = k == 1 ? hi : 0xBF;
        if (b < min || b > max) {
            *bad = k;
            return 0;
        }
    }
    return len;
}

} // namespace

bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t bad = 0;
        const std::size_t len = utf8_sequence(s, i, &bad);
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

void append_json_string(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t bad = 0;
            const std::size_t len = utf8_sequence(s, i, &bad);
            if (len == 0) {
                out.append(replacement_char);
                i += bad;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (c < 0x20) {
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
        ++i;
    }
    out.push_back('"');
}

std::string json_quote(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

JsonWriter::JsonWriter(Style style) : style_(style) {}

JsonWriter::JsonWriter(Style style, Sink sink, std::size_t flush_threshold)
    : style_(style), sink_(std::move(sink)), flush_threshold_(flush_threshold) {}

void JsonWriter::newline_indent(std::size_t depth) {
    buffer_.push_back('\n');
    buffer_.append(depth * 2, ' ');
}

void JsonWriter::before_value() {
    if (stack_.empty()) {
        if (complete_) {
            throw std::logic_error("JsonWriter: second top-level value without reset()");
        }
        return;
    }
    Frame& top = stack_.back();
    if (top.object) {
        if (!top.key_pending) {
            throw std::logic_error("JsonWriter: value in an object without a key");
        }
        top.key_pending = false;
        return; // key() already wrote the separator and indentation
    }
    if (top.count > 0) {
        buffer_.push_back(',');
    }
    if (style_ == Style::pretty) {
        newline_indent(stack_.size());
    }
}

void JsonWriter::after_value() {
    if (stack_.empty()) {
        complete_ = true;
    } else {
        ++stack_.back().count;
    }
    if (sink_ && buffer_.size() >= flush_threshold_) {
        flush();
    }
}

JsonWriter& JsonWriter::key(std::string_view name) {
    if (stack_.empty() || !stack_.back().object || stack_.back().key_pending) {
        throw std::logic_error("JsonWriter: key outside an object or after another key");
    }
    Frame& top = stack_.back();
    if (top.count > 0) {
        buffer_.push_back(',');
    }
    if (style_ == Style::pretty) {
        newline_indent(stack_.size());
    }
    append_json_string(buffer_, name);
    buffer_.append(style_ == Style::pretty ? ": " : ":");
    top.key_pending = true;
    return *this;
}

JsonWriter& JsonWriter::begin_object() {
    before_value();
    buffer_.push_back('{');
    stack_.push_back(Frame{true});
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    before_value();
    buffer_.push_back('[');
    stack_.push_back(Frame{false});
    return *this;
}

void JsonWriter::close(bool object) {
    if (stack_.empty() || stack_.back().object != object || stack_.back().key_pending) {
        throw std::logic_error(object ? "JsonWriter: unbalanced end_object()"
                                      : "JsonWriter: unbalanced end_array()");
    }
    const bool had_members = stack_.back().count > 0;
    stack_.pop_back();
    if (had_members && style_ == Style::pretty) {
        newline_indent(stack_.size());
    }
    buffer_.push_back(object ? '}' : ']');
    after_value();
}

JsonWriter& JsonWriter::end_object() {
    close(true);
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    close(false);
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    before_value();
    append_json_string(buffer_, s);
    after_value();
    return *this;
}

JsonWriter& JsonWriter::value(bool b) {
    before_value();
    buffer_.append(b ? "true" : "false");
    after_value();
    return *this;
}

JsonWriter& JsonWriter::value(double d) {
    if (!std::isfinite(d)) {
        return null();
    }
    before_value();
    // Shortest text that reads back as the same double.
    fmt::format_to(std::back_inserter(buffer_), "{}", d);
    after_value();
    return *this;
}

JsonWriter& JsonWriter::value(std::int64_t i) {
    before_value();
    fmt::format_to(std::back_inserter(buffer_), "{}", i);
    after_value();
    return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t u) {
    before_value();
    fmt::format_to(std::back_inserter(buffer_), "{}", u);
    after_value();
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    buffer_.append("null");
    after_value();
    return *this;
}

std::string JsonWriter::take() {
    std::string out = std::move(buffer_);
    buffer_.clear();
    return out;
}

bool JsonWriter::flush() {
    if (!sink_ || buffer_.empty()) {
        return ok_;
    }
    if (ok_ && !sink_(buffer_)) {
        ok_ = false;
    }
    buffer_.clear();
    return ok_;
}

bool JsonWriter::finish() {
    if (!complete_ || !stack_.empty()) {
        throw std::logic_error("JsonWriter: finish() on an incomplete document");
    }
    return flush();
}

void JsonWriter::reset() {
    buffer_.clear();
    stack_.clear();
    complete_ = false;
    ok_ = true;
}

JsonWriter::Sink file_sink(std::FILE* f) {
    return [f](std::string_view text) {
        return std::fwrite(text.data(), 1, text.size(), f) == text.size();
    };
}

} // namespace imgsync::util
