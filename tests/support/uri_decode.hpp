// uri_decode, the inverse of s3::uri_encode, for the tests and tools only: imgsync never decodes
// (SigV4 signs what it encoded itself). The unit tests decode the AWS suite's raw query strings
// with it, the property-test helper its %XY-escaped input fields, and the SigV4 fuzzer checks that
// it undoes uri_encode.
#pragma once

#include "util/strings.hpp"

#include <string>
#include <string_view>

namespace test_support {

// Reverses %XY escapes (either hex case); '+' stays '+'. A malformed escape is kept literally.
inline std::string uri_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = imgsync::util::hex_value(s[i + 1]);
            const int lo = imgsync::util::hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

} // namespace test_support
