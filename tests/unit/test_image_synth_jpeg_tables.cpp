// The JPEG writer's tables (image_synth_jpeg_tables): quantisation at quality 85, the Annex K
// Huffman codes, the DC code words, and the library of pre-coded AC blocks, each of which must
// decode with the AC table to a valid block in exactly the bits it claims.
#include "images/image_synth_jpeg_tables.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <utility>

using namespace imgsync::core::synth;

namespace {

// Reads a pattern's bit string (left-aligned 64-bit words) MSB first.
class WordReader {
  public:
    explicit WordReader(const std::uint64_t* words) : words_(words) {}
    std::uint32_t bit() {
        const std::uint64_t w = words_[pos_ / 64];
        const auto b = static_cast<std::uint32_t>((w >> (63 - pos_ % 64)) & 1);
        ++pos_;
        return b;
    }
    std::uint32_t pos() const { return pos_; }

  private:
    const std::uint64_t* words_;
    std::uint32_t pos_ = 0;
};

// (length, code) -> symbol, from the code side of a table.
std::map<std::pair<int, std::uint32_t>, int> inverse(const Huffman& h, const std::uint8_t* vals,
                                                     std::size_t n) {
    std::map<std::pair<int, std::uint32_t>, int> m;
    for (std::size_t i = 0; i < n; ++i) {
        m[{h.len[vals[i]], h.code[vals[i]]}] = vals[i];
    }
    return m;
}

// Decodes one block's AC part; returns the bits used, or 0 when it is not a valid block.
std::uint32_t decode_ac(const std::uint64_t* words,
                        const std::map<std::pair<int, std::uint32_t>, int>& table) {
    WordReader r(words);
    int k = 1;
    while (k < 64) {
        int symbol = -1;
        std::uint32_t code = 0;
        for (int len = 1; len <= 16 && symbol < 0; ++len) {
            code = code << 1 | r.bit();
            const auto it = table.find({len, code});
            symbol = it == table.end() ? -1 : it->second;
        }
        if (symbol < 0) {
            return 0;
        }
        if (symbol == 0x00) {
            return r.pos(); // end of block
        }
        k += symbol == 0xF0 ? 16 : (symbol >> 4) + 1;
        for (int i = 0; i < (symbol & 0x0F); ++i) {
            r.bit();
        }
    }
    return k == 64 ? r.pos() : 0;
}

} // namespace

TEST_SUITE_BEGIN("image_synth_jpeg_tables");

TEST_CASE("image synth jpeg tables: quantisation at quality 85, zigzag order") {
    const JpegTables& t = jpeg_tables();
    CHECK(&t == &jpeg_tables()); // built once
    CHECK(t.luma_q[0] == 5);     // (16 * 30 + 50) / 100
    CHECK(t.chroma_q[0] == 5);   // (17 * 30 + 50) / 100
    CHECK(t.luma_q[1] == 3);     // zigzag 1 is natural 1: 11
    CHECK(t.luma_q[2] == 4);     // zigzag 2 is natural 8: 12
    CHECK(t.chroma_q[63] == 30); // 99
    for (std::size_t k = 0; k < 64; ++k) {
        CHECK(t.luma_q[k] >= 1);
        CHECK(t.chroma_q[k] >= 1);
    }
}

TEST_CASE("image synth jpeg tables: Annex K codes and DC words") {
    const JpegTables& t = jpeg_tables();
    CHECK(t.dc_luma.len[0] == 2);
    CHECK(t.dc_luma.code[0] == 0b00);
    CHECK(t.dc_luma.len[1] == 3);
    CHECK(t.dc_luma.code[1] == 0b010);
    CHECK(t.dc_chroma.len[0] == 2);
    CHECK(t.dc_chroma.code[0] == 0b00);
    CHECK(t.ac_luma.len[0x00] == 4); // end of block: 1010
    CHECK(t.ac_luma.code[0x00] == 0b1010);
    CHECK(t.ac_luma.len[0xF0] == 11); // sixteen zeros: 11111111001
    CHECK(t.ac_luma.code[0xF0] == 0x7F9);
    CHECK(t.ac_chroma.len[0x00] == 2); // end of block: 00
    CHECK(t.ac_chroma.code[0x00] == 0b00);

    CHECK(t.category[0] == 0);
    CHECK(t.category[1] == 1);
    CHECK(t.category[3] == 2);
    CHECK(t.category[1023] == 10);
    CHECK(t.category[1024] == 11);

    // Code, then the extra bits (one's complement for negatives), left-aligned; count below.
    const auto dc = [&t](int diff) {
        return t.dc_luma_words[static_cast<std::size_t>(diff + dc_table_reach)];
    };
    CHECK(dc(0) == (std::uint64_t{0b00} << 62 | 2));
    CHECK(dc(1) == (std::uint64_t{0b0101} << 60 | 4));
    CHECK(dc(-1) == (std::uint64_t{0b0100} << 60 | 4));
    CHECK(dc(-3) == (std::uint64_t{0b01100} << 59 | 5)); // category 2: 011, extra 00

    CHECK(t.dc_of_level[128] == 0);
    CHECK(t.dc_of_level[128 + 127] == 203); // (127 * 8 + 2) / 5
    for (std::size_t v = 1; v < t.dc_of_level.size(); ++v) {
        CHECK(t.dc_of_level[v] >= t.dc_of_level[v - 1]);
    }
}

TEST_CASE("image synth jpeg tables: every pre-coded block decodes in the bits it claims") {
    const JpegTables& t = jpeg_tables();
    const auto luma = inverse(t.ac_luma, ac_luma_vals, 162);
    const auto chroma = inverse(t.ac_chroma, ac_chroma_vals, 162);
    for (int level = 0; level < levels; ++level) {
        const auto l = static_cast<std::size_t>(level);
        CAPTURE(level);
        for (int chroma_side = 0; chroma_side < 2; ++chroma_side) {
            const auto& patterns = chroma_side ? t.chroma[l] : t.luma[l];
            const std::uint32_t words = chroma_side ? t.chroma_words[l] : t.luma_words[l];
            for (const Pattern& p : patterns) {
                REQUIRE(p.words == words);
                REQUIRE(p.last_bits >= 1);
                REQUIRE(p.last_bits <= 64);
                REQUIRE(p.bits == 64 * (p.words - 1) + p.last_bits);
                REQUIRE(p.bits <= t.max_pattern_bits);
                REQUIRE(p.first + p.words <= t.words.size());
                CHECK(decode_ac(t.words.data() + p.first, chroma_side ? chroma : luma) == p.bits);
            }
        }
    }
    // Level 0 is flat: an end of block and nothing else.
    CHECK(t.luma[0][0].bits == 4);
    CHECK(t.chroma[0][0].bits == 2);
    // More texture costs more bits.
    for (std::size_t l = 1; l < levels; ++l) {
        CHECK(t.luma_avg_bits[l] > t.luma_avg_bits[l - 1]);
    }
}

TEST_SUITE_END();
