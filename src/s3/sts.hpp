// AWS STS, the two calls imgsync makes: AssumeRole (signed with SigV4 for service "sts") and
// AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof). Pure: the requests
// are built here with the signing time as a parameter, the answers parsed here; nothing is sent.
//
// The web identity token travels in the request body only; it is never part of a message.
#pragma once

#include "s3/credentials.hpp"
#include "s3/sigv4.hpp"
#include "util/http_client.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace imgsync::s3 {

struct StsEndpoint {
    std::string scheme = "https";
    std::string host = "sts.amazonaws.com"; // with ":port" when not the scheme's default
    std::string path = "/";
    std::string region = "us-east-1"; // the signing region
    std::string url() const { return scheme + "://" + host + path; }
};

// Where STS is asked:
//   override_url (AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL): that URL, signed for `region`
//     (us-east-1 without one);
//   else with a region and sts_regional_endpoints "regional" (the default, as in AWS CLI v2 and
//     the current SDKs): https://sts.REGION.amazonaws.com (amazonaws.com.cn in cn-*);
//   else (no region, or "legacy"): the global https://sts.amazonaws.com, signed for us-east-1.
// Fails on a setting other than "regional" or "legacy", or a URL that is not http(s)://HOST....
util::Result<StsEndpoint> sts_endpoint(std::string_view region, std::string_view regional_setting,
                                       std::string_view override_url);

struct AssumeRoleParams {
    std::string role_arn;
    std::string session_name;
    std::string external_id;             // AssumeRole only; empty: not sent
    std::optional<int> duration_seconds; // unset: STS's default (one hour)
};

// POST with a form body (Action=AssumeRole&Version=2011-06-15&...), signed with `source`.
util::HttpRequest assume_role_request(const StsEndpoint& endpoint, const AssumeRoleParams& params,
                                      const Credentials& source, const AmzDate& date);
// POST with Action=AssumeRoleWithWebIdentity and the token, unsigned.
util::HttpRequest web_identity_request(const StsEndpoint& endpoint, const AssumeRoleParams& params,
                                       const Secret& token);

// The answer: <AssumeRoleResponse> or <AssumeRoleWithWebIdentityResponse> with Credentials
// (AccessKeyId, SecretAccessKey, SessionToken, Expiration) -> credentials with expires_at; an
// <ErrorResponse> -> "STS refused AssumeRole: HTTP 403 AccessDenied (message)"; anything else ->
// a message saying what was wrong with it.
util::Result<Credentials> parse_sts_response(std::string_view action, long status,
                                             std::string_view body);

} // namespace imgsync::s3
