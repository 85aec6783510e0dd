#include "s3/credentials.hpp"

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <type_traits>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("credentials");

namespace {

// Secret must not be streamable or convertible to a string: a compile-time check that it cannot
// reach a log line by accident.
template <class T, class = void> struct is_streamable : std::false_type {};
template <class T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};
static_assert(!is_streamable<Secret>::value, "Secret must not be printable");
static_assert(!std::is_convertible_v<Secret, std::string>, "Secret must not become a string");
static_assert(!std::is_convertible_v<Secret, std::string_view>, "Secret must not become a view");
static_assert(!std::is_convertible_v<std::string, Secret>, "a Secret is made on purpose");

CredentialSources sources(std::map<std::string, std::string, std::less<>> env,
                          std::string credentials = {}, std::string config = {}) {
    CredentialSources s;
    s.env = env_from_map(std::move(env));
    s.credentials_text = std::move(credentials);
    s.config_text = std::move(config);
    return s;
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

} // namespace

TEST_CASE("credentials: parse_ini") {
    const auto ini = parse_ini("# leading comment\n"
                               "top = ignored before any section\n"
                               "[default]\n"
                               "aws_access_key_id = AKIDDEFAULT\n"
                               "  ; indented comment\n"
                               "AWS_Secret_Access_Key=secret/with+chars\r\n"
                               "region: eu-west-1\n"
                               "note = has # no inline comments\n"
                               "\n"
                               "[ profile  work ]  ; trailing comment\n"
                               "s3 =\n"
                               "  addressing_style = path\n"
                               "  max_concurrent_requests = 20\n"
                               "output = json\n"
                               "[broken\n"
                               "lost = yes\n"
                               "[default]\n"
                               "region = us-east-2\n");
    REQUIRE(ini.count("default") == 1);
    const auto& d = ini.at("default");
    CHECK(d.at("aws_access_key_id") == "AKIDDEFAULT");
    CHECK(d.at("aws_secret_access_key") == "secret/with+chars");
    CHECK(d.at("region") == "us-east-2"); // a repeated section: the last value wins
    CHECK(d.at("note") == "has # no inline comments");
    CHECK(d.count("top") == 0);
    REQUIRE(ini.count("profile  work") == 1);
    const auto& w = ini.at("profile  work");
    CHECK(w.at("s3.addressing_style") == "path");
    CHECK(w.at("s3.max_concurrent_requests") == "20");
    CHECK(w.at("output") == "json");
    CHECK(ini.size() == 2);
    CHECK(parse_ini("").empty());
    CHECK(parse_ini("[a]\nkey value without delimiter\n= novalue\n").at("a").empty());
}

TEST_CASE("credentials: the environment comes first") {
    const auto r =
        resolve_credentials(sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                     {"AWS_SECRET_ACCESS_KEY", kSecret},
                                     {"AWS_SESSION_TOKEN", "TOKEN"},
                                     {"AWS_PROFILE", "work"}},
                                    "[work]\naws_access_key_id=A\naws_secret_access_key=B\n"));
    REQUIRE(r.ok());
    CHECK(r->access_key == "AKIDENV");
    CHECK(r->secret_key.reveal() == kSecret);
    CHECK(r->session_token.reveal() == "TOKEN");
    CHECK(r->source() == "environment");

    // The older token name still works.
    const auto legacy = resolve_credentials(sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                     {"AWS_SECRET_ACCESS_KEY", kSecret},
                                                     {"AWS_SECURITY_TOKEN", "OLD"}}));
    REQUIRE(legacy);
    CHECK(legacy->session_token.reveal() == "OLD");
}

