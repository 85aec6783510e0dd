#include "s3/credential_chain.hpp"

#include "util/strings.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace imgsync::s3 {

namespace {

std::string value_of(const IniSection& section, std::string_view key) {
    const auto it = section.find(std::string(key));
    return it == section.end() ? std::string() : it->second;
}

bool has(const IniSection& section, std::string_view key) {
    return !value_of(section, key).empty();
}

// The shared files, and a profile as botocore sees it: the config file's section with the
// credentials file's keys over it.
struct Profiles {
    const CredentialSources& sources;
    IniFile credentials = parse_ini(sources.credentials_text);
    IniFile config = parse_ini(sources.config_text);

    std::optional<IniSection> merged(std::string_view name) const {
        const IniSection* in_config = find_config_profile(config, name);
        const IniSection* in_credentials = find_credentials_profile(credentials, name);
        if (in_config == nullptr && in_credentials == nullptr) {
            return std::nullopt;
        }
        IniSection out;
        if (in_config != nullptr) {
            out = *in_config;
        }
        if (in_credentials != nullptr) {
            for (const auto& [k, v] : *in_credentials) {
                out[k] = v;
            }
        }
        return out;
    }
    std::string files() const {
        return sources.credentials_display + " or " + sources.config_display;
    }
};

std::string quoted(std::string_view profile) {
    return "'" + util::printable(profile) + "'";
}

bool has_static_keys(const IniSection& s) {
    return has(s, "aws_access_key_id") || has(s, "aws_secret_access_key");
}

bool has_sso(const IniSection& s) {
    for (const auto& [k, v] : s) {
        if (k.rfind("sso_", 0) == 0 && !v.empty()) {
            return true;
        }
    }
    return false;
}

// The static keys of one profile, whatever the environment holds.
util::Result<CredentialStep> profile_keys(const CredentialSources& sources,
                                          const std::string& profile) {
    CredentialSources only = sources;
    only.explicit_profile = profile;
    auto r = resolve_credentials(only);
    if (!r) {
        return util::fail(r.error());
    }
    CredentialStep step;
    step.kind = StepKind::static_keys;
    step.profile = profile;
    step.keys = std::move(r).value();
    return step;
}

util::Result<CredentialStep> process_step(const IniSection& s, const std::string& profile) {
    CredentialStep step;
    step.kind = StepKind::process;
    step.profile = profile;
    step.command = value_of(s, "credential_process");
    auto argv = split_command(step.command);
    if (!argv) {
        return util::fail("credential_process of profile " + quoted(profile) + ": " + argv.error());
    }
    step.argv = std::move(*argv);
    return step;
}

std::string imds_base(const EnvLookup& env) {
    if (auto e = get_env(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
        std::string url = *e;
        while (!url.empty() && url.back() == '/') {
            url.pop_back();
        }
        return url;
    }
    if (auto mode = get_env(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        mode && util::iequals(*mode, "ipv6")) {
        return "http://[fd00:ec2::254]";
    }
    return "http://169.254.169.254";
}

bool imds_disabled(const EnvLookup& env) {
    auto v = get_env(env, "AWS_EC2_METADATA_DISABLED");
    return v && util::iequals(*v, "true");
}

CredentialStep instance_step(const EnvLookup& env) {
    CredentialStep step;
    step.kind = StepKind::instance_metadata;
    step.url = imds_base(env);
    return step;
}

util::Result<CredentialStep> container_step(const EnvLookup& env) {
    auto url = container_url(env);
    if (!url) {
        return util::fail(
            "no container credentials: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
            "nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
    }
    if (!*url) {
        return util::fail(url->error());
    }
    CredentialStep step;
    step.kind = StepKind::container;
    step.url = **url;
    step.url_variable = get_env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                            ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                            : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    if (auto file = get_env(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
        step.auth_token_file = *file;
    } else if (auto token = get_env(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        if (token->find_first_of("\r\n") != std::string::npos) {
            return util::fail("AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break");
        }
        step.auth_token = Secret(*token);
    }
    return step;
}

util::Result<StsEndpoint> sts_for(const CredentialSources& sources, const IniSection& section) {
    std::string setting = get_env(sources.env, "AWS_STS_REGIONAL_ENDPOINTS").value_or("");
    if (setting.empty()) {
        setting = value_of(section, "sts_regional_endpoints");
    }
    std::string url = get_env(sources.env, "AWS_ENDPOINT_URL_STS").value_or("");
    if (url.empty()) {
        url = get_env(sources.env, "AWS_ENDPOINT_URL").value_or("");
    }
    return sts_endpoint(resolve_region(sources).value_or(""), setting, url);
}

util::Result<AssumeRoleParams> role_params(const IniSection& s, const std::string& profile) {
    AssumeRoleParams p;
    p.role_arn = value_of(s, "role_arn");
    p.session_name = value_of(s, "role_session_name");
    p.external_id = value_of(s, "external_id");
    const std::string duration = value_of(s, "duration_seconds");
    if (!duration.empty()) {
        int v = 0;
        const auto [end, ec] =
            std::from_chars(duration.data(), duration.data() + duration.size(), v);
        if (ec != std::errc() || end != duration.data() + duration.size() || v < 900 || v > 43200) {
            return util::fail("profile " + quoted(profile) +
                              ": duration_seconds must be a number of seconds from 900 to "
                              "43200, not " +
                              util::printable(duration));
        }
        p.duration_seconds = v;
    }
    return p;
}

util::Result<CredentialStep> web_identity_step(const CredentialSources& sources,
                                               const IniSection& s, const std::string& profile,
                                               bool from_env) {
    CredentialStep step;
    step.kind = StepKind::web_identity;
    if (from_env) {
        step.token_file = get_env(sources.env, "AWS_WEB_IDENTITY_TOKEN_FILE").value_or("");
        step.role.role_arn = get_env(sources.env, "AWS_ROLE_ARN").value_or("");
        step.role.session_name = get_env(sources.env, "AWS_ROLE_SESSION_NAME").value_or("");
        if (step.role.role_arn.empty()) {
            return util::fail("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
        }
    } else {
        step.profile = profile;
        step.token_file = value_of(s, "web_identity_token_file");
        auto params = role_params(s, profile);
        if (!params) {
            return util::fail(params.error());
        }
        step.role = std::move(*params);
        step.role.external_id.clear(); // AssumeRoleWithWebIdentity has none
        if (step.role.role_arn.empty()) {
            return util::fail("profile " + quoted(profile) +
                              " has web_identity_token_file but no role_arn");
        }
    }
    auto sts = sts_for(sources, s);
    if (!sts) {
        return util::fail(sts.error());
    }
    step.sts = std::move(*sts);
    return step;
}

util::Result<CredentialStep> credential_source_step(const CredentialSources& sources,
                                                    const std::string& value,
                                                    const std::string& profile) {
    const std::string where =
        "profile " + quoted(profile) + " has credential_source = " + util::printable(value);
    if (value == "Environment") {
        if (!get_env(sources.env, "AWS_ACCESS_KEY_ID")) {
            return util::fail(where + ", but AWS_ACCESS_KEY_ID is not set");
        }
        CredentialSources env_only;
        env_only.env = sources.env;
        auto r = resolve_credentials(env_only);
        if (!r) {
            return util::fail(r.error());
        }
        CredentialStep step;
        step.keys = std::move(r).value();
        return step;
    }
    if (value == "Ec2InstanceMetadata") {
        if (imds_disabled(sources.env)) {
            return util::fail(where + ", but AWS_EC2_METADATA_DISABLED is true");
        }
        return instance_step(sources.env);
    }
    if (value == "EcsContainer") {
        auto step = container_step(sources.env);
        if (!step) {
            return util::fail(where + ": " + step.error());
        }
        return step;
    }
    return util::fail(where + "; it must be Environment, Ec2InstanceMetadata or EcsContainer");
}

// A profile that must yield credentials: the selected one with role_arn, or a source_profile.
util::Result<void> plan_profile(const Profiles& p, const std::string& name,
                                std::vector<std::string>& visited, CredentialPlan& plan) {
    const auto section = p.merged(name);
    if (!section) {
        return util::fail("profile " + quoted(name) + " (source_profile of " +
                          quoted(visited.empty() ? name : visited.back()) + ") not found in " +
                          p.files());
    }
    if (std::find(visited.begin(), visited.end(), name) != visited.end()) {
        std::string loop;
        for (const auto& v : visited) {
            loop += util::printable(v) + " -> ";
        }
        return util::fail("source_profile loop: " + loop + util::printable(name));
    }
    visited.push_back(name);
    const IniSection& s = *section;
    if (!has(s, "role_arn")) {
        // A source profile without a role: it must hold credentials itself.
        if (has_static_keys(s)) {
            auto step = profile_keys(p.sources, name);
            if (!step) {
                return util::fail(step.error());
            }
            plan.steps.push_back(std::move(*step));
            return {};
        }
        if (has(s, "credential_process")) {
            auto step = process_step(s, name);
            if (!step) {
                return util::fail(step.error());
            }
            plan.steps.push_back(std::move(*step));
            return {};
        }
        if (has(s, "web_identity_token_file")) {
            return util::fail("profile " + quoted(name) +
                              " has web_identity_token_file but no role_arn");
        }
        return util::fail("profile " + quoted(name) + " (source_profile of " +
                          quoted(visited.size() > 1 ? visited[visited.size() - 2] : name) +
                          ") has no credentials: give it aws_access_key_id and "
                          "aws_secret_access_key, credential_process or role_arn");
    }
    if (has(s, "mfa_serial")) {
        return util::fail("profile " + quoted(name) +
                          " has mfa_serial: an MFA code needs a person at a terminal, which an "
                          "unattended upload does not have; use a role without MFA, or "
                          "credential_process");
    }
    if (has(s, "web_identity_token_file")) {
        auto step = web_identity_step(p.sources, s, name, false);
        if (!step) {
            return util::fail(step.error());
        }
        plan.steps.push_back(std::move(*step));
        return {};
    }
    const std::string source_profile = value_of(s, "source_profile");
    const std::string credential_source = value_of(s, "credential_source");
    if (!source_profile.empty() && !credential_source.empty()) {
        return util::fail("profile " + quoted(name) +
                          " has both source_profile and credential_source; keep one");
    }
    if (!source_profile.empty()) {
        if (source_profile == name) {
            // A profile may name itself: its own static keys assume its role.
            auto step = profile_keys(p.sources, name);
            if (!step) {
                return util::fail(step.error());
            }
            plan.steps.push_back(std::move(*step));
        } else if (auto r = plan_profile(p, source_profile, visited, plan); !r) {
            return r;
        }
    } else if (!credential_source.empty()) {
        auto step = credential_source_step(p.sources, credential_source, name);
        if (!step) {
            return util::fail(step.error());
        }
        plan.steps.push_back(std::move(*step));
    } else {
        return util::fail("profile " + quoted(name) +
                          " has role_arn but neither source_profile nor credential_source "
                          "(nor web_identity_token_file)");
    }
    CredentialStep assume;
    assume.kind = StepKind::assume_role;
    assume.profile = name;
    auto params = role_params(s, name);
    if (!params) {
        return util::fail(params.error());
    }
    assume.role = std::move(*params);
    auto sts = sts_for(p.sources, s);
    if (!sts) {
        return util::fail(sts.error());
    }
    assume.sts = std::move(*sts);
    plan.steps.push_back(std::move(assume));
    return {};
}

CredentialPlan one_step(CredentialStep step) {
    CredentialPlan plan;
    plan.steps.push_back(std::move(step));
    return plan;
}

std::string describe_step(const CredentialStep& s) {
    switch (s.kind) {
    case StepKind::static_keys:
        return s.keys ? s.keys->source() : "static keys";
    case StepKind::assume_role:
        return "assume-role " + s.role.role_arn + " via profile " + s.profile;
    case StepKind::web_identity:
        return "web identity " + s.role.role_arn +
               (s.profile.empty() ? " (AWS_WEB_IDENTITY_TOKEN_FILE)" : " via profile " + s.profile);
    case StepKind::process:
        return "credential_process of profile " + s.profile;
    case StepKind::container: {
        const auto start = s.url.find("://");
        const auto host_start = start == std::string::npos ? 0 : start + 3;
        const auto host_end = s.url.find('/', host_start);
        return "container credentials (" + s.url_variable + ", host " +
               s.url.substr(host_start, host_end - host_start) + ")";
    }
    case StepKind::instance_metadata:
        return "instance metadata";
    }
    return "?";
}

} // namespace

const char* step_name(StepKind kind) {
    switch (kind) {
    case StepKind::static_keys:
        return "static";
    case StepKind::assume_role:
        return "assume-role";
    case StepKind::web_identity:
        return "web-identity";
    case StepKind::process:
        return "credential-process";
    case StepKind::container:
        return "container";
    case StepKind::instance_metadata:
        return "instance";
    }
    return "static";
}

std::string CredentialPlan::describe() const {
    if (steps.empty()) {
        return "no credentials";
    }
    std::string out = describe_step(steps.back());
    for (std::size_t i = steps.size() - 1; i-- > 0;) {
        out += " (source: " + describe_step(steps[i]);
    }
    out += std::string(steps.size() - 1, ')');
    return out;
}

util::Result<CredentialPlan> plan_credentials(const CredentialSources& sources) {
    const bool explicit_profile = sources.explicit_profile && !sources.explicit_profile->empty();
    // 1. the environment and imgsync's config file
    if (!explicit_profile && has_environment_keys(sources)) {
        auto r = resolve_credentials(sources);
        if (!r) {
            return util::fail(r.error());
        }
        CredentialStep step;
        step.keys = std::move(r).value();
        return one_step(std::move(step));
    }
    const Profiles profiles{sources};
    const std::string name = selected_profile(sources);
    const auto section = profiles.merged(name);
    // 2. assume-role
    if (section && has(*section, "role_arn") && !has(*section, "web_identity_token_file")) {
        CredentialPlan plan;
        std::vector<std::string> visited;
        if (auto r = plan_profile(profiles, name, visited, plan); !r) {
            return util::fail(r.error());
        }
        return plan;
    }
    // 3. web identity: the profile's, else the environment's
    if (section && has(*section, "web_identity_token_file")) {
        auto step = web_identity_step(sources, *section, name, false);
        if (!step) {
            return util::fail(step.error());
        }
        return one_step(std::move(*step));
    }
    if (get_env(sources.env, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
        auto step = web_identity_step(sources, section.value_or(IniSection{}), name, true);
        if (!step) {
            return util::fail(step.error());
        }
        return one_step(std::move(*step));
    }
    if (section) {
        // 4. the profile's static keys
        if (has_static_keys(*section)) {
            auto step = profile_keys(sources, name);
            if (!step) {
                return util::fail(step.error());
            }
            return one_step(std::move(*step));
        }
        if (has(*section, "credential_source")) {
            return util::fail("profile " + quoted(name) +
                              " has credential_source but no role_arn to assume with it");
        }
        // 5. credential_process
        if (has(*section, "credential_process")) {
            auto step = process_step(*section, name);
            if (!step) {
                return util::fail(step.error());
            }
            return one_step(std::move(*step));
        }
        if (has_sso(*section)) {
            return util::fail("profile " + quoted(name) +
                              " uses AWS IAM Identity Center (sso_*), which imgsync does not "
                              "read; run `aws configure export-credentials --profile " +
                              util::printable(name) +
                              " --format process` as the credential_process of another "
                              "profile and use that one, or use a role");
        }
    } else if (name != "default") {
        return util::fail("profile " + quoted(name) + " not found in " + profiles.files());
    }
    // 6. container credentials
    if (container_url(sources.env)) {
        auto step = container_step(sources.env);
        if (!step) {
            return util::fail(step.error());
        }
        return one_step(std::move(*step));
    }
    // 7. the instance metadata service
    auto r = resolve_credentials(sources);
    if (!imds_disabled(sources.env)) {
        CredentialPlan plan = one_step(instance_step(sources.env));
        plan.none_found = r ? std::string("no credentials") : r.error();
        return plan;
    }
    if (!r) {
        return util::fail(r.error());
    }
    CredentialStep step;
    step.keys = std::move(r).value();
    return one_step(std::move(step));
}

} // namespace imgsync::s3
