#include "pass/retry.hpp"

#include <doctest/doctest.h>

#include <climits>
#include <limits>
#include <optional>
#include <string>

using namespace imgsync::core;

namespace {
using imgsync::util::Transport;
constexpr auto ok = Transport::ok;
constexpr auto transient = FailureClass::transient;
constexpr auto image = FailureClass::image;
constexpr auto refused = FailureClass::refused;
constexpr auto pass = FailureClass::pass;
} // namespace

TEST_SUITE("retry") {

    TEST_CASE("classify: success is not a failure") {
        CHECK(classify(ok, 200, "") == std::nullopt);
        CHECK(classify(ok, 204, "") == std::nullopt);
        CHECK(classify(ok, 299, "") == std::nullopt);
    }

    TEST_CASE("classify: S3 error codes") {
        for (const char* code :
             {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
              "RequestTimeTooSkewed", "OperationAborted", "TemporaryRedirect", "NoSuchUpload",
              "TooManyRequests", "Throttling", "ThrottlingException", "RequestTimeoutException"}) {
            INFO(code);
            CHECK(classify(ok, 400, code) == transient);
        }
        for (const char* code :
             {"EntityTooLarge", "EntityTooSmall", "InvalidDigest", "BadDigest",
              "XAmzContentSHA256Mismatch", "KeyTooLongError", "InvalidObjectName",
              "MetadataTooLarge", "InvalidPart", "InvalidPartOrder"}) {
            INFO(code);
            CHECK(classify(ok, 400, code) == image);
            CHECK(classify(ok, 503, code) == image); // the code is more specific than the status
        }
        for (const char* code :
             {"InvalidAccessKeyId", "AllAccessDisabled", "AccountProblem", "NoSuchBucket",
              "InvalidBucketName", "PermanentRedirect", "AuthorizationHeaderMalformed",
              "ExpiredToken", "InvalidToken", "MissingSecurityHeader", "ExpiredTokenException"}) {
            INFO(code);
            CHECK(classify(ok, 400, code) == pass);
        }
        // Refusals that a bucket policy, one key's spelling or one kind of request can cause.
        for (const char* code : {"AccessDenied", "SignatureDoesNotMatch", "NotImplemented"}) {
            INFO(code);
            CHECK(classify(ok, 403, code) == refused);
        }
        // Refusals of how the request was asked (upload --storage-class, --sse, ...): held until
        // the pass proved itself, so that a bad setting fails no image.
        for (const char* code : {"InvalidArgument", "InvalidRequest", "InvalidStorageClass",
                                 "InvalidEncryptionAlgorithmError", "KMS.NotFoundException"}) {
            INFO(code);
            CHECK(classify(ok, 400, code) == refused);
        }
        // Codes are case-sensitive, as S3 spells them: an unknown one is a 400's, refused.
        CHECK(classify(ok, 400, "accessdenied") == refused);
        CHECK(classify(ok, 400, "keytoolongerror") == refused);
    }

    TEST_CASE("classify: transport failures") {
        CHECK(classify(Transport::dns, 0, "") == pass);
        CHECK(classify(Transport::tls, 0, "") == pass);
        CHECK(classify(Transport::connect, 0, "") == pass);
        CHECK(classify(Transport::timeout, 0, "") == transient);
        CHECK(classify(Transport::dropped, 0, "") == transient);
        CHECK(classify(Transport::other, 0, "") == transient);
        CHECK(classify(Transport::aborted, 0, "") == transient);
        // A transfer that broke after the status line arrived is still a transport failure.
        CHECK(classify(Transport::dropped, 200, "") == transient);
        CHECK(classify(Transport::timeout, 403, "") == transient);
        CHECK(classify(Transport::dns, 200, "") == pass);
        // A known code wins over the transport category.
        CHECK(classify(Transport::timeout, 403, "AccessDenied") == refused);
        // An unknown code does not.
        CHECK(classify(Transport::tls, 500, "Whatever") == pass);
    }

    TEST_CASE("classify: HTTP status without a known code") {
        struct Row {
            int status;
            std::optional<FailureClass> expected;
        };
        const Row rows[] = {
            {0, transient},   {100, transient}, {301, pass},      {302, pass},
            {304, pass},      {307, transient}, {400, refused},   {401, pass},
            {403, refused},   {404, pass},      {405, refused},   {408, transient},
            {409, transient}, {411, refused},   {412, refused},   {413, image},
            {414, image},     {418, refused},   {429, transient}, {499, refused},
            {500, transient}, {501, refused},   {502, transient}, {503, transient},
            {504, transient}, {505, transient}, {599, transient}, {600, transient},
        };
        for (const Row& row : rows) {
            INFO("status ", row.status);
            CHECK(classify(ok, row.status, "") == row.expected);
            CHECK(classify(ok, row.status, "SomeFutureCode") == row.expected);
        }
        // S3 can answer 200 with an error body; an unknown code there is worth retrying.
        CHECK(classify(ok, 200, "SomeFutureCode") == transient);
        CHECK(classify(ok, 200, "InternalError") == transient);
        CHECK(classify(ok, 200, "AccessDenied") == refused);
    }

    TEST_CASE("is_throttling") {
        CHECK(is_throttling(ok, 503, ""));
        CHECK(is_throttling(ok, 503, "ServiceUnavailable"));
        CHECK(is_throttling(ok, 429, ""));
        CHECK(is_throttling(ok, 400, "SlowDown"));
        CHECK(is_throttling(ok, 400, "TooManyRequests"));
        CHECK(is_throttling(ok, 400, "Throttling"));
        CHECK(is_throttling(ok, 400, "ThrottlingException"));
        CHECK_FALSE(is_throttling(ok, 500, "InternalError"));
        CHECK_FALSE(is_throttling(ok, 502, ""));
        CHECK_FALSE(is_throttling(ok, 200, ""));
        CHECK_FALSE(is_throttling(ok, 400, "slowdown"));
        CHECK_FALSE(is_throttling(Transport::timeout, 0, ""));
        CHECK_FALSE(is_throttling(Transport::dropped, 0, ""));
    }

    TEST_CASE("to_string") {
        CHECK(to_string(FailureClass::transient) == "transient");
        CHECK(to_string(FailureClass::image) == "image");
        CHECK(to_string(FailureClass::refused) == "refused");
        CHECK(to_string(FailureClass::pass) == "pass");
    }

    TEST_CASE("backoff_delay: full jitter under an exponential ceiling") {
        // Ceilings with base 0.5 s, cap 20 s: 0.5, 1, 2, 4, 8, 16, 20, 20...
        CHECK(backoff_delay(0, 0.5, 20, 1.0) == 0.5);
        CHECK(backoff_delay(1, 0.5, 20, 1.0) == 1.0);
        CHECK(backoff_delay(2, 0.5, 20, 1.0) == 2.0);
        CHECK(backoff_delay(5, 0.5, 20, 1.0) == 16.0);
        CHECK(backoff_delay(6, 0.5, 20, 1.0) == 20.0);
        CHECK(backoff_delay(1000, 0.5, 20, 1.0) == 20.0);
        CHECK(backoff_delay(INT_MAX, 0.5, 20, 1.0) == 20.0);
        CHECK(backoff_delay(3, 0.5, 20, 0.5) == 2.0);
        CHECK(backoff_delay(3, 0.5, 20, 0.25) == 1.0);
        CHECK(backoff_delay(6, 0.5, 20, 0.75) == 15.0);
        CHECK(backoff_delay(3, 0.5, 20, 0.0) == 0.0);
    }

    TEST_CASE("backoff_delay: out-of-range inputs") {
        CHECK(backoff_delay(-3, 0.5, 20, 1.0) == 0.5);
        CHECK(backoff_delay(2, 0.5, 20, -1.0) == 0.0);
        CHECK(backoff_delay(2, 0.5, 20, 2.0) == 2.0);
        CHECK(backoff_delay(2, 0.5, 20, std::numeric_limits<double>::quiet_NaN()) == 0.0);
    }

    TEST_CASE("parse_retry_after") {
        const std::int64_t now = 1445412480; // Wed, 21 Oct 2015 07:28:00 GMT
        CHECK(parse_retry_after("120", now) == 120.0);
        CHECK(parse_retry_after(" 5 ", now) == 5.0);
        CHECK(parse_retry_after("0", now) == 0.0);
        CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30.0);
        CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0);
        CHECK(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0); // past
        CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == 60.0);
        CHECK(parse_retry_after(std::string(400, '9'), now) == std::numeric_limits<double>::max());
        CHECK_FALSE(parse_retry_after("", now));
        CHECK_FALSE(parse_retry_after("  ", now));
        CHECK_FALSE(parse_retry_after("abc", now));
        CHECK_FALSE(parse_retry_after("-5", now));
        CHECK_FALSE(parse_retry_after("1.5", now));
        CHECK_FALSE(parse_retry_after("5s", now));
    }

    TEST_CASE("retry_delay: larger of backoff and Retry-After, capped") {
        CHECK(retry_delay(2, 0.5, 20, 0.5, std::nullopt, 60) == 1.0);
        CHECK(retry_delay(2, 0.5, 20, 0.5, 5.0, 60) == 5.0);
        CHECK(retry_delay(2, 0.5, 20, 0.5, 0.2, 60) == 1.0);
        CHECK(retry_delay(2, 0.5, 20, 0.5, 3600.0, 60) == 60.0);
        CHECK(retry_delay(10, 0.5, 20, 1.0, std::nullopt, 10) == 10.0);
        CHECK(retry_delay(2, 0.5, 20, 0.0, 0.0, 60) == 0.0);
    }

} // TEST_SUITE
