#include "images/image_synth_jpeg.hpp"

#include "images/image_synth_common.hpp"
#include "images/image_synth_jpeg_tables.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

// IMGSYNC_PORTABLE turns off the GCC/Clang specific fast paths (byte-swap stores, clz), to test
// the portable code on any machine.

namespace imgsync::core::synth {

namespace {

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
        const int index = std::clamp(level_minus_128, -128, 127) + 128;
        return t_.dc_of_level[static_cast<std::size_t>(index)];
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

} // namespace

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

} // namespace imgsync::core::synth
