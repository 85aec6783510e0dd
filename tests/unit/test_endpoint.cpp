#include "s3/endpoint.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("endpoint");

namespace {

Endpoint resolve_ok(std::string url, std::string region, std::string bucket,
                    Addressing addressing = Addressing::automatic) {
    const auto r =
        resolve_endpoint({std::move(url), std::move(region), std::move(bucket), addressing});
    INFO(r.error());
    REQUIRE(r.ok());
    CHECK(r.error().empty());
    return *r;
}

std::string resolve_error(std::string url, std::string region, std::string bucket,
                          Addressing addressing = Addressing::automatic) {
    const auto r =
        resolve_endpoint({std::move(url), std::move(region), std::move(bucket), addressing});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find('\n') == std::string::npos);
    return r.error();
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("endpoint: AWS defaults are virtual-hosted") {
    auto e = resolve_ok("", "us-east-1", "examplebucket");
    CHECK(e.scheme() == "https");
    CHECK(e.host() == "examplebucket.s3.amazonaws.com");
    CHECK(e.base_path() == "");
    CHECK_FALSE(e.path_style());
    CHECK(e.bucket_uri() == "/");
    CHECK(e.bucket_url() == "https://examplebucket.s3.amazonaws.com/");
    CHECK(e.object_uri("test.txt") == "/test.txt");
    CHECK(e.object_url("test.txt") == "https://examplebucket.s3.amazonaws.com/test.txt");

    e = resolve_ok("", "eu-west-1", "photos");
    CHECK(e.host() == "photos.s3.eu-west-1.amazonaws.com");
    CHECK(e.region() == "eu-west-1");

    e = resolve_ok("", "", "photos"); // no region: us-east-1, as the SDKs assume for S3
    CHECK(e.host() == "photos.s3.amazonaws.com");
    CHECK(e.region() == "us-east-1");

    e = resolve_ok("", "cn-north-1", "photos");
    CHECK(e.host() == "photos.s3.cn-north-1.amazonaws.com.cn");
}

TEST_CASE("endpoint: forced path style on AWS") {
    auto e = resolve_ok("", "us-east-1", "examplebucket", Addressing::path);
    CHECK(e.host() == "s3.amazonaws.com");
    CHECK(e.base_path() == "/examplebucket");
    CHECK(e.path_style());
    CHECK(e.bucket_uri() == "/examplebucket");
    CHECK(e.object_uri("a b/c.jpg") == "/examplebucket/a%20b/c.jpg");
    CHECK(e.object_url("a b/c.jpg") == "https://s3.amazonaws.com/examplebucket/a%20b/c.jpg");

    e = resolve_ok("", "ap-southeast-2", "examplebucket", Addressing::path);
    CHECK(e.object_url("k") == "https://s3.ap-southeast-2.amazonaws.com/examplebucket/k");
}

TEST_CASE("endpoint: auto picks path style for custom endpoints and IP addresses") {
    auto e = resolve_ok("http://127.0.0.1:7480", "us-east-1", "bucket");
    CHECK(e.scheme() == "http");
    CHECK(e.host() == "127.0.0.1:7480");
    CHECK(e.object_url("KEY") == "http://127.0.0.1:7480/bucket/KEY");
    CHECK(e.path_style());

    e = resolve_ok("https://MinIO.Example.org:9000/", "us-east-1", "bucket");
    CHECK(e.host() == "minio.example.org:9000");
    CHECK(e.object_url("x") == "https://minio.example.org:9000/bucket/x");

    e = resolve_ok("http://[::1]:9000", "us-east-1", "bucket");
    CHECK(e.host() == "[::1]:9000");
    CHECK(e.path_style());

    // An explicit AWS endpoint still counts as AWS.
    e = resolve_ok("https://s3.eu-central-1.amazonaws.com", "eu-central-1", "bucket");
    CHECK(e.host() == "bucket.s3.eu-central-1.amazonaws.com");
}

TEST_CASE("endpoint: default ports are dropped, others kept in Host") {
    CHECK(resolve_ok("http://rgw.lan:80", "us-east-1", "b12").host() == "rgw.lan");
    CHECK(resolve_ok("https://rgw.lan:443", "us-east-1", "b12").host() == "rgw.lan");
    CHECK(resolve_ok("https://rgw.lan:80", "us-east-1", "b12").host() == "rgw.lan:80");
    CHECK(resolve_ok("http://rgw.lan:443", "us-east-1", "b12").host() == "rgw.lan:443");
    CHECK(resolve_ok("HTTP://rgw.lan:08080", "us-east-1", "b12").host() == "rgw.lan:8080");
}

TEST_CASE("endpoint: forced virtual on a custom endpoint") {
    auto e = resolve_ok("https://objects.example.net:8443", "us-east-1", "bucket",
                        Addressing::virtual_hosted);
    CHECK(e.host() == "bucket.objects.example.net:8443");
    CHECK(e.object_url("a") == "https://bucket.objects.example.net:8443/a");
    CHECK(contains(
        resolve_error("http://10.1.2.3:7480", "us-east-1", "bucket", Addressing::virtual_hosted),
        "IP address"));
    CHECK(contains(resolve_error("http://[::1]", "us-east-1", "bucket", Addressing::virtual_hosted),
                   "IP address"));
}

TEST_CASE("endpoint: dotted buckets and TLS") {
    // Auto falls back to path style rather than fail a certificate check.
    auto e = resolve_ok("", "us-east-1", "my.photos");
    CHECK(e.path_style());
    CHECK(e.object_url("k") == "https://s3.amazonaws.com/my.photos/k");
    const auto err = resolve_error("", "us-east-1", "my.photos", Addressing::virtual_hosted);
    CHECK(contains(err, "dots"));
    CHECK(contains(err, "path"));
    // Over plain http there is no certificate to mismatch.
    e = resolve_ok("http://s3.amazonaws.com", "us-east-1", "my.photos", Addressing::virtual_hosted);
    CHECK(e.host() == "my.photos.s3.amazonaws.com");
}

TEST_CASE("endpoint: malformed endpoint URLs give one-line reasons") {
    CHECK(contains(resolve_error("s3.example.com", "us-east-1", "bucket"), "no scheme"));
    CHECK(contains(resolve_error("ftp://s3.example.com", "us-east-1", "bucket"), "http or https"));
    CHECK(contains(resolve_error("https://", "us-east-1", "bucket"), "empty host"));
    CHECK(contains(resolve_error("https://:9000", "us-east-1", "bucket"), "empty host"));
    CHECK(contains(resolve_error("https://host:", "us-east-1", "bucket"), "port"));
    CHECK(contains(resolve_error("https://host:0", "us-east-1", "bucket"), "port"));
    CHECK(contains(resolve_error("https://host:65536", "us-east-1", "bucket"), "port"));
    CHECK(contains(resolve_error("https://host:12ab", "us-east-1", "bucket"), "port"));
    CHECK(contains(resolve_error("https://host/?x=1", "us-east-1", "bucket"), "query"));
    CHECK(contains(resolve_error("https://host?x=1", "us-east-1", "bucket"), "query"));
    CHECK(contains(resolve_error("https://host#frag", "us-east-1", "bucket"), "fragment"));
    CHECK(contains(resolve_error("https://host/base", "us-east-1", "bucket"), "path"));
    CHECK(contains(resolve_error("https://ho st", "us-east-1", "bucket"), "host"));
    CHECK(contains(resolve_error("https://[::1", "us-east-1", "bucket"), "IPv6"));
    CHECK(contains(resolve_error("https://host", "US East", "bucket"), "region"));
    // User information is refused, and the URL (which may hold a password) is not repeated.
    const auto err = resolve_error("https://user:hunter2@host", "us-east-1", "bucket");
    CHECK(contains(err, "user information"));
    CHECK_FALSE(contains(err, "hunter2"));
}

TEST_CASE("endpoint: addressing names") {
    CHECK(to_string(Addressing::automatic) == "auto");
    CHECK(to_string(Addressing::path) == "path");
    CHECK(to_string(Addressing::virtual_hosted) == "virtual");
}

TEST_CASE("endpoint: bucket names follow S3 rules") {
    for (const char* good : {"abc", "my-bucket", "my.bucket.name", "0123456789", "a1-b2.c3",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
        INFO(good);
        CHECK(check_bucket_name(good));
    }
    struct Bad {
        const char* name;
        const char* why;
    };
    for (const Bad& bad :
         {Bad{"", "no bucket"}, Bad{"ab", "3 to 63"},
          Bad{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "3 to 63"},
          Bad{"MyBucket", "lower case"}, Bad{"my_bucket", "may hold only"},
          Bad{"-bucket", "start and end"}, Bad{"bucket-", "start and end"},
          Bad{".bucket", "start and end"}, Bad{"my..bucket", ".."},
          Bad{"192.168.5.4", "IP address"}, Bad{"xn--bucket", "reserved"},
          Bad{"sthree-bucket", "reserved"}, Bad{"bucket-s3alias", "reserved"},
          Bad{"bucket--ol-s3", "reserved"}, Bad{"a b", "may hold only"}}) {
        INFO(bad.name);
        const auto checked = check_bucket_name(bad.name);
        REQUIRE_FALSE(checked);
        CHECK(contains(checked.error(), bad.why));
    }
    CHECK(check_bucket_name("192.168.5.4.5")); // not an address, so a valid name
    CHECK(check_bucket_name("999.1.1.1"));
    CHECK(contains(resolve_error("", "us-east-1", "Bad_Bucket"), "invalid bucket name"));
}

TEST_CASE("endpoint: object key validation") {
    CHECK(check_object_key("photos/2024/IMG 0001.jpg"));
    CHECK(check_object_key("caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x98\x80.png"));
    CHECK(check_object_key("a//b/../c/./d")); // S3 allows these; no normalisation
    CHECK(check_object_key(std::string(1024, 'k')));
    CHECK(contains(check_object_key("").error(), "empty"));
    CHECK(contains(check_object_key(std::string(1025, 'k')).error(), "1025 bytes"));
    // 1024 bytes counts bytes, not characters: 342 three-byte characters are 1026 bytes.
    std::string cjk;
    for (int i = 0; i < 342; ++i) {
        cjk += "\xE6\x97\xA5";
    }
    CHECK_FALSE(check_object_key(cjk));
    CHECK(contains(check_object_key("a\nb").error(), "U+000A at byte 1"));
    CHECK(contains(check_object_key("a\tb").error(), "U+0009"));
    CHECK(contains(check_object_key(std::string("a\0b", 3)).error(), "U+0000"));
    CHECK(contains(check_object_key("a\x7F").error(), "U+007F"));
    CHECK(contains(check_object_key("a\xC2\x85").error(), "U+0085")); // C1 NEL
    CHECK(contains(check_object_key("a\xFF").error(), "not valid UTF-8 (byte 1)"));
    CHECK(contains(check_object_key("\xC0\xAF").error(), "not valid UTF-8"));     // overlong '/'
    CHECK(contains(check_object_key("\xE0\x80\xAF").error(), "not valid UTF-8")); // overlong
    CHECK(contains(check_object_key("\xED\xA0\x80").error(), "not valid UTF-8")); // surrogate
    CHECK(contains(check_object_key("\xF4\x90\x80\x80").error(), "not valid UTF-8")); // > U+10FFFF
    CHECK(contains(check_object_key("ab\xE6\x97").error(), "truncated"));
    CHECK(contains(check_object_key("\x80").error(), "not valid UTF-8"));
}

TEST_CASE("endpoint: URLs carry the query in signing order") {
    const auto e = resolve_ok("http://127.0.0.1:7480", "us-east-1", "bucket");
    CHECK(e.object_url("a+b", {{"uploadId", "x/y"}, {"partNumber", "2"}}) ==
          "http://127.0.0.1:7480/bucket/a%2Bb?partNumber=2&uploadId=x%2Fy");
    CHECK(e.bucket_url({{"uploads", ""}}) == "http://127.0.0.1:7480/bucket?uploads");
    CHECK(e.object_uri("/leading") == "/bucket//leading");
}

TEST_SUITE_END();
