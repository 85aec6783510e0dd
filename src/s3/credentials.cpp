#include "s3/credentials.hpp"

#include "util/ini.hpp"
#include "util/strings.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

namespace imgsync::s3 {

// ---- Secret ------------------------------------------------------------------------------------

Secret& Secret::operator=(const Secret& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
    other.wipe();
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();
    }
    return *this;
}

Secret::~Secret() {
    wipe();
}

void Secret::wipe() noexcept {
    // Best effort: copies made by the caller through reveal() are theirs to care for.
    if (!value_.empty()) {
        OPENSSL_cleanse(value_.data(), value_.size());
    }
    value_.clear();
}

// ---- where credentials came from ---------------------------------------------------------------

const char* origin_name(CredentialOrigin origin) {
    switch (origin) {
    case CredentialOrigin::environment:
        return "environment";
    case CredentialOrigin::config_file:
        return "config_file";
    case CredentialOrigin::shared_credentials:
        return "shared_credentials";
    case CredentialOrigin::shared_config:
        return "shared_config";
    }
    return "environment";
}

std::string CredentialSource::describe() const {
    switch (origin) {
    case CredentialOrigin::environment:
        return "environment";
    case CredentialOrigin::config_file:
        return "config file " + file;
    case CredentialOrigin::shared_credentials:
    case CredentialOrigin::shared_config:
        return "profile " + profile + " in " + file;
    }
    return "environment";
}

std::string Credentials::source() const {
    if (!provenance.empty()) {
        return provenance;
    }
    const bool has_token = !session_token.empty();
    const bool token_same = !has_token || session_token_from == access_key_from;
    if (access_key_from == secret_key_from && token_same) {
        return access_key_from.describe();
    }
    std::string out;
    if (access_key_from == secret_key_from) {
        out = "access key id and secret access key from " + access_key_from.describe();
    } else {
        out = "access key id from " + access_key_from.describe() + ", secret access key from " +
              secret_key_from.describe();
    }
    if (has_token) {
        out += ", session token from " + session_token_from.describe();
    }
    return out;
}

// ---- INI ---------------------------------------------------------------------------------------

IniFile parse_ini(std::string_view text) {
    IniFile ini;
    std::map<std::string, std::string>* section = nullptr;
    for (auto& e : util::parse_ini(text, util::aws_ini_syntax)) {
        switch (e.kind) {
        case util::IniEntry::Kind::section:
            section = &ini[e.name];
            break;
        case util::IniEntry::Kind::bad_section:
            section = nullptr; // a broken header: ignore what follows until the next one
            break;
        case util::IniEntry::Kind::option:
            if (section != nullptr && !e.name.empty()) {
                (*section)[util::ascii_lower(e.name)] = std::move(e.value);
            }
            break;
        case util::IniEntry::Kind::bad_line:
            break; // lenient, as the SDKs are
        }
    }
    return ini;
}

// ---- environment -------------------------------------------------------------------------------

EnvLookup env_from_map(std::map<std::string, std::string, std::less<>> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end() || it->second.empty()) {
            return std::nullopt;
        }
        return it->second;
    };
}

std::optional<std::string> get_env(const EnvLookup& env, std::string_view name) {
    if (!env) {
        return std::nullopt;
    }
    auto value = env(name);
    if (value && value->empty()) {
        return std::nullopt;
    }
    return value;
}

namespace {

std::optional<std::string> shared_file_path(const EnvLookup& env, std::string_view override_var,
                                            std::string_view leaf) {
    const auto home = get_env(env, "HOME");
    if (auto path = get_env(env, override_var)) {
        if (home && (*path == "~" || path->rfind("~/", 0) == 0)) {
            std::string base = *home;
            while (base.size() > 1 && base.back() == '/') {
                base.pop_back();
            }
            return base + path->substr(1);
        }
        return path;
    }
    if (!home) {
        return std::nullopt;
    }
    std::string path = *home;
    if (path.empty() || path.back() != '/') {
        path += '/';
    }
    path += ".aws/";
    path += leaf;
    return path;
}

} // namespace

