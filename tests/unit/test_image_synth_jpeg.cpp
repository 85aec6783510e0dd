// The JPEG writer (image_synth_jpeg): exact sizes, the segment order, table contents, and the
// whole entropy-coded scan, decoded with a small Huffman decoder below (block count from SOF, no
// coefficient past 63, only 0xFF00 stuffing, 1-bit padding); distinct files and scans per seed.
//
// Verified by hand with real decoders while developing (Debian 12: libjpeg-turbo djpeg 2.1.5,
// ImageMagick 6.9.11 identify/convert -regard-warnings): 9 seeds (0, 1, 2, 3, 42, 7777, 12345,
// 2^63, 2^64-1) x sizes 1 KiB, 1025, 1500, 2 KiB, 4 KiB, 10 KiB, 64 KiB, 65541, 128 KiB,
// 300 KiB, 1 MiB, 3 MiB, all exactly sized, all passed `djpeg -outfile /dev/null` with nothing
// on stderr, `identify -regard-warnings` and a full pixel decode with
// `convert -regard-warnings f null:`; 64 MiB decoded too. Decoded pixels (convert f rgb:- |
// md5sum) differed for all 7 seeds tried per size.
#include "images/image_synth.hpp"
#include "images/image_synth_jpeg.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace imgsync::core;

