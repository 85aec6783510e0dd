#include "images/image_synth_jpeg_tables.hpp"

#include "images/image_synth_common.hpp"

#include <algorithm>
#include <cstdlib>

namespace imgsync::core::synth {

// ITU T.81 Annex K.3: counts of codes of length 1..16, then the symbols.
const std::uint8_t dc_luma_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
const std::uint8_t dc_chroma_bits[16] = {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
const std::uint8_t dc_vals[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
const std::uint8_t ac_luma_bits[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
const std::uint8_t ac_luma_vals[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
const std::uint8_t ac_chroma_bits[16] = {0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
const std::uint8_t ac_chroma_vals[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

namespace {

constexpr std::uint8_t zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

// ITU T.81 Annex K.1, natural order.
constexpr std::uint8_t std_luma_q[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr std::uint8_t std_chroma_q[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};
constexpr int jpeg_quality = 85;

Huffman make_huffman(const std::uint8_t* bits, const std::uint8_t* vals) {
    Huffman h;
    std::uint32_t code = 0;
    std::size_t k = 0;
    for (int length = 1; length <= 16; ++length) {
        for (int i = 0; i < bits[length - 1]; ++i) {
            h.code[vals[k]] = static_cast<std::uint16_t>(code++);
            h.len[vals[k]] = static_cast<std::uint8_t>(length);
            ++k;
        }
        code <<= 1;
    }
    return h;
}

// Non-zero AC coefficients per luma block, the zigzag range they fall in, their largest magnitude.
constexpr int level_nonzero[levels] = {0, 4, 8, 14, 20, 28, 38};
constexpr int level_zz_max[levels] = {1, 12, 20, 32, 44, 56, 64};
constexpr int level_magnitude[levels] = {1, 3, 5, 8, 12, 18, 24};
// 64-bit words of every AC pattern of a level.
constexpr std::uint32_t luma_level_words[levels] = {1, 1, 1, 2, 3, 3, 4};
constexpr std::uint32_t chroma_level_words[levels] = {1, 1, 1, 1, 1, 2, 2};

constexpr std::uint8_t scaled_q(std::uint8_t base) {
    const int scale = jpeg_quality < 50 ? 5000 / jpeg_quality : 200 - 2 * jpeg_quality;
    return static_cast<std::uint8_t>(std::clamp((base * scale + 50) / 100, 1, 255));
}

constexpr int dc_q = 5; // DC quantiser of both tables at quality 85
static_assert(scaled_q(16) == dc_q && scaled_q(17) == dc_q, "dc_q out of step with the tables");

std::uint64_t dc_word(const Huffman& h, const std::array<std::uint8_t, 2048>& category, int diff) {
    const std::uint32_t size = category[static_cast<std::size_t>(std::abs(diff))];
    const std::uint32_t extra =
        static_cast<std::uint32_t>(diff >= 0 ? diff : diff - 1) & ((1U << size) - 1);
    const unsigned len = h.len[size] + size;
    return std::uint64_t{std::uint32_t{h.code[size]} << size | extra} << (64 - len) | len;
}

// Packs codes MSB-first into left-aligned 64-bit words.
class BitStringBuilder {
  public:
    explicit BitStringBuilder(std::vector<std::uint64_t>& out) : out_(out) {}
    // len <= 32 and bits < 2^len.
    void put(std::uint32_t bits, std::uint32_t len) {
        for (std::uint32_t i = len; i-- > 0;) {
            if (used_ == 64 || total_ == 0) {
                out_.push_back(0);
                used_ = 0;
            }
            out_.back() |= std::uint64_t{(bits >> i) & 1} << (63 - used_);
            ++used_;
            ++total_;
        }
    }
    std::uint32_t total() const { return total_; }
    std::uint32_t last_bits() const { return used_; }

  private:
    std::vector<std::uint64_t>& out_;
    std::uint32_t used_ = 0;
    std::uint32_t total_ = 0;
};

// Encodes coefficients (zigzag order) as a bit string appended to t.words; returns its bits.
std::uint32_t encode_ac(JpegTables& t, const Huffman& ac, const std::array<int, 64>& coef) {
    BitStringBuilder b(t.words);
    int last = 0;
    for (int k = 1; k < 64; ++k) {
        if (coef[static_cast<std::size_t>(k)] != 0) {
            last = k;
        }
    }
    int run = 0;
    for (int k = 1; k <= last; ++k) {
        const int v = coef[static_cast<std::size_t>(k)];
        if (v == 0) {
            ++run;
            continue;
        }
        for (; run >= 16; run -= 16) {
            b.put(ac.code[0xF0], ac.len[0xF0]);
        }
        const std::uint32_t size = t.category[static_cast<std::size_t>(std::abs(v))];
        const std::uint32_t extra =
            static_cast<std::uint32_t>(v > 0 ? v : v - 1) & ((1U << size) - 1);
        const std::size_t symbol = static_cast<std::size_t>(run << 4) | size;
        b.put(std::uint32_t{ac.code[symbol]} << size | extra, ac.len[symbol] + size);
        run = 0;
    }
    if (last < 63) {
        b.put(ac.code[0x00], ac.len[0x00]); // end of block
    }
    return b.total();
}

void make_patterns(JpegTables& t, Rng& rng, const Huffman& ac, bool chroma,
                   std::array<std::array<Pattern, patterns_per_level>, levels>& dest,
                   std::array<double, levels>& avg, std::array<std::uint32_t, levels>& words) {
    for (int level = 0; level < levels; ++level) {
        const auto l = static_cast<std::size_t>(level);
        // Chroma is smoother than luma in real photos.
        const int zz_max = chroma ? std::max(1, level_zz_max[level] / 2) : level_zz_max[level];
        const std::uint32_t want = chroma ? chroma_level_words[level] : luma_level_words[level];
        int n = chroma ? level_nonzero[level] / 3 : level_nonzero[level];
        double sum = 0;
        for (Pattern& pattern : dest[l]) {
            // Every pattern of a level is exactly `want` words long, so the encoder's word loop
            // has a fixed trip count: nudge the coefficient count until the length fits.
            for (;;) {
                std::array<int, 64> coef{};
                for (int i = 0; i < n && zz_max > 1; ++i) {
                    // Distinct positions, low frequencies more often (min of two uniform draws),
                    // as in photographs; magnitudes fall off with frequency too.
                    const auto span = static_cast<std::uint32_t>(zz_max - 1);
                    std::size_t k = 0;
                    for (int attempt = 0; attempt < 4 && (k == 0 || coef[k] != 0); ++attempt) {
                        k = 1 + std::min(rng.below(span), rng.below(span));
                    }
                    const int top =
                        std::max(1, level_magnitude[level] * (64 - static_cast<int>(k)) /
                                        (64 + 2 * static_cast<int>(k)));
                    const int m = rng.range(1, top);
                    coef[k] = (rng.next() & 1) ? m : -m;
                }
                const std::size_t first = t.words.size();
                const std::uint32_t bits = encode_ac(t, ac, coef);
                if (bits > 64 * want) {
                    n = std::max(0, n - 1);
                } else if (bits <= 64 * (want - 1)) {
                    n = std::min(zz_max - 1, n + 1);
                } else {
                    pattern.first = static_cast<std::uint32_t>(first);
                    pattern.words = want;
                    pattern.bits = bits;
                    pattern.last_bits = bits - 64 * (want - 1);
                    break;
                }
                t.words.resize(first);
            }
            t.max_pattern_bits = std::max(t.max_pattern_bits, pattern.bits);
            sum += pattern.bits;
        }
        avg[l] = sum / patterns_per_level;
        words[l] = want;
    }
}

} // namespace

const JpegTables& jpeg_tables() {
    static const JpegTables tables = [] {
        JpegTables t;
        for (std::size_t k = 0; k < 64; ++k) {
            t.luma_q[k] = scaled_q(std_luma_q[zigzag[k]]);
            t.chroma_q[k] = scaled_q(std_chroma_q[zigzag[k]]);
        }
        t.dc_luma = make_huffman(dc_luma_bits, dc_vals);
        t.dc_chroma = make_huffman(dc_chroma_bits, dc_vals);
        t.ac_luma = make_huffman(ac_luma_bits, ac_luma_vals);
        t.ac_chroma = make_huffman(ac_chroma_bits, ac_chroma_vals);
        for (std::size_t v = 1; v < t.category.size(); ++v) {
            t.category[v] = static_cast<std::uint8_t>(t.category[v / 2] + 1);
        }
        for (int d = -dc_table_reach; d <= dc_table_reach; ++d) {
            const int index = d + dc_table_reach;
            const auto i = static_cast<std::size_t>(index);
            t.dc_luma_words[i] = dc_word(t.dc_luma, t.category, d);
            t.dc_chroma_words[i] = dc_word(t.dc_chroma, t.category, d);
        }
        for (int v = -128; v < 128; ++v) {
            const int dc = v * 8;
            const int index = v + 128;
            t.dc_of_level[static_cast<std::size_t>(index)] =
                (dc >= 0 ? dc + dc_q / 2 : dc - dc_q / 2) / dc_q;
        }
        Rng rng(0, stream_library);
        make_patterns(t, rng, t.ac_luma, false, t.luma, t.luma_avg_bits, t.luma_words);
        make_patterns(t, rng, t.ac_chroma, true, t.chroma, t.chroma_avg_bits, t.chroma_words);
        return t;
    }();
    return tables;
}

} // namespace imgsync::core::synth
