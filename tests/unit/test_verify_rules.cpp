// verify's judgement of a HEAD answer, and of a local file, against the image as recorded.
#include "pass/verify_rules.hpp"

#include <doctest/doctest.h>

using imgsync::core::FailureClass;
using imgsync::core::judge_object;
using imgsync::core::local_file_matches;
using imgsync::core::ObjectCheck;
using imgsync::storage::ImageRecord;
using imgsync::util::HttpResponse;
using imgsync::util::Transport;

namespace {

const std::string sha(64, 'a');

ImageRecord image() {
    ImageRecord i;
    i.key = "photos/a.jpg";
    i.size = 1234;
    i.mtime_ns = 1700000000123456789;
    i.sha256 = sha;
    i.md5 = "0123456789abcdef0123456789abcdef";
    i.etag = "\"0123456789abcdef0123456789abcdef\"";
    return i;
}

HttpResponse head(long status, const std::string& length = "1234",
                  const std::string& meta = std::string(64, 'a'),
                  const std::string& etag = "\"0123456789abcdef0123456789abcdef\"") {
    HttpResponse r;
    r.status = status;
    r.content_length = length;
    r.meta_sha256 = meta;
    r.etag = etag;
    return r;
}

} // namespace

TEST_SUITE("verify_rules") {
    TEST_CASE("an object with the image's size and SHA-256 is ok") {
        auto v = judge_object(image(), head(200));
        CHECK(v.check == ObjectCheck::ok);
        CHECK(v.reason.empty());
        CHECK_FALSE(v.failure);
    }

    TEST_CASE("the stored SHA-256 decides, whatever the ETag (SSE-KMS, a copy in place)") {
        CHECK(judge_object(image(), head(200, "1234", sha, "\"opaque-etag\"")).check ==
              ObjectCheck::ok);
    }

    TEST_CASE("404 is a missing object") {
        auto v = judge_object(image(), head(404, "", "", ""));
        CHECK(v.check == ObjectCheck::missing);
        CHECK_FALSE(v.failure);
    }

    TEST_CASE("another size is a changed object, named in the reason") {
        auto v = judge_object(image(), head(200, "99"));
        CHECK(v.check == ObjectCheck::changed);
        CHECK(v.reason == "99 bytes, not the image's 1234");
    }

    TEST_CASE("another stored SHA-256 is a changed object") {
        auto v = judge_object(image(), head(200, "1234", std::string(64, 'b')));
        CHECK(v.check == ObjectCheck::changed);
        CHECK(v.reason.find("x-amz-meta-sha256 bbbb") == 0);
    }

    TEST_CASE("without a stored SHA-256 the ETag recorded at upload decides") {
        CHECK(judge_object(image(), head(200, "1234", "")).check == ObjectCheck::ok);
        // Case and quotes do not matter.
        CHECK(judge_object(image(), head(200, "1234", "", "0123456789ABCDEF0123456789ABCDEF"))
                  .check == ObjectCheck::ok);
        auto v = judge_object(image(), head(200, "1234", "", "\"ffff\""));
        CHECK(v.check == ObjectCheck::changed);
        CHECK(v.reason.find("ETag \"ffff\"") == 0);
        // Nothing recorded: the size is all there is to compare.
        auto no_etag = image();
        no_etag.etag.reset();
        CHECK(judge_object(no_etag, head(200, "1234", "", "\"ffff\"")).check == ObjectCheck::ok);
    }

    TEST_CASE("a refusal or a transient failure leaves the object unverified, with its class") {
        auto denied = judge_object(image(), head(403, "", "", ""));
        CHECK(denied.check == ObjectCheck::unverified);
        CHECK(denied.failure == FailureClass::refused);
        CHECK(denied.reason.find("HEAD: HTTP 403") == 0);
        CHECK(denied.reason.find("s3:ListBucket") != std::string::npos);

        auto busy = judge_object(image(), head(503, "", "", ""));
        CHECK(busy.check == ObjectCheck::unverified);
        CHECK(busy.failure == FailureClass::transient);

        HttpResponse dropped;
        dropped.transport = Transport::timeout;
        dropped.transport_error = "timed out";
        auto slow = judge_object(image(), dropped);
        CHECK(slow.failure == FailureClass::transient);
        CHECK(slow.reason == "HEAD: timeout: timed out");

        HttpResponse refused;
        refused.transport = Transport::connect;
        refused.transport_error = "connection refused";
        CHECK(judge_object(image(), refused).failure == FailureClass::pass);
        CHECK(judge_object(image(), head(301, "", "", "")).failure == FailureClass::pass);
    }

    TEST_CASE("a local file matches when size, mtime and (if computed) SHA-256 are the image's") {
        auto i = image();
        CHECK(local_file_matches(i, 1234, i.mtime_ns, ""));
        CHECK(local_file_matches(i, 1234, i.mtime_ns, sha));
        CHECK_FALSE(local_file_matches(i, 1235, i.mtime_ns, ""));
        CHECK_FALSE(local_file_matches(i, 1234, i.mtime_ns + 1, ""));
        CHECK_FALSE(local_file_matches(i, 1234, i.mtime_ns, std::string(64, 'c')));
    }
}
