// The credential chain's decisions: which source applies, in the AWS CLI's order, and every
// refusal. Pure: the environment and the files are given, nothing is fetched.
#include "s3/credential_chain.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("credentials");

namespace {

using Env = std::map<std::string, std::string, std::less<>>;

CredentialSources sources(Env env, std::string credentials = {}, std::string config = {}) {
    CredentialSources s;
    s.env = env_from_map(std::move(env));
    s.credentials_text = std::move(credentials);
    s.config_text = std::move(config);
    return s;
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

CredentialPlan plan_of(const CredentialSources& s) {
    auto r = plan_credentials(s);
    INFO(r.error());
    REQUIRE(r);
    return *r;
}

std::string error_of(const CredentialSources& s) {
    auto r = plan_credentials(s);
    REQUIRE_FALSE(r);
    return r.error();
}

const Env kNoImds{{"AWS_EC2_METADATA_DISABLED", "true"}};

Env with(Env base, Env more) {
    for (auto& [k, v] : more) {
        base[k] = v;
    }
    return base;
}

const char* kBase = "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = SBASE\n";

} // namespace

TEST_CASE("chain: environment keys come first, unless a profile is named explicitly") {
    const std::string config = "[default]\nrole_arn = arn:aws:iam::1:role/r\n"
                               "credential_source = Environment\n";
    auto p = plan_of(
        sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "S"}}, "", config));
    REQUIRE(p.is_static());
    CHECK(p.steps[0].keys->access_key == "AKIDENV");
    CHECK(p.describe() == "environment");

    auto s = sources({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "S"}}, "",
                     "[profile p]\nrole_arn = arn:aws:iam::1:role/r\n"
                     "credential_source = Environment\n");
    s.explicit_profile = "p";
    p = plan_of(s);
    REQUIRE(p.steps.size() == 2);
    CHECK(p.steps[0].kind == StepKind::static_keys);
    CHECK(p.steps[0].keys->access_key == "AKIDENV"); // credential_source = Environment
    CHECK(p.steps[1].kind == StepKind::assume_role);
    CHECK(p.describe() == "assume-role arn:aws:iam::1:role/r via profile p (source: environment)");
}

TEST_CASE("chain: role_arn with source_profile, chained, with its parameters") {
    const std::string config = "[profile top]\nrole_arn = arn:aws:iam::1:role/top\n"
                               "source_profile = mid\nexternal_id = ext-1\n"
                               "role_session_name = nightly\nduration_seconds = 900\n"
                               "region = eu-west-1\n"
                               "[profile mid]\nrole_arn = arn:aws:iam::2:role/mid\n"
                               "source_profile = base\n";
    auto p = plan_of(sources(with(kNoImds, {{"AWS_PROFILE", "top"}}), kBase, config));
    REQUIRE(p.steps.size() == 3);
    CHECK(p.steps[0].kind == StepKind::static_keys);
    CHECK(p.steps[0].keys->access_key == "AKIDBASE");
    CHECK(p.steps[1].role.role_arn == "arn:aws:iam::2:role/mid");
    CHECK(p.steps[2].role.role_arn == "arn:aws:iam::1:role/top");
    CHECK(p.steps[2].role.external_id == "ext-1");
    CHECK(p.steps[2].role.session_name == "nightly");
    CHECK(p.steps[2].role.duration_seconds == 900);
    // The selected profile's region picks the regional STS endpoint.
    CHECK(p.steps[2].sts.host == "sts.eu-west-1.amazonaws.com");
    CHECK(p.steps[2].sts.region == "eu-west-1");
    CHECK(p.describe() == "assume-role arn:aws:iam::1:role/top via profile top (source: "
                          "assume-role arn:aws:iam::2:role/mid via profile mid (source: profile "
                          "base in ~/.aws/credentials))");
    CHECK(p.none_found.empty());

    // A profile may be its own source: its static keys assume its role.
    p = plan_of(sources({{"AWS_PROFILE", "self"}},
                        "[self]\naws_access_key_id = A\naws_secret_access_key = S\n"
                        "role_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"));
    REQUIRE(p.steps.size() == 2);
    CHECK(p.steps[0].keys->access_key == "A");
}

