// ASCII-only helpers for protocol and operator tokens (day names, "off", "GMT", header lines):
// case folding and trimming.
#pragma once

#include <string_view>

namespace imgsync::util {

inline char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

inline bool ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && ascii_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ascii_space(s.back()))
        s.remove_suffix(1);
    return s;
}

} // namespace imgsync::util
