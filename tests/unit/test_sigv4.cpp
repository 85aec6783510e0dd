// SigV4 against published vectors only: the S3 API reference examples (header and query
// authentication) and the AWS SigV4 test suite (as kept in botocore's aws4_testsuite and
// aws-c-auth's aws-signing-test-suite/v4, whose *-unnormalized cases follow S3's path rules).
// Expected strings are copied verbatim from those sources; nothing here was produced by this code.
#include "s3/sigv4.hpp"
#include "util/hash.hpp"

#include "../support/uri_decode.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace imgsync::s3;
using test_support::uri_decode;

TEST_SUITE_BEGIN("sigv4");

namespace {

Credentials make_credentials(std::string access_key, std::string secret, std::string token = {}) {
    Credentials c;
    c.access_key = std::move(access_key);
    c.secret_key = Secret(std::move(secret));
    c.session_token = Secret(std::move(token));
    return c;
}

AmzDate date_of(std::string_view s) {
    const auto d = AmzDate::parse(s);
    REQUIRE(d.has_value());
    return *d;
}

// ---- S3 API reference, "Signature Calculations for the Authorization Header" ----------------

const Credentials& s3_example_credentials() {
    static const Credentials c =
        make_credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    return c;
}

SignedRequest sign_s3_example(HttpRequest request) {
    request.host = "examplebucket.s3.amazonaws.com";
    SigningOptions options;
    options.region = "us-east-1";
    options.service = "s3";
    return sign_request(request, s3_example_credentials(), options, date_of("20130524T000000Z"));
}

} // namespace

TEST_CASE("sigv4: uri_encode follows S3's rules") {
    CHECK(uri_encode("AZaz09-_.~", true) == "AZaz09-_.~");
    CHECK(uri_encode("a b", false) == "a%20b"); // never '+'
    CHECK(uri_encode("a+b", false) == "a%2Bb");
    CHECK(uri_encode("a/b", false) == "a/b");
    CHECK(uri_encode("a/b", true) == "a%2Fb");
    CHECK(uri_encode("*'()!@$", true) == "%2A%27%28%29%21%40%24");
    CHECK(uri_encode("%20", true) == "%2520"); // raw bytes in, so no double decoding tricks
    CHECK(uri_encode("\xE1\x88\xB4", true) == "%E1%88%B4"); // upper-case hex
    CHECK(uri_encode("\xff", true) == "%FF");
    CHECK(uri_encode(std::string("a\0b", 3), true) == "a%00b");
    CHECK(encode_path("/a/../b//c/./d") == "/a/../b//c/./d"); // no normalisation
    CHECK(encode_path("") == "/");
    CHECK(encode_path("x y") == "/x%20y");
    CHECK(uri_decode("%E1%88%b4+%zz%4") == "\xE1\x88\xB4+%zz%4");
}

TEST_CASE("sigv4: AmzDate parses, rejects and formats") {
    CHECK(AmzDate::parse("20130524T000000Z")->date() == "20130524");
    CHECK_FALSE(AmzDate::parse("20130524T000000"));
    CHECK_FALSE(AmzDate::parse("2013-05-24T00:00:00Z"));
    CHECK_FALSE(AmzDate::parse("20130230T000000Z"));
    CHECK_FALSE(AmzDate::parse("20130524T240000Z"));
    CHECK(AmzDate::parse("20240229T235959Z"));
    CHECK_FALSE(AmzDate::parse("20230229T000000Z"));
    CHECK(AmzDate::from_epoch(1369353600).timestamp() == "20130524T000000Z");
    CHECK(AmzDate::from_epoch(1440938160).timestamp() == "20150830T123600Z");
    CHECK(AmzDate::from_epoch(951782399).timestamp() == "20000228T235959Z");
    CHECK(AmzDate::from_epoch(951868800).timestamp() == "20000301T000000Z");
    CHECK(AmzDate::from_epoch(-1).timestamp() == "19691231T235959Z");
}

