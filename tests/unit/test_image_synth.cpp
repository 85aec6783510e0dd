// The public API of image_synth: the size limit, synth_image() by format, the buffer-reusing
// overloads, what image_format makes of the files, and the size and format choosers. The
// writers' own checks are in test_image_synth_png.cpp and test_image_synth_jpeg.cpp.
#include "images/image_format.hpp"
#include "images/image_synth.hpp"
#include "images/image_synth_jpeg.hpp"
#include "images/image_synth_png.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace imgsync::core;

namespace {

const std::uint8_t* u8(const std::string& s) {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::string cut(const std::string& s, std::size_t n) {
    return s.substr(0, n);
}

std::optional<std::string> complete(const std::string& f) {
    const std::size_t head = std::min(f.size(), image_head_bytes);
    const std::size_t tail = std::min(f.size(), image_tail_bytes);
    const auto checked =
        check_complete(sniff(u8(f), head), u8(f), head, u8(f) + f.size() - tail, tail, f.size());
    return checked ? std::nullopt : std::optional<std::string>(checked.error());
}

} // namespace

TEST_SUITE_BEGIN("image_synth");

TEST_CASE("image synth: the public functions are the writers, exact from synth_min_bytes") {
    for (std::size_t size : {std::size_t{0}, synth_min_bytes, std::size_t{1} << 20}) {
        CAPTURE(size);
        std::string direct;
        synth::write_png(9, size, direct);
        CHECK(synth_png(9, size) == direct);
        synth::write_jpeg(9, size, direct);
        CHECK(synth_jpeg(9, size) == direct);
        if (size >= synth_min_bytes) {
            CHECK(synth_png(9, size).size() == size);
            CHECK(synth_jpeg(9, size).size() == size);
        }
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
            CHECK(probe.check());
            ImageProbe cut_probe;
            cut_probe.update(f->data(), f->size() - 1);
            CHECK_FALSE(cut_probe.check());
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

TEST_CASE("image synth: seed set formats, named as seed --format takes them") {
    CHECK(to_string(SynthFormat::png) == "png");
    CHECK(to_string(SynthFormat::jpeg) == "jpeg");
    CHECK(to_string(SynthFormat::mixed) == "mixed");
    for (std::uint64_t seed = 0; seed < 100; ++seed) {
        CHECK(synth_format(SynthFormat::png, seed) == ImageFormat::png);
        CHECK(synth_format(SynthFormat::jpeg, seed) == ImageFormat::jpeg);
        CHECK(synth_format(SynthFormat::mixed, seed) == synth_format(seed));
    }
}

TEST_CASE("image synth: limits") {
    std::string out;
    CHECK_THROWS_AS(synth_png(1, synth_max_bytes + 1, out), std::length_error);
    CHECK_THROWS_AS(synth_jpeg(1, synth_max_bytes + 1, out), std::length_error);
    CHECK_THROWS_AS(synth_image(ImageFormat::gif, 1, 5000, out), std::invalid_argument);
}

TEST_SUITE_END();
