#include "s3/endpoint.hpp"

#include "util/strings.hpp"

#include <cstdint>
#include <cstdio>

namespace imgsync::s3 {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c);
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool is_ipv4(std::string_view s) {
    int parts = 0;
    while (true) {
        std::size_t n = 0;
        unsigned value = 0;
        while (n < s.size() && is_digit(s[n]) && n < 4) {
            value = value * 10 + static_cast<unsigned>(s[n] - '0');
            ++n;
        }
        if (n == 0 || n > 3 || value > 255) {
            return false;
        }
        ++parts;
        s.remove_prefix(n);
        if (s.empty()) {
            return parts == 4;
        }
        if (s.front() != '.' || parts == 4) {
            return false;
        }
        s.remove_prefix(1);
    }
}

bool is_aws_host(std::string_view host) {
    return host == "amazonaws.com" || ends_with(host, ".amazonaws.com") ||
           ends_with(host, ".amazonaws.com.cn");
}

struct ParsedUrl {
    std::string scheme;
    std::string host; // lower case; IPv6 keeps its brackets
    std::string port; // "" when absent or the scheme's default
    bool ip = false;
};

// The URL itself is left out of messages when it carries user information.
std::string quoted(std::string_view url) {
    if (url.find('@') != std::string_view::npos) {
        return "(endpoint URL)";
    }
    return "'" + std::string(url) + "'";
}

util::Result<ParsedUrl> parse_endpoint_url(std::string_view url) {
    ParsedUrl out;
    const std::string what = "invalid endpoint URL " + quoted(url) + ": ";
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return util::fail(what +
                          "no scheme; write it as https://HOST[:PORT] or http://HOST[:PORT]");
    }
    out.scheme = util::ascii_lower(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") {
        return util::fail(what + "scheme must be http or https");
    }
    std::string_view rest = url.substr(sep + 3);
    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    const std::string_view tail =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) {
        return util::fail(what +
                          "user information (user:password@) is not allowed; use AWS credentials");
    }
    if (tail.find('?') != std::string_view::npos) {
        return util::fail(what + "a query string is not allowed");
    }
    if (tail.find('#') != std::string_view::npos) {
        return util::fail(what + "a fragment is not allowed");
    }
    if (!tail.empty() && tail != "/") {
        return util::fail(what + "a path is not allowed; give the bucket separately");
    }

    std::string_view host;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return util::fail(what + "unterminated IPv6 address");
        }
        host = authority.substr(0, close + 1);
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return util::fail(what + "unexpected characters after the IPv6 address");
            }
            port = after.substr(1);
        }
        const auto inner = host.substr(1, host.size() - 2);
        if (inner.empty()) {
            return util::fail(what + "empty host");
        }
        for (char c : inner) {
            const bool ok = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                            c == ':' || c == '.';
            if (!ok) {
                return util::fail(what + "malformed IPv6 address");
            }
        }
        out.ip = true;
    } else {
        const auto colon = authority.rfind(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
        }
        if (host.empty()) {
            return util::fail(what + "empty host");
        }
        for (char c : host) {
            const bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            c == '-' || c == '.';
            if (!ok) {
                return util::fail(what + "the host may hold only letters, digits, '-' and '.'");
            }
        }
        if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string::npos) {
            return util::fail(what + "malformed host name");
        }
        out.ip = is_ipv4(host);
    }
    out.host = util::ascii_lower(host);

    if (!authority.empty() && authority.back() == ':' && port.empty()) {
        return util::fail(what + "empty port");
    }
    if (!port.empty()) {
        unsigned long value = 0;
        for (char c : port) {
            if (!is_digit(c) || port.size() > 5) {
                return util::fail(what + "the port must be a number from 1 to 65535");
            }
            value = value * 10 + static_cast<unsigned long>(c - '0');
        }
        if (value < 1 || value > 65535) {
            return util::fail(what + "the port must be a number from 1 to 65535");
        }
        const bool is_default =
            (out.scheme == "http" && value == 80) || (out.scheme == "https" && value == 443);
        if (!is_default) {
            out.port = std::to_string(value);
        }
    }
    return out;
}

bool valid_region(std::string_view region) {
    if (region.empty() || region.size() > 63) {
        return false;
    }
    for (char c : region) {
        if (!is_lower_alnum(c) && c != '-') {
            return false;
        }
    }
    return true;
}

} // namespace

std::string_view to_string(Addressing a) {
    switch (a) {
    case Addressing::automatic:
        return "auto";
    case Addressing::path:
        return "path";
    case Addressing::virtual_hosted:
        return "virtual";
    }
    return "auto";
}

std::string Endpoint::bucket_uri() const {
    return base_path_.empty() ? "/" : base_path_;
}

std::string Endpoint::object_uri(std::string_view key) const {
    return base_path_ + "/" + uri_encode(key, false);
}

std::string Endpoint::url(std::string_view canonical_uri,
                          const std::vector<QueryParam>& query) const {
    std::string out = scheme_ + "://" + host_;
    out += canonical_uri.empty() ? std::string_view("/") : canonical_uri;
    if (!query.empty()) {
        out += '?';
        out += url_query_string(query);
    }
    return out;
}

std::string Endpoint::bucket_url(const std::vector<QueryParam>& query) const {
    return url(bucket_uri(), query);
}

std::string Endpoint::object_url(std::string_view key, const std::vector<QueryParam>& query) const {
    return url(object_uri(key), query);
}

