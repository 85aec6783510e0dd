// Where a request goes: scheme, Host (and so the SigV4 `host` header), and the path of a bucket
// or an object, for AWS S3 and for S3-compatible stores (Ceph radosgw, MinIO).
//
// Error handling: nothing here throws. resolve_endpoint() and the validators return a
// util::Result: an Endpoint (or nothing) or a one-line message for the user. Messages never repeat
// an endpoint URL that carries user information, since that part may hold a password.
#pragma once

#include "s3/sigv4.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::s3 {

// auto: virtual-hosted on AWS hosts, path-style for an IP address or any custom endpoint (and for
// a dotted bucket over https, whose virtual host name no TLS wildcard certificate matches).
enum class Addressing { automatic, path, virtual_hosted };

// "auto", "path" or "virtual" (the command line maps these names back: cli/args add_enum_option).
std::string_view to_string(Addressing a);

struct EndpointConfig {
    std::string endpoint_url; // "" for AWS; else e.g. "http://10.0.0.5:7480", "https://minio.lan"
    std::string region;       // "" means us-east-1
    std::string bucket;
    Addressing addressing = Addressing::automatic;
};

class Endpoint {
  public:
    const std::string& scheme() const noexcept { return scheme_; } // "http" or "https"
    // Lower case, with ":port" only when it is not the scheme's default: this is both the Host
    // header and the SigV4 `host` value, which must agree byte for byte.
    const std::string& host() const noexcept { return host_; }
    // "" (virtual-hosted) or "/bucket" (path-style); encoded.
    const std::string& base_path() const noexcept { return base_path_; }
    const std::string& region() const noexcept { return region_; }
    const std::string& bucket() const noexcept { return bucket_; }
    bool path_style() const noexcept { return path_style_; }

    // Canonical URI of the bucket ("/" or "/bucket"): HeadBucket, ListObjectsV2, ...
    std::string bucket_uri() const;
    // Canonical URI of an object: base path + "/" + key URI-encoded with '/' kept. The key is
    // taken as is: "a//b" and "a/../b" stay, as S3 names them.
    std::string object_uri(std::string_view key) const;

    // Full URLs, for the HTTP client. The query is written with url_query_string(), i.e. the
    // same encoding and order the signature uses.
    std::string url(std::string_view canonical_uri,
                    const std::vector<QueryParam>& query = {}) const;
    std::string bucket_url(const std::vector<QueryParam>& query = {}) const;
    std::string object_url(std::string_view key, const std::vector<QueryParam>& query = {}) const;

  private:
    friend util::Result<Endpoint> resolve_endpoint(const EndpointConfig& config);
    std::string scheme_;
    std::string host_;
    std::string base_path_;
    std::string region_;
    std::string bucket_;
    bool path_style_ = false;
};

util::Result<Endpoint> resolve_endpoint(const EndpointConfig& config);

// S3 bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or
// digit, no "..", not shaped like an IPv4 address, none of the reserved prefixes (xn--, sthree-)
// or suffixes (-s3alias, --ol-s3).
util::Result<void> check_bucket_name(std::string_view bucket);

// Keys imgsync is willing to upload: non-empty, at most 1024 bytes, valid UTF-8, and no control
// characters (C0, DEL, C1): S3 would take some of them, but they break listings, logs and tools.
// The message names the offending byte offset, never the key itself.
util::Result<void> check_object_key(std::string_view key);

} // namespace imgsync::s3