TEST_CASE("chain: role_arn refusals") {
    const Env top{{"AWS_PROFILE", "a"}};
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\nsource_profile = b\n"
                                    "[profile b]\nrole_arn = arn:y\nsource_profile = a\n")),
                   "source_profile loop: a -> b -> a"));
    CHECK(contains(error_of(sources(top, "", "[profile a]\nrole_arn = arn:x\n")),
                   "has role_arn but neither source_profile nor credential_source"));
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\nsource_profile = b\n"
                                    "credential_source = Environment\n")),
                   "both source_profile and credential_source"));
    CHECK(
        contains(error_of(sources(top, "", "[profile a]\nrole_arn = arn:x\nsource_profile = b\n")),
                 "profile 'b' (source_profile of 'a') not found"));
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\nsource_profile = b\n"
                                    "[profile b]\nregion = x\n")),
                   "profile 'b' (source_profile of 'a') has no credentials"));
    const std::string mfa =
        error_of(sources(top, kBase,
                         "[profile a]\nrole_arn = arn:x\nsource_profile = base\n"
                         "mfa_serial = arn:aws:iam::1:mfa/ann\n"));
    CHECK(contains(mfa, "mfa_serial"));
    CHECK(contains(mfa, "needs a person at a terminal"));
    CHECK(contains(error_of(sources(top, kBase,
                                    "[profile a]\nrole_arn = arn:x\nsource_profile = base\n"
                                    "duration_seconds = 60\n")),
                   "duration_seconds must be a number of seconds from 900 to 43200, not 60"));
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\n"
                                    "credential_source = Ec2InstanceMetadata\n"
                                    "sts_regional_endpoints = sometimes\n")),
                   "sts_regional_endpoints must be regional or legacy"));
    CHECK(contains(error_of(sources(top, "", "[profile a]\ncredential_source = Environment\n")),
                   "has credential_source but no role_arn"));
    CHECK(contains(
        error_of(sources(top, "", "[profile a]\nrole_arn = arn:x\ncredential_source = Bogus\n")),
        "it must be Environment, Ec2InstanceMetadata or EcsContainer"));
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\n"
                                    "credential_source = Environment\n")),
                   "credential_source = Environment, but AWS_ACCESS_KEY_ID is not set"));
    CHECK(contains(error_of(sources(with(kNoImds, top), "",
                                    "[profile a]\nrole_arn = arn:x\n"
                                    "credential_source = Ec2InstanceMetadata\n")),
                   "AWS_EC2_METADATA_DISABLED is true"));
    CHECK(contains(error_of(sources(top, "",
                                    "[profile a]\nrole_arn = arn:x\n"
                                    "credential_source = EcsContainer\n")),
                   "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
}

TEST_CASE("chain: credential_source EcsContainer and Ec2InstanceMetadata") {
    auto p = plan_of(sources(
        {{"AWS_PROFILE", "a"}, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, "",
        "[profile a]\nrole_arn = arn:x\ncredential_source = EcsContainer\n"));
    REQUIRE(p.steps.size() == 2);
    CHECK(p.steps[0].kind == StepKind::container);
    CHECK(p.steps[0].url == "http://169.254.170.2/v2/credentials/x");
    p = plan_of(sources(
        {{"AWS_PROFILE", "a"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"}}, "",
        "[profile a]\nrole_arn = arn:x\ncredential_source = Ec2InstanceMetadata\n"));
    REQUIRE(p.steps.size() == 2);
    CHECK(p.steps[0].kind == StepKind::instance_metadata);
    CHECK(p.steps[0].url == "http://127.0.0.1:9");
    CHECK(p.describe() == "assume-role arn:x via profile a (source: instance metadata)");
}

TEST_CASE("chain: web identity, from the environment and from a profile") {
    auto p = plan_of(sources({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
                              {"AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"},
                              {"AWS_ROLE_SESSION_NAME", "pod-7"},
                              {"AWS_REGION", "us-west-2"}},
                             kBase));
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].kind == StepKind::web_identity);
    CHECK(p.steps[0].token_file == "/var/run/token");
    CHECK(p.steps[0].role.session_name == "pod-7");
    CHECK(p.steps[0].sts.host == "sts.us-west-2.amazonaws.com");
    CHECK(p.describe() == "web identity arn:aws:iam::1:role/pod (AWS_WEB_IDENTITY_TOKEN_FILE)");
    CHECK(contains(error_of(sources({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"}})),
                   "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"));

    p = plan_of(sources({{"AWS_PROFILE", "w"}, {"AWS_STS_REGIONAL_ENDPOINTS", "legacy"}}, "",
                        "[profile w]\nweb_identity_token_file = /t\nrole_arn = arn:w\n"
                        "region = eu-central-1\n"));
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].kind == StepKind::web_identity);
    CHECK(p.steps[0].sts.host == "sts.amazonaws.com"); // legacy: the global endpoint
    CHECK(p.steps[0].sts.region == "us-east-1");
    CHECK(p.describe() == "web identity arn:w via profile w");
    CHECK(contains(error_of(sources({{"AWS_PROFILE", "w"}}, "",
                                    "[profile w]\nweb_identity_token_file = /t\n")),
                   "has web_identity_token_file but no role_arn"));
}

TEST_CASE("chain: static keys of the profile, then credential_process, then SSO refused") {
    auto p = plan_of(sources({}, "[default]\naws_access_key_id = A\naws_secret_access_key = S\n",
                             "[default]\ncredential_process = /bin/helper --x\n"));
    REQUIRE(p.is_static());
    p = plan_of(
        sources({}, "", "[default]\ncredential_process = /usr/bin/helper 'a b' \"c\\\"d\"\n"));
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].kind == StepKind::process);
    CHECK(p.steps[0].argv == std::vector<std::string>{"/usr/bin/helper", "a b", "c\"d"});
    CHECK(p.describe() == "credential_process of profile default");
    CHECK(contains(error_of(sources({}, "", "[default]\ncredential_process = 'oops\n")),
                   "unterminated single quote"));
    const std::string sso = error_of(sources({{"AWS_PROFILE", "corp"}}, "",
                                             "[profile corp]\nsso_session = corp\n"
                                             "sso_account_id = 1\n"));
    CHECK(contains(sso, "aws configure export-credentials --profile corp --format process"));
    CHECK(contains(sso, "credential_process"));
}

TEST_CASE("chain: containers, then the instance metadata service, last") {
    auto p = plan_of(sources({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/c"},
                              {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/run/tok"}}));
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].kind == StepKind::container);
    CHECK(p.steps[0].auth_token_file == "/run/tok");
    CHECK(p.describe() ==
          "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, host 127.0.0.1:8080)");

    p = plan_of(sources({}, "[default]\nregion = x\n"));
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].kind == StepKind::instance_metadata);
    CHECK(p.steps[0].url == "http://169.254.169.254");
    // What to say if it does not answer:
    CHECK(contains(p.none_found, "profile 'default' has no aws_access_key_id"));
    p = plan_of(sources({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}}));
    CHECK(p.steps[0].url == "http://[fd00:ec2::254]");

    // Disabled: the old "no credentials" message.
    CHECK(contains(error_of(sources(kNoImds)), "no credentials: set AWS_ACCESS_KEY_ID"));
    // A named profile that does not exist is not a reason to ask the instance.
    CHECK(contains(error_of(sources({{"AWS_PROFILE", "nope"}})), "profile 'nope' not found"));
}

