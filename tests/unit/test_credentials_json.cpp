// The JSON answers of the credential endpoints and of credential_process.
#include "s3/credential_json.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("credentials");

namespace {

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

} // namespace

TEST_CASE("credential json: the instance metadata service's answer") {
    const std::string imds = std::string(R"({
  "Code" : "Success",
  "LastUpdated" : "2026-12-04T20:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIMDS",
  "SecretAccessKey" : ")") + kSecret +
                             R"(",
  "Token" : "tok\/en\u00e9",
  "Expiration" : "2026-12-04T21:00:00Z"
})";
    auto c = parse_credential_json(imds, CredentialJson::instance_metadata);
    REQUIRE(c);
    CHECK(c->access_key == "ASIAIMDS");
    CHECK(c->secret_key.reveal() == kSecret);
    CHECK(c->session_token.reveal() == "tok/en\xc3\xa9");
    CHECK(c->expires_at == 1796418000);

    auto failed = parse_credential_json(R"({"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A",
        "SecretAccessKey":"S","Token":"T","Expiration":"2026-12-04T21:00:00Z"})",
                                        CredentialJson::instance_metadata);
    REQUIRE_FALSE(failed);
    CHECK(contains(failed.error(), "\"Code\" other than \"Success\""));
}

TEST_CASE("credential json: the container endpoint's answer needs Token and Expiration") {
    const std::string ok = R"({"AccessKeyId":"ASIAC","SecretAccessKey":"S","Token":"T",
                               "Expiration":"2026-12-04T21:00:00.000Z","RoleArn":"arn:x"})";
    auto c = parse_credential_json(ok, CredentialJson::container);
    REQUIRE(c);
    CHECK(c->expires_at == 1796418000);
    auto no_token = parse_credential_json(
        R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2026-12-04T21:00:00Z"})",
        CredentialJson::container);
    REQUIRE_FALSE(no_token);
    CHECK(contains(no_token.error(), "no \"Token\""));
    auto no_exp = parse_credential_json(R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"T"})",
                                        CredentialJson::container);
    REQUIRE_FALSE(no_exp);
    CHECK(contains(no_exp.error(), "no \"Expiration\""));
}

TEST_CASE("credential json: credential_process output, version 1") {
    auto c = parse_credential_json(
        std::string(R"({"Version": 1, "AccessKeyId": "AKIDP", "SecretAccessKey": ")") + kSecret +
            R"("})",
        CredentialJson::process);
    REQUIRE(c);
    CHECK(c->session_token.empty());
    CHECK_FALSE(c->expires_at); // long-term keys: never refreshed
    c = parse_credential_json(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S",
                                  "SessionToken":"T","Expiration":"2026-12-04T21:00:00+01:00"})",
                              CredentialJson::process);
    REQUIRE(c);
    CHECK(c->session_token.reveal() == "T");
    CHECK(c->expires_at == 1796418000 - 3600);

    auto v2 = parse_credential_json(R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":"S"})",
                                    CredentialJson::process);
    REQUIRE_FALSE(v2);
    CHECK(contains(v2.error(), "only version 1 exists"));
    auto no_version = parse_credential_json(R"({"AccessKeyId":"A","SecretAccessKey":"S"})",
                                            CredentialJson::process);
    REQUIRE_FALSE(no_version);
    CHECK(contains(no_version.error(), "no \"Version\""));
    auto bad_time = parse_credential_json(
        R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"})",
        CredentialJson::process);
    REQUIRE_FALSE(bad_time);
    CHECK(contains(bad_time.error(), "not an ISO 8601 time"));
}

TEST_CASE("credential json: malformed JSON is refused without quoting it") {
    const std::string secret_inside = std::string(R"({"Version":1,"SecretAccessKey":")") + kSecret;
    for (const std::string& bad :
         {std::string(""), std::string("[]"), std::string("{"), std::string("{\"a\":}"),
          std::string("{\"a\":1,}"), std::string("{\"a\":1} x"), std::string("{\"a\":\"\\x\"}"),
          std::string("{\"a\":\"\\ud800\"}"), std::string("{\"a\":01x}"),
          std::string("{\"a\":\"line\nbreak\"}"), secret_inside, std::string(40, '[')}) {
        INFO(bad);
        auto r = parse_credential_json(bad, CredentialJson::process);
        REQUIRE_FALSE(r);
        CHECK_FALSE(contains(r.error(), kSecret));
    }
    // Nesting is skipped, within a bound.
    auto nested = parse_json_object(R"({"a":{"b":[1,2,{"c":null}]},"d":true,"e":-1.5e3})");
    REQUIRE(nested);
    CHECK(nested->at("d") == "true");
    CHECK(nested->at("e") == "-1.5e3");
    CHECK_FALSE(nested->count("b"));
    std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
    CHECK_FALSE(parse_json_object(deep));
    CHECK(parse_json_object("{\"s\":\"\\ud83d\\ude00\"}")->at("s") == "\xf0\x9f\x98\x80");
}