util::Result<Endpoint> resolve_endpoint(const EndpointConfig& config) {
    const std::string region = config.region.empty() ? "us-east-1" : config.region;
    if (!valid_region(region)) {
        return util::fail("invalid region '" + region +
                          "': use lower-case letters, digits and '-' (e.g. eu-west-1)");
    }
    if (auto bucket = check_bucket_name(config.bucket); !bucket) {
        return util::fail(bucket.error());
    }

    ParsedUrl parsed;
    bool aws = false;
    if (config.endpoint_url.empty()) {
        aws = true;
        parsed.scheme = "https";
        const std::string suffix =
            starts_with(region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
        parsed.host = region == "us-east-1" ? "s3.amazonaws.com" : "s3." + region + "." + suffix;
    } else {
        auto url = parse_endpoint_url(config.endpoint_url);
        if (!url) {
            return util::fail(url.error());
        }
        parsed = std::move(url).value();
        aws = is_aws_host(parsed.host);
    }

    const bool dotted = config.bucket.find('.') != std::string::npos;
    const bool tls_breaks = dotted && parsed.scheme == "https";
    bool virtual_hosted = false;
    switch (config.addressing) {
    case Addressing::automatic:
        virtual_hosted = aws && !parsed.ip && !tls_breaks;
        break;
    case Addressing::path:
        virtual_hosted = false;
        break;
    case Addressing::virtual_hosted:
        if (parsed.ip) {
            return util::fail("virtual-hosted addressing needs a host name, but the endpoint is an "
                              "IP address; use path addressing");
        }
        if (tls_breaks) {
            return util::fail("bucket '" + config.bucket +
                              "' contains dots, so its virtual host name cannot match the "
                              "server's wildcard TLS certificate; use path addressing");
        }
        virtual_hosted = true;
        break;
    }

    Endpoint e;
    e.scheme_ = parsed.scheme;
    e.host_ = virtual_hosted ? config.bucket + "." + parsed.host : parsed.host;
    if (!parsed.port.empty()) {
        e.host_ += ":" + parsed.port;
    }
    e.base_path_ = virtual_hosted ? std::string{} : "/" + uri_encode(config.bucket, true);
    e.region_ = region;
    e.bucket_ = config.bucket;
    e.path_style_ = !virtual_hosted;
    return e;
}

util::Result<void> check_bucket_name(std::string_view bucket) {
    const std::string what = "invalid bucket name '" + std::string(bucket) + "': ";
    if (bucket.empty()) {
        return util::fail("no bucket name given");
    }
    if (bucket.size() < 3 || bucket.size() > 63) {
        return util::fail(what + "must be 3 to 63 characters long");
    }
    for (char c : bucket) {
        if (c >= 'A' && c <= 'Z') {
            return util::fail(what + "must be lower case");
        }
        if (!is_lower_alnum(c) && c != '.' && c != '-') {
            return util::fail(what + "may hold only lower-case letters, digits, '.' and '-'");
        }
    }
    if (!is_lower_alnum(bucket.front()) || !is_lower_alnum(bucket.back())) {
        return util::fail(what + "must start and end with a letter or digit");
    }
    if (bucket.find("..") != std::string_view::npos) {
        return util::fail(what + "must not contain \"..\"");
    }
    if (is_ipv4(bucket)) {
        return util::fail(what + "must not be an IP address");
    }
    if (starts_with(bucket, "xn--") || starts_with(bucket, "sthree-")) {
        return util::fail(what + "the prefixes xn-- and sthree- are reserved");
    }
    if (ends_with(bucket, "-s3alias") || ends_with(bucket, "--ol-s3")) {
        return util::fail(what + "the suffixes -s3alias and --ol-s3 are reserved");
    }
    return {};
}

util::Result<void> check_object_key(std::string_view key) {
    if (key.empty()) {
        return util::fail("object key is empty");
    }
    if (key.size() > 1024) {
        return util::fail("object key is " + std::to_string(key.size()) +
                          " bytes long; S3 allows at most 1024");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(key.data());
    const std::size_t n = key.size();
    std::size_t i = 0;
    while (i < n) {
        const std::size_t start = i;
        const unsigned char b0 = p[i];
        std::uint32_t cp = 0;
        std::size_t len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (b0 < 0x80) {
            cp = b0;
            len = 1;
        } else if (b0 >= 0xC2 && b0 <= 0xDF) {
            cp = b0 & 0x1Fu;
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            cp = b0 & 0x0Fu;
            len = 3;
            lo = b0 == 0xE0 ? 0xA0 : 0x80; // no overlong forms
            hi = b0 == 0xED ? 0x9F : 0xBF; // no UTF-16 surrogates
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            cp = b0 & 0x07u;
            len = 4;
            lo = b0 == 0xF0 ? 0x90 : 0x80;
            hi = b0 == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
        } else {
            return util::fail("object key is not valid UTF-8 (byte " + std::to_string(start) + ")");
        }
        if (start + len > n) {
            return util::fail("object key is not valid UTF-8 (truncated sequence at byte " +
                              std::to_string(start) + ")");
        }
        for (std::size_t k = 1; k < len; ++k) {
            const unsigned char b = p[start + k];
            const unsigned char min = k == 1 ? lo : 0x80;
            const unsigned char max = k == 1 ? hi : 0xBF;
            if (b < min || b > max) {
                return util::fail("object key is not valid UTF-8 (byte " + std::to_string(start) +
                                  ")");
            }
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
            return util::fail("object key contains the control character " + std::string(buf) +
                              " at byte " + std::to_string(start));
        }
        i = start + len;
    }
    return {};
}

} // namespace imgsync::s3
