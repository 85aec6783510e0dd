// From settings and the environment to a ready S3 target: endpoint, region and credentials.
// This is where the environment (AWS_*) and the ~/.aws files are read; s3/ only parses.
#pragma once

#include "commands/commands.hpp"
#include "commands/credential_fetch.hpp"
#include "s3/credential_rules.hpp"
#include "s3/credentials.hpp"
#include "s3/endpoint.hpp"
#include "util/clock.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/proxy.hpp"

#include <memory>

namespace imgsync::core {

struct Target {
    s3::Endpoint endpoint;
    s3::Credentials credentials;
    util::ProxyChoice proxy; // the proxy libcurl will use for the endpoint (from the environment)
    // Set when the credentials are temporary (assume-role, web identity, instance or container
    // role, credential_process): what fetched them, to fetch them again before they expire.
    std::unique_ptr<CredentialProvider> provider;
};

// "2026-12-04T21:30:00Z (in 59 min)", or "never" for static keys.
std::string describe_expiry(const s3::Credentials& credentials, std::int64_t now);

// For `check`: "proxy http://proxy.lan:3128 (https_proxy)", "no proxy", "no proxy (NO_PROXY
// names s3.lan)". Never a proxy's user name or password.
std::string describe_proxy(const Target& target);

// The SSLKEYLOGFILE that HttpClient refused, as a warning event (after an HttpClient was made).
void warn_if_tls_keylog_ignored(util::Logger& log);

// The HTTP client's options for a command that keeps up to `concurrency` requests in flight
// (upload, verify): the CA bundle, and as many connections to the host.
util::HttpClient::Options http_options(const Context& ctx, int concurrency);

// Temporary credentials are fetched again before they expire: sets the credentials_refresh_at
// and refresh_credentials of a pass's or a verification's options (PassOptions, VerifyOptions).
// Static keys: left unset.
template <class Options> void plan_credential_refresh(const Target& target, Options& options) {
    if (target.provider && target.credentials.expires_at) {
        options.credentials_refresh_at =
            s3::refresh_time(util::wall_epoch(), *target.credentials.expires_at);
        options.refresh_credentials = [provider = target.provider.get()](std::int64_t now) {
            return provider->fetch(now);
        };
    }
}

// Throws Error(usage) with a one-line reason: no bucket, bad endpoint URL, invalid bucket name,
// no credentials. Temporary credentials are fetched here: a source that does not give them
// throws Error(pass_failed), except the instance metadata service asked as the last resort,
// whose silence means "no credentials" (usage). Never names a secret.
Target resolve_target(const Context& ctx);

} // namespace imgsync::core
