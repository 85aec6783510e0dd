#include "util/proxy.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace imgsync::util;

TEST_SUITE_BEGIN("proxy");

namespace {

EnvGet env(std::map<std::string, std::string, std::less<>> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

} // namespace

TEST_CASE("proxy: which variable applies, as libcurl reads them") {
    auto c = proxy_for("https", "s3.example.com", env({}));
    CHECK(c.route == ProxyRoute::direct);

    c = proxy_for("https", "s3.example.com", env({{"HTTPS_PROXY", "http://proxy.lan:3128"}}));
    CHECK(c.route == ProxyRoute::proxied);
    CHECK(c.variable == "HTTPS_PROXY");
    CHECK(c.proxy == "http://proxy.lan:3128");
    CHECK_FALSE(c.has_credentials);

    // Lower case first.
    c = proxy_for("https", "s3.example.com",
                  env({{"https_proxy", "http://a:1"}, {"HTTPS_PROXY", "http://b:2"}}));
    CHECK(c.variable == "https_proxy");
    CHECK(c.proxy == "http://a:1");

    // HTTP_PROXY in upper case is never used (httpoxy); all_proxy is.
    c = proxy_for("http", "10.0.0.5:7480", env({{"HTTP_PROXY", "http://evil:1"}}));
    CHECK(c.route == ProxyRoute::direct);
    c = proxy_for("http", "10.0.0.5:7480",
                  env({{"HTTP_PROXY", "http://evil:1"}, {"ALL_PROXY", "socks5h://s:1080"}}));
    CHECK(c.variable == "ALL_PROXY");
    CHECK(c.proxy == "socks5h://s:1080");
    c = proxy_for("http", "10.0.0.5:7480", env({{"http_proxy", "proxy:8080"}}));
    CHECK(c.variable == "http_proxy");
    CHECK(c.proxy == "http://proxy:8080");
    // https_proxy does not apply to http URLs, nor http_proxy to https ones.
    CHECK(proxy_for("http", "h", env({{"https_proxy", "p:1"}})).route == ProxyRoute::direct);
    CHECK(proxy_for("https", "h", env({{"http_proxy", "p:1"}})).route == ProxyRoute::direct);
    // Empty counts as unset.
    c = proxy_for("https", "h", env({{"https_proxy", ""}, {"HTTPS_PROXY", "http://b:2"}}));
    CHECK(c.variable == "HTTPS_PROXY");
}

TEST_CASE("proxy: no_proxy bypasses it") {
    auto with = [](std::string no_proxy) {
        return env({{"https_proxy", "http://p:3128"}, {"NO_PROXY", std::move(no_proxy)}});
    };
    auto c = proxy_for("https", "s3.internal.lan:9000", with("internal.lan"));
    CHECK(c.route == ProxyRoute::bypassed);
    CHECK(c.variable == "NO_PROXY");
    CHECK(proxy_for("https", "s3.internal.lan", with(".internal.lan")).route ==
          ProxyRoute::bypassed);
    CHECK(proxy_for("https", "notinternal.lan", with("internal.lan")).route == ProxyRoute::proxied);
    CHECK(proxy_for("https", "anything", with("*")).route == ProxyRoute::bypassed);
    CHECK(proxy_for("https", "anything", with("*.lan")).route == ProxyRoute::proxied);
    CHECK(proxy_for("https", "127.0.0.1:7480", with("localhost, 127.0.0.1")).route ==
          ProxyRoute::bypassed);
    CHECK(proxy_for("https", "10.1.2.3", with("10.0.0.0/8")).route == ProxyRoute::bypassed);
    CHECK(proxy_for("https", "11.1.2.3", with("10.0.0.0/8")).route == ProxyRoute::proxied);
    CHECK(proxy_for("https", "[::1]:7480", with("::1")).route == ProxyRoute::bypassed);
    CHECK(proxy_for("https", "[fd00::5]", with("fd00::/8")).route == ProxyRoute::bypassed);
    CHECK(proxy_for("https", "[fe80::5]", with("fd00::/8")).route == ProxyRoute::proxied);
    // lower case no_proxy first
    auto both = env({{"https_proxy", "http://p:3128"}, {"no_proxy", "a.lan"}, {"NO_PROXY", "*"}});
    c = proxy_for("https", "b.lan", both);
    CHECK(c.route == ProxyRoute::proxied);
    CHECK(proxy_for("https", "a.lan", both).variable == "no_proxy");

    CHECK(no_proxy_matches("S3.Example.COM.", "example.com"));
    CHECK(no_proxy_matches("example.com", "other.org example.com."));
    CHECK_FALSE(no_proxy_matches("example.com", ""));
    CHECK_FALSE(no_proxy_matches("", "*"));
    CHECK_FALSE(no_proxy_matches("10.0.0.1", "10.0.0.0/33"));
}

TEST_CASE("proxy: user name and password never shown") {
    bool creds = false;
    CHECK(redact_proxy_url("http://ann:s3cret@proxy.lan:3128/", &creds) == "http://proxy.lan:3128");
    CHECK(creds);
    CHECK(redact_proxy_url("ann:p%40ss@proxy.lan", &creds) == "http://proxy.lan:1080");
    CHECK(creds);
    CHECK(redact_proxy_url("HTTPS://u:p@[fd00::1]", &creds) == "https://[fd00::1]:443");
    CHECK(redact_proxy_url("https://[fd00::1]:8443/x?y", &creds) == "https://[fd00::1]:8443");
    CHECK_FALSE(creds);
    auto c = proxy_for("https", "h", env({{"https_proxy", "http://u:topsecret@p:8080"}}));
    CHECK(c.has_credentials);
    CHECK(c.proxy == "http://p:8080");
    CHECK(c.proxy.find("topsecret") == std::string::npos);
    CHECK(std::string(proxy_route_name(ProxyRoute::bypassed)) == "bypassed");
}

TEST_SUITE_END();