std::optional<std::string> credentials_file_path(const EnvLookup& env) {
    return shared_file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
}

std::optional<std::string> config_file_path(const EnvLookup& env) {
    return shared_file_path(env, "AWS_CONFIG_FILE", "config");
}

// ---- resolution --------------------------------------------------------------------------------

namespace {

using Section = IniSection;

const Section* find_section(const IniFile& ini, std::string_view name) {
    const auto it = ini.find(std::string(name));
    return it == ini.end() ? nullptr : &it->second;
}

} // namespace

const IniSection* find_credentials_profile(const IniFile& ini, std::string_view profile) {
    return find_section(ini, profile);
}

// In the config file a profile is "[profile NAME]", except the default one, which may be
// "[default]" or "[profile default]". The space after "profile" may be any run of blanks.
const IniSection* find_config_profile(const IniFile& ini, std::string_view profile) {
    for (const auto& [name, section] : ini) {
        std::string_view n = name;
        if (n.rfind("profile", 0) == 0 && n.size() > 7 && util::ascii_isspace(n[7])) {
            if (util::trim_if(n.substr(7), util::ascii_isspace) == profile) {
                return &section;
            }
        }
    }
    if (profile == "default") {
        return find_section(ini, "default");
    }
    return nullptr;
}

namespace {

std::string_view value_of(const Section& section, std::string_view key) {
    const auto it = section.find(std::string(key));
    return it == section.end() ? std::string_view{} : std::string_view(it->second);
}

CredentialsResult failure(std::string message) {
    return util::fail(std::move(message));
}

// nullopt: the section holds no static keys at all, so the search goes on.
std::optional<CredentialsResult> from_section(const Section& section, std::string_view profile,
                                              std::string_view display, CredentialOrigin origin) {
    const auto access_key = value_of(section, "aws_access_key_id");
    const auto secret_key = value_of(section, "aws_secret_access_key");
    const std::string where = "profile '" + std::string(profile) + "' in " + std::string(display);
    if (access_key.empty() && secret_key.empty()) {
        return std::nullopt;
    }
    if (secret_key.empty()) {
        return failure(where + " has aws_access_key_id but no aws_secret_access_key");
    }
    if (access_key.empty()) {
        return failure(where + " has aws_secret_access_key but no aws_access_key_id");
    }
    auto token = value_of(section, "aws_session_token");
    if (token.empty()) {
        token = value_of(section, "aws_security_token"); // the older name, still accepted by boto
    }
    Credentials c;
    c.access_key = std::string(access_key);
    c.secret_key = Secret(std::string(secret_key));
    c.session_token = Secret(std::string(token));
    c.access_key_from = CredentialSource{origin, std::string(display), std::string(profile)};
    c.secret_key_from = c.access_key_from;
    c.session_token_from = c.access_key_from;
    return CredentialsResult(std::move(c));
}

} // namespace

std::string selected_profile(const CredentialSources& sources) {
    if (sources.explicit_profile && !sources.explicit_profile->empty()) {
        return *sources.explicit_profile;
    }
    if (auto p = get_env(sources.env, "AWS_PROFILE")) {
        return *p;
    }
    if (auto p = get_env(sources.env, "AWS_DEFAULT_PROFILE")) {
        return *p;
    }
    return "default";
}

