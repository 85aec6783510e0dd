// ASCII-only helpers for protocol and operator tokens (day names, "off", "GMT", header lines, INI
// keys): case folding, white space and trimming, hex digits. None of them depends on the locale.
#pragma once

#include <string>
#include <string_view>

namespace imgsync::util {

inline char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// A copy with A-Z folded to a-z; every other byte as it was.
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = ascii_lower(c);
    }
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Space, tab, CR and LF: the white space of header lines, XML and what operators type.
inline bool ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// ascii_space plus VT and FF: isspace() in the "C" locale, and what Python's str.strip() and
// str.split() remove from ASCII text (botocore's rules for the AWS files and SigV4's Trimall).
inline bool ascii_isspace(char c) {
    return ascii_space(c) || c == '\v' || c == '\f';
}

// Without the leading and trailing characters for which is_space is true.
template <class IsSpace> std::string_view trim_if(std::string_view s, IsSpace is_space) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view trim(std::string_view s) {
    return trim_if(s, ascii_space);
}

// 0-15 for a hex digit of either case, -1 for anything else.
inline int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace imgsync::util