namespace {

const std::uint8_t* u8(const std::string& s) {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::uint32_t be16(const std::string& s, std::size_t at) {
    return std::uint32_t{u8(s)[at]} << 8 | u8(s)[at + 1];
}

struct Segment {
    std::uint8_t marker;
    std::string body; // after the length field
};

struct JpegInfo {
    std::vector<Segment> segments; // SOI and EOI with empty bodies
    std::string scan;              // entropy-coded data, stuffed
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};

JpegInfo split_jpeg(const std::string& f) {
    JpegInfo info;
    REQUIRE(f.size() >= 4);
    REQUIRE(u8(f)[0] == 0xFF);
    REQUIRE(u8(f)[1] == 0xD8);
    info.segments.push_back({0xD8, {}});
    std::size_t pos = 2;
    for (;;) {
        REQUIRE(pos + 4 <= f.size());
        REQUIRE(u8(f)[pos] == 0xFF);
        const std::uint8_t marker = u8(f)[pos + 1];
        const std::uint32_t len = be16(f, pos + 2);
        REQUIRE(len >= 2);
        REQUIRE(pos + 2 + len <= f.size());
        info.segments.push_back({marker, f.substr(pos + 4, len - 2)});
        pos += 2 + len;
        if (marker == 0xDA) {
            break;
        }
    }
    // The scan runs to the EOI marker, which must end the file.
    REQUIRE(f.size() >= pos + 2);
    info.scan = f.substr(pos, f.size() - 2 - pos);
    CHECK(u8(f)[f.size() - 2] == 0xFF);
    CHECK(u8(f)[f.size() - 1] == 0xD9);
    info.segments.push_back({0xD9, {}});
    return info;
}

// Canonical Huffman decoding table from a DHT entry.
struct HuffTable {
    std::array<std::uint8_t, 16> counts{};
    std::string symbols;
    // (code length, code) -> symbol
    bool decode(std::uint32_t code, int len, std::uint8_t& symbol) const {
        std::uint32_t first = 0;
        std::size_t index = 0;
        for (int l = 1; l <= 16; ++l) {
            const std::uint32_t n = counts[static_cast<std::size_t>(l - 1)];
            if (l == len) {
                if (code >= first && code < first + n) {
                    symbol = static_cast<std::uint8_t>(symbols[index + (code - first)]);
                    return true;
                }
                return false;
            }
            index += n;
            first = (first + n) << 1;
        }
        return false;
    }
};

// Decoder failures throw, which fails the test case: millions of bits are read, too many for one
// assertion each.
void need(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

class BitReader {
  public:
    explicit BitReader(const std::string& scan) : scan_(scan) {}
    int bit() {
        if (nbits_ == 0) {
            need(pos_ < scan_.size(), "scan ends early");
            cur_ = u8(scan_)[pos_++];
            if (cur_ == 0xFF) {
                // Inside the scan every 0xFF must be a stuffed 0xFF00.
                need(pos_ < scan_.size() && u8(scan_)[pos_] == 0x00, "unstuffed 0xFF in scan");
                ++pos_;
            }
            nbits_ = 8;
        }
        --nbits_;
        return (cur_ >> nbits_) & 1;
    }
    std::uint32_t bits(int n) {
        std::uint32_t v = 0;
        for (int i = 0; i < n; ++i) {
            v = v << 1 | static_cast<std::uint32_t>(bit());
        }
        return v;
    }
    bool at_end() const { return pos_ == scan_.size(); }
    // The bits left in the current byte: padding, which must be all ones.
    bool padding_is_ones() const { return (cur_ & ((1U << nbits_) - 1)) == ((1U << nbits_) - 1); }

  private:
    const std::string& scan_;
    std::size_t pos_ = 0;
    std::uint8_t cur_ = 0;
    int nbits_ = 0;
};

std::uint8_t read_symbol(BitReader& r, const HuffTable& t) {
    std::uint32_t code = 0;
    for (int len = 1; len <= 16; ++len) {
        code = code << 1 | static_cast<std::uint32_t>(r.bit());
        std::uint8_t symbol = 0;
        if (t.decode(code, len, symbol)) {
            return symbol;
        }
    }
    need(false, "invalid Huffman code in scan");
    return 0;
}

int extend(std::uint32_t v, int size) {
    return size == 0 ? 0
                     : (v < (1U << (size - 1)) ? static_cast<int>(v) - (1 << size) + 1
                                               : static_cast<int>(v));
}

// Checks a synthetic JPEG's structure and decodes its whole scan; returns what it found.
JpegInfo check_jpeg(const std::string& f) {
    JpegInfo info = split_jpeg(f);
    const auto& seg = info.segments;
    // SOI, APP0 JFIF, COM..., DQT, SOF0, DHT, SOS, EOI
    REQUIRE(seg.size() >= 8);
    CHECK(seg[0].marker == 0xD8);
    CHECK(seg[1].marker == 0xE0);
    CHECK(seg[1].body.compare(0, 5, std::string("JFIF\0", 5)) == 0);
    std::size_t i = 2;
    while (i < seg.size() && seg[i].marker == 0xFE) {
        CHECK(seg[i].body.size() <= 65533);
        ++i;
    }
    CHECK(i >= 3); // at least the seed comment
    CHECK(seg[2].body.rfind("imgsync synthetic image, seed 0x", 0) == 0);
    REQUIRE(i + 5 == seg.size());
    const Segment& dqt = seg[i];
    const Segment& sof = seg[i + 1];
    const Segment& dht = seg[i + 2];
    const Segment& sos = seg[i + 3];
    CHECK(dqt.marker == 0xDB);
    CHECK(sof.marker == 0xC0); // baseline
    CHECK(dht.marker == 0xC4);
    CHECK(sos.marker == 0xDA);
    CHECK(seg[i + 4].marker == 0xD9);

    REQUIRE(dqt.body.size() == 2 * 65);
    CHECK(dqt.body[0] == '\0');
    CHECK(dqt.body[65] == '\1');
    for (std::size_t k = 0; k < 2 * 65; ++k) {
        if (k % 65 != 0) {
            CHECK(u8(dqt.body)[k] >= 1);
        }
    }

    REQUIRE(sof.body.size() == 15);
    CHECK(sof.body[0] == 8);
    info.height = be16(sof.body, 1);
    info.width = be16(sof.body, 3);
    CHECK(info.width >= 64);
    CHECK(info.height >= 16);
    CHECK(sof.body.substr(5) == std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10));

    // Four tables: DC0, DC1, AC0, AC1, the AC ones holding all 162 baseline symbols.
    std::array<HuffTable, 4> tables;
    std::size_t p = 0;
    const std::uint8_t ids[4] = {0x00, 0x01, 0x10, 0x11};
    for (std::size_t t = 0; t < 4; ++t) {
        REQUIRE(p + 17 <= dht.body.size());
        CHECK(u8(dht.body)[p] == ids[t]);
        std::size_t n = 0;
        for (std::size_t l = 0; l < 16; ++l) {
            tables[t].counts[l] = u8(dht.body)[p + 1 + l];
            n += tables[t].counts[l];
        }
        REQUIRE(p + 17 + n <= dht.body.size());
        tables[t].symbols = dht.body.substr(p + 17, n);
        std::set<std::uint8_t> distinct(tables[t].symbols.begin(), tables[t].symbols.end());
        CHECK(distinct.size() == n);
        CHECK(n == (t < 2 ? 12U : 162U));
        if (t >= 2) {
            CHECK(distinct.count(0x00) == 1);
            CHECK(distinct.count(0xF0) == 1);
            for (int run = 0; run < 16; ++run) {
                for (int size = 1; size <= 10; ++size) {
                    CHECK(distinct.count(static_cast<std::uint8_t>(run << 4 | size)) == 1);
                }
            }
        }
        p += 17 + n;
    }
    CHECK(p == dht.body.size());
    CHECK(sos.body == std::string("\x03\x01\x00\x02\x11\x03\x11\x00\x3F\x00", 10));

    // Decode every block of every MCU: 4 luma (tables 0), Cb and Cr (tables 1).
    BitReader r(info.scan);
    const std::uint32_t mcus = ((info.width + 15) / 16) * ((info.height + 15) / 16);
    int dc[3] = {0, 0, 0};
    for (std::uint32_t m = 0; m < mcus; ++m) {
        for (int b = 0; b < 6; ++b) {
            const int comp = b < 4 ? 0 : b - 3;
            const HuffTable& dct = tables[comp == 0 ? 0 : 1];
            const HuffTable& act = tables[comp == 0 ? 2 : 3];
            const std::uint8_t size = read_symbol(r, dct);
            need(size <= 11, "DC size over 11");
            dc[comp] += extend(r.bits(size), size);
            need(dc[comp] >= -2048 && dc[comp] <= 2047, "DC out of range");
            int k = 1;
            while (k < 64) {
                const std::uint8_t rs = read_symbol(r, act);
                if (rs == 0x00) {
                    break; // end of block
                }
                if (rs == 0xF0) {
                    k += 16;
                    continue;
                }
                k += rs >> 4;
                need(k <= 63, "AC coefficient past 63");
                r.bits(rs & 0x0F);
                ++k;
            }
            need(k <= 64, "AC run past the block");
        }
    }
    CHECK(r.at_end());
    CHECK(r.padding_is_ones());
    return info;
}

std::string jpeg(std::uint64_t seed, std::size_t size) {
    std::string out = "previous content";
    synth::write_jpeg(seed, size, out);
    return out;
}

const std::size_t sizes[] = {1024, 1025, 1500, 4096, 10240, 65541, 131072, 300000, 1 << 20};

} // namespace

TEST_SUITE_BEGIN("image_synth_jpeg");

TEST_CASE("image synth jpeg: exact in size and the scans decode") {
    for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        for (std::size_t size : sizes) {
            CAPTURE(seed);
            CAPTURE(size);
            const std::string f = jpeg(seed, size);
            REQUIRE(f.size() == size);
            check_jpeg(f);
        }
    }
}

