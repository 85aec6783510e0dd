// Synthetic PNG/JPEG: exact sizes, structure, checksums, distinctness, size/format choosers.
//
// Checked here without external tools: every PNG chunk CRC and the zlib stream (stored blocks,
// Adler-32) against independent bit-by-bit reference implementations; the JPEG segment order,
// table contents, and the whole entropy-coded scan, decoded with a small Huffman decoder below
// (block count from SOF, no coefficient past 63, only 0xFF00 stuffing, 1-bit padding).
//
// Verified by hand with real decoders while developing (Debian 12: pngcheck 3.0.3, libjpeg-turbo
// djpeg 2.1.5, ImageMagick 6.9.11 identify/convert -regard-warnings): 9 seeds (0, 1, 2, 3, 42,
// 7777, 12345, 2^63, 2^64-1) x sizes 1 KiB, 1025, 1500, 2 KiB, 4 KiB, 10 KiB, 64 KiB, 65541,
// 128 KiB, 300 KiB, 1 MiB, 3 MiB x both formats = 216 files, all exactly sized, all passed
// `pngcheck -q`, `djpeg -outfile /dev/null` with nothing on stderr, `identify -regard-warnings`
// and a full pixel decode with `convert -regard-warnings f null:`; 64 MiB of each decoded too.
// Decoded pixels (convert f rgb:- | md5sum) differed for all 7 seeds tried per size and format.
// Python's zlib also inflated every IDAT and confirmed the CRCs and filter bytes.
#include "core/image_format.hpp"
#include "core/image_synth.hpp"

#include <doctest/doctest.h>

#include <algorithm>
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

