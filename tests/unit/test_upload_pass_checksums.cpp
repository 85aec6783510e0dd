// The pass and --checksum-algorithm: each body goes out with its x-amz-checksum-* header, signed;
// a multipart upload names the algorithm and lists each part's checksum at completion; an echo of
// other bytes is refused, a store that echoes nothing is fine.
#include "pass_fixture.hpp"

#include "util/crc32c.hpp"

#include <doctest/doctest.h>

using namespace pass_test;
using imgsync::ExitCode;
namespace core = imgsync::core;
namespace s3 = imgsync::s3;
namespace util = imgsync::util;

namespace {
constexpr std::size_t MiB = 1 << 20;

s3::ObjectSettings with_checksum(s3::ChecksumAlgorithm algorithm) {
    s3::ObjectSettingsInput in;
    in.checksum_algorithm = algorithm;
    return s3::make_object_settings(in).or_throw(ExitCode::usage);
}

std::string crc_of(const std::string& bytes) {
    return s3::crc32c_value(util::crc32c(0, bytes.data(), bytes.size()));
}
} // namespace

TEST_SUITE("upload_pass") {

    TEST_CASE("checksums: a PUT carries x-amz-checksum-crc32c of its body, signed") {
        Fixture f;
        f.options.object = with_checksum(s3::ChecksumAlgorithm::crc32c);
        auto id = f.add("a.png", 1000);
        auto r = f.run([](const Seen& s, int) {
            Reply reply = s3_answer(s);
            reply.response.checksum = crc_of(s.body); // a store that checks echoes it
            return reply;
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == core::ImageState::uploaded);
        REQUIRE(f.transport->seen.size() == 1);
        const Seen& put = f.transport->seen[0];
        CHECK(put.header("x-amz-checksum-crc32c") == crc_of(put.body));
        CHECK(put.header("Authorization").find("x-amz-checksum-crc32c") != std::string::npos);
    }

    TEST_CASE("checksums: sha256 sends the image's SHA-256 in base64; no echo is fine") {
        Fixture f;
        f.options.object = with_checksum(s3::ChecksumAlgorithm::sha256);
        auto id = f.add("a.png", 1000);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == core::ImageState::uploaded);
        REQUIRE(f.transport->seen.size() == 1);
        CHECK(f.transport->seen[0].header("x-amz-checksum-sha256") ==
              s3::sha256_value(f.image(id).sha256));
    }

    TEST_CASE("checksums: an echo of another checksum is refused, the image not uploaded") {
        Fixture f;
        f.options.object = with_checksum(s3::ChecksumAlgorithm::crc32c);
        f.options.pass_attempts = 1;
        auto id = f.add("a.png", 1000);
        f.run([](const Seen& s, int) {
            Reply reply = s3_answer(s);
            reply.response.checksum = "AAAAAA==";
            return reply;
        });
        CHECK(f.image(id).state != core::ImageState::uploaded);
        CHECK(f.log_text().find("x-amz-checksum-crc32c AAAAAA==") != std::string::npos);
    }

    TEST_CASE("checksums: multipart names the algorithm, sends each part's and lists them") {
        Fixture f;
        f.options.object = with_checksum(s3::ChecksumAlgorithm::crc32c);
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        auto id = f.add("big.png", 11 * MiB);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == core::ImageState::uploaded);
        std::vector<std::string> part_checksums;
        std::string complete_body;
        for (const Seen& s : f.transport->seen) {
            if (s.method == "POST" && s.has_query("uploads")) {
                CHECK(s.header("x-amz-checksum-algorithm") == "CRC32C");
            } else if (s.method == "PUT" && s.has_query("partNumber")) {
                CHECK(s.header("x-amz-checksum-crc32c") == crc_of(s.body));
                part_checksums.push_back(s.header("x-amz-checksum-crc32c"));
            } else if (s.method == "POST") {
                complete_body = s.body;
            }
        }
        REQUIRE(part_checksums.size() == 3);
        for (const auto& c : part_checksums) {
            CHECK(complete_body.find("<ChecksumCRC32C>" + c + "</ChecksumCRC32C>") !=
                  std::string::npos);
        }
    }
}
