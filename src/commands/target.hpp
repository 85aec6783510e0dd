// From settings and the environment to a ready S3 target: endpoint, region and credentials.
// This is where the environment (AWS_*) and the ~/.aws files are read; s3/ only parses.
#pragma once

#include "commands/commands.hpp"
#include "s3/credentials.hpp"
#include "s3/endpoint.hpp"
#include "util/log.hpp"
#include "util/proxy.hpp"

namespace imgsync::core {

struct Target {
    s3::Endpoint endpoint;
    s3::Credentials credentials;
    util::ProxyChoice proxy; // the proxy libcurl will use for the endpoint (from the environment)
};

// For `check`: "proxy http://proxy.lan:3128 (https_proxy)", "no proxy", "no proxy (NO_PROXY
// names s3.lan)". Never a proxy's user name or password.
std::string describe_proxy(const Target& target);

// The SSLKEYLOGFILE that HttpClient refused, as a warning event (after an HttpClient was made).
void warn_if_tls_keylog_ignored(util::Logger& log);

// Throws Error(usage) with a one-line reason: no bucket, bad endpoint URL, invalid bucket name,
// no credentials. Never names a secret.
Target resolve_target(const Context& ctx);

} // namespace imgsync::core
