// What the PNG and JPEG writers of image_synth share: seeded random streams, the picture's aspect
// ratio, the seed comment and its padding, big-endian stores and a triangle wave for gradients.
// Internal to image_synth (namespace synth); the public API is images/image_synth.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace imgsync::core::synth {

// Seeded randomness. Every use draws from its own stream so that, e.g., a seed's size and its
// format are unrelated. The values are part of the output: changing one changes every image.
inline constexpr std::uint64_t stream_size = 0x5152'4e47'5349'5a45ULL;
inline constexpr std::uint64_t stream_format = 0x464f'524d'4154'2121ULL;
inline constexpr std::uint64_t stream_png = 0x504e'4721'706e'6721ULL;
inline constexpr std::uint64_t stream_jpeg = 0x4a50'4547'6a70'6567ULL;
inline constexpr std::uint64_t stream_library = 0x4c49'4252'4152'5921ULL;

class Rng {
  public:
    Rng(std::uint64_t seed, std::uint64_t stream) : state_(seed ^ stream) { next(); }
    std::uint64_t next() { // splitmix64
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) for small n; the modulo bias is irrelevant here.
    std::uint32_t below(std::uint32_t n) {
        return n == 0 ? 0 : static_cast<std::uint32_t>(next() % n);
    }
    int range(int lo, int hi) {
        return lo + static_cast<int>(below(static_cast<std::uint32_t>(hi - lo + 1)));
    }

  private:
    std::uint64_t state_;
};

struct Aspect {
    std::uint32_t w, h;
};
// One draw from rng: landscape photos dominate real backlogs, some portrait and square.
Aspect pick_aspect(Rng& rng);

// "imgsync synthetic image, seed 0x0123456789abcdef" (seed_line_size bytes): names the seed in
// every file, which on its own already makes the bytes of two seeds differ.
std::string seed_line(std::uint64_t seed);
inline constexpr std::size_t seed_line_size = 48;

// Appends n bytes of printable filler, for the padding comment.
void append_filler(std::string& out, std::size_t n);

inline void put_be16(std::string& out, std::uint32_t v) {
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
}
inline void put_be32(std::string& out, std::uint32_t v) {
    put_be16(out, v >> 16);
    put_be16(out, v & 0xFFFF);
}

// A triangle wave over 0..511 with values 0..255..0: smooth gradients that never wrap abruptly.
inline int tri(std::uint32_t t) {
    t &= 511;
    return static_cast<int>(t < 256 ? t : 511 - t);
}

} // namespace imgsync::core::synth
