#include "core/image_synth.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <zlib.h>

// IMGSYNC_PORTABLE turns off the GCC/Clang specific fast paths (byte-swap stores, clz), to test
// the portable code on any machine.

namespace imgsync::core {

namespace {

// ---------------------------------------------------------------------------------------------
// Seeded randomness. Every use draws from its own stream so that, e.g., a seed's size and its
// format are unrelated.

constexpr std::uint64_t stream_size = 0x5152'4e47'5349'5a45ULL;
constexpr std::uint64_t stream_format = 0x464f'524d'4154'2121ULL;
constexpr std::uint64_t stream_png = 0x504e'4721'706e'6721ULL;
constexpr std::uint64_t stream_jpeg = 0x4a50'4547'6a70'6567ULL;
constexpr std::uint64_t stream_library = 0x4c49'4252'4152'5921ULL;

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
// Landscape photos dominate real backlogs; some portrait and square.
constexpr Aspect aspects[] = {{4, 3}, {4, 3}, {3, 2}, {3, 2}, {16, 9},
                              {1, 1}, {3, 4}, {2, 3}, {5, 4}};

Aspect pick_aspect(Rng& rng) {
    return aspects[rng.below(static_cast<std::uint32_t>(std::size(aspects)))];
}

// "imgsync synthetic image, seed 0x0123456789abcdef": names the seed in every file, which on its
// own already makes the bytes of two seeds differ.
std::string seed_line(std::uint64_t seed) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = "imgsync synthetic image, seed 0x";
    for (int shift = 60; shift >= 0; shift -= 4) {
        s += hex[(seed >> shift) & 0xF];
    }
    return s;
}
constexpr std::size_t seed_line_size = 48;

// Printable filler for the padding comment.
void append_filler(std::string& out, std::size_t n) {
    static constexpr std::string_view pattern = " imgsync padding to the requested size.";
    while (n > 0) {
        const std::size_t k = std::min(n, pattern.size());
        out.append(pattern.data(), k);
        n -= k;
    }
}

void put_be16(std::string& out, std::uint32_t v) {
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
}
void put_be32(std::string& out, std::uint32_t v) {
    put_be16(out, v >> 16);
    put_be16(out, v & 0xFFFF);
}

const std::uint8_t* bytes(const std::string& s, std::size_t offset) {
    return reinterpret_cast<const std::uint8_t*>(s.data()) + offset;
}

// A triangle wave over 0..511 with values 0..255..0: smooth gradients that never wrap abruptly.
int tri(std::uint32_t t) {
    t &= 511;
    return static_cast<int>(t < 256 ? t : 511 - t);
}

// ---------------------------------------------------------------------------------------------
// PNG

// Signature, IHDR chunk, tEXt framing, IDAT framing, zlib header, Adler-32, IEND chunk.
constexpr std::size_t png_fixed = 8 + 25 + 12 + 12 + 2 + 4 + 12;
constexpr std::string_view png_keyword{"Comment\0", 8};
constexpr std::size_t png_stored_max = 65535;
constexpr std::uint32_t png_min_side = 10; // 8x8 seed cells plus a one-cell margin

std::size_t stored_size(std::size_t raw) {
    return raw + 5 * ((raw + png_stored_max - 1) / png_stored_max);
}

void append_chunk_crc(std::string& out, std::size_t type_pos) {
    put_be32(out,
             static_cast<std::uint32_t>(::crc32_z(0, bytes(out, type_pos), out.size() - type_pos)));
}

struct PngPlan {
    std::uint32_t w = png_min_side;
    std::uint32_t h = png_min_side;
    std::size_t text = 0; // bytes of the tEXt chunk's text after the keyword
};

PngPlan plan_png(Rng& rng, std::size_t target) {
    PngPlan p;
    const Aspect a = pick_aspect(rng);
    const std::size_t overhead = png_fixed + png_keyword.size() + seed_line_size;
    const std::size_t budget = target > overhead ? target - overhead : 0;
    const double pixels = static_cast<double>(budget) / 3.0;
    double wd = std::sqrt(pixels * a.w / a.h);
    wd = std::clamp(wd, double{png_min_side}, 1e9);
    std::uint32_t w = static_cast<std::uint32_t>(wd);
    for (;;) {
        const std::uint32_t cell = std::max<std::uint32_t>(1, w / 24);
        const std::uint32_t min_h = std::max(png_min_side, 10 * cell);
        const std::size_t row = std::size_t{w} * 3 + 1;
        std::size_t h = budget / row;
        while (h > 0 && stored_size(h * row) > budget) {
            --h;
        }
        if (h >= min_h || w == png_min_side) {
            p.w = w;
            p.h = static_cast<std::uint32_t>(std::max<std::size_t>(h, min_h));
            const std::size_t used =
                png_fixed + png_keyword.size() + stored_size(std::size_t{p.h} * row);
            p.text = std::max(target, used + seed_line_size) - used;
            return p;
        }
        w = std::max(png_min_side, w * 3 / 4);
    }
}

std::uint64_t swar_add(std::uint64_t a, std::uint64_t b) {
    constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
    return ((a & low7) + (b & low7)) ^ ((a ^ b) & ~low7);
}

void write_png(std::uint64_t seed, std::size_t target, std::string& out) {
    Rng rng(seed, stream_png);
    const PngPlan plan = plan_png(rng, target);
    const std::uint32_t w = plan.w;
    const std::uint32_t h = plan.h;
    const std::size_t row_bytes = std::size_t{w} * 3;
    const std::size_t raw_total = (row_bytes + 1) * h;
    const std::size_t zlib_size = 2 + stored_size(raw_total) + 4;

    out.clear();
    out.reserve(png_fixed + png_keyword.size() + plan.text + stored_size(raw_total));
    out.append("\x89PNG\r\n\x1a\n", 8);

    put_be32(out, 13);
    std::size_t type_pos = out.size();
    out += "IHDR";
    put_be32(out, w);
    put_be32(out, h);
    out += static_cast<char>(8); // bit depth
    out += static_cast<char>(2); // colour type: RGB
    out.append(3, '\0');         // deflate, adaptive filtering, no interlace
    append_chunk_crc(out, type_pos);

    put_be32(out, static_cast<std::uint32_t>(png_keyword.size() + plan.text));
    type_pos = out.size();
    out += "tEXt";
    out += png_keyword;
    const std::string line = seed_line(seed);
    out += line;
    append_filler(out, plan.text - line.size());
    append_chunk_crc(out, type_pos);

    put_be32(out, static_cast<std::uint32_t>(zlib_size));
    type_pos = out.size();
    out += "IDAT";
    out += '\x78'; // deflate, 32 KiB window
    out += '\x01'; // no dictionary, fastest; makes the header a multiple of 31

    // Picture: an RGB gradient (triangle waves, so no hard wraps), a vertical ramp added per row,
    // and a seeded checker pattern XORed in; all byte-parallel on 64-bit words.
    const std::size_t words = (row_bytes + 7) / 8;
    std::vector<std::uint64_t> base(words);
    std::vector<std::uint64_t> checker(words);
    {
        std::vector<std::uint8_t> b(words * 8);
        std::vector<std::uint8_t> c(words * 8);
        int start[3];
        std::uint32_t slope[3];
        for (int ch = 0; ch < 3; ++ch) {
            start[ch] = rng.range(0, 511);
            slope[ch] = static_cast<std::uint32_t>(rng.range(1, 4)) * 512 / std::max(w, 64U);
        }
        const unsigned cshift = static_cast<unsigned>(rng.range(2, 5));
        const std::uint8_t cmask = static_cast<std::uint8_t>(rng.range(0x10, 0x3F));
        for (std::uint32_t x = 0; x < w; ++x) {
            for (int ch = 0; ch < 3; ++ch) {
                b[3 * x + ch] = static_cast<std::uint8_t>(tri(start[ch] + x * slope[ch]));
                c[3 * x + ch] = ((x >> cshift) & 1) ? cmask : 0;
            }
        }
        std::memcpy(base.data(), b.data(), b.size());
        std::memcpy(checker.data(), c.data(), c.size());
    }
    const int vstart = rng.range(0, 511);
    const std::uint32_t vslope = std::max<std::uint32_t>(1, 256 / std::max(h, 32U));
    const unsigned rshift = static_cast<unsigned>(rng.range(2, 5));

    const std::uint32_t cell = std::max<std::uint32_t>(1, w / 24);
    const std::uint32_t grid0 = cell; // one cell of margin
    std::vector<std::uint8_t> row(1 + words * 8);
    const std::size_t row_len = row_bytes + 1;
    // Outside the seed grid a row depends only on (ramp value, checker phase): 256 kinds at most,
    // so each kind's Adler-32 is computed once and adler32_combine() appends it per row.
    std::array<uLong, 256> kind_adler{};
    std::array<bool, 256> kind_known{};
    uLong adler = ::adler32_z(0, nullptr, 0);
    int row_kind = -1; // the kind row[] holds, or -1
    std::size_t raw_left = raw_total;
    std::size_t block_left = 0;

    for (std::uint32_t y = 0; y < h; ++y) {
        const auto ramp = static_cast<std::uint8_t>(tri(vstart + y * vslope) / 2);
        const bool phase = (y >> rshift) & 1;
        const int kind = ramp << 1 | (phase ? 1 : 0);
        const bool grid_row = y >= grid0 && y < grid0 + 8 * cell;
        if (kind != row_kind || grid_row) {
            row[0] = 0; // filter: none
            const std::uint64_t add = 0x0101010101010101ULL * ramp;
            const std::uint64_t xmask = phase ? ~std::uint64_t{0} : 0;
            for (std::size_t i = 0; i < words; ++i) {
                const std::uint64_t v = swar_add(base[i], add) ^ (checker[i] & xmask);
                std::memcpy(row.data() + 1 + i * 8, &v, 8);
            }
            row_kind = kind;
        }
        uLong row_adler = 0;
        if (grid_row) {
            const std::uint32_t gy = (y - grid0) / cell;
            for (std::uint32_t gx = 0; gx < 8; ++gx) {
                const bool bit = (seed >> (gy * 8 + gx)) & 1;
                std::memset(row.data() + 1 + 3 * std::size_t{grid0 + gx * cell}, bit ? 0xFF : 0x00,
                            3 * std::size_t{cell});
            }
            row_kind = -1;
            row_adler = ::adler32_z(1, row.data(), row_len);
        } else {
            const auto k = static_cast<std::size_t>(kind);
            if (!kind_known[k]) {
                kind_adler[k] = ::adler32_z(1, row.data(), row_len);
                kind_known[k] = true;
            }
            row_adler = kind_adler[k];
        }
        adler = ::adler32_combine(adler, row_adler, static_cast<z_off_t>(row_len));

        const std::uint8_t* p = row.data();
        std::size_t n = row_len;
        while (n > 0) {
            if (block_left == 0) {
                block_left = std::min(raw_left, png_stored_max);
                out += static_cast<char>(block_left == raw_left ? 1 : 0); // BFINAL, BTYPE=00
                const auto len = static_cast<std::uint16_t>(block_left);
                const auto nlen = static_cast<std::uint16_t>(~len);
                out += static_cast<char>(len & 0xFF);
                out += static_cast<char>(len >> 8);
                out += static_cast<char>(nlen & 0xFF);
                out += static_cast<char>(nlen >> 8);
            }
            const std::size_t k = std::min(n, block_left);
            out.append(reinterpret_cast<const char*>(p), k);
            p += k;
            n -= k;
            block_left -= k;
            raw_left -= k;
        }
    }
    put_be32(out, static_cast<std::uint32_t>(adler));
    append_chunk_crc(out, type_pos);

    put_be32(out, 0);
    out += "IEND";
    put_be32(out, 0xAE426082U);
}

// ---------------------------------------------------------------------------------------------
// JPEG

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

// ITU T.81 Annex K.3: counts of codes of length 1..16, then the symbols.
constexpr std::uint8_t dc_luma_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
constexpr std::uint8_t dc_chroma_bits[16] = {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
constexpr std::uint8_t dc_vals[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
constexpr std::uint8_t ac_luma_bits[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
constexpr std::uint8_t ac_luma_vals[162] = {
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
constexpr std::uint8_t ac_chroma_bits[16] = {0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
constexpr std::uint8_t ac_chroma_vals[162] = {
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

struct Huffman {
    std::array<std::uint16_t, 256> code{};
    std::array<std::uint8_t, 256> len{};
};

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

// A block's AC coefficients, entropy-coded once in advance as a bit string of left-aligned
// 64-bit words; encoding a block then appends a few words instead of a few dozen codes.
struct Pattern {
    std::uint32_t first = 0;     // index of the first word
    std::uint32_t words = 0;     // the same for all patterns of a level
    std::uint32_t last_bits = 0; // valid bits in the last word (1..64)
    std::uint32_t bits = 0;
};

constexpr int levels = 7;
constexpr int patterns_per_level = 64;
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

constexpr int dc_table_reach = 511;

struct JpegTables {
    std::array<std::uint8_t, 64> luma_q{};   // zigzag order, as DQT stores it
    std::array<std::uint8_t, 64> chroma_q{}; // zigzag order
    Huffman dc_luma, dc_chroma, ac_luma, ac_chroma;
    std::array<std::uint8_t, 2048> category{}; // bit length of |v| for v < 2048
    std::vector<std::uint64_t> words;
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

// Built once; constant afterwards and identical in every process.
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
            const auto i = static_cast<std::size_t>(d + dc_table_reach);
            t.dc_luma_words[i] = dc_word(t.dc_luma, t.category, d);
            t.dc_chroma_words[i] = dc_word(t.dc_chroma, t.category, d);
        }
        for (int v = -128; v < 128; ++v) {
            const int dc = v * 8;
            t.dc_of_level[static_cast<std::size_t>(v + 128)] =
                (dc >= 0 ? dc + dc_q / 2 : dc - dc_q / 2) / dc_q;
        }
        Rng rng(0, stream_library);
        make_patterns(t, rng, t.ac_luma, false, t.luma, t.luma_avg_bits, t.luma_words);
        make_patterns(t, rng, t.ac_chroma, true, t.chroma, t.chroma_avg_bits, t.chroma_words);
        return t;
    }();
    return tables;
}

// The scan loop's helpers must inline for the cursor to stay in registers.
#if defined(__GNUC__)
#define IMGSYNC_HOT inline __attribute__((always_inline))
#define IMGSYNC_HOT_LAMBDA __attribute__((always_inline))
#else
#define IMGSYNC_HOT inline
#define IMGSYNC_HOT_LAMBDA
#endif

IMGSYNC_HOT void store_be64(std::uint8_t* p, std::uint64_t v) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&   \
    !defined(IMGSYNC_PORTABLE)
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
    }
#endif
}

// Entropy-coded segment writer: MSB-first bits, 0xFF followed by a stuffed 0x00. Takes up to 64
// bits at a time and writes 8 bytes at a time, which is what makes the JPEG path fast.
class BitWriter {
  public:
    struct State {
        std::size_t pos = 0;
        std::uint64_t acc = 0; // nbits pending bits, left-aligned
        unsigned nbits = 0;    // < 64
    };

    void reset(std::uint8_t* buf) {
        buf_ = buf;
        s_ = {};
    }
    void rebase(std::uint8_t* buf) { buf_ = buf; }
    // w holds len bits left-aligned (the bits below them are zero); len <= 64. Branch-free unless
    // a complete word holds a 0xFF byte: whether a word completes is unpredictable, so the word
    // is always stored (the buffer has 8 bytes of slack) and only counted when complete.
    IMGSYNC_HOT void put(std::uint64_t w, unsigned len) {
        const std::uint64_t acc = s_.acc | (w >> s_.nbits);
        const unsigned total = s_.nbits + len;
        const std::uint64_t full = total >> 6; // 1 when a word is complete (total < 128)
        const std::uint64_t full_mask = 0 - full;
        if (has_ff_byte(acc & full_mask)) {
            emit64_stuffed(acc);
        } else {
            store_be64(buf_ + s_.pos, acc);
            s_.pos += full * 8;
        }
        // (w << 1) << (63 - n) is w << (64 - n), and 0 for n == 0 instead of undefined.
        s_.acc = (acc & ~full_mask) | (((w << 1) << (63 - s_.nbits)) & full_mask);
        s_.nbits = total & 63;
    }

    // Pads the last byte with 1 bits, as T.81 asks.
    void flush() {
        const unsigned pad = (8 - s_.nbits % 8) % 8;
        if (pad != 0) {
            put(((std::uint64_t{1} << pad) - 1) << (64 - pad), pad);
        }
        for (; s_.nbits >= 8; s_.nbits -= 8, s_.acc <<= 8) {
            emit8(static_cast<std::uint8_t>(s_.acc >> 56));
        }
    }
    // An upper bound of the size after flush().
    std::size_t size_bound() const { return s_.pos + 2 * ((s_.nbits + 7) / 8); }
    std::size_t pos() const { return s_.pos; }

  private:
    void emit8(std::uint8_t b) {
        buf_[s_.pos++] = b;
        if (b == 0xFF) {
            buf_[s_.pos++] = 0;
        }
    }
    static bool has_ff_byte(std::uint64_t w) {
        const std::uint64_t v = ~w; // a zero byte in v is a 0xFF byte in w
        return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
    }
    // Writes the word up to each 0xFF byte, then the stuffed 0x00; one store per piece. The buffer
    // has slack for the 8-byte stores.
    void emit64_stuffed(std::uint64_t w) {
        const std::uint64_t v = ~w;
        constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
        std::uint64_t ff = ~(((v & low7) + low7) | v | low7); // 0x80 exactly where w has 0xFF
        std::uint8_t* p = buf_ + s_.pos;
        unsigned left = 8;
        while (ff != 0) {
            const unsigned take = leading_zero_bytes(ff) + 1; // through the 0xFF
            store_be64(p, w);
            p[take] = 0;
            p += take + 1;
            left -= take;
            if (left == 0) {
                break;
            }
            w <<= 8 * take;
            ff <<= 8 * take;
        }
        if (left != 0) {
            store_be64(p, w);
            p += left;
        }
        s_.pos = static_cast<std::size_t>(p - buf_);
    }
    static unsigned leading_zero_bytes(std::uint64_t x) { // x != 0
#if defined(__GNUC__) && !defined(IMGSYNC_PORTABLE)
        return static_cast<unsigned>(__builtin_clzll(x)) / 8;
#else
        unsigned n = 0;
        for (; (x >> 56) == 0; x <<= 8) {
            ++n;
        }
        return n;
#endif
    }

    std::uint8_t* buf_ = nullptr;
    State s_;
};

// SOI, APP0 JFIF, DQT (two tables), SOF0 (three components), DHT (four tables), SOS, EOI.
constexpr std::size_t jpeg_fixed =
    2 + 18 + (4 + 2 * 65) + 19 + (4 + 4 * 17 + 12 + 12 + 162 + 162) + 14 + 2;
// The first COM segment always holds the seed line.
constexpr std::size_t jpeg_min_com = 4 + seed_line_size;
constexpr std::size_t com_max = 65535 + 2; // marker plus the largest length field
constexpr std::uint32_t jpeg_min_width = 64;
constexpr std::uint32_t jpeg_max_rows = 65535 / 16; // MCU rows: height stays <= 65535

// Picture parameters drawn from the seed; the scan encoder turns them into coefficients.
struct JpegLook {
    int level = 0;
    int y_base = 0;  // luma mean minus 128
    int y_amp_x = 0; // gradient amplitudes, in luma levels
    int y_amp_y = 0;
    std::uint32_t y_fx = 0, y_fy = 0, y_px = 0, y_py = 0; // triangle-wave step and phase
    int cb = 0, cr = 0;                                   // chroma means minus 128
    int c_amp_x = 0, c_amp_y = 0;
    std::uint64_t salt = 0;
};

class JpegEncoder {
  public:
    JpegEncoder(const JpegTables& t, const JpegLook& look, std::uint64_t seed, std::uint32_t width,
                std::vector<std::uint8_t>& buf)
        : t_(t), look_(look), seed_(seed), buf_(buf) {
        mcus_x_ = (width + 15) / 16;
        const std::uint32_t visible_blocks = width / 8;
        cell_ = std::max<std::uint32_t>(1, visible_blocks / 24);
        grid0_ = visible_blocks >= 10 * cell_ ? cell_ : 0;
        grid_rows_ = (grid0_ + 8 * cell_ + 1) / 2;
        const std::uint32_t bx_count = mcus_x_ * 2;
        y_col_.resize(bx_count);
        for (std::uint32_t bx = 0; bx < bx_count; ++bx) {
            y_col_[bx] = dc_of((tri(look.y_px + bx * look.y_fx) - 128) * look.y_amp_x / 128);
        }
        c_col_.resize(mcus_x_);
        for (std::uint32_t mx = 0; mx < mcus_x_; ++mx) {
            c_col_[mx] =
                dc_of((tri(look.y_px / 2 + 256 + mx * look.y_fx * 2) - 128) * look.c_amp_x / 128);
        }
        const std::size_t block_bound = (t.max_pattern_bits + 32) / 8 + 8;
        mcu_bound_ = 2 * 6 * block_bound; // stuffing can double every byte
    }

    // MCU rows, and picture rows, needed for the whole seed grid to show.
    std::uint32_t grid_rows() const { return grid_rows_; }
    std::uint32_t grid_pixels() const { return (grid0_ + 8 * cell_) * 8; }

    // Encodes MCU rows while the scan fits in budget bytes (at least forced_rows of them, budget
    // or not), at most jpeg_max_rows. Returns the number of rows.
    std::uint32_t encode(std::size_t budget, std::uint32_t forced_rows) {
        const std::size_t row_bound = mcu_bound_ * mcus_x_ + 16;
        ensure(row_bound);
        Cursor cur;
        cur.w.reset(buf_.data());
        std::uint32_t rows = 0;
        while (rows < jpeg_max_rows) {
            if (ensure(cur.w.pos() + row_bound)) {
                cur.w.rebase(buf_.data());
            }
            const Cursor saved = cur;
            encode_row(cur, rows);
            if (rows >= forced_rows && cur.w.size_bound() > budget) {
                cur = saved;
                break;
            }
            ++rows;
        }
        cur.w.flush();
        size_ = cur.w.pos();
        return rows;
    }

    std::size_t size() const { return size_; }

  private:
    // Everything the scan loop updates, kept apart from the buffer so the compiler can hold it
    // in registers (byte stores could otherwise alias members).
    struct Cursor {
        BitWriter w;
        std::array<int, 3> pred{};
        std::uint64_t counter = 0;
    };

    // Returns true when the buffer moved.
    bool ensure(std::size_t n) {
        if (buf_.size() >= n) {
            return false;
        }
        buf_.resize(std::max(n, buf_.size() * 2));
        return true;
    }

    int dc_of(int level_minus_128) const {
        return t_
            .dc_of_level[static_cast<std::size_t>(std::clamp(level_minus_128, -128, 127) + 128)];
    }

    void encode_row(Cursor& cursor, std::uint32_t my) const {
        Cursor c = cursor;
        Row row;
        for (std::uint32_t i = 0; i < 2; ++i) {
            const std::uint32_t by = my * 2 + i;
            row.y[i] = dc_of(look_.y_base +
                             (tri(look_.y_py + by * look_.y_fy) - 128) * look_.y_amp_y / 128);
        }
        const int c_row = (tri(look_.y_py / 2 + my * look_.y_fy * 2) - 128) * look_.c_amp_y / 128;
        row.cb = dc_of(look_.cb + c_row);
        row.cr = dc_of(look_.cr - c_row);
        row.my = my;
        // The seed grid's MCUs in the middle, plain MCUs on both sides: the per-block grid test
        // stays out of the plain loops.
        if (my * 2 + 1 >= grid0_ && my * 2 < grid0_ + 8 * cell_) {
            const std::uint32_t lo = grid0_ / 2;
            const std::uint32_t hi = std::min(mcus_x_, (grid0_ + 8 * cell_ + 1) / 2);
            encode_mcus<false>(c, row, 0, lo);
            encode_mcus<true>(c, row, lo, hi);
            encode_mcus<false>(c, row, hi, mcus_x_);
        } else {
            encode_mcus<false>(c, row, 0, mcus_x_);
        }
        cursor = c;
    }

    // Quantised DC values shared by a row of MCUs.
    struct Row {
        int y[2]; // per luma block row, before the column term
        int cb, cr;
        std::uint32_t my;
    };

    // Everything the loop touches is copied into locals first: the byte stores through the
    // output pointer could alias any member or referenced object, which would otherwise force
    // the bit writer's state through memory on every call.
    template <bool Grid>
    void encode_mcus(Cursor& cursor, const Row& row, std::uint32_t from, std::uint32_t to) const {
        if (from >= to) {
            return;
        }
        Cursor c = cursor;
        const std::uint64_t* words = t_.words.data();
        const Pattern* luma = t_.luma[static_cast<std::size_t>(look_.level)].data();
        const Pattern* chroma =
            t_.chroma[static_cast<std::size_t>(std::max(0, look_.level - 2))].data();
        const Pattern flat_luma = t_.luma[0][0];
        const Pattern flat_chroma = t_.chroma[0][0];
        const std::uint64_t* dcy = t_.dc_luma_words.data();
        const std::uint64_t* dcc = t_.dc_chroma_words.data();
        const int* y_col = y_col_.data();
        const int* c_col = c_col_.data();
        const std::uint64_t salt = look_.salt;
        const Row r = row;
        const int white = dc_of(235 - 128);
        const int black = dc_of(20 - 128);
        const std::uint64_t seed = seed_;
        const std::uint32_t grid0 = grid0_;
        const std::uint32_t cell = cell_;
        const auto pick = [&c, salt]() IMGSYNC_HOT_LAMBDA {
            const std::uint64_t x =
                (c.counter++ * 0x9E3779B97F4A7C15ULL ^ salt) * 0xD1B54A32D192ED03ULL;
            return static_cast<std::size_t>(x >> 58); // 0..63
        };
        const auto dc = [&c](int& pred, int value, const std::uint64_t* table) IMGSYNC_HOT_LAMBDA {
            // DC values stay within +-205 (levels are kept within the sample range), so the
            // difference fits the table; the clamp only guards the table bounds.
            const int diff = std::clamp(value - pred, -dc_table_reach, dc_table_reach);
            pred = value;
            const std::uint64_t word = table[static_cast<std::size_t>(diff + dc_table_reach)];
            c.w.put(word & ~std::uint64_t{0xFF}, static_cast<unsigned>(word & 0xFF));
        };
        int pred_y = c.pred[0];
        int pred_cb = c.pred[1];
        int pred_cr = c.pred[2];
        const std::uint32_t luma_full = t_.luma_words[static_cast<std::size_t>(look_.level)] - 1;
        const std::uint32_t chroma_full =
            t_.chroma_words[static_cast<std::size_t>(std::max(0, look_.level - 2))] - 1;
        const std::uint32_t flat_full = 0;
        const auto ac = [&c, words](const Pattern& p, std::uint32_t full) IMGSYNC_HOT_LAMBDA {
            const std::uint64_t* word = words + p.first;
            for (std::uint32_t i = 0; i < full; ++i) {
                c.w.put(word[i], 64);
            }
            c.w.put(word[full], p.last_bits);
        };
        for (std::uint32_t mx = from; mx < to; ++mx) {
            // Four luma blocks, then Cb and Cr: their DC values and AC patterns.
            int value[6];
            const Pattern* pattern[6];
            std::uint32_t full[6]; // complete words before the last, partial one
            bool grid_mcu = false;
            for (std::uint32_t i = 0; i < 4; ++i) {
                const std::uint32_t bx = mx * 2 + (i & 1);
                if (Grid) {
                    const std::uint32_t by = r.my * 2 + (i >> 1);
                    if (bx >= grid0 && by >= grid0 && bx < grid0 + 8 * cell &&
                        by < grid0 + 8 * cell) {
                        const std::uint32_t bit = ((by - grid0) / cell) * 8 + (bx - grid0) / cell;
                        value[i] = (seed >> bit) & 1 ? white : black;
                        pattern[i] = &flat_luma;
                        full[i] = flat_full;
                        grid_mcu = true;
                        continue;
                    }
                }
                value[i] = r.y[i >> 1] + y_col[bx];
                pattern[i] = &luma[pick()];
                full[i] = luma_full;
            }
            if (Grid && grid_mcu) {
                // Neutral chroma over the grid keeps its cells black and white.
                value[4] = value[5] = 0;
                pattern[4] = pattern[5] = &flat_chroma;
                full[4] = full[5] = flat_full;
            } else {
                value[4] = r.cb + c_col[mx];
                pattern[4] = &chroma[pick()];
                value[5] = r.cr - c_col[mx];
                pattern[5] = &chroma[pick()];
                full[4] = full[5] = chroma_full;
            }
            for (int b = 0; b < 4; ++b) {
                dc(pred_y, value[b], dcy);
                ac(*pattern[b], full[b]);
            }
            dc(pred_cb, value[4], dcc);
            ac(*pattern[4], full[4]);
            dc(pred_cr, value[5], dcc);
            ac(*pattern[5], full[5]);
        }
        c.pred = {pred_y, pred_cb, pred_cr};
        cursor = c;
    }

    const JpegTables& t_;
    const JpegLook& look_;
    std::uint64_t seed_;
    std::vector<std::uint8_t>& buf_;
    std::uint32_t mcus_x_ = 0;
    std::uint32_t cell_ = 1;
    std::uint32_t grid0_ = 0;
    std::uint32_t grid_rows_ = 0;
    std::vector<int> y_col_;
    std::vector<int> c_col_;
    std::size_t mcu_bound_ = 0;
    std::size_t size_ = 0;
};

// Estimated scan bytes per 16x16 MCU at a level: four luma and two chroma blocks and a few DC
// bits each.
double mcu_bytes(const JpegTables& t, int level) {
    const auto l = static_cast<std::size_t>(level);
    const auto c = static_cast<std::size_t>(std::max(0, level - 2));
    // 0.93: measured over many seeds, the library averages overshoot a little.
    return (4 * (t.luma_avg_bits[l] + 4) + 2 * (t.chroma_avg_bits[c] + 3)) / 8 * 0.93;
}

void append_segment_header(std::string& out, std::uint8_t marker, std::size_t length) {
    out += '\xFF';
    out += static_cast<char>(marker);
    put_be16(out, static_cast<std::uint32_t>(length));
}

void write_jpeg(std::uint64_t seed, std::size_t target, std::string& out) {
    const JpegTables& t = jpeg_tables();
    Rng rng(seed, stream_jpeg);
    const Aspect aspect = pick_aspect(rng);
    JpegLook look;
    look.level = rng.range(3, levels - 1);
    // Kept within the sample range (40 + 43 + 43 < 128) so that DC terms simply add.
    look.y_base = rng.range(-40, 40);
    look.y_amp_x = rng.range(15, 43);
    look.y_amp_y = rng.range(15, 43);
    look.y_fx = static_cast<std::uint32_t>(rng.range(1, 3));
    look.y_fy = static_cast<std::uint32_t>(rng.range(1, 3));
    look.y_px = rng.below(512);
    look.y_py = rng.below(512);
    look.cb = rng.range(-45, 45);
    look.cr = rng.range(-45, 45);
    look.c_amp_x = rng.range(5, 30); // 45 + 30 + 30 < 128 as well
    look.c_amp_y = rng.range(5, 30);
    look.salt = rng.next();
    const std::uint32_t crop = rng.below(16);

    const std::size_t budget =
        target > jpeg_fixed + jpeg_min_com ? target - jpeg_fixed - jpeg_min_com : 0;
    // The smallest picture (64x64: 16 MCUs) must fit; tiny targets get a plainer texture.
    while (look.level > 0 && 16 * mcu_bytes(t, look.level) + 8 > static_cast<double>(budget)) {
        --look.level;
    }
    const double mcus = static_cast<double>(budget) / mcu_bytes(t, look.level);
    std::uint32_t width = static_cast<std::uint32_t>(
        std::clamp(std::sqrt(mcus * 256.0 * aspect.w / aspect.h), double{jpeg_min_width}, 65535.0));

    // Reused across calls: the scan is written here first because the padding comments that go
    // before it are sized from the scan.
    thread_local std::vector<std::uint8_t> scratch;
    std::uint32_t rows = 0;
    std::uint32_t grid_px = 0;
    std::size_t scan_size = 0;
    for (;;) {
        JpegEncoder enc(t, look, seed, width, scratch);
        const bool last_try = width == jpeg_min_width && look.level == 0;
        rows = enc.encode(budget, last_try ? enc.grid_rows() : 0);
        if (rows >= enc.grid_rows()) {
            grid_px = enc.grid_pixels();
            scan_size = enc.size();
            break;
        }
        // The estimate was off for this seed: narrower, then plainer, until the grid fits.
        if (width > jpeg_min_width) {
            width = std::max(jpeg_min_width, width * 3 / 4);
        } else {
            --look.level;
        }
    }
    const std::uint32_t full = rows * 16;
    const std::uint32_t height = full - std::min(crop, full - grid_px);

    const std::size_t used = jpeg_fixed + scan_size;
    const std::size_t com_total = std::max(target, used + jpeg_min_com) - used;
    out.clear();
    out.reserve(used + com_total);
    out += "\xFF\xD8";
    append_segment_header(out, 0xE0, 16);
    out.append("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14); // v1.1, 1:1 aspect, no thumbnail

    const std::size_t segments = (com_total + com_max - 1) / com_max;
    for (std::size_t i = 0; i < segments; ++i) {
        const std::size_t size = com_total / segments + (i < com_total % segments ? 1 : 0);
        append_segment_header(out, 0xFE, size - 2);
        std::size_t payload = size - 4;
        if (i == 0) {
            out += seed_line(seed);
            payload -= seed_line_size;
        }
        append_filler(out, payload);
    }

    append_segment_header(out, 0xDB, 2 + 2 * 65);
    out += '\0';
    out.append(reinterpret_cast<const char*>(t.luma_q.data()), 64);
    out += '\1';
    out.append(reinterpret_cast<const char*>(t.chroma_q.data()), 64);

    append_segment_header(out, 0xC0, 17);
    out += '\x08';
    put_be16(out, height);
    put_be16(out, width);
    out += '\x03';
    out.append("\x01\x22\x00\x02\x11\x01\x03\x11\x01", 9); // Y 2x2, Cb and Cr 1x1

    append_segment_header(out, 0xC4, 2 + 4 * 17 + 12 + 12 + 162 + 162);
    const auto table = [&out](char id, const std::uint8_t* bits, const std::uint8_t* vals,
                              std::size_t n) {
        out += id;
        out.append(reinterpret_cast<const char*>(bits), 16);
        out.append(reinterpret_cast<const char*>(vals), n);
    };
    table('\x00', dc_luma_bits, dc_vals, 12);
    table('\x01', dc_chroma_bits, dc_vals, 12);
    table('\x10', ac_luma_bits, ac_luma_vals, 162);
    table('\x11', ac_chroma_bits, ac_chroma_vals, 162);

    append_segment_header(out, 0xDA, 12);
    out.append("\x03\x01\x00\x02\x11\x03\x11\x00\x3F\x00", 10);
    out.append(reinterpret_cast<const char*>(scratch.data()), scan_size);
    out += "\xFF\xD9";
}

void check_target(std::size_t target) {
    if (target > synth_max_bytes) {
        throw std::length_error("synthetic image size " + std::to_string(target) +
                                " is over the 1 GiB limit");
    }
}

} // namespace

std::string synth_png(std::uint64_t seed, std::size_t target_bytes) {
    std::string out;
    synth_png(seed, target_bytes, out);
    return out;
}

std::string synth_jpeg(std::uint64_t seed, std::size_t target_bytes) {
    std::string out;
    synth_jpeg(seed, target_bytes, out);
    return out;
}

void synth_png(std::uint64_t seed, std::size_t target_bytes, std::string& out) {
    check_target(target_bytes);
    write_png(seed, target_bytes, out);
}

void synth_jpeg(std::uint64_t seed, std::size_t target_bytes, std::string& out) {
    check_target(target_bytes);
    write_jpeg(seed, target_bytes, out);
}

void synth_image(ImageFormat format, std::uint64_t seed, std::size_t target_bytes,
                 std::string& out) {
    switch (format) {
    case ImageFormat::png:
        synth_png(seed, target_bytes, out);
        return;
    case ImageFormat::jpeg:
        synth_jpeg(seed, target_bytes, out);
        return;
    default:
        break;
    }
    throw std::invalid_argument("cannot synthesize " + std::string(format_name(format)) +
                                " images");
}

std::size_t synth_size(std::uint64_t seed, std::size_t min_bytes, std::size_t max_bytes) {
    if (max_bytes <= min_bytes) {
        return min_bytes;
    }
    Rng rng(seed, stream_size);
    const double u = static_cast<double>(rng.next() >> 11) * 0x1p-53;
    const double lo = static_cast<double>(std::max<std::size_t>(min_bytes, 1));
    const double v = lo * std::exp(u * std::log(static_cast<double>(max_bytes) / lo));
    const auto n = static_cast<std::size_t>(std::llround(v));
    return std::clamp(n, min_bytes, max_bytes);
}

ImageFormat synth_format(std::uint64_t seed) {
    Rng rng(seed, stream_format);
    return rng.next() % 100 < 70 ? ImageFormat::jpeg : ImageFormat::png;
}

} // namespace imgsync::core
