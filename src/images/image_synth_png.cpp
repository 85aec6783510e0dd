#include "images/image_synth_png.hpp"

#include "images/image_synth_common.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include <zlib.h>

namespace imgsync::core::synth {

namespace {

const std::uint8_t* bytes(const std::string& s, std::size_t offset) {
    return reinterpret_cast<const std::uint8_t*>(s.data()) + offset;
}

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

} // namespace

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

} // namespace imgsync::core::synth