namespace {

std::optional<std::string> nonempty(const std::optional<std::string>& v) {
    return v && !v->empty() ? v : std::nullopt;
}

// The environment, then imgsync's config file: nullopt when neither holds any key, so the search
// goes on to the profiles.
std::optional<CredentialsResult> from_environment_or_config(const CredentialSources& sources) {
    const auto env_key = get_env(sources.env, "AWS_ACCESS_KEY_ID");
    const auto env_secret = get_env(sources.env, "AWS_SECRET_ACCESS_KEY");
    auto env_token = get_env(sources.env, "AWS_SESSION_TOKEN");
    if (!env_token) {
        env_token = get_env(sources.env, "AWS_SECURITY_TOKEN");
    }
    const auto& file = sources.config_file;
    const auto file_key = nonempty(file.access_key);
    const auto file_secret = nonempty(file.secret_key);
    const auto file_token = nonempty(file.session_token);
    const CredentialSource env_source{CredentialOrigin::environment, {}, {}};
    const CredentialSource file_source{CredentialOrigin::config_file, file.path, {}};

    Credentials c;
    if (env_key) {
        // AWS_ACCESS_KEY_ID set: the config file's keys are not consulted at all.
        if (!env_secret) {
            return failure("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
        }
        c.access_key = *env_key;
        c.secret_key = Secret(*env_secret);
        c.session_token = Secret(env_token.value_or(std::string{}));
        c.access_key_from = c.secret_key_from = c.session_token_from = env_source;
    } else if (file_key) {
        // Each key of the file yields to the same variable in the environment.
        if (!env_secret && !file_secret) {
            return failure("access key id in " + file.path +
                           " but no secret access key: add aws_secret_access_key there, or set "
                           "AWS_SECRET_ACCESS_KEY");
        }
        c.access_key = *file_key;
        c.access_key_from = file_source;
        c.secret_key = Secret(env_secret ? *env_secret : *file_secret);
        c.secret_key_from = env_secret ? env_source : file_source;
        c.session_token = Secret(env_token ? *env_token : file_token.value_or(std::string{}));
        c.session_token_from = env_token ? env_source : file_source;
    } else if (env_secret) {
        return failure("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    } else if (file_secret) {
        return failure("secret access key in " + file.path +
                       " but no access key id: add aws_access_key_id there, or set "
                       "AWS_ACCESS_KEY_ID");
    } else {
        return std::nullopt;
    }
    return CredentialsResult(std::move(c));
}

} // namespace

bool has_environment_keys(const CredentialSources& sources) {
    const auto& f = sources.config_file;
    return get_env(sources.env, "AWS_ACCESS_KEY_ID") ||
           get_env(sources.env, "AWS_SECRET_ACCESS_KEY") || nonempty(f.access_key) ||
           nonempty(f.secret_key);
}

CredentialsResult resolve_credentials(const CredentialSources& sources) {
    const bool profile_explicit = sources.explicit_profile && !sources.explicit_profile->empty();
    if (!profile_explicit) {
        if (auto r = from_environment_or_config(sources)) {
            return std::move(*r);
        }
    }

    const std::string profile = selected_profile(sources);
    const IniFile credentials_ini = parse_ini(sources.credentials_text);
    const IniFile config_ini = parse_ini(sources.config_text);
    const Section* in_credentials = find_section(credentials_ini, profile);
    const Section* in_config = find_config_profile(config_ini, profile);

    if (in_credentials != nullptr) {
        if (auto r = from_section(*in_credentials, profile, sources.credentials_display,
                                  CredentialOrigin::shared_credentials)) {
            return std::move(*r);
        }
    }
    if (in_config != nullptr) {
        if (auto r = from_section(*in_config, profile, sources.config_display,
                                  CredentialOrigin::shared_config)) {
            return std::move(*r);
        }
    }
    if (in_credentials != nullptr || in_config != nullptr) {
        return failure("profile '" + profile + "' has no aws_access_key_id and " +
                       "aws_secret_access_key in " + sources.credentials_display + " or " +
                       sources.config_display);
    }
    if (profile != "default") {
        return failure("profile '" + profile + "' not found in " + sources.credentials_display +
                       " or " + sources.config_display);
    }
    return failure("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a "
                   "[default] profile with aws_access_key_id and aws_secret_access_key to " +
                   sources.credentials_display);
}

std::optional<std::string> resolve_region(const CredentialSources& sources) {
    if (auto r = get_env(sources.env, "AWS_REGION")) {
        return r;
    }
    if (auto r = get_env(sources.env, "AWS_DEFAULT_REGION")) {
        return r;
    }
    const IniFile config_ini = parse_ini(sources.config_text);
    if (const Section* s = find_config_profile(config_ini, selected_profile(sources))) {
        const auto region = value_of(*s, "region");
        if (!region.empty()) {
            return std::string(region);
        }
    }
    return std::nullopt;
}

} // namespace imgsync::s3