TEST_CASE("credentials: half-set environment is an error, not a fallthrough") {
    auto r =
        resolve_credentials(sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"}},
                                    "[default]\naws_access_key_id=A\naws_secret_access_key=B\n"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    r = resolve_credentials(sources({{"AWS_SECRET_ACCESS_KEY", kSecret}}));
    REQUIRE_FALSE(r);
    CHECK(r.error() == "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    CHECK_FALSE(contains(r.error(), kSecret));
    // Empty values count as unset.
    r = resolve_credentials(sources({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}},
                                    "[default]\naws_access_key_id=A\naws_secret_access_key=B\n"));
    REQUIRE(r);
    CHECK(r->source() == "profile default in ~/.aws/credentials");
}

TEST_CASE("credentials: profiles in the credentials file") {
    const std::string file = "[default]\n"
                             "aws_access_key_id = AKIDDEFAULT\n"
                             "aws_secret_access_key = SECRETDEFAULT\n"
                             "[work]\n"
                             "aws_access_key_id = AKIDWORK\n"
                             "aws_secret_access_key = SECRETWORK\n"
                             "aws_session_token = TOKENWORK\n";
    auto r = resolve_credentials(sources({}, file));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDDEFAULT");
    CHECK(r->session_token.empty());
    CHECK(r->source() == "profile default in ~/.aws/credentials");

    r = resolve_credentials(sources({{"AWS_PROFILE", "work"}}, file));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDWORK");
    CHECK(r->secret_key.reveal() == "SECRETWORK");
    CHECK(r->session_token.reveal() == "TOKENWORK");
    CHECK(r->source() == "profile work in ~/.aws/credentials");

    // An explicit --profile beats credentials in the environment.
    auto s = sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "S"}}, file);
    s.explicit_profile = "work";
    r = resolve_credentials(s);
    REQUIRE(r);
    CHECK(r->access_key == "AKIDWORK");

    r = resolve_credentials(sources({{"AWS_DEFAULT_PROFILE", "work"}}, file));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDWORK");

    r = resolve_credentials(sources({{"AWS_PROFILE", "nope"}}, file));
    REQUIRE_FALSE(r);
    CHECK(r.error() == "profile 'nope' not found in ~/.aws/credentials or ~/.aws/config");
}

TEST_CASE("credentials: profiles in the config file") {
    const std::string config = "[default]\n"
                               "region = eu-west-1\n"
                               "aws_access_key_id = AKIDCFGDEFAULT\n"
                               "aws_secret_access_key = S1\n"
                               "[profile ceph]\n"
                               "region = default\n"
                               "aws_access_key_id = AKIDCEPH\n"
                               "aws_secret_access_key = S2\n"
                               "[ceph]\n"
                               "aws_access_key_id = WRONG\n"
                               "aws_secret_access_key = WRONG\n"
                               "[profile sso]\n"
                               "sso_session = corp\n"
                               "region = us-west-2\n";
    auto r = resolve_credentials(sources({}, "", config));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDCFGDEFAULT");
    CHECK(r->source() == "profile default in ~/.aws/config");

    r = resolve_credentials(sources({{"AWS_PROFILE", "ceph"}}, "", config));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDCEPH"); // [ceph] without "profile " is not it
    CHECK(r->source() == "profile ceph in ~/.aws/config");

    // The credentials file wins over the config file for the same profile.
    r = resolve_credentials(
        sources({{"AWS_PROFILE", "ceph"}},
                "[ceph]\naws_access_key_id = AKIDFROMCREDS\naws_secret_access_key = S\n", config));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDFROMCREDS");

    r = resolve_credentials(sources({{"AWS_PROFILE", "sso"}}, "", config));
    REQUIRE_FALSE(r);
    // Static keys only here: the SSO refusal is the chain's (test_credentials_chain.cpp).
    CHECK(contains(r.error(), "profile 'sso' has no aws_access_key_id"));

    // Region: environment, then the profile.
    CHECK(resolve_region(sources({}, "", config)) == "eu-west-1");
    CHECK(resolve_region(sources({{"AWS_PROFILE", "ceph"}}, "", config)) == "default");
    CHECK(resolve_region(sources({{"AWS_PROFILE", "sso"}}, "", config)) == "us-west-2");
    CHECK(resolve_region(sources({{"AWS_DEFAULT_REGION", "ap-south-1"}}, "", config)) ==
          "ap-south-1");
    CHECK(resolve_region(sources({{"AWS_REGION", "sa-east-1"}, {"AWS_DEFAULT_REGION", "x"}}, "",
                                 config)) == "sa-east-1");
    CHECK_FALSE(resolve_region(sources({}, "", "")));
    CHECK(resolve_region(sources({}, "", "[profile default]\nregion = ca-central-1\n")) ==
          "ca-central-1");
}

