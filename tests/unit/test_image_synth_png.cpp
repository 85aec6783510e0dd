// The PNG writer (image_synth_png): exact sizes, the chunk layout, every chunk CRC and the zlib
// stream (stored blocks, Adler-32) against independent bit-by-bit references, filter bytes,
// distinct files and pixels per seed.
//
// Verified by hand with real decoders while developing (Debian 12: pngcheck 3.0.3, ImageMagick
// 6.9.11 identify/convert -regard-warnings): 9 seeds (0, 1, 2, 3, 42, 7777, 12345, 2^63,
// 2^64-1) x sizes 1 KiB, 1025, 1500, 2 KiB, 4 KiB, 10 KiB, 64 KiB, 65541, 128 KiB, 300 KiB,
// 1 MiB, 3 MiB, all exactly sized, all passed `pngcheck -q`, `identify -regard-warnings` and a
// full pixel decode with `convert -regard-warnings f null:`; 64 MiB decoded too. Decoded pixels
// (convert f rgb:- | md5sum) differed for all 7 seeds tried per size. Python's zlib also
// inflated every IDAT and confirmed the CRCs and filter bytes.
#include "images/image_synth.hpp"
#include "images/image_synth_png.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
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

std::string png(std::uint64_t seed, std::size_t size) {
    std::string out = "previous content";
    synth::write_png(seed, size, out);
    return out;
}

const std::size_t sizes[] = {1024, 1025, 1500, 4096, 10240, 65541, 131072, 300000, 1 << 20};

} // namespace

TEST_SUITE_BEGIN("image_synth_png");

TEST_CASE("image synth png: exact in size and valid throughout") {
    for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        for (std::size_t size : sizes) {
            CAPTURE(seed);
            CAPTURE(size);
            const std::string f = png(seed, size);
            REQUIRE(f.size() == size);
            const PngInfo info = check_png(f);
            CHECK(info.text.rfind(std::string("Comment\0imgsync synthetic image, seed 0x", 40),
                                  0) == 0);
        }
    }
}

TEST_CASE("image synth png: every size from the minimum up is exact") {
    for (std::uint64_t seed : {7ULL, 99ULL}) {
        for (std::size_t size = synth_min_bytes; size < synth_min_bytes + 3000; ++size) {
            CAPTURE(seed);
            CAPTURE(size);
            REQUIRE(png(seed, size).size() == size);
        }
    }
}

TEST_CASE("image synth png: below the minimum the images are still valid") {
    for (std::size_t size : {0, 1, 100, 500, 800}) {
        CAPTURE(size);
        const std::string p = png(3, size);
        check_png(p);
        CHECK(p.size() >= size);
        CHECK(p.size() <= std::max<std::size_t>(size, 446));
    }
}

TEST_CASE("image synth png: 1000 seeds give 1000 distinct files and pictures") {
    std::set<std::string> files;
    std::set<std::string> pixels;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) {
        const std::string p = png(seed, 2048);
        files.insert(p);
        // Stored blocks: the pixel data sits in the file as is; compare it without the comment.
        const std::size_t idat = p.find("IDAT");
        REQUIRE(idat != std::string::npos);
        pixels.insert(p.substr(idat));
    }
    CHECK(files.size() == 1000);
    CHECK(pixels.size() == 1000);
}

TEST_SUITE_END();
