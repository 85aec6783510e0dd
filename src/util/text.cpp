#include "util/text.hpp"

#include <iterator>

#include <fmt/format.h>

#include "util/json.hpp"

namespace imgsync::util {

namespace {

// Length of the UTF-8 sequence a lead byte announces (1 for ASCII, 0 for a byte that cannot
// start one).
std::size_t announced_length(unsigned char b) {
    if (b < 0x80) {
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        return 2;
    }
    if (b >= 0xE0 && b <= 0xEF) {
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        return 4;
    }
    return 0;
}

// Appends the escaped form of s[i...] and returns how many bytes it consumed; nothing is
// appended for a byte that stays as it is (then the caller copies the run of such bytes).
std::size_t escape_at(std::string_view s, std::size_t i, std::string* out) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
        return 0;
    }
    if (c < 0x80) {
        if (out != nullptr) {
            switch (c) {
            case '\n':
                out->append("\\n");
                break;
            case '\r':
                out->append("\\r");
                break;
            case '\t':
                out->append("\\t");
                break;
            case '\\':
                out->append("\\\\");
                break;
            default:
                fmt::format_to(std::back_inserter(*out), "\\x{:02x}", static_cast<unsigned>(c));
            }
        }
        return 1;
    }
    const std::size_t len = announced_length(c);
    if (len == 0 || i + len > s.size() || !is_valid_utf8(s.substr(i, len))) {
        if (out != nullptr) {
            fmt::format_to(std::back_inserter(*out), "\\x{:02x}", static_cast<unsigned>(c));
        }
        return 1;
    }
    // U+0080..U+009F are C2 80..C2 9F.
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xC2 && c1 <= 0x9F) {
        if (out != nullptr) {
            fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<unsigned>(c1));
        }
        return 2;
    }
    return 0;
}

std::size_t plain_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    return c < 0x80 ? 1 : announced_length(c);
}

} // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        if (const std::size_t n = escape_at(s, i, &out); n > 0) {
            i += n;
            continue;
        }
        const std::size_t n = plain_length(s, i);
        out.append(s.substr(i, n));
        i += n;
    }
    return out;
}

bool is_printable(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (escape_at(s, i, nullptr) > 0) {
            return false;
        }
        i += plain_length(s, i);
    }
    return true;
}

} // namespace imgsync::util
