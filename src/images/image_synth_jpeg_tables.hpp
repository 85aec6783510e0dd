// The tables of image_synth's JPEG writer: quality-85 Annex K quantisation tables, the standard
// Annex K Huffman tables (as DHT stores them and as codes), DC code words, and a library of AC
// blocks entropy-coded in advance, seven levels of texture with 64 blocks each. The scan encoder
// (image_synth_jpeg) copies those bit strings instead of running a DCT and coding coefficients.
// Internal to image_synth.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace imgsync::core::synth {

// ITU T.81 Annex K.3: counts of codes of length 1..16, then the symbols; written to DHT as is.
extern const std::uint8_t dc_luma_bits[16];
extern const std::uint8_t dc_chroma_bits[16];
extern const std::uint8_t dc_vals[12];
extern const std::uint8_t ac_luma_bits[16];
extern const std::uint8_t ac_luma_vals[162];
extern const std::uint8_t ac_chroma_bits[16];
extern const std::uint8_t ac_chroma_vals[162];

// Code and code length per symbol.
struct Huffman {
    std::array<std::uint16_t, 256> code{};
    std::array<std::uint8_t, 256> len{};
};

// A block's AC coefficients, entropy-coded once in advance as a bit string of left-aligned
// 64-bit words; encoding a block then appends a few words instead of a few dozen codes.
struct Pattern {
    std::uint32_t first = 0;     // index of the first word
    std::uint32_t words = 0;     // the same for all patterns of a level
    std::uint32_t last_bits = 0; // valid bits in the last word (1..64)
    std::uint32_t bits = 0;
};

// Texture levels, from flat (0: no AC coefficient) to busy.
inline constexpr int levels = 7;
inline constexpr int patterns_per_level = 64;
// Reach of the DC difference tables: DC values stay within +-205, differences within +-410.
inline constexpr int dc_table_reach = 511;

struct JpegTables {
    std::array<std::uint8_t, 64> luma_q{};   // zigzag order, as DQT stores it
    std::array<std::uint8_t, 64> chroma_q{}; // zigzag order
    Huffman dc_luma, dc_chroma, ac_luma, ac_chroma;
    std::array<std::uint8_t, 2048> category{}; // bit length of |v| for v < 2048
    std::vector<std::uint64_t> words;          // the bit strings of all patterns
    std::array<std::array<Pattern, patterns_per_level>, levels> luma{}, chroma{};
    std::array<double, levels> luma_avg_bits{}, chroma_avg_bits{};
    std::array<std::uint32_t, levels> luma_words{}, chroma_words{}; // per pattern, per level
    std::uint32_t max_pattern_bits = 0;
    // DC difference (index + dc_table_reach) to its code and extra bits, left-aligned, with the
    // bit count in the low byte: one lookup per block.
    std::array<std::uint64_t, 2 * dc_table_reach + 1> dc_luma_words{}, dc_chroma_words{};
    // Mean sample value minus 128 (index +128) to quantised DC coefficient.
    std::array<int, 256> dc_of_level{};
};

// Built on first use (thread-safe); constant afterwards and identical in every process.
const JpegTables& jpeg_tables();

} // namespace imgsync::core::synth
