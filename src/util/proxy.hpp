// Which HTTP proxy libcurl will use for a URL, computed from the environment with libcurl's own
// rules (7.88, the version Debian 12 ships), so a pass can say so in its first log line. imgsync
// does not configure proxies itself: libcurl reads the variables.
//
//   http URLs:  http_proxy (lower case only: HTTP_PROXY is ignored, see "httpoxy"), else
//               all_proxy, ALL_PROXY
//   https URLs: https_proxy, else HTTPS_PROXY, else all_proxy, ALL_PROXY
//   no_proxy, else NO_PROXY: "*", or a list of host names (a name matches itself and its
//               subdomains; leading and trailing dots are ignored) and IP addresses with an
//               optional /bits, separated by commas or blanks. Nothing else (no wildcards, no
//               ports). An empty variable counts as unset.
//
// Pure: the caller passes the environment in.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::util {

using EnvGet = std::function<std::optional<std::string>(std::string_view name)>;

enum class ProxyRoute {
    direct,   // no proxy variable applies
    proxied,  // through `proxy`
    bypassed, // a proxy variable is set, but no_proxy / NO_PROXY names the host
};
const char* proxy_route_name(ProxyRoute route); // "direct", "proxied", "bypassed"

struct ProxyChoice {
    ProxyRoute route = ProxyRoute::direct;
    std::string variable; // proxied: the variable that named it; bypassed: no_proxy / NO_PROXY
    std::string proxy;    // proxied: scheme://host:port, without user name or password
    bool has_credentials = false; // proxied: the variable holds user:password (never shown)
};

// `scheme` is "http" or "https"; `host` as in a Host header (a port and [brackets] are allowed).
ProxyChoice proxy_for(std::string_view scheme, std::string_view host, const EnvGet& env);

// A proxy setting as libcurl reads it, shown safely: "scheme://host:port" (scheme defaults to
// http, port to 1080, or 443 for https), without user info, path or query.
std::string redact_proxy_url(std::string_view url, bool* had_credentials = nullptr);

// libcurl's no_proxy match for one host name (no port, IPv6 without brackets).
bool no_proxy_matches(std::string_view host, std::string_view no_proxy);

} // namespace imgsync::util
