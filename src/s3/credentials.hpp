// AWS credentials and region, found the way the AWS CLI and SDKs find them: environment first,
// then the shared credentials file, then the shared config file.
//
// Everything here is pure: the caller reads the environment and the two files and passes their
// contents in, so every rule can be tested without touching the machine.
//
// Errors are returned, not thrown: each resolver gives back a util::Result, a value or a
// one-line message meant for the user. Messages name environment variables, profiles and files,
// never a key.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::s3 {

// A secret string (secret access key, session token). It deliberately has no operator<<, no
// fmt formatter and no implicit conversion, so it cannot end up in a log line by accident; the
// only way to the bytes is the explicit reveal(). The buffer is wiped when the value dies.
class Secret {
  public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret& operator=(const Secret& other);
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    std::string_view reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }

  private:
    void wipe() noexcept;
    std::string value_;
};

// Where a credential came from. A closed set: imgsync reads static keys only.
enum class CredentialOrigin {
    environment,        // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
    config_file,        // aws_* keys of imgsync's own config file
    shared_credentials, // a profile in the shared credentials file (~/.aws/credentials)
    shared_config,      // a profile in the shared config file (~/.aws/config)
};
// "environment", "config_file", "shared_credentials", "shared_config".
const char* origin_name(CredentialOrigin origin);

struct CredentialSource {
    CredentialOrigin origin = CredentialOrigin::environment;
    std::string file;    // config_file, shared_*: the file, as shown to the user
    std::string profile; // shared_*: the profile
    // "environment", "config file /etc/imgsync/imgsync.conf",
    // "profile work in /home/ann/.aws/credentials".
    std::string describe() const;
    friend bool operator==(const CredentialSource& a, const CredentialSource& b) {
        return a.origin == b.origin && a.file == b.file && a.profile == b.profile;
    }
    friend bool operator!=(const CredentialSource& a, const CredentialSource& b) {
        return !(a == b);
    }
};

struct Credentials {
    std::string access_key;
    Secret secret_key;
    Secret session_token; // empty unless the credentials are temporary (STS)
    // Where each part came from. The parts can differ only between the environment and the
    // config file (an access key id in the file, the secret in AWS_SECRET_ACCESS_KEY).
    CredentialSource access_key_from;
    CredentialSource secret_key_from;
    CredentialSource session_token_from; // meaningful when session_token is not empty
    // Temporary credentials that a provider obtained (assume-role, web identity, instance or
    // container role, credential_process): when they expire (seconds since the epoch), and
    // where they came from ("assume-role arn:aws:iam::1:role/x via profile p"). Empty for
    // static keys, whose parts carry their sources above.
    std::optional<std::int64_t> expires_at;
    std::string provenance;
    // For a log line or `check`: one source ("config file /etc/imgsync/imgsync.conf"), or each
    // part's when they differ ("access key id from config file ..., secret access key from
    // environment"). The provenance instead when there is one. Never a key.
    std::string source() const;
};

// One INI file: section name -> (lower-cased key -> value). Section names are kept verbatim
// ("default", "profile work"). A nested block such as
//     s3 =
//       addressing_style = path
// is stored as the key "s3.addressing_style".
using IniFile = std::map<std::string, std::map<std::string, std::string>>;

// Parses ~/.aws/credentials or ~/.aws/config. Never fails: lines it cannot read are skipped, as
// the SDKs are lenient too. Comments are whole lines starting with '#' or ';'; a '#' inside a
// value is part of the value (botocore's configparser behaves the same, and secrets may not
// contain '#' anyway). A repeated key or section: the last one wins.
IniFile parse_ini(std::string_view text);

using IniSection = std::map<std::string, std::string>;
// A profile's section: "[NAME]" in the credentials file; "[profile NAME]" in the config file
// (or "[default]" for the default profile). nullptr when there is none.
const IniSection* find_credentials_profile(const IniFile& ini, std::string_view profile);
const IniSection* find_config_profile(const IniFile& ini, std::string_view profile);

// Looks up one environment variable; nullopt when unset. An empty value counts as unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup env_from_map(std::map<std::string, std::string, std::less<>> vars);
// A variable's value; nullopt when it is unset or empty (as the AWS CLI treats an empty one).
std::optional<std::string> get_env(const EnvLookup& env, std::string_view name);

// Where the shared files live: $AWS_SHARED_CREDENTIALS_FILE / $AWS_CONFIG_FILE, else
// $HOME/.aws/credentials and $HOME/.aws/config. nullopt when neither the override nor HOME is set.
std::optional<std::string> credentials_file_path(const EnvLookup& env);
std::optional<std::string> config_file_path(const EnvLookup& env);

struct CredentialSources {
    EnvLookup env;                // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
                                  // AWS_PROFILE (then AWS_DEFAULT_PROFILE)
    std::string credentials_text; // contents of the shared credentials file ("" when absent)
    std::string config_text;      // contents of the shared config file ("" when absent)
    // A --profile given on the command line. Like the AWS CLI, an explicit profile wins over
    // credentials in the environment; AWS_PROFILE does not.
    std::optional<std::string> explicit_profile;
    // How to name the files in messages and in Credentials::source().
    std::string credentials_display = "~/.aws/credentials";
    std::string config_display = "~/.aws/config";
    // The aws_access_key_id, aws_secret_access_key and aws_session_token keys of imgsync's own
    // config file (nullopt or empty: not there), and that file's name.
    struct ConfigFileKeys {
        std::optional<std::string> access_key, secret_key, session_token;
        std::string path;
    } config_file;
};

// Static keys, or a one-line message naming the variables, profiles and files (never a key).
using CredentialsResult = util::Result<Credentials>;

// Static keys only (the chain, s3/credential_chain, adds the other sources around it).
// Order: unless a profile was given explicitly, the environment, then imgsync's config file
// (only when AWS_ACCESS_KEY_ID is not set; each of its keys yields to the same variable), then the
// profile's static keys in the shared credentials file, then in the shared config file
// ([profile NAME], or [default]).
CredentialsResult resolve_credentials(const CredentialSources& sources);

// True when the environment or imgsync's config file holds any static key (the first place
// resolve_credentials looks, unless a profile was given explicitly).
bool has_environment_keys(const CredentialSources& sources);

// The profile that resolve_credentials reads: explicit, else AWS_PROFILE, AWS_DEFAULT_PROFILE,
// else "default".
std::string selected_profile(const CredentialSources& sources);

// Region: AWS_REGION, then AWS_DEFAULT_REGION, then `region` in the selected profile of the
// config file. nullopt when none is set.
std::optional<std::string> resolve_region(const CredentialSources& sources);

} // namespace imgsync::s3
