#include "images/image_synth_common.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace imgsync::core::synth {

namespace {

constexpr Aspect aspects[] = {{4, 3}, {4, 3}, {3, 2}, {3, 2}, {16, 9},
                              {1, 1}, {3, 4}, {2, 3}, {5, 4}};

} // namespace

Aspect pick_aspect(Rng& rng) {
    return aspects[rng.below(static_cast<std::uint32_t>(std::size(aspects)))];
}

std::string seed_line(std::uint64_t seed) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = "imgsync synthetic image, seed 0x";
    for (int shift = 60; shift >= 0; shift -= 4) {
        s += hex[(seed >> shift) & 0xF];
    }
    return s;
}

void append_filler(std::string& out, std::size_t n) {
    static constexpr std::string_view pattern = " imgsync padding to the requested size.";
    while (n > 0) {
        const std::size_t k = std::min(n, pattern.size());
        out.append(pattern.data(), k);
        n -= k;
    }
}

} // namespace imgsync::core::synth
