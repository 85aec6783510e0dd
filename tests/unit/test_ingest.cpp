#include "images/image_synth.hpp"
#include "ingest/ingest.hpp"
#include "util/hash.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace imgsync;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/imgsync-ingest-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& bytes) const {
        auto p = (path / name).string();
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
};

} // namespace

TEST_CASE("ingest_files: each answer in its request's place, digests equal to one-shot digests") {
    TempDir dir;
    std::vector<std::string> paths, contents;
    auto add = [&](const std::string& name, const std::string& bytes) {
        paths.push_back(dir.write(name, bytes));
        contents.push_back(bytes);
    };
    // More files than lanes, sizes far apart, so that lanes end and refill at different times.
    for (int i = 0; i < 21; ++i) {
        std::size_t size = (i % 3 == 0) ? 1500 + 61 * i : (i % 3 == 1) ? 70000 + 999 * i : 300000;
        add("img" + std::to_string(i) + ".png",
            i % 2 ? core::synth_png(i, size) : core::synth_jpeg(i, size));
        if (i == 4)
            add("notes.txt", std::string(5000, 'x'));
        if (i == 9)
            add("cut.png", core::synth_png(99, 90000).substr(0, 60000));
    }
    paths.push_back((dir.path / "missing.png").string());
    contents.emplace_back();
    // A multipart file among them: 11 MiB with 5 MiB parts is three parts.
    add("big.png", core::synth_png(7, 11 << 20));
    core::PartPlan plan;
    plan.threshold = 10 << 20;
    plan.wanted_part_size = 5 << 20;

    auto results = core::ingest_files(paths, plan);
    REQUIRE(results.size() == paths.size());
    for (std::size_t i = 0; i < paths.size(); ++i) {
        CAPTURE(paths[i]);
        const auto& r = results[i];
        auto name = std::filesystem::path(paths[i]).filename().string();
        if (name == "notes.txt") {
            CHECK(r.refusal.find("not an image") == 0);
        } else if (name == "cut.png") {
            CHECK_FALSE(r.image);
            CHECK_FALSE(r.refusal.empty());
        } else if (name == "missing.png") {
            CHECK(r.refusal.find("cannot open") == 0);
        } else {
            REQUIRE(r.image);
            CHECK(r.image->path == paths[i]);
            CHECK(r.image->size == contents[i].size());
            CHECK(r.image->sha256 == util::sha256_hex(contents[i]));
            if (name == "big.png") {
                CHECK(r.image->md5.empty()); // multipart: the parts' MD5s, no whole-file one
                CHECK(r.image->digest_part_size == 5 << 20);
                REQUIRE(r.image->part_digests.size() == 3);
                for (std::size_t p = 0; p < 3; ++p) {
                    auto part = contents[i].substr(p * (5 << 20), 5 << 20);
                    CHECK(r.image->part_digests[p].part_number == static_cast<std::int64_t>(p + 1));
                    CHECK(r.image->part_digests[p].md5 == util::to_hex(util::md5(part)));
                    CHECK(r.image->part_digests[p].sha256 == util::sha256_hex(part));
                }
            } else {
                CHECK(r.image->md5 == util::to_hex(util::md5(contents[i])));
                CHECK(r.image->digest_part_size == 0);
                CHECK(r.image->part_digests.empty());
            }
        }
    }
}

TEST_CASE("ingest_files: an empty batch, and a batch of one") {
    CHECK(core::ingest_files({}, core::PartPlan{}).empty());
    TempDir dir;
    auto png = core::synth_png(3, 4096);
    auto results = core::ingest_files({dir.write("one.png", png)}, core::PartPlan{});
    REQUIRE(results.size() == 1);
    REQUIRE(results[0].image);
    CHECK(results[0].image->md5 == util::to_hex(util::md5(png)));
    CHECK(results[0].image->content_type == "image/png");
}

TEST_CASE("key layouts, named as add --key-layout takes them") {
    CHECK(core::to_string(core::KeyLayout::path) == "path");
    CHECK(core::to_string(core::KeyLayout::sha256) == "sha256");
    CHECK(core::to_string(core::KeyLayout::date) == "date");
}

// A HEIC file cut inside its 'mdat' box still has a whole head and tail; the probe's box walk
// sees the box run past the end, whether the file goes through the lanes or on its own.
TEST_CASE("ingest_files: a HEIC file cut inside its mdat box is refused") {
    const auto be32 = [](std::uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                           static_cast<char>(v >> 8), static_cast<char>(v)};
    };
    const auto box = [&](const std::string& type, const std::string& data) {
        return be32(static_cast<std::uint32_t>(8 + data.size())) + type + data;
    };
    const std::string heic = box("ftyp", "heic" + std::string(4, '\0') + "mif1heic") +
                             box("meta", std::string(40, 'm')) +
                             box("mdat", std::string(200000, 'h'));
    const std::string cut = heic.substr(0, heic.size() - 1000);
    TempDir dir;
    const std::vector<std::string> paths = {dir.write("ok.heic", heic), dir.write("cut.heic", cut)};
    for (std::uint64_t threshold : {std::uint64_t{1} << 30, std::uint64_t{100000}}) {
        CAPTURE(threshold);
        core::PartPlan plan;
        plan.threshold = threshold; // the second: each file is multipart, read on its own
        auto results = core::ingest_files(paths, plan);
        REQUIRE(results.size() == 2);
        REQUIRE(results[0].image);
        CHECK(results[0].image->content_type == "image/heic");
        CHECK_FALSE(results[1].image);
        CHECK(results[1].refusal ==
              "truncated HEIC (box 'mdat' at offset 72 ends at byte 200080, file has 199080)");
    }
}
