// AWS Signature Version 4 for S3, written against the published rules and vectors (no SDK).
//
// Pure: no clock, no I/O. The signing time is always an argument (AmzDate), so a retry can be
// re-signed with a fresh time by the caller, and tests are exact.
//
// S3 specifics that differ from the generic SigV4 rules, and that this code follows:
//  * the canonical URI is the path as sent, URI-encoded once: no "." / ".." removal, no "//"
//    merging, no second encoding;
//  * every request carries x-amz-content-sha256 (the payload hash or UNSIGNED-PAYLOAD), and it
//    is signed. The generic test suite has no such header: SigningOptions::content_sha256_header.
//
// Note for the HTTP layer: send exactly `canonical_uri` as the request path and
// url_query_string(query) as the query, and stop libcurl from rewriting "/./" and "/../"
// (CURLOPT_PATH_AS_IS); otherwise a key such as "a/../b.jpg" is signed for one path and sent to
// another.
#pragma once

#include "s3/credentials.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::s3 {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// S3's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ becomes %XY (upper-case hex); '/' is
// kept when encode_slash is false (object paths) and encoded otherwise (query names/values).
// Space is %20, never '+'. The input is taken as raw bytes: "%" itself is encoded, so an
// already-encoded string would be encoded twice; pass unencoded text.
std::string uri_encode(std::string_view s, bool encode_slash);

// A signing time, "YYYYMMDDTHHMMSSZ" (UTC). Construct from a clock reading or parse a string.
class AmzDate {
  public:
    static AmzDate from_epoch(std::int64_t epoch); // seconds since the epoch
    // nullopt unless s is exactly 16 characters of that form with a valid calendar date and time.
    static std::optional<AmzDate> parse(std::string_view s);

    const std::string& timestamp() const noexcept { return timestamp_; } // 20130524T000000Z
    std::string_view date() const noexcept { return std::string_view(timestamp_).substr(0, 8); }

  private:
    explicit AmzDate(std::string ts) : timestamp_(std::move(ts)) {}
    std::string timestamp_;
};

struct Header {
    std::string name;
    std::string value;
};

// An unencoded query parameter. A bare "?uploads" is {"uploads", ""}.
struct QueryParam {
    std::string name;
    std::string value;
};

// What gets signed. Build canonical_uri with Endpoint::object_uri() / bucket_uri(), or with
// encode_path() from a raw path; it must already be encoded and start with '/'.
struct HttpRequest {
    std::string method = "GET";
    std::string host;          // Host header value, with ":port" when not the scheme's default
    std::string canonical_uri; // encoded path, e.g. "/bucket/photos/a%20b.jpg"
    std::vector<QueryParam> query;
    // Extra headers to sign (content-type, content-md5, x-amz-meta-*, ...). All are signed, so
    // leave out the ones a proxy may change (user-agent, expect). host, x-amz-date,
    // x-amz-content-sha256, x-amz-security-token and authorization belong to the signer; copies
    // given here are dropped.
    std::vector<Header> headers;
    // Lower-case hex SHA-256 of the body, or UNSIGNED-PAYLOAD.
    std::string payload_hash = std::string(kEmptyPayloadSha256);
};

// encode_path("/photos/a b.jpg") == "/photos/a%20b.jpg"; "" becomes "/".
std::string encode_path(std::string_view raw_path);

// "k=v&k2=v2": names and values URI-encoded ('/' too), sorted by encoded name then encoded value.
std::string canonical_query_string(const std::vector<QueryParam>& query);
// The same order and encoding for the request line, but a parameter with an empty value is
// written bare ("uploads", not "uploads="), as the SDKs send sub-resources.
std::string url_query_string(const std::vector<QueryParam>& query);

struct CanonicalHeaders {
    std::string block;          // "name:value\n" for each header, sorted by name
    std::string signed_headers; // "host;x-amz-date"
};
// Lower-cases names, trims values and folds inner runs of white space to one space, joins the
// values of a repeated name with ',' in the order given, and sorts by name.
CanonicalHeaders canonicalize_headers(const std::vector<Header>& headers);

std::string canonical_request(std::string_view method, std::string_view canonical_uri,
                              std::string_view canonical_query, const CanonicalHeaders& headers,
                              std::string_view payload_hash);

// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(const AmzDate& date, std::string_view region,
                             std::string_view service);

std::string string_to_sign(const AmzDate& date, std::string_view scope,
                           std::string_view canonical_request);

using SigningKey = std::array<std::uint8_t, 32>;

// HMAC chain "AWS4"+secret -> date (YYYYMMDD) -> region -> service -> "aws4_request".
SigningKey derive_signing_key(const Secret& secret_key, std::string_view yyyymmdd,
                              std::string_view region, std::string_view service);

// Lower-case hex HMAC-SHA256 of the string to sign.
std::string signature(const SigningKey& key, std::string_view string_to_sign);

std::string authorization_header(std::string_view access_key, std::string_view scope,
                                 std::string_view signed_headers, std::string_view signature);

// Keeps the derived key per (date, region, service, secret) so a run derives it once a day
// instead of four HMACs per request. Thread-safe. The secret itself is not stored; a SHA-256 of
// it tells entries apart.
class SigningKeyCache {
  public:
    SigningKey get(const Secret& secret_key, std::string_view yyyymmdd, std::string_view region,
                   std::string_view service);
    // How many keys were derived, not served from the cache (for tests and metrics).
    std::size_t derivations() const;

  private:
    struct Entry {
        std::string date;
        std::string region;
        std::string service;
        std::array<std::uint8_t, 32> secret_fingerprint;
        SigningKey key;
    };
    static constexpr std::size_t kMaxEntries = 8;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    std::size_t derivations_ = 0;
};

struct SigningOptions {
    std::string region = "us-east-1";
    std::string service = "s3";
    // S3 requires x-amz-content-sha256; the generic aws4 test suite does not have it.
    bool content_sha256_header = true;
};

struct SignedRequest {
    // Headers to add to the request as sent: x-amz-date, x-amz-content-sha256 (S3),
    // x-amz-security-token (temporary credentials) and Authorization.
    std::vector<Header> headers;
    std::string authorization;
    std::string signature;
    std::string signed_headers;
    std::string canonical_request; // for debugging SignatureDoesNotMatch: S3 returns its own
    std::string string_to_sign;
};

SignedRequest sign_request(const HttpRequest& request, const Credentials& credentials,
                           const SigningOptions& options, const AmzDate& date,
                           SigningKeyCache* cache = nullptr);

struct PresignRequest {
    std::string method = "GET";
    std::string scheme = "https";
    std::string host;
    std::string canonical_uri;
    std::vector<QueryParam> query; // extra parameters (e.g. response-content-type)
    std::chrono::seconds expires{3600};
};

struct PresignedUrl {
    std::string url;
    std::string signature;
    std::string canonical_request;
    std::string string_to_sign;
};

// Query-string authentication (a presigned URL): X-Amz-Algorithm, -Credential, -Date, -Expires,
// -SignedHeaders=host, -Security-Token when the credentials are temporary, then -Signature; the
// payload is UNSIGNED-PAYLOAD. nullopt when expires is outside 1 s .. 7 days (S3's limits).
std::optional<PresignedUrl> presign_url(const PresignRequest& request,
                                        const Credentials& credentials, std::string_view region,
                                        const AmzDate& date, std::string_view service = "s3");

} // namespace imgsync::s3
