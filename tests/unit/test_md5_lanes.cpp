#include "util/hash.hpp"
#include "util/md5_lanes.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace imgsync::util;

namespace {

// Each digest in hex, the streams fed through hash_all(): lanes take the next stream when their
// own ends, so they run out and refill at different times.
std::vector<std::string> hash_in_lanes(Md5Lanes& lanes, const std::vector<std::string>& inputs) {
    std::vector<std::string_view> views(inputs.begin(), inputs.end());
    std::vector<std::string> out;
    for (const auto& digest : lanes.hash_all(views))
        out.push_back(to_hex(digest));
    return out;
}

std::string eight_times(const std::string& s) {
    std::string out;
    for (int i = 0; i < 8; ++i)
        out += s;
    return out;
}

} // namespace

TEST_CASE("md5 lanes: RFC 1321 test suite, in every lane, with and without AVX2") {
    const std::vector<std::pair<std::string, std::string>> suite = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {eight_times("1234567890"), "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (bool simd : {false, true}) {
        Md5Lanes lanes(simd);
        std::vector<std::string> inputs;
        for (int round = 0; round < 3; ++round) // more streams than lanes: lanes are reused
            for (const auto& [text, digest] : suite)
                inputs.push_back(text);
        auto got = hash_in_lanes(lanes, inputs);
        for (std::size_t i = 0; i < inputs.size(); ++i)
            CHECK(got[i] == suite[i % suite.size()].second);
    }
}

TEST_CASE("md5 lanes equal OpenSSL's MD5 on streams of every length around block edges") {
    std::mt19937 rng(1321);
    std::vector<std::string> inputs;
    for (std::size_t size = 0; size <= 200; ++size) // 0..200 crosses 55/56/63/64/119/120/128
        inputs.emplace_back(size, '\0');
    for (int i = 0; i < 40; ++i)
        inputs.emplace_back(rng() % 20000, '\0');
    for (auto& s : inputs)
        for (auto& ch : s)
            ch = static_cast<char>(rng());
    std::vector<std::string> expected;
    for (const auto& s : inputs)
        expected.push_back(to_hex(md5(s)));
    for (bool simd : {false, true}) {
        Md5Lanes lanes(simd);
        CAPTURE(lanes.uses_simd());
        CHECK(hash_in_lanes(lanes, inputs) == expected);
    }
}

TEST_CASE("hash_all equals OpenSSL's MD5 for every input, in order") {
    std::mt19937 rng(5);
    std::vector<std::string> texts;
    for (int i = 0; i < 37; ++i) { // more than twice as many inputs as lanes, one empty
        texts.emplace_back(i == 3 ? 0 : rng() % 70000, '\0');
        for (auto& ch : texts.back())
            ch = static_cast<char>(rng());
    }
    std::vector<std::string_view> views(texts.begin(), texts.end());
    auto got = Md5Lanes().hash_all(views);
    REQUIRE(got.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
        CHECK(to_hex(got[i]) == to_hex(md5(texts[i])));
    CHECK(Md5Lanes().hash_all({}).empty());
}

TEST_CASE("md5 lanes: a lane given no data keeps its state") {
    std::string text(64 * 5 + 7, 'x');
    const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
    for (bool simd : {false, true}) {
        Md5Lanes lanes(simd);
        std::array<const std::uint8_t*, Md5Lanes::lanes> data{};
        data[2] = p;
        lanes.compress(data, 2); // lane 2 alone
        data = {};
        for (auto& d : data)
            d = p; // every lane, lane 2 from where it stopped
        data[2] = p + 128;
        lanes.compress(data, 3);
        data = {};
        lanes.compress(data, 4); // no lane at all: nothing happens
        CHECK(to_hex(lanes.finish(2, p + 320, 7, text.size())) == to_hex(md5(text)));
        CHECK(to_hex(lanes.finish(5, nullptr, 0, 192)) == to_hex(md5(text.substr(0, 192))));
        // finish() starts the lane over
        CHECK(to_hex(lanes.finish(2, nullptr, 0, 0)) == "d41d8cd98f00b204e9800998ecf8427e");
    }
}

TEST_CASE("md5 lanes: finish accepts whole blocks in the rest") {
    std::string text(64 * 3 + 60, 'q');
    Md5Lanes lanes(false);
    CHECK(to_hex(lanes.finish(0, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                              text.size())) == to_hex(md5(text)));
}
