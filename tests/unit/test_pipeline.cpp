#include "images/image_synth.hpp"
#include "ingest/pipeline.hpp"
#include "temp_dir.hpp"
#include "util/hash.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace imgsync;

namespace {

struct Files {
    test_support::TempDir dir{"imgsync-pipeline"};
    std::vector<std::string> paths, contents;
    void add(const std::string& name, const std::string& bytes) {
        paths.push_back(dir / name);
        std::ofstream(paths.back(), std::ios::binary) << bytes;
        contents.push_back(bytes);
    }
};

// The answer for `bytes` as a serial read computes it: one-shot digests of the whole content and
// of each part.
void check_answer(const core::Ingested& r, const std::string& bytes, std::uint64_t part_size) {
    REQUIRE(r.image);
    CHECK(r.image->size == bytes.size());
    CHECK(r.image->sha256 == util::sha256_hex(bytes));
    CHECK(r.image->digest_part_size == part_size);
    if (part_size == 0) {
        CHECK(r.image->md5 == util::to_hex(util::md5(bytes)));
        CHECK(r.image->part_digests.empty());
        return;
    }
    CHECK(r.image->md5.empty());
    std::size_t count = (bytes.size() + part_size - 1) / part_size;
    REQUIRE(r.image->part_digests.size() == count);
    for (std::size_t p = 0; p < count; ++p) {
        auto part = bytes.substr(p * part_size, part_size);
        CHECK(r.image->part_digests[p].part_number == static_cast<std::int64_t>(p + 1));
        CHECK(r.image->part_digests[p].md5 == util::to_hex(util::md5(part)));
        CHECK(r.image->part_digests[p].sha256 == util::sha256_hex(part));
    }
}

core::PartPlan small_plan() {
    core::PartPlan plan;
    plan.threshold = 10 << 20;
    plan.wanted_part_size = 5 << 20; // an 11 MiB file: three parts
    return plan;
}

} // namespace

TEST_CASE("IngestPipeline: batches answered in submission order, each answer in its place") {
    Files f;
    for (int i = 0; i < 50; ++i) {
        std::size_t size = i % 4 == 0 ? 2000 + 37 * i : i % 4 == 1 ? 90000 + 513 * i : 200000;
        f.add("img" + std::to_string(i) + (i % 2 ? ".png" : ".jpg"),
              i % 2 ? core::synth_png(i, size) : core::synth_jpeg(i, size));
    }
    f.add("big.png", core::synth_png(7, 11 << 20)); // multipart, read in chunks
    f.add("mid.jpg", core::synth_jpeg(8, 3 << 20)); // one PUT, larger than a buffer
    f.add("notes.txt", std::string(300000, 'x'));   // no image
    f.add("cut.png", core::synth_png(9, 90000).substr(0, 60000));
    core::IngestOptions options;
    options.jobs = 3;
    options.buffers = 6;
    options.buffer_size = 256 << 10;
    core::IngestPipeline pipeline(small_plan(), options);
    // Batches of different sizes, one empty, all submitted before the first answer is taken.
    std::vector<std::vector<std::size_t>> batches;
    std::size_t next = 0;
    for (std::size_t size : {7, 0, 1, 16, 30}) {
        std::vector<std::size_t> idx;
        std::vector<std::string> paths;
        for (std::size_t k = 0; k < size && next < f.paths.size(); ++k, ++next) {
            idx.push_back(next);
            paths.push_back(f.paths[next]);
        }
        pipeline.submit(paths);
        batches.push_back(idx);
    }
    CHECK(pipeline.batches_pending() == batches.size());
    for (const auto& idx : batches) {
        auto results = pipeline.next();
        REQUIRE(results.size() == idx.size());
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::string& path = f.paths[idx[k]];
            CAPTURE(path);
            const auto& r = results[k];
            if (path.find("notes.txt") != std::string::npos) {
                CHECK(r.refusal.find("not an image") == 0);
            } else if (path.find("cut.png") != std::string::npos) {
                CHECK_FALSE(r.image);
                CHECK_FALSE(r.refusal.empty());
            } else {
                CHECK(r.image->path == path);
                check_answer(r, f.contents[idx[k]],
                             path.find("big.png") != std::string::npos ? 5 << 20 : 0);
            }
        }
    }
    CHECK(pipeline.batches_pending() == 0);
    CHECK_THROWS_AS(pipeline.next(), std::logic_error);
    CHECK(pipeline.buffers().peak_in_use() <= 6);
}

