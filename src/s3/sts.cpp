#include "s3/sts.hpp"

#include "s3/xml.hpp"
#include "util/hash.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"
#include "util/timefmt.hpp"

#include <fmt/format.h>

namespace imgsync::s3 {

namespace {

constexpr std::string_view kStsVersion = "2011-06-15";
constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

std::string form_body(const std::vector<QueryParam>& params) {
    return canonical_query_string(params); // the same encoding, and a stable order
}

util::HttpRequest post(const StsEndpoint& endpoint, std::string body) {
    util::HttpRequest out;
    out.method = "POST";
    out.url = endpoint.url();
    out.headers.push_back("Content-Type: " + std::string(kFormType));
    out.headers.push_back("Accept: application/xml");
    out.memory = std::move(body);
    out.length = out.memory.size();
    out.connect_timeout_ms = 5000;
    out.total_timeout_ms = 15000;
    return out;
}

std::vector<QueryParam> common_params(std::string_view action, const AssumeRoleParams& p) {
    std::vector<QueryParam> q{{"Action", std::string(action)},
                              {"Version", std::string(kStsVersion)},
                              {"RoleArn", p.role_arn},
                              {"RoleSessionName", p.session_name}};
    if (p.duration_seconds) {
        q.push_back({"DurationSeconds", std::to_string(*p.duration_seconds)});
    }
    return q;
}

} // namespace

util::Result<StsEndpoint> sts_endpoint(std::string_view region, std::string_view regional_setting,
                                       std::string_view override_url) {
    StsEndpoint e;
    const std::string setting = util::ascii_lower(regional_setting);
    if (!setting.empty() && setting != "regional" && setting != "legacy") {
        return util::fail("sts_regional_endpoints must be regional or legacy, not " +
                          util::printable(regional_setting));
    }
    if (!override_url.empty()) {
        const auto scheme_end = override_url.find("://");
        if (scheme_end == std::string_view::npos) {
            return util::fail("the STS endpoint " + util::printable(override_url) +
                              " is not an http:// or https:// URL");
        }
        e.scheme = util::ascii_lower(override_url.substr(0, scheme_end));
        if (e.scheme != "http" && e.scheme != "https") {
            return util::fail("the STS endpoint " + util::printable(override_url) +
                              " is not an http:// or https:// URL");
        }
        std::string_view rest = override_url.substr(scheme_end + 3);
        const auto slash = rest.find('/');
        e.host = std::string(rest.substr(0, slash));
        e.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (e.host.empty() || e.host.find_first_of("@?# ") != std::string::npos ||
            e.path.find_first_of("?# ") != std::string::npos) {
            return util::fail("the STS endpoint " + util::printable(override_url) +
                              " is not an http:// or https:// URL of a host");
        }
        const std::string default_port = e.scheme == "https" ? ":443" : ":80";
        if (e.host.size() > default_port.size() &&
            e.host.compare(e.host.size() - default_port.size(), default_port.size(),
                           default_port) == 0) {
            e.host.resize(e.host.size() - default_port.size());
        }
        e.region = region.empty() ? "us-east-1" : std::string(region);
        return e;
    }
    if (region.empty() || setting == "legacy") {
        return e; // the global endpoint
    }
    e.region = std::string(region);
    const bool china = region.rfind("cn-", 0) == 0;
    e.host = "sts." + e.region + (china ? ".amazonaws.com.cn" : ".amazonaws.com");
    return e;
}

util::HttpRequest assume_role_request(const StsEndpoint& endpoint, const AssumeRoleParams& params,
                                      const Credentials& source, const AmzDate& date) {
    auto q = common_params("AssumeRole", params);
    if (!params.external_id.empty()) {
        q.push_back({"ExternalId", params.external_id});
    }
    std::string body = form_body(q);
    HttpRequest to_sign;
    to_sign.method = "POST";
    to_sign.host = endpoint.host;
    to_sign.canonical_uri = encode_path(endpoint.path);
    to_sign.headers = {{"content-type", std::string(kFormType)}};
    to_sign.payload_hash = util::sha256_hex(body);
    SigningOptions options;
    options.region = endpoint.region;
    options.service = "sts";
    options.content_sha256_header = false;
    const SignedRequest signed_request = sign_request(to_sign, source, options, date);
    util::HttpRequest out = post(endpoint, std::move(body));
    for (const auto& h : signed_request.headers) {
        out.headers.push_back(h.name + ": " + h.value);
    }
    return out;
}

util::HttpRequest web_identity_request(const StsEndpoint& endpoint, const AssumeRoleParams& params,
                                       const Secret& token) {
    auto q = common_params("AssumeRoleWithWebIdentity", params);
    q.push_back({"WebIdentityToken", std::string(token.reveal())});
    return post(endpoint, form_body(q));
}

util::Result<Credentials> parse_sts_response(std::string_view action, long status,
                                             std::string_view body) {
    const auto root = parse_xml(body);
    const std::string what = "STS " + std::string(action);
    if (root && root->name == "ErrorResponse") {
        const XmlElement* error = root->child("Error");
        const std::string code = error != nullptr ? error->child_text("Code") : "";
        const std::string message = error != nullptr ? error->child_text("Message") : "";
        return util::fail(fmt::format(
            "{} refused: HTTP {} {}{}", what, status, util::printable(code.substr(0, 100)),
            message.empty() ? "" : " (" + util::printable(message.substr(0, 300)) + ")"));
    }
    if (status < 200 || status >= 300) {
        return util::fail(fmt::format("{} refused: HTTP {}", what, status));
    }
    const std::string response = std::string(action) + "Response";
    const std::string result = std::string(action) + "Result";
    if (!root || root->name != response) {
        return util::fail(what + ": the answer is not an <" + response + ">");
    }
    const XmlElement* r = root->child(result);
    const XmlElement* c = r != nullptr ? r->child("Credentials") : nullptr;
    if (c == nullptr) {
        return util::fail(what + ": the answer has no <Credentials>");
    }
    Credentials out;
    out.access_key = c->child_text("AccessKeyId");
    out.secret_key = Secret(c->child_text("SecretAccessKey"));
    out.session_token = Secret(c->child_text("SessionToken"));
    if (out.access_key.empty() || out.secret_key.empty() || out.session_token.empty()) {
        return util::fail(what + ": the answer lacks AccessKeyId, SecretAccessKey or SessionToken");
    }
    const auto expires = util::parse_iso8601_utc(c->child_text("Expiration"));
    if (!expires) {
        return util::fail(what + ": the answer has no valid <Expiration>");
    }
    out.expires_at = *expires;
    return out;
}

} // namespace imgsync::s3