TEST_CASE("sigv4: S3 example GET object with Range") {
    HttpRequest r;
    r.method = "GET";
    r.canonical_uri = encode_path("/test.txt");
    r.headers = {{"Range", "bytes=0-9"}};
    r.payload_hash = std::string(kEmptyPayloadSha256);
    const auto s = sign_s3_example(r);
    CHECK(s.canonical_request ==
          "GET\n"
          "/test.txt\n"
          "\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "range:bytes=0-9\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n"
          "\n"
          "host;range;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n"
                              "20130524T000000Z\n"
                              "20130524/us-east-1/s3/aws4_request\n"
                              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK(s.authorization ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    // What the HTTP layer must add to the request, in this order, Authorization last.
    REQUIRE(s.headers.size() == 3);
    CHECK(s.headers[0].name == "x-amz-date");
    CHECK(s.headers[0].value == "20130524T000000Z");
    CHECK(s.headers[1].name == "x-amz-content-sha256");
    CHECK(s.headers[1].value == kEmptyPayloadSha256);
    CHECK(s.headers[2].name == "Authorization");
    CHECK(s.headers[2].value == s.authorization);
}

TEST_CASE("sigv4: S3 example PUT object test$file.text") {
    HttpRequest r;
    r.method = "PUT";
    r.canonical_uri = encode_path("/test$file.text");
    r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    r.payload_hash = imgsync::util::sha256_hex("Welcome to Amazon S3.");
    CHECK(r.payload_hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const auto s = sign_s3_example(r);
    CHECK(s.canonical_request ==
          "PUT\n"
          "/test%24file.text\n"
          "\n"
          "date:Fri, 24 May 2013 00:00:00 GMT\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
          "x-amz-date:20130524T000000Z\n"
          "x-amz-storage-class:REDUCED_REDUNDANCY\n"
          "\n"
          "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
          "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n"
                              "20130524T000000Z\n"
                              "20130524/us-east-1/s3/aws4_request\n"
                              "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    CHECK(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("sigv4: S3 example GET bucket lifecycle") {
    HttpRequest r;
    r.method = "GET";
    r.canonical_uri = "/";
    r.query = {{"lifecycle", ""}};
    const auto s = sign_s3_example(r);
    CHECK(s.canonical_request ==
          "GET\n"
          "/\n"
          "lifecycle=\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n"
          "\n"
          "host;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n"
                              "20130524T000000Z\n"
                              "20130524/us-east-1/s3/aws4_request\n"
                              "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
    CHECK(s.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    CHECK(url_query_string(r.query) == "lifecycle");
}

TEST_CASE("sigv4: S3 example GET bucket (list objects) max-keys=2&prefix=J") {
    HttpRequest r;
    r.method = "GET";
    r.canonical_uri = "/";
    r.query = {{"prefix", "J"}, {"max-keys", "2"}}; // given out of order on purpose
    const auto s = sign_s3_example(r);
    CHECK(s.canonical_request ==
          "GET\n"
          "/\n"
          "max-keys=2&prefix=J\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n"
          "\n"
          "host;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n"
                              "20130524T000000Z\n"
                              "20130524/us-east-1/s3/aws4_request\n"
                              "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
    CHECK(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: S3 example presigned GET URL") {
    PresignRequest p;
    p.method = "GET";
    p.scheme = "https";
    p.host = "examplebucket.s3.amazonaws.com";
    p.canonical_uri = "/test.txt";
    p.expires = std::chrono::seconds(86400);
    const auto url =
        presign_url(p, s3_example_credentials(), "us-east-1", date_of("20130524T000000Z"));
    REQUIRE(url.has_value());
    CHECK(url->canonical_request ==
          "GET\n"
          "/test.txt\n"
          "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
          "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
          "SignedHeaders=host\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "\n"
          "host\n"
          "UNSIGNED-PAYLOAD");
    CHECK(url->string_to_sign ==
          "AWS4-HMAC-SHA256\n"
          "20130524T000000Z\n"
          "20130524/us-east-1/s3/aws4_request\n"
          "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
    CHECK(url->signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK(url->url ==
          "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
          "Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
          "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
          "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("sigv4: presigned URL with a session token and its limits") {
    PresignRequest p;
    p.host = "examplebucket.s3.amazonaws.com";
    p.canonical_uri = "/test.txt";
    const auto creds = make_credentials("AKIAIOSFODNN7EXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "tok/en+=");
    const auto url = presign_url(p, creds, "us-east-1", date_of("20130524T000000Z"));
    REQUIRE(url.has_value());
    // The token is signed as a query parameter (S3's rule), encoded, and host stays the only
    // signed header.
    CHECK(url->url.find("&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host&") !=
          std::string::npos);
    CHECK(url->canonical_request.find("X-Amz-Security-Token=tok%2Fen%2B%3D") != std::string::npos);
    CHECK(url->canonical_request.substr(url->canonical_request.size() - 22) ==
          "\nhost\nUNSIGNED-PAYLOAD");
    p.expires = std::chrono::seconds(0);
    CHECK_FALSE(presign_url(p, creds, "us-east-1", date_of("20130524T000000Z")));
    p.expires = std::chrono::seconds(604801);
    CHECK_FALSE(presign_url(p, creds, "us-east-1", date_of("20130524T000000Z")));
    p.expires = std::chrono::seconds(604800);
    CHECK(presign_url(p, creds, "us-east-1", date_of("20130524T000000Z")));
}

// ---- AWS SigV4 test suite ----------------------------------------------------------------------

namespace {

constexpr const char* kSuiteToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
    "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
    "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+s"
    "cqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The suite's .req files give the path and query as written on the request line: the path raw,
// the query raw but possibly %-escaped. Our request struct takes an encoded URI and unencoded
// parameters, so the path is encoded once and the query decoded first.
std::vector<QueryParam> parse_raw_query(std::string_view raw) {
    std::vector<QueryParam> out;
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const auto pair = raw.substr(0, amp);
        const auto eq = pair.find('=');
        out.push_back({uri_decode(pair.substr(0, eq)), eq == std::string_view::npos
                                                           ? std::string{}
                                                           : uri_decode(pair.substr(eq + 1))});
        raw.remove_prefix(amp == std::string_view::npos ? raw.size() : amp + 1);
    }
    return out;
}

SignedRequest sign_suite(std::string method, std::string_view raw_path, std::string_view raw_query,
                         std::vector<Header> headers, std::string payload_hash = kEmptyHash,
                         std::string token = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.host = "example.amazonaws.com";
    r.canonical_uri = encode_path(raw_path);
    r.query = parse_raw_query(raw_query);
    r.headers = std::move(headers);
    r.payload_hash = std::move(payload_hash);
    SigningOptions options;
    options.region = "us-east-1";
    options.service = "service";
    options.content_sha256_header = false; // the generic suite has no x-amz-content-sha256
    const auto creds = make_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                        std::move(token));
    return sign_request(r, creds, options, date_of("20150830T123600Z"));
}

std::string suite_authz(std::string_view signed_headers, std::string_view sig) {
    return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
           "SignedHeaders=" +
           std::string(signed_headers) + ", Signature=" + std::string(sig);
}

} // namespace

TEST_CASE("sigv4 suite: signing key and get-vanilla") {
    const auto key = derive_signing_key(Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                        "20150830", "us-east-1", "iam");
    // From the SigV4 documentation's worked example ("Examples of how to derive a signing key").
    CHECK(imgsync::util::to_hex(key) ==
          "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

    const auto s = sign_suite("GET", "/", "", {});
    CHECK(s.canonical_request ==
          "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
          "\nhost;x-amz-date\n" +
              std::string(kEmptyHash));
    CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n20150830T123600Z\n"
                              "20150830/us-east-1/service/aws4_request\n"
                              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK(s.authorization ==
          suite_authz("host;x-amz-date",
                      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
    REQUIRE(s.headers.size() == 2); // x-amz-date and Authorization: no content hash in this mode
    CHECK(s.headers[0].name == "x-amz-date");
}

TEST_CASE("sigv4 suite: query ordering and encoding") {
    SUBCASE("get-vanilla-query-order-key-case") {
        const auto s = sign_suite("GET", "/", "Param2=value2&Param1=value1", {});
        CHECK(s.canonical_request ==
              "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
              "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                  std::string(kEmptyHash));
        CHECK(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    }
    SUBCASE("get-vanilla-query-order-key") {
        const auto s = sign_suite("GET", "/", "Param1=value2&Param1=Value1", {});
        CHECK(s.canonical_request.find("\nParam1=Value1&Param1=value2\n") != std::string::npos);
        CHECK(s.signature == "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
    }
    SUBCASE("get-vanilla-query-order-value") {
        const auto s = sign_suite("GET", "/", "Param1=value2&Param1=value1", {});
        CHECK(s.canonical_request.find("\nParam1=value1&Param1=value2\n") != std::string::npos);
        CHECK(s.signature == "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
    }
    SUBCASE("get-vanilla-query-order-encoded") {
        const auto s = sign_suite("GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", {});
        CHECK(s.canonical_request ==
              "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\n"
              "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                  std::string(kEmptyHash));
        CHECK(s.signature == "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac");
    }
    SUBCASE("get-vanilla-query-unreserved") {
        const std::string unreserved =
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        const auto s = sign_suite("GET", "/", unreserved + "=" + unreserved, {});
        CHECK(s.canonical_request.find("\n" + unreserved + "=" + unreserved + "\n") !=
              std::string::npos);
        CHECK(s.signature == "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
    }
    SUBCASE("get-vanilla-utf8-query") {
        const auto s = sign_suite("GET", "/", "\xE1\x88\xB4=bar", {});
        CHECK(s.canonical_request.find("\n%E1%88%B4=bar\n") != std::string::npos);
        CHECK(s.signature == "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
    }
    SUBCASE("get-vanilla-empty-query-key") {
        const auto s = sign_suite("GET", "/", "Param1=value1", {});
        CHECK(s.signature == "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
    }
    SUBCASE("post-vanilla-query") {
        const auto s = sign_suite("POST", "/", "Param1=value1", {});
        CHECK(s.signature == "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
    }
}

TEST_CASE("sigv4 suite: paths, S3-style (unnormalized, encoded once)") {
    SUBCASE("get-utf8") {
        const auto s = sign_suite("GET", "/\xE1\x88\xB4", "", {});
        CHECK(s.canonical_request ==
              "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "host;x-amz-date\n" +
                  std::string(kEmptyHash));
        CHECK(s.signature == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
    }
    SUBCASE("get-space-unnormalized") {
        const auto s = sign_suite("GET", "/example space/", "", {});
        CHECK(s.canonical_request.substr(0, 23) == "GET\n/example%20space/\n\n");
        CHECK(s.signature == "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
    }
    SUBCASE("get-unreserved") {
        const auto s = sign_suite(
            "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", {});
        CHECK(s.signature == "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
    }
    SUBCASE("get-special-character") {
        const auto s = sign_suite("GET", "/example/$delete", "", {});
        CHECK(s.canonical_request.substr(0, 24) == "GET\n/example/%24delete\n\n");
        CHECK(s.signature == "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27");
    }
    SUBCASE("get-slash-unnormalized") {
        CHECK(sign_suite("GET", "//", "", {}).signature ==
              "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e");
    }
    SUBCASE("get-slashes-unnormalized") {
        CHECK(sign_suite("GET", "//example//", "", {}).signature ==
              "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5");
    }
    SUBCASE("get-slash-dot-slash-unnormalized") {
        CHECK(sign_suite("GET", "/./", "", {}).signature ==
              "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145");
    }
    SUBCASE("get-slash-pointless-dot-unnormalized") {
        CHECK(sign_suite("GET", "/./example", "", {}).signature ==
              "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff");
    }
    SUBCASE("get-relative-unnormalized") {
        CHECK(sign_suite("GET", "/example/..", "", {}).signature ==
              "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282");
    }
    SUBCASE("get-relative-relative-unnormalized") {
        CHECK(sign_suite("GET", "/example1/example2/../..", "", {}).signature ==
              "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b");
    }
}

TEST_CASE("sigv4 suite: headers") {
    SUBCASE("get-header-key-duplicate") {
        const auto s = sign_suite(
            "GET", "/", "",
            {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}});
        CHECK(s.canonical_request ==
              "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
              "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                  std::string(kEmptyHash));
        CHECK(s.authorization ==
              suite_authz("host;my-header1;x-amz-date",
                          "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
    }
    SUBCASE("get-header-value-order") {
        const auto s = sign_suite("GET", "/", "",
                                  {{"My-Header1", "value4"},
                                   {"My-Header1", "value1"},
                                   {"My-Header1", "value3"},
                                   {"My-Header1", "value2"}});
        CHECK(s.canonical_request.find("\nmy-header1:value4,value1,value3,value2\n") !=
              std::string::npos);
        CHECK(s.signature == "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
    }
    SUBCASE("get-header-value-trim") {
        const auto s = sign_suite("GET", "/", "",
                                  {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}});
        CHECK(s.canonical_request ==
              "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
              "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
                  std::string(kEmptyHash));
        CHECK(s.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
    }
    SUBCASE("post-header-key-case") {
        CHECK(sign_suite("POST", "/", "", {}).signature ==
              "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    }
    SUBCASE("post-header-key-sort") {
        CHECK(sign_suite("POST", "/", "", {{"My-Header1", "value1"}}).signature ==
              "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");
    }
    SUBCASE("post-header-value-case") {
        CHECK(sign_suite("POST", "/", "", {{"My-Header1", "VALUE1"}}).signature ==
              "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
    }
}

TEST_CASE("sigv4 suite: bodies and session tokens") {
    SUBCASE("post-vanilla") {
        const auto s = sign_suite("POST", "/", "", {});
        CHECK(s.authorization ==
              suite_authz("host;x-amz-date",
                          "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
    }
    SUBCASE("post-x-www-form-urlencoded") {
        const auto body_hash = imgsync::util::sha256_hex("Param1=value1");
        const auto s = sign_suite(
            "POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded"}}, body_hash);
        CHECK(s.canonical_request ==
              "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
              "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "content-type;host;x-amz-date\n"
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
        CHECK(s.string_to_sign ==
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
        CHECK(s.authorization ==
              suite_authz("content-type;host;x-amz-date",
                          "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
    }
    SUBCASE("post-x-www-form-urlencoded-parameters") {
        const auto s = sign_suite(
            "POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
            imgsync::util::sha256_hex("Param1=value1"));
        CHECK(s.signature == "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe");
    }
    SUBCASE("post-sts-header-before") {
        const auto s = sign_suite("POST", "/", "", {}, kEmptyHash, kSuiteToken);
        CHECK(s.canonical_request ==
              "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
              "x-amz-security-token:" +
                  std::string(kSuiteToken) + "\n\nhost;x-amz-date;x-amz-security-token\n" +
                  kEmptyHash);
        CHECK(s.string_to_sign ==
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6");
        CHECK(s.authorization ==
              suite_authz("host;x-amz-date;x-amz-security-token",
                          "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
        REQUIRE(s.headers.size() == 3);
        CHECK(s.headers[1].name == "x-amz-security-token");
        CHECK(s.headers[1].value == kSuiteToken);
    }
    SUBCASE("get-vanilla-with-session-token") {
        const auto s =
            sign_suite("GET", "/", "", {}, kEmptyHash,
                       "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
        CHECK(s.authorization ==
              suite_authz("host;x-amz-date;x-amz-security-token",
                          "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"));
    }
}

// ---- behaviour beyond the vectors --------------------------------------------------------------

TEST_CASE("sigv4: signer-owned headers given by the caller are replaced, not doubled") {
    const auto plain = sign_suite("GET", "/", "", {});
    const auto with_copies = sign_suite("GET", "/", "",
                                        {{"Host", "evil.example"},
                                         {"X-Amz-Date", "19990101T000000Z"},
                                         {"Authorization", "junk"},
                                         {"x-amz-security-token", "stale"}});
    CHECK(with_copies.canonical_request == plain.canonical_request);
    CHECK(with_copies.signature == plain.signature);
}

TEST_CASE("sigv4: canonical query and URL query agree on order and encoding") {
    const std::vector<QueryParam> q = {
        {"uploadId", "a/b+c d~"}, {"partNumber", "7"}, {"uploads", ""}};
    CHECK(canonical_query_string(q) == "partNumber=7&uploadId=a%2Fb%2Bc%20d~&uploads=");
    CHECK(url_query_string(q) == "partNumber=7&uploadId=a%2Fb%2Bc%20d~&uploads");
    CHECK(canonical_query_string({}) == "");
    // Sorted by encoded name, then encoded value: byte order, upper case before lower case.
    CHECK(canonical_query_string({{"b", "1"}, {"B", "2"}, {"a", "z"}, {"a", "Z"}}) ==
          "B=2&a=Z&a=z&b=1");
}

TEST_CASE("sigv4: canonicalize_headers trims, folds and joins") {
    const auto h = canonicalize_headers(
        {{"X-B", "  two   words  "}, {"x-a", "1"}, {"X-A", "\t2 "}, {"x-c", ""}});
    CHECK(h.block == "x-a:1,2\nx-b:two words\nx-c:\n");
    CHECK(h.signed_headers == "x-a;x-b;x-c");
}

TEST_CASE("sigv4: an object key with every awkward character signs its encoded form") {
    HttpRequest r;
    r.method = "PUT";
    r.host = "127.0.0.1:7480";
    r.canonical_uri = "/bucket/" + uri_encode("dir/a b+c~*'()!@$%=&;,#[]{}^\xC3\xA9.jpg", false);
    r.payload_hash = std::string(kUnsignedPayload);
    SigningOptions options;
    const auto creds = make_credentials("AK", "SK");
    const auto s = sign_request(r, creds, options, date_of("20240101T000000Z"));
    CHECK(s.canonical_request.substr(0, s.canonical_request.find('\n', 4)) ==
          "PUT\n/bucket/dir/a%20b%2Bc~%2A%27%28%29%21%40%24%25%3D%26%3B%2C%23%5B%5D%7B%7D%5E%C3%A9"
          ".jpg");
    CHECK(s.canonical_request.find("\nhost:127.0.0.1:7480\n") != std::string::npos);
    CHECK(s.canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n") !=
          std::string::npos);
    CHECK(s.canonical_request.substr(s.canonical_request.size() - 17) == "\nUNSIGNED-PAYLOAD");
}

TEST_CASE("sigv4: SigningKeyCache derives once per day and secret") {
    SigningKeyCache cache;
    const Secret secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    const auto k1 = cache.get(secret, "20150830", "us-east-1", "iam");
    const auto k2 = cache.get(secret, "20150830", "us-east-1", "iam");
    CHECK(k1 == k2);
    CHECK(imgsync::util::to_hex(k1) ==
          "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    CHECK(cache.derivations() == 1);
    CHECK(cache.get(secret, "20150831", "us-east-1", "iam") != k1);
    CHECK(cache.get(secret, "20150831", "eu-west-1", "iam") !=
          cache.get(secret, "20150831", "us-east-1", "iam"));
    CHECK(cache.get(Secret("other"), "20150831", "us-east-1", "iam") !=
          cache.get(secret, "20150831", "us-east-1", "iam"));
    CHECK(cache.derivations() == 4);

    // Through sign_request, a whole day of requests costs one derivation.
    SigningKeyCache day;
    SigningOptions options;
    const auto creds = make_credentials("AK", "SK");
    HttpRequest r;
    r.host = "h";
    r.canonical_uri = "/";
    const auto a = sign_request(r, creds, options, date_of("20240101T000000Z"), &day);
    const auto b = sign_request(r, creds, options, date_of("20240101T235959Z"), &day);
    CHECK(day.derivations() == 1);
    CHECK(a.signature == sign_request(r, creds, options, date_of("20240101T000000Z")).signature);
    CHECK(b.signature != a.signature);
    sign_request(r, creds, options, date_of("20240102T000000Z"), &day);
    CHECK(day.derivations() == 2);

    // Concurrent use from several upload threads is safe.
    SigningKeyCache shared;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                (void)shared.get(secret, "20240101", "us-east-1", "s3");
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(shared.derivations() == 1);
}

TEST_SUITE_END();
