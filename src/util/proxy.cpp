#include "util/proxy.hpp"

#include "util/strings.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdlib>

namespace imgsync::util {

namespace {

std::optional<std::string> get(const EnvGet& env, std::string_view name) {
    if (!env) {
        return std::nullopt;
    }
    auto v = env(name);
    if (v && v->empty()) {
        return std::nullopt; // as curl_getenv: empty is unset
    }
    return v;
}

std::string uppered(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

bool blank(char c) {
    return c == ' ' || c == '\t';
}

// Host of a Host header value: without ":port", IPv6 without brackets.
std::string_view host_name(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
    }
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(':') == colon) {
        return host.substr(0, colon);
    }
    return host;
}

// Does `address` lie in `network`/`bits` (same family)? bits 0: the whole address.
bool cidr_match(int family, const std::string& address, std::string_view network) {
    std::array<unsigned char, 16> a{}, n{};
    std::string net(network);
    unsigned bits = 0;
    if (auto slash = net.find('/'); slash != std::string::npos) {
        bits = static_cast<unsigned>(std::atoi(net.c_str() + slash + 1));
        net.resize(slash);
    }
    const unsigned width = family == AF_INET ? 32 : 128;
    if (bits == 0) {
        bits = width;
    }
    if (bits > width) {
        return false;
    }
    if (inet_pton(family, address.c_str(), a.data()) != 1 ||
        inet_pton(family, net.c_str(), n.data()) != 1) {
        return false;
    }
    for (unsigned i = 0; i < bits / 8; ++i) {
        if (a[i] != n[i]) {
            return false;
        }
    }
    if (unsigned rest = bits % 8) {
        auto mask = static_cast<unsigned char>(0xff << (8 - rest));
        if ((a[bits / 8] ^ n[bits / 8]) & mask) {
            return false;
        }
    }
    return true;
}

} // namespace

const char* proxy_route_name(ProxyRoute route) {
    switch (route) {
    case ProxyRoute::direct:
        return "direct";
    case ProxyRoute::proxied:
        return "proxied";
    case ProxyRoute::bypassed:
        return "bypassed";
    }
    return "direct";
}

bool no_proxy_matches(std::string_view name, std::string_view no_proxy) {
    if (name.empty() || no_proxy.empty()) {
        return false;
    }
    if (no_proxy == "*") {
        return true;
    }
    enum class Type { host, ipv4, ipv6 } type = Type::host;
    std::string address(name);
    std::array<unsigned char, 16> scratch{};
    if (name.find(':') != std::string_view::npos) {
        type = Type::ipv6;
    } else if (inet_pton(AF_INET, address.c_str(), scratch.data()) == 1) {
        type = Type::ipv4;
    } else if (name.back() == '.') {
        name.remove_suffix(1); // a trailing dot in the host name is ignored
    }

    std::size_t p = 0;
    while (p < no_proxy.size()) {
        while (p < no_proxy.size() && blank(no_proxy[p])) {
            ++p;
        }
        std::size_t start = p;
        while (p < no_proxy.size() && !blank(no_proxy[p]) && no_proxy[p] != ',') {
            ++p;
        }
        std::string_view token = no_proxy.substr(start, p - start);
        if (!token.empty()) {
            bool match = false;
            if (type == Type::host) {
                if (token.back() == '.') {
                    token.remove_suffix(1);
                }
                if (!token.empty() && token.front() == '.') {
                    token.remove_prefix(1);
                }
                if (token.size() == name.size()) {
                    match = iequals(token, name);
                } else if (token.size() < name.size()) {
                    match = name[name.size() - token.size() - 1] == '.' &&
                            iequals(token, name.substr(name.size() - token.size()));
                }
            } else {
                match = cidr_match(type == Type::ipv4 ? AF_INET : AF_INET6, address, token);
            }
            if (match) {
                return true;
            }
        }
        while (p < no_proxy.size() && (blank(no_proxy[p]) || no_proxy[p] == ',')) {
            ++p;
        }
    }
    return false;
}

std::string redact_proxy_url(std::string_view url, bool* had_credentials) {
    std::string scheme = "http";
    if (auto sep = url.find("://"); sep != std::string_view::npos) {
        scheme = ascii_lower(url.substr(0, sep));
        url.remove_prefix(sep + 3);
    }
    url = url.substr(0, url.find_first_of("/?#"));
    auto at = url.rfind('@');
    if (had_credentials) {
        *had_credentials = at != std::string_view::npos;
    }
    if (at != std::string_view::npos) {
        url.remove_prefix(at + 1);
    }
    std::string_view host = url, port;
    if (!url.empty() && url.front() == '[') {
        auto close = url.find(']');
        if (close != std::string_view::npos) {
            host = url.substr(0, close + 1);
            if (close + 1 < url.size() && url[close + 1] == ':') {
                port = url.substr(close + 2);
            }
        }
    } else if (auto colon = url.rfind(':'); colon != std::string_view::npos) {
        host = url.substr(0, colon);
        port = url.substr(colon + 1);
    }
    std::string out = scheme + "://" + std::string(host) + ":";
    out += port.empty() ? (scheme == "https" ? "443" : "1080") : std::string(port);
    return out;
}

ProxyChoice proxy_for(std::string_view scheme, std::string_view host, const EnvGet& env) {
    ProxyChoice choice;
    std::string lower = ascii_lower(scheme);
    std::string variable = lower + "_proxy";
    auto value = get(env, variable);
    if (!value && lower != "http") { // never HTTP_PROXY
        variable = uppered(variable);
        value = get(env, variable);
    }
    for (const char* fallback : {"all_proxy", "ALL_PROXY"}) {
        if (value) {
            break;
        }
        variable = fallback;
        value = get(env, variable);
    }
    if (!value) {
        return choice;
    }
    std::string no_proxy_var = "no_proxy";
    auto no_proxy = get(env, no_proxy_var);
    if (!no_proxy) {
        no_proxy_var = "NO_PROXY";
        no_proxy = get(env, no_proxy_var);
    }
    if (no_proxy && no_proxy_matches(host_name(host), *no_proxy)) {
        choice.route = ProxyRoute::bypassed;
        choice.variable = no_proxy_var;
        return choice;
    }
    choice.route = ProxyRoute::proxied;
    choice.variable = variable;
    choice.proxy = redact_proxy_url(*value, &choice.has_credentials);
    return choice;
}

} // namespace imgsync::util