TEST_CASE("IngestPipeline: buffers in flight never exceed the cap, down to one buffer") {
    Files f;
    f.add("big.png", core::synth_png(11, 11 << 20));
    for (int i = 0; i < 40; ++i) {
        f.add("s" + std::to_string(i) + ".png", core::synth_png(100 + i, 30000 + 1000 * i));
    }
    f.add("big2.png", core::synth_png(12, (10 << 20) + 12345));
    for (std::size_t cap : {1, 2, 5}) {
        for (unsigned jobs : {1U, 4U}) {
            CAPTURE(cap);
            CAPTURE(jobs);
            core::IngestOptions options;
            options.jobs = jobs;
            options.buffers = cap;
            options.buffer_size = 128 << 10;
            core::IngestPipeline pipeline(small_plan(), options);
            pipeline.submit(f.paths);
            auto results = pipeline.next();
            REQUIRE(results.size() == f.paths.size());
            for (std::size_t i = 0; i < results.size(); ++i) {
                CAPTURE(f.paths[i]);
                check_answer(results[i], f.contents[i],
                             f.contents[i].size() >= (10 << 20) ? 5 << 20 : 0);
            }
            // The reader outruns the hashing of a 11 MiB file in 128 KiB reads: it used every
            // buffer it was allowed and waited for more, never taking one beyond the cap.
            CHECK(pipeline.buffers().peak_in_use() <= cap);
            CHECK(pipeline.buffers().capacity() == cap);
        }
    }
}

TEST_CASE("IngestPipeline: one thread and many give the same digests") {
    Files f;
    for (int i = 0; i < 20; ++i) {
        f.add("j" + std::to_string(i) + ".jpg", core::synth_jpeg(200 + i, 5000 + 20000 * i));
    }
    f.add("big.png", core::synth_png(13, (15 << 20) + 1));
    std::vector<std::vector<core::Ingested>> answers;
    for (unsigned jobs : {1U, 2U, 8U}) {
        core::IngestOptions options;
        options.jobs = jobs;
        core::IngestPipeline pipeline(small_plan(), options);
        pipeline.submit(f.paths);
        answers.push_back(pipeline.next());
    }
    for (std::size_t i = 0; i < f.paths.size(); ++i) {
        CAPTURE(f.paths[i]);
        REQUIRE(answers[0][i].image);
        for (std::size_t a = 1; a < answers.size(); ++a) {
            REQUIRE(answers[a][i].image);
            CHECK(answers[a][i].image->sha256 == answers[0][i].image->sha256);
            CHECK(answers[a][i].image->md5 == answers[0][i].image->md5);
            REQUIRE(answers[a][i].image->part_digests.size() ==
                    answers[0][i].image->part_digests.size());
            for (std::size_t p = 0; p < answers[0][i].image->part_digests.size(); ++p) {
                CHECK(answers[a][i].image->part_digests[p].md5 ==
                      answers[0][i].image->part_digests[p].md5);
                CHECK(answers[a][i].image->part_digests[p].sha256 ==
                      answers[0][i].image->part_digests[p].sha256);
            }
        }
        check_answer(answers[0][i], f.contents[i], i + 1 == f.paths.size() ? 5 << 20 : 0);
    }
}

TEST_CASE("IngestPipeline: what is no regular file is refused before any read") {
    Files f;
    f.add("a.png", core::synth_png(1, 4000));
    // A FIFO is no regular file: refused before any read, as a missing file is.
    std::string fifo = f.dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    core::IngestPipeline pipeline(small_plan(), core::IngestOptions{});
    pipeline.submit({fifo, f.dir / "missing.png", f.paths[0]});
    auto results = pipeline.next();
    REQUIRE(results.size() == 3);
    CHECK(results[0].refusal == "not a regular file");
    CHECK(results[1].refusal.find("cannot open") == 0);
    CHECK(results[2].image);
}
