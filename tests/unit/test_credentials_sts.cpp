// STS: the AssumeRole and AssumeRoleWithWebIdentity requests as sent, and their answers.
#include "s3/sts.hpp"

#include "util/hash.hpp"
#include "util/strings.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("credentials");

namespace {

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

std::string header(const imgsync::util::HttpRequest& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.size() > name.size() + 2 && imgsync::util::iequals(h.substr(0, name.size()), name) &&
            h.compare(name.size(), 2, ": ") == 0) {
            return h.substr(name.size() + 2);
        }
    }
    return {};
}

} // namespace

TEST_CASE("sts: AssumeRole is a signed POST for service sts") {
    StsEndpoint e;
    e.host = "sts.eu-west-1.amazonaws.com";
    e.region = "eu-west-1";
    AssumeRoleParams p;
    p.role_arn = "arn:aws:iam::123456789012:role/up loader";
    p.session_name = "s1";
    p.external_id = "ext";
    p.duration_seconds = 3600;
    Credentials source;
    source.access_key = "AKIDEXAMPLE";
    source.secret_key = Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    source.session_token = Secret("SOURCETOKEN");
    const auto date = *AmzDate::parse("20261204T210000Z");
    auto r = assume_role_request(e, p, source, date);
    CHECK(r.method == "POST");
    CHECK(r.url == "https://sts.eu-west-1.amazonaws.com/");
    CHECK(r.memory == "Action=AssumeRole&DurationSeconds=3600&ExternalId=ext&"
                      "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fup%20loader&"
                      "RoleSessionName=s1&Version=2011-06-15");
    CHECK(header(r, "X-Amz-Date") == "20261204T210000Z");
    CHECK(header(r, "X-Amz-Security-Token") == "SOURCETOKEN");
    const std::string auth = header(r, "Authorization");
    CHECK(contains(auth, "Credential=AKIDEXAMPLE/20261204/eu-west-1/sts/aws4_request"));
    CHECK(contains(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"));
    CHECK(header(r, "X-Amz-Content-Sha256").empty()); // S3's header, not STS's
    CHECK(r.total_timeout_ms > 0);

    // The same request signed by hand: the canonical request is the form body's hash.
    HttpRequest to_sign;
    to_sign.method = "POST";
    to_sign.host = e.host;
    to_sign.canonical_uri = "/";
    to_sign.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    to_sign.payload_hash = imgsync::util::sha256_hex(r.memory);
    SigningOptions o;
    o.region = "eu-west-1";
    o.service = "sts";
    o.content_sha256_header = false;
    CHECK(auth == sign_request(to_sign, source, o, date).authorization);
}

TEST_CASE("sts: AssumeRoleWithWebIdentity is unsigned and carries the token in the body") {
    StsEndpoint e;
    AssumeRoleParams p;
    p.role_arn = "arn:aws:iam::1:role/pod";
    p.session_name = "pod";
    auto r = web_identity_request(e, p, Secret("eyJhbGciOi.JWT"));
    CHECK(r.url == "https://sts.amazonaws.com/");
    CHECK(contains(r.memory, "Action=AssumeRoleWithWebIdentity&"));
    CHECK(contains(r.memory, "WebIdentityToken=eyJhbGciOi.JWT"));
    CHECK(header(r, "Authorization").empty());
    for (const auto& h : r.headers) {
        CHECK_FALSE(contains(h, "eyJhbGciOi"));
    }
}

TEST_CASE("sts: answers") {
    const std::string ok = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>X:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIASTS</AccessKeyId>
      <SecretAccessKey>SECRETSTS</SecretAccessKey>
      <SessionToken>TOKENSTS</SessionToken>
      <Expiration>2026-12-04T21:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>
</AssumeRoleResponse>)";
    auto c = parse_sts_response("AssumeRole", 200, ok);
    REQUIRE(c);
    CHECK(c->access_key == "ASIASTS");
    CHECK(c->secret_key.reveal() == "SECRETSTS");
    CHECK(c->session_token.reveal() == "TOKENSTS");
    CHECK(c->expires_at == 1796418000);

    std::string web = ok;
    for (const std::string from : {"AssumeRoleResponse", "AssumeRoleResult"}) {
        for (auto at = web.find(from); at != std::string::npos; at = web.find(from, at + 30)) {
            web.replace(at, from.size(), "AssumeRoleWithWebIdentity" + from.substr(10));
        }
    }
    CHECK(parse_sts_response("AssumeRoleWithWebIdentity", 200, web));
    CHECK_FALSE(parse_sts_response("AssumeRoleWithWebIdentity", 200, ok)); // another action's

    auto refused = parse_sts_response(
        "AssumeRole", 403,
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not "
        "allowed</Message></Error><RequestId>x</RequestId></ErrorResponse>");
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "STS AssumeRole refused: HTTP 403 AccessDenied (not allowed)");
    CHECK(parse_sts_response("AssumeRole", 500, "oops").error() ==
          "STS AssumeRole refused: HTTP 500");
    CHECK(contains(parse_sts_response("AssumeRole", 200, "<x/>").error(),
                   "is not an <AssumeRoleResponse>"));
    std::string no_exp = ok;
    no_exp.replace(no_exp.find("2026-12-04T21:00:00Z"), 20, "soon");
    CHECK(contains(parse_sts_response("AssumeRole", 200, no_exp).error(), "no valid <Expiration>"));
    std::string no_token = ok;
    no_token.replace(no_token.find("TOKENSTS"), 8, "");
    CHECK(contains(parse_sts_response("AssumeRole", 200, no_token).error(), "lacks"));
}