TEST_CASE("credentials: clear errors, no secrets in them") {
    auto r = resolve_credentials(sources({}));
    REQUIRE_FALSE(r);
    CHECK(contains(r.error(), "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));

    r = resolve_credentials(sources({}, "[default]\naws_access_key_id = AKID\n"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == "profile 'default' in ~/.aws/credentials has aws_access_key_id but no "
                       "aws_secret_access_key");

    r = resolve_credentials(
        sources({}, std::string("[default]\naws_secret_access_key = ") + kSecret + "\n"));
    REQUIRE_FALSE(r);
    CHECK(contains(r.error(), "has aws_secret_access_key but no aws_access_key_id"));
    CHECK_FALSE(contains(r.error(), kSecret));

    r = resolve_credentials(sources({}, "[default]\nregion = x\n"));
    REQUIRE_FALSE(r);
    CHECK(contains(r.error(), "profile 'default' has no aws_access_key_id"));

    auto s = sources({});
    s.credentials_display = "/etc/imgsync/aws-credentials";
    r = resolve_credentials(s);
    CHECK(contains(r.error(), "/etc/imgsync/aws-credentials"));
}

TEST_CASE("credentials: imgsync's config file, labelled as such") {
    constexpr const char* conf = "/etc/imgsync/imgsync.conf";
    auto with_file = [&](std::map<std::string, std::string, std::less<>> env,
                         std::optional<std::string> key, std::optional<std::string> secret,
                         std::optional<std::string> token = std::nullopt) {
        auto s = sources(std::move(env),
                         "[default]\naws_access_key_id=AKIDPROFILE\naws_secret_access_key=P\n");
        s.config_file = {std::move(key), std::move(secret), std::move(token), conf};
        return s;
    };
    const CredentialSource file{CredentialOrigin::config_file, conf, {}};
    const CredentialSource env{CredentialOrigin::environment, {}, {}};

    auto r = resolve_credentials(with_file({}, "AKIDFILE", kSecret));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDFILE");
    CHECK(r->secret_key.reveal() == kSecret);
    CHECK(r->access_key_from == file);
    CHECK(r->secret_key_from == file);
    CHECK(r->source() == "config file /etc/imgsync/imgsync.conf");
    CHECK_FALSE(contains(r->source(), kSecret));

    // A token in the file too: still one source.
    r = resolve_credentials(with_file({}, "AKIDFILE", "S", "FILETOKEN"));
    REQUIRE(r);
    CHECK(r->session_token.reveal() == "FILETOKEN");
    CHECK(r->source() == "config file /etc/imgsync/imgsync.conf");

    // Each key of the file yields to its variable; then every part says where it came from.
    r = resolve_credentials(
        with_file({{"AWS_SECRET_ACCESS_KEY", kSecret}, {"AWS_SESSION_TOKEN", "ENVTOKEN"}},
                  "AKIDFILE", std::nullopt));
    REQUIRE(r);
    CHECK(r->access_key_from == file);
    CHECK(r->secret_key_from == env);
    CHECK(r->session_token_from == env);
    CHECK(r->source() ==
          "access key id from config file /etc/imgsync/imgsync.conf, secret access key from "
          "environment, session token from environment");
    r = resolve_credentials(with_file({{"AWS_SESSION_TOKEN", "ENVTOKEN"}}, "AKIDFILE", "S"));
    REQUIRE(r);
    CHECK(r->source() == "access key id and secret access key from config file "
                         "/etc/imgsync/imgsync.conf, session token from environment");

    // AWS_ACCESS_KEY_ID in the environment: the file's keys are not read at all.
    r = resolve_credentials(
        with_file({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "E"}}, "AKIDFILE",
                  "S", "FILETOKEN"));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDENV");
    CHECK(r->session_token.empty());
    CHECK(r->source() == "environment");

    // An explicit profile beats the file as it beats the environment.
    auto s = with_file({}, "AKIDFILE", "S");
    s.explicit_profile = "default";
    r = resolve_credentials(s);
    REQUIRE(r);
    CHECK(r->access_key == "AKIDPROFILE");
    CHECK(r->access_key_from.origin == CredentialOrigin::shared_credentials);
    CHECK(r->access_key_from.profile == "default");
    CHECK(r->source() == "profile default in ~/.aws/credentials");

    // Nothing in the file: on to the profiles.
    r = resolve_credentials(with_file({}, std::nullopt, std::nullopt, "LONETOKEN"));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDPROFILE");
    r = resolve_credentials(with_file({}, std::string(), std::string()));
    REQUIRE(r);
    CHECK(r->access_key == "AKIDPROFILE");
}

TEST_CASE("credentials: errors name the file a half-set pair is in") {
    auto s = sources({});
    s.config_file = {"AKIDFILE", std::nullopt, std::nullopt, "/etc/imgsync/imgsync.conf"};
    auto r = resolve_credentials(s);
    REQUIRE_FALSE(r);
    CHECK(r.error() == "access key id in /etc/imgsync/imgsync.conf but no secret access key: add "
                       "aws_secret_access_key there, or set AWS_SECRET_ACCESS_KEY");

    s.config_file = {std::nullopt, kSecret, std::nullopt, "/srv/imgsync.conf"};
    r = resolve_credentials(s);
    REQUIRE_FALSE(r);
    CHECK(r.error() == "secret access key in /srv/imgsync.conf but no access key id: add "
                       "aws_access_key_id there, or set AWS_ACCESS_KEY_ID");
    CHECK_FALSE(contains(r.error(), kSecret));

    // The environment's half pair is still the environment's.
    s = sources({{"AWS_SECRET_ACCESS_KEY", kSecret}});
    r = resolve_credentials(s);
    CHECK(r.error() == "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
}

TEST_CASE("credentials: sources by kind") {
    CHECK(std::string(origin_name(CredentialOrigin::environment)) == "environment");
    CHECK(std::string(origin_name(CredentialOrigin::config_file)) == "config_file");
    CHECK(std::string(origin_name(CredentialOrigin::shared_credentials)) == "shared_credentials");
    CHECK(std::string(origin_name(CredentialOrigin::shared_config)) == "shared_config");
    CHECK(CredentialSource{}.describe() == "environment");
    CHECK(CredentialSource{CredentialOrigin::shared_config, "/h/.aws/config", "ceph"}.describe() ==
          "profile ceph in /h/.aws/config");
    auto r = resolve_credentials(sources({}, "",
                                         "[default]\naws_access_key_id=A\n"
                                         "aws_secret_access_key=B\naws_session_token=T\n"));
    REQUIRE(r);
    CHECK(r->session_token_from.origin == CredentialOrigin::shared_config);
    CHECK(r->source() == "profile default in ~/.aws/config");
}

TEST_CASE("credentials: shared file locations") {
    auto env = env_from_map({{"HOME", "/home/ann"}});
    CHECK(credentials_file_path(env) == "/home/ann/.aws/credentials");
    CHECK(config_file_path(env) == "/home/ann/.aws/config");
    env = env_from_map({{"HOME", "/home/ann/"},
                        {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"},
                        {"AWS_CONFIG_FILE", "/etc/aws/config"}});
    CHECK(credentials_file_path(env) == "/home/ann/creds");
    CHECK(config_file_path(env) == "/etc/aws/config");
    env = env_from_map({});
    CHECK_FALSE(credentials_file_path(env));
    CHECK_FALSE(config_file_path(env));
}

TEST_CASE("credentials: Secret copies, moves and wipes") {
    Secret a("s3cr3t");
    Secret b = a;
    CHECK(b.reveal() == "s3cr3t");
    Secret c = std::move(a);
    CHECK(c.reveal() == "s3cr3t");
    CHECK(a.empty()); // NOLINT(bugprone-use-after-move): moved-from is documented as empty
    b = Secret("other");
    CHECK(b.reveal() == "other");
    b = c;
    CHECK(b.reveal() == "s3cr3t");
    CHECK(Secret().empty());
}

TEST_SUITE_END();
