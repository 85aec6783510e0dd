#include "commands/target.hpp"

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/http_client.hpp"
#include "util/timefmt.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace imgsync::core {

namespace {

std::optional<std::string> getenv_nonempty(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v || !*v) {
        return std::nullopt;
    }
    return std::string(v);
}

} // namespace

Target resolve_target(const Context& ctx) {
    const GlobalSettings& g = ctx.global;
    if (g.bucket.empty()) {
        throw Error(ExitCode::usage, "no bucket: set --bucket, IMGSYNC_BUCKET or bucket = in the "
                                     "config file");
    }
    s3::check_bucket_name(g.bucket).or_throw(ExitCode::usage, "--bucket: ");

    // Credentials from the config file rank after the environment and before the ~/.aws files.
    s3::CredentialSources sources;
    sources.env = [](std::string_view name) { return getenv_nonempty(name); };
    sources.config_file.access_key = ctx.config_access_key;
    sources.config_file.secret_key = ctx.config_secret_key;
    sources.config_file.session_token = ctx.config_session_token;
    sources.config_file.path = ctx.config_credentials_file;
    if (!g.profile.empty()) {
        sources.explicit_profile = g.profile;
    }
    // A shared file that exists but cannot be read is an error, as for the AWS CLI: skipping it
    // would silently pick other credentials.
    if (auto path = s3::credentials_file_path(sources.env)) {
        sources.credentials_text =
            util::read_text_file(*path).or_throw(ExitCode::usage).value_or("");
        sources.credentials_display = *path;
    }
    if (auto path = s3::config_file_path(sources.env)) {
        sources.config_text = util::read_text_file(*path).or_throw(ExitCode::usage).value_or("");
        sources.config_display = *path;
    }
    auto plan = s3::plan_credentials(sources).or_throw(ExitCode::usage);
    std::unique_ptr<CredentialProvider> provider;
    s3::Credentials credentials;
    if (plan.is_static()) {
        credentials = std::move(*plan.steps[0].keys);
    } else {
        FetchOptions fetch;
        fetch.ca_bundle = g.ca_bundle;
        provider = std::make_unique<CredentialProvider>(std::move(plan), fetch);
        auto fetched = provider->fetch(util::wall_epoch());
        if (!fetched) {
            if (provider->last_resort()) {
                throw Error(ExitCode::usage, provider->plan().none_found + "; and " +
                                                 fetched.error() +
                                                 " (AWS_EC2_METADATA_DISABLED=true skips it)");
            }
            throw Error(ExitCode::pass_failed, "credentials: " + fetched.error());
        }
        credentials = std::move(*fetched);
    }

    s3::EndpointConfig config;
    config.bucket = g.bucket;
    config.endpoint_url =
        g.endpoint.empty() ? getenv_nonempty("AWS_ENDPOINT_URL").value_or("") : g.endpoint;
    std::optional<std::string> region = s3::resolve_region(sources);
    if (!region && provider) {
        region = provider->instance_region(); // the instance's placement, as the SDKs do
    }
    config.region = g.region.empty() ? region.value_or("us-east-1") : g.region;
    config.addressing = g.addressing;
    auto endpoint = s3::resolve_endpoint(config);
    if (!endpoint) {
        throw Error(ExitCode::usage, fmt::format("--endpoint: {}", endpoint.error()));
    }
    auto proxy = util::proxy_for(endpoint->scheme(), endpoint->host(),
                                 [](std::string_view name) { return getenv_nonempty(name); });
    return Target{std::move(endpoint).value(), std::move(credentials), std::move(proxy),
                  std::move(provider)};
}

std::string describe_expiry(const s3::Credentials& credentials, std::int64_t now) {
    if (!credentials.expires_at) {
        return "never";
    }
    const std::int64_t left = *credentials.expires_at - now;
    return fmt::format("{} (in {})", util::iso8601_utc(*credentials.expires_at),
                       left >= 120 ? fmt::format("{} min", left / 60) : fmt::format("{} s", left));
}

std::string describe_proxy(const Target& target) {
    const util::ProxyChoice& p = target.proxy;
    switch (p.route) {
    case util::ProxyRoute::direct:
        return "no proxy";
    case util::ProxyRoute::proxied:
        return fmt::format("proxy {} ({}{})", p.proxy, p.variable,
                           p.has_credentials ? ", with a user name and password" : "");
    case util::ProxyRoute::bypassed:
        return fmt::format("no proxy ({} excludes the endpoint)", p.variable);
    }
    return "no proxy";
}

util::HttpClient::Options http_options(const Context& ctx, int concurrency) {
    util::HttpClient::Options o;
    o.ca_bundle = ctx.global.ca_bundle;
    o.max_host_connections = concurrency;
    return o;
}

void warn_if_tls_keylog_ignored(util::Logger& log) {
    if (const auto& keylog = util::HttpClient::ignored_tls_keylog()) {
        log.warn("tls_keylog_ignored",
                 {{"file", *keylog},
                  {"reason", "SSLKEYLOGFILE is set, but imgsync does not write TLS session keys: "
                             "it removed the variable before libcurl could open the file"}});
    }
}

} // namespace imgsync::core