std::uint32_t be32(const std::string& s, std::size_t at) {
    const std::uint8_t* p = u8(s) + at;
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint32_t be16(const std::string& s, std::size_t at) {
    return std::uint32_t{u8(s)[at]} << 8 | u8(s)[at + 1];
}

// Bit-by-bit references, independent of zlib, which the writer uses.
std::uint32_t ref_crc32(const std::string& s, std::size_t from, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFU;
    for (std::size_t i = from; i < from + n; ++i) {
        c ^= u8(s)[i];
        for (int k = 0; k < 8; ++k) {
            c = (c >> 1) ^ (0xEDB88320U & (0U - (c & 1U)));
        }
    }
    return ~c;
}
std::uint32_t ref_adler32(const std::string& s) {
    std::uint32_t a = 1;
    std::uint32_t b = 0;
    for (unsigned char ch : s) {
        a = (a + ch) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

struct PngInfo {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::string text;   // tEXt data
    std::string pixels; // inflated scanlines
};

// Walks and checks a synthetic PNG completely; REQUIREs on any deviation.
PngInfo check_png(const std::string& f) {
    PngInfo info;
    REQUIRE(f.size() > 8);
    REQUIRE(f.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    std::vector<std::string> types;
    std::string zlib;
    std::size_t pos = 8;
    while (pos < f.size()) {
        REQUIRE(pos + 12 <= f.size());
        const std::uint32_t len = be32(f, pos);
        REQUIRE(pos + 12 + len <= f.size());
        const std::string type = f.substr(pos + 4, 4);
        types.push_back(type);
        CHECK(be32(f, pos + 8 + len) == ref_crc32(f, pos + 4, 4 + len));
        const std::string body = f.substr(pos + 8, len);
        if (type == "IHDR") {
            REQUIRE(len == 13);
            info.width = be32(body, 0);
            info.height = be32(body, 4);
            CHECK(body.substr(8) == std::string("\x08\x02\x00\x00\x00", 5));
        } else if (type == "tEXt") {
            info.text = body;
        } else if (type == "IDAT") {
            zlib += body;
        }
        pos += 12 + len;
    }
    CHECK(pos == f.size());
    REQUIRE(types.size() == 4);
    CHECK(types[0] == "IHDR");
    CHECK(types[1] == "tEXt");
    CHECK(types[2] == "IDAT");
    CHECK(types[3] == "IEND");
    CHECK(info.width >= 10);
    CHECK(info.height >= 10);

    // zlib: header, stored deflate blocks, Adler-32 of the inflated data.
    REQUIRE(zlib.size() >= 2 + 5 + 4);
    CHECK((u8(zlib)[0] * 256 + u8(zlib)[1]) % 31 == 0);
    CHECK((u8(zlib)[0] & 0x0F) == 8); // deflate
    std::size_t z = 2;
    bool final = false;
    while (!final) {
        REQUIRE(z + 5 <= zlib.size());
        const std::uint8_t header = u8(zlib)[z];
        CHECK((header & 0x06) == 0); // BTYPE 00: stored
        final = (header & 1) != 0;
        const std::uint32_t len = u8(zlib)[z + 1] | std::uint32_t{u8(zlib)[z + 2]} << 8;
        const std::uint32_t nlen = u8(zlib)[z + 3] | std::uint32_t{u8(zlib)[z + 4]} << 8;
        CHECK((len ^ nlen) == 0xFFFF);
        REQUIRE(z + 5 + len <= zlib.size());
        info.pixels.append(zlib, z + 5, len);
        z += 5 + len;
    }
    REQUIRE(z + 4 == zlib.size());
    CHECK(be32(zlib, z) == ref_adler32(info.pixels));
    const std::size_t stride = std::size_t{info.width} * 3 + 1;
    REQUIRE(info.pixels.size() == stride * info.height);
    std::size_t bad_filters = 0;
    for (std::size_t y = 0; y < info.height; ++y) {
        bad_filters += info.pixels[y * stride] == '\0' ? 0 : 1; // filter type none
    }
    CHECK(bad_filters == 0);
    return info;
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

std::string cut(const std::string& s, std::size_t n) {
    return s.substr(0, n);
}

std::optional<std::string> complete(const std::string& f) {
    const std::size_t head = std::min(f.size(), image_head_bytes);
    const std::size_t tail = std::min(f.size(), image_tail_bytes);
    return check_complete(sniff(u8(f), head), u8(f), head, u8(f) + f.size() - tail, tail, f.size());
}

const std::size_t sizes[] = {1024, 1025, 1500, 4096, 10240, 65541, 131072, 300000, 1 << 20};

} // namespace

TEST_SUITE_BEGIN("image_synth");

TEST_CASE("image synth: PNGs are exact in size and valid throughout") {
    for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        for (std::size_t size : sizes) {
            CAPTURE(seed);
            CAPTURE(size);
            const std::string f = synth_png(seed, size);
            REQUIRE(f.size() == size);
            const PngInfo info = check_png(f);
            CHECK(info.text.rfind(std::string("Comment\0imgsync synthetic image, seed 0x", 40),
                                  0) == 0);
        }
    }
}

TEST_CASE("image synth: JPEGs are exact in size and their scans decode") {
    for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        for (std::size_t size : sizes) {
            CAPTURE(seed);
            CAPTURE(size);
            const std::string f = synth_jpeg(seed, size);
            REQUIRE(f.size() == size);
            check_jpeg(f);
        }
    }
}

TEST_CASE("image synth: every size from the minimum up is exact") {
    for (std::uint64_t seed : {7ULL, 99ULL}) {
        for (std::size_t size = synth_min_bytes; size < synth_min_bytes + 3000; ++size) {
            CAPTURE(seed);
            CAPTURE(size);
            REQUIRE(synth_png(seed, size).size() == size);
            REQUIRE(synth_jpeg(seed, size).size() == size);
        }
    }
    // Padding that spans several COM segments (each at most 65533 bytes of payload).
    const std::string big = synth_jpeg(5, 3 << 20);
    CHECK(big.size() == (3U << 20));
    check_jpeg(big);
}

TEST_CASE("image synth: below the minimum the images are still valid") {
    for (std::size_t size : {0, 1, 100, 500, 800}) {
        CAPTURE(size);
        const std::string p = synth_png(3, size);
        check_png(p);
        CHECK(p.size() >= size);
        const std::string j = synth_jpeg(3, size);
        check_jpeg(j);
        CHECK(j.size() >= size);
    }
}

TEST_CASE("image synth: deterministic, and the buffer-reusing overloads agree") {
    std::string reused = "previous content";
    for (std::uint64_t seed : {1ULL, 2ULL}) {
        synth_png(seed, 5000, reused);
        CHECK(reused == synth_png(seed, 5000));
        synth_jpeg(seed, 7000, reused);
        CHECK(reused == synth_jpeg(seed, 7000));
        synth_image(ImageFormat::png, seed, 3000, reused);
        CHECK(reused == synth_png(seed, 3000));
        synth_image(ImageFormat::jpeg, seed, 3000, reused);
        CHECK(reused == synth_jpeg(seed, 3000));
    }
}

TEST_CASE("image synth: 1000 seeds give 1000 distinct files and pictures") {
    std::set<std::string> png_files;
    std::set<std::string> png_pixels;
    std::set<std::string> jpeg_files;
    std::set<std::string> jpeg_scans;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) {
        const std::string p = synth_png(seed, 2048);
        png_files.insert(p);
        // Stored blocks: the pixel data sits in the file as is; compare it without the comment.
        const std::size_t idat = p.find("IDAT");
        REQUIRE(idat != std::string::npos);
        png_pixels.insert(p.substr(idat));
        const std::string j = synth_jpeg(seed, 4096);
        jpeg_files.insert(j);
        jpeg_scans.insert(j.substr(j.find("\xFF\xDA")));
    }
    CHECK(png_files.size() == 1000);
    CHECK(png_pixels.size() == 1000);
    CHECK(jpeg_files.size() == 1000);
    CHECK(jpeg_scans.size() == 1000);
}

TEST_CASE("image synth: sniff and check_complete judge synthesized files") {
    for (std::size_t size : {1024, 50000, 300000}) {
        CAPTURE(size);
        const std::string p = synth_png(11, size);
        const std::string j = synth_jpeg(11, size);
        CHECK(sniff(u8(p), std::min(p.size(), image_head_bytes)) == ImageFormat::png);
        CHECK(sniff(u8(j), std::min(j.size(), image_head_bytes)) == ImageFormat::jpeg);
        CHECK_FALSE(complete(p).has_value());
        CHECK_FALSE(complete(j).has_value());
        for (std::size_t n : {size - 1, size - 12, size / 2, std::size_t{100}}) {
            CAPTURE(n);
            CHECK(complete(cut(p, n)) == "truncated PNG (no IEND chunk at the end)");
            CHECK(complete(cut(j, n)) == "truncated JPEG (no end-of-image marker)");
        }
        for (const std::string* f : {&p, &j}) {
            ImageProbe probe;
            for (std::size_t at = 0; at < f->size(); at += 4093) {
                probe.update(f->data() + at, std::min<std::size_t>(4093, f->size() - at));
            }
            CHECK(probe.size() == f->size());
            CHECK_FALSE(probe.problem().has_value());
            ImageProbe cut_probe;
            cut_probe.update(f->data(), f->size() - 1);
            CHECK(cut_probe.problem().has_value());
        }
    }
}

TEST_CASE("image synth: size and format choosers") {
    CHECK(synth_size(1, 5000, 5000) == 5000);
    CHECK(synth_size(1, 9000, 100) == 9000);
    CHECK(synth_size(1, 0, 10) <= 10);
    std::vector<std::size_t> v;
    int jpegs = 0;
    for (std::uint64_t seed = 0; seed < 20000; ++seed) {
        const std::size_t s = synth_size(seed, 8192, 1 << 20);
        REQUIRE(s >= 8192);
        REQUIRE(s <= (1U << 20));
        CHECK(s == synth_size(seed, 8192, 1 << 20));
        v.push_back(s);
        const ImageFormat f = synth_format(seed);
        REQUIRE((f == ImageFormat::jpeg || f == ImageFormat::png));
        jpegs += f == ImageFormat::jpeg ? 1 : 0;
    }
    // Log-uniform: the median is the geometric mean (92.7 KB), the mean (max-min)/ln(max/min).
    std::sort(v.begin(), v.end());
    CHECK(v[v.size() / 2] > 85000);
    CHECK(v[v.size() / 2] < 100000);
    double mean = 0;
    for (std::size_t s : v) {
        mean += static_cast<double>(s) / static_cast<double>(v.size());
    }
    CHECK(mean > 200000);
    CHECK(mean < 229000);
    CHECK(jpegs > 13600);
    CHECK(jpegs < 14400);
}

TEST_CASE("image synth: limits") {
    std::string out;
    CHECK_THROWS_AS(synth_png(1, synth_max_bytes + 1, out), std::length_error);
    CHECK_THROWS_AS(synth_jpeg(1, synth_max_bytes + 1, out), std::length_error);
    CHECK_THROWS_AS(synth_image(ImageFormat::gif, 1, 5000, out), std::invalid_argument);
}

TEST_SUITE_END();