TEST_CASE("image synth jpeg: every size from the minimum up is exact") {
    for (std::uint64_t seed : {7ULL, 99ULL}) {
        for (std::size_t size = synth_min_bytes; size < synth_min_bytes + 3000; ++size) {
            CAPTURE(seed);
            CAPTURE(size);
            REQUIRE(jpeg(seed, size).size() == size);
        }
    }
    // Padding that spans several COM segments (each at most 65533 bytes of payload).
    const std::string big = jpeg(5, 3 << 20);
    CHECK(big.size() == (3U << 20));
    check_jpeg(big);
}

TEST_CASE("image synth jpeg: below the minimum the images are still valid") {
    for (std::size_t size : {0, 1, 100, 500, 800}) {
        CAPTURE(size);
        const std::string j = jpeg(3, size);
        check_jpeg(j);
        CHECK(j.size() >= size);
    }
}

TEST_CASE("image synth jpeg: 1000 seeds give 1000 distinct files and scans") {
    std::set<std::string> files;
    std::set<std::string> scans;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) {
        const std::string j = jpeg(seed, 4096);
        files.insert(j);
        scans.insert(j.substr(j.find("\xFF\xDA")));
    }
    CHECK(files.size() == 1000);
    CHECK(scans.size() == 1000);
}

TEST_SUITE_END();
