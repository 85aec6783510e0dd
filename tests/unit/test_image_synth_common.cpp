// What image_synth's writers share (image_synth_common): the seeded streams, the seed comment
// and its padding, big-endian stores, the triangle wave and the aspect ratios.
#include "images/image_synth_common.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>

using namespace imgsync::core::synth;

TEST_SUITE_BEGIN("image_synth_common");

TEST_CASE("image synth common: Rng is deterministic per seed and stream, and stays in range") {
    Rng a(42, stream_png);
    Rng b(42, stream_png);
    Rng other_stream(42, stream_jpeg);
    Rng other_seed(43, stream_png);
    const std::uint64_t first = a.next();
    CHECK(first == b.next());
    CHECK(first != other_stream.next());
    CHECK(first != other_seed.next());

    Rng r(7, stream_size);
    CHECK(r.below(0) == 0);
    CHECK(r.below(1) == 0);
    std::set<int> seen;
    for (int i = 0; i < 2000; ++i) {
        CHECK(r.below(10) < 10);
        const int v = r.range(-3, 3);
        REQUIRE(v >= -3);
        REQUIRE(v <= 3);
        seen.insert(v);
    }
    CHECK(seen.size() == 7); // both ends are reached
}

TEST_CASE("image synth common: the seed line names the seed in a fixed size") {
    CHECK(seed_line(0x0123456789abcdefULL) == "imgsync synthetic image, seed 0x0123456789abcdef");
    CHECK(seed_line(0) == "imgsync synthetic image, seed 0x0000000000000000");
    CHECK(seed_line(~std::uint64_t{0}).size() == seed_line_size);
    CHECK(seed_line(0).size() == seed_line_size);
}

TEST_CASE("image synth common: filler is printable and exactly as long as asked") {
    for (std::size_t n : {0, 1, 38, 39, 40, 1000, 65533}) {
        CAPTURE(n);
        std::string out = "x";
        append_filler(out, n);
        REQUIRE(out.size() == n + 1);
        for (char c : out) {
            REQUIRE(c >= 0x20);
            REQUIRE(c < 0x7F);
        }
    }
}

TEST_CASE("image synth common: big-endian stores and the triangle wave") {
    std::string out;
    put_be16(out, 0x1234);
    put_be32(out, 0x89ABCDEFU);
    CHECK(out == std::string("\x12\x34\x89\xAB\xCD\xEF", 6));

    CHECK(tri(0) == 0);
    CHECK(tri(255) == 255);
    CHECK(tri(256) == 255);
    CHECK(tri(511) == 0);
    CHECK(tri(512) == 0); // period 512
    for (std::uint32_t t = 0; t < 1100; ++t) {
        const int step = tri(t + 1) - tri(t);
        REQUIRE(step >= -1); // smooth: never a jump
        REQUIRE(step <= 1);
    }
}

TEST_CASE("image synth common: aspect ratios are mostly landscape, a few portrait") {
    Rng rng(1, stream_png);
    int landscape = 0;
    int portrait = 0;
    for (int i = 0; i < 900; ++i) {
        const Aspect a = pick_aspect(rng);
        REQUIRE(a.w > 0);
        REQUIRE(a.h > 0);
        landscape += a.w > a.h ? 1 : 0;
        portrait += a.w < a.h ? 1 : 0;
    }
    CHECK(landscape > 500);
    CHECK(portrait > 100);
    CHECK(portrait < landscape);
}

TEST_SUITE_END();
