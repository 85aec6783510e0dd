// The pass and the object settings: every object's headers are sent and signed, and under SSE-KMS
// (an opaque ETag) uploads are confirmed by what the server checked and by a HEAD of the object.
#include "pass_fixture.hpp"

#include <doctest/doctest.h>

using namespace pass_test;
using imgsync::ExitCode;
namespace core = imgsync::core;
namespace s3 = imgsync::s3;

namespace {
constexpr std::size_t MiB = 1 << 20;

s3::ObjectSettings kms() {
    s3::ObjectSettingsInput in;
    in.sse = s3::Sse::kms;
    return s3::make_object_settings(in).or_throw(ExitCode::usage);
}
} // namespace

TEST_SUITE("upload_pass") {

    TEST_CASE("objects: the settings' headers go out with every PUT, signed") {
        Fixture f;
        s3::ObjectSettingsInput in;
        in.storage_class = "STANDARD_IA";
        in.metadata = {"origin=scanner-3"};
        in.tagging = "batch=7";
        f.options.object = s3::make_object_settings(in).or_throw(ExitCode::usage);
        auto id = f.add("a.png", 1000);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == ExitCode::ok);
        REQUIRE(f.transport->seen.size() == 1);
        const Seen& put = f.transport->seen[0];
        CHECK(put.header("x-amz-storage-class") == "STANDARD_IA");
        CHECK(put.header("x-amz-meta-origin") == "scanner-3");
        CHECK(put.header("x-amz-tagging") == "batch=7");
        CHECK(put.header("x-amz-meta-sha256") == f.image(id).sha256);
        const std::string auth = put.header("Authorization");
        for (const char* name :
             {"x-amz-meta-origin", "x-amz-meta-sha256", "x-amz-storage-class", "x-amz-tagging"}) {
            CHECK(auth.find(name) != std::string::npos);
        }
    }

    TEST_CASE("objects: under SSE-KMS an ETag that is not the MD5 still confirms a PUT") {
        for (bool under_kms : {false, true}) {
            Fixture f;
            if (under_kms) {
                f.options.object = kms();
            }
            f.options.pass_attempts = 1;
            auto id = f.add("a.png", 1000);
            f.add("b.png", 1000);
            auto r = f.run([](const Seen& s, int) {
                Reply reply = s3_answer(s);
                reply.response.etag = "\"" + std::string(32, 'e') + "\""; // opaque
                return reply;
            });
            INFO("under SSE-KMS: ", under_kms);
            CHECK(f.image(id).state ==
                  (under_kms ? core::ImageState::uploaded : core::ImageState::pending));
            CHECK(r.run.uploaded == (under_kms ? 2 : 0));
        }
    }

    TEST_CASE("objects: a multipart object's tags are set again once it is complete") {
        Fixture f;
        s3::ObjectSettingsInput in;
        in.tagging = "batch=7&place=S%C3%A3o Paulo";
        f.options.object = s3::make_object_settings(in).or_throw(ExitCode::usage);
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        auto id = f.add("big.png", 11 * MiB);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == imgsync::ExitCode::ok);
        CHECK(f.image(id).state == core::ImageState::uploaded);
        const auto& seen = f.transport->seen;
        REQUIRE(!seen.empty());
        const Seen& last = seen.back();
        CHECK(last.method == "PUT");
        CHECK(last.has_query("tagging"));
        CHECK(last.body ==
              "<Tagging><TagSet><Tag><Key>batch</Key><Value>7</Value></Tag><Tag>"
              "<Key>place</Key><Value>S\xC3\xA3o Paulo</Value></Tag></TagSet></Tagging>");
        CHECK_FALSE(last.header("content-md5").empty());
        // ...and only after the completion.
        CHECK(seen[seen.size() - 2].method == "POST");
    }

    TEST_CASE("objects: under SSE-KMS a multipart upload is confirmed by size and SHA-256") {
        for (bool right : {true, false}) {
            Fixture f;
            f.options.object = kms();
            f.options.parts.threshold = 8 * MiB;
            f.options.parts.wanted_part_size = 5 * MiB;
            f.options.pass_attempts = 2;
            auto id = f.add("big.png", 11 * MiB);
            f.add("small.png", 100);
            const std::string sha = f.image(id).sha256;
            auto r = f.run([&](const Seen& s, int) {
                Reply reply = s3_answer(s);
                if (s.method == "PUT") {
                    reply.response.etag = "\"kms-opaque\"";
                } else if (s.method == "HEAD") {
                    reply.response.content_length = std::to_string(11 * MiB);
                    reply.response.meta_sha256 = right ? sha : std::string(64, '0');
                    reply.response.etag = "\"kms-opaque-3\"";
                }
                return reply;
            });
            INFO("the HEAD shows the image's SHA-256: ", right);
            CHECK(f.count([](const Seen& s) { return s.method == "HEAD"; }) >= 1);
            CHECK(f.image(id).state ==
                  (right ? core::ImageState::uploaded : core::ImageState::pending));
            CHECK(r.run.retried == (right ? 0 : 1));
        }
    }
}

TEST_SUITE("upload_pass") {

    TEST_CASE("--if-none-match: a key that holds this image is uploaded, another's is left alone") {
        for (bool same : {true, false}) {
            Fixture f;
            f.options.if_none_match = true;
            auto id = f.add("a.png", 1000);
            const auto image = f.image(id);
            auto r = f.run([&](const Seen& s, int) {
                if (s.method == "PUT") {
                    return status(412, "PreconditionFailed");
                }
                Reply reply = s3_answer(s); // the HEAD
                reply.response.content_length = "1000";
                reply.response.meta_sha256 = same ? image.sha256 : std::string(64, 'f');
                reply.response.etag = "\"" + std::string(32, 'e') + "\"";
                return reply;
            });
            INFO("the existing object is this image: ", same);
            CHECK(f.count([](const Seen& s) { return s.method == "PUT"; }) == 1);
            REQUIRE(f.transport->seen.size() == 2);
            CHECK(f.transport->seen[0].header("if-none-match") == "*");
            CHECK(f.transport->seen[1].method == "HEAD");
            const auto after = f.image(id);
            CHECK(after.state == (same ? core::ImageState::uploaded : core::ImageState::failed));
            if (!same) {
                REQUIRE(after.last_error);
                CHECK(after.last_error->find("exists with other content") != std::string::npos);
            }
            CHECK(r.exit_code == (same ? ExitCode::ok : ExitCode::images_failed));
        }
    }

    TEST_CASE("--if-none-match: a multipart upload looks for the key first, and completes "
              "conditionally") {
        Fixture f;
        f.options.if_none_match = true;
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        auto id = f.add("big.png", 11 * MiB);
        auto r = f.run([](const Seen& s, int) {
            if (s.method == "HEAD") {
                return status(404);
            }
            return s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == core::ImageState::uploaded);
        const auto& seen = f.transport->seen;
        REQUIRE(seen.size() >= 5);
        CHECK(seen[0].method == "HEAD");
        CHECK(seen[1].method == "POST");
        CHECK(seen.back().has_query("uploadId="));
        CHECK(seen.back().header("if-none-match") == "*");
    }
}