TEST_CASE("chain: which hosts a full container URI may name") {
    auto url = [](std::string full) {
        return container_url(env_from_map({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full}}));
    };
    for (const char* ok :
         {"http://127.0.0.1/x", "http://127.1.2.3:80/x", "http://localhost:9/", "http://[::1]:9/x",
          "http://169.254.170.2/v2", "http://169.254.170.23/v1", "http://[fd00:ec2::23]/v1",
          "https://creds.example.com/x"}) {
        INFO(ok);
        auto r = url(ok);
        REQUIRE(r);
        CHECK(*r);
    }
    for (const char* bad : {"http://10.0.0.1/x", "http://example.com/x", "http://127.0.0.1.evil/x",
                            "http://169.254.169.254/x", "ftp://127.0.0.1/x", "127.0.0.1/x",
                            "http://user@127.0.0.1/x", "http://128.0.0.1/"}) {
        INFO(bad);
        auto r = url(bad);
        REQUIRE(r);
        CHECK_FALSE(*r);
    }
    CHECK(contains(url("http://10.0.0.1/x")->error(), "use https for another host"));
    CHECK_FALSE(container_url(env_from_map({})));
    auto rel = container_url(env_from_map({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2"}}));
    REQUIRE(rel);
    CHECK_FALSE(*rel);
}

TEST_CASE("chain: split_command") {
    CHECK(*split_command("a  b\tc") == std::vector<std::string>{"a", "b", "c"});
    CHECK(*split_command("a\\ b 'c d' \"e\\\\f\"") ==
          std::vector<std::string>{"a b", "c d", "e\\f"});
    CHECK(*split_command("x''y") == std::vector<std::string>{"xy"});
    CHECK_FALSE(split_command("   "));
    CHECK_FALSE(split_command("a \"b"));
    CHECK_FALSE(split_command("a\\"));
}

TEST_CASE("chain: refresh time, with the clock a parameter") {
    // An hour's credentials: five minutes before they expire.
    CHECK(refresh_time(1000, 1000 + 3600) == 1000 + 3600 - 300);
    // Ten minutes' credentials: halfway.
    CHECK(refresh_time(1000, 1600) == 1300);
    // Already (nearly) expired: a second later at the earliest, never in the past.
    CHECK(refresh_time(1000, 1001) == 1001);
    CHECK(refresh_time(1000, 900) == 1001);
}

TEST_CASE("chain: STS endpoints") {
    auto e = sts_endpoint("", "", "");
    REQUIRE(e);
    CHECK(e->url() == "https://sts.amazonaws.com/");
    CHECK(e->region == "us-east-1");
    e = sts_endpoint("cn-north-1", "regional", "");
    REQUIRE(e);
    CHECK(e->host == "sts.cn-north-1.amazonaws.com.cn");
    e = sts_endpoint("us-east-1", "", "http://127.0.0.1:7480");
    REQUIRE(e);
    CHECK(e->url() == "http://127.0.0.1:7480/");
    CHECK(e->region == "us-east-1");
    e = sts_endpoint("", "", "https://sts.lan:443/base");
    REQUIRE(e);
    CHECK(e->host == "sts.lan");
    CHECK(e->path == "/base");
    CHECK_FALSE(sts_endpoint("", "", "sts.lan"));
    CHECK_FALSE(sts_endpoint("", "", "http://u@sts.lan/"));
    CHECK_FALSE(sts_endpoint("", "bogus", ""));
}
