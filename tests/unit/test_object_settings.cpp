// s3/object_settings: every option validated before any request, and the headers each object gets.
#include "s3/object_settings.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

namespace {

std::string refusal(const ObjectSettingsInput& in) {
    auto r = make_object_settings(in);
    REQUIRE_FALSE(r);
    CHECK(r.error().find('\n') == std::string::npos);
    return r.error();
}

std::string header(const std::vector<Header>& headers, const std::string& name) {
    for (const auto& h : headers) {
        if (h.name == name) {
            return h.value;
        }
    }
    return "(absent)";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("object_settings") {

    TEST_CASE("nothing set: only x-amz-meta-sha256, and the ETag is the MD5") {
        auto s = make_object_settings({});
        REQUIRE(s);
        const auto h = object_headers(*s, "ab12");
        REQUIRE(h.size() == 1);
        CHECK(h[0].name == "x-amz-meta-sha256");
        CHECK(h[0].value == "ab12");
        CHECK(s->etag_is_md5());
    }

    TEST_CASE("every setting becomes its header, names lower case") {
        ObjectSettingsInput in;
        in.storage_class = "STANDARD_IA";
        in.cache_control = "public, max-age=31536000, immutable";
        in.content_disposition = "attachment; filename*=UTF-8''caf%C3%A9.jpg";
        in.metadata = {"Camera=X100", "shot-by=ana"};
        in.tagging = "project=scans&year=1987";
        in.acl = CannedAcl::bucket_owner_full_control;
        in.sse = Sse::kms;
        in.sse_kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd";
        auto s = make_object_settings(in);
        REQUIRE(s);
        const auto h = object_headers(*s, "ff00");
        CHECK(header(h, "x-amz-storage-class") == "STANDARD_IA");
        CHECK(header(h, "cache-control") == "public, max-age=31536000, immutable");
        CHECK(header(h, "content-disposition") == in.content_disposition);
        CHECK(header(h, "x-amz-meta-camera") == "X100");
        CHECK(header(h, "x-amz-meta-shot-by") == "ana");
        CHECK(header(h, "x-amz-meta-sha256") == "ff00");
        CHECK(header(h, "x-amz-tagging") == "project=scans&year=1987");
        CHECK(header(h, "x-amz-acl") == "bucket-owner-full-control");
        CHECK(header(h, "x-amz-server-side-encryption") == "aws:kms");
        CHECK(header(h, "x-amz-server-side-encryption-aws-kms-key-id") == in.sse_kms_key_id);
        CHECK_FALSE(s->etag_is_md5());
        in.sse = Sse::aes256;
        in.sse_kms_key_id.clear();
        auto s3 = make_object_settings(in);
        REQUIRE(s3);
        CHECK(header(object_headers(*s3, "x"), "x-amz-server-side-encryption") == "AES256");
        CHECK(s3->etag_is_md5());
    }

    TEST_CASE("tags are re-encoded the way SigV4 encodes, whether typed encoded or not") {
        ObjectSettingsInput in;
        in.tagging = "place=S%C3%A3o Paulo&note=a/b+c&empty=";
        auto s = make_object_settings(in);
        REQUIRE(s);
        CHECK(s->tagging == "place=S%C3%A3o%20Paulo&note=a%2Fb%2Bc&empty=");
    }

    TEST_CASE("bad values are refused, naming the option") {
        ObjectSettingsInput in;
        in.storage_class = "GLACIER IR";
        CHECK(contains(refusal(in), "--storage-class"));
        in = {};
        in.cache_control = "max-age=1\r\nx-evil: 1";
        CHECK(contains(refusal(in), "--cache-control"));
        in = {};
        in.content_disposition = "attachment; filename=\"caf\xC3\xA9.jpg\"";
        CHECK(contains(refusal(in), "printable ASCII"));
        in = {};
        in.cache_control = " no-cache";
        CHECK(contains(refusal(in), "leading or trailing space"));
        in = {};
        in.metadata = {"novalue"};
        CHECK(contains(refusal(in), "KEY=VALUE"));
        in.metadata = {"sha256=abc"};
        CHECK(contains(refusal(in), "imgsync's own"));
        in.metadata = {"a b=1"};
        CHECK(contains(refusal(in), "may hold only"));
        in.metadata = {"k=1", "K=2"};
        CHECK(contains(refusal(in), "twice"));
        in.metadata = {"k=caf\xC3\xA9"};
        CHECK(contains(refusal(in), "printable ASCII"));
        in.metadata = {"big=" + std::string(2000, 'x')};
        CHECK(contains(refusal(in), "S3 allows 2048"));
        in = {};
        in.tagging = "aws:created=1";
        CHECK(contains(refusal(in), "reserved"));
        in.tagging = "a=1&a=2";
        CHECK(contains(refusal(in), "twice"));
        in.tagging = "a=%zz";
        CHECK(contains(refusal(in), "two hex digits"));
        in.tagging = "=v";
        CHECK(contains(refusal(in), "1 to 128"));
        in.tagging = "k=" + std::string(257, 'v');
        CHECK(contains(refusal(in), "over 256"));
        in.tagging = "k=a%0Ab";
        CHECK(contains(refusal(in), "control characters"));
        in.tagging.clear();
        for (int i = 0; i < 11; ++i) {
            in.tagging += (i ? "&t" : "t") + std::to_string(i) + "=v";
        }
        CHECK(contains(refusal(in), "at most 10 tags"));
        in = {};
        in.sse_kms_key_id = "key";
        CHECK(contains(refusal(in), "needs --sse aws:kms"));
        in.sse = Sse::aes256;
        CHECK(contains(refusal(in), "needs --sse aws:kms"));
    }

    TEST_CASE("names of the enumerated settings, as the options take them") {
        CHECK(to_string(CannedAcl::private_acl) == "private");
        CHECK(to_string(CannedAcl::public_read) == "public-read");
        CHECK(to_string(CannedAcl::aws_exec_read) == "aws-exec-read");
        CHECK(to_string(Sse::aes256) == "AES256");
        CHECK(to_string(Sse::kms) == "aws:kms");
    }
}
