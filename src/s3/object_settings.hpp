// How each object is stored: storage class, the headers a browser or CDN reads (Cache-Control,
// Content-Disposition), user metadata, tags, a canned ACL and server-side encryption, as the
// headers of PutObject and CreateMultipartUpload. Every object also carries x-amz-meta-sha256,
// the image's SHA-256, so anyone can check an object without trusting its ETag.
//
// Pure: the settings are validated once, before any request (bad values are refused with a
// one-line message naming the option), and the headers are computed per image. Every header is
// signed like the others (s3/operations).
#pragma once

#include "s3/checksum.hpp"
#include "s3/sigv4.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgsync::s3 {

// S3's canned ACLs (x-amz-acl).
enum class CannedAcl {
    private_acl,
    public_read,
    public_read_write,
    authenticated_read,
    aws_exec_read,
    bucket_owner_read,
    bucket_owner_full_control,
};
std::string_view to_string(CannedAcl acl); // "private", "public-read", ...

// Server-side encryption with S3-managed keys (SSE-S3) or with KMS keys (SSE-KMS).
enum class Sse { aes256, kms };
std::string_view to_string(Sse sse); // "AES256", "aws:kms"

// As the options typed them; empty strings and empty lists mean "not set".
struct ObjectSettingsInput {
    std::string storage_class;
    std::string cache_control;
    std::string content_disposition;
    std::vector<std::string> metadata; // KEY=VALUE each
    std::string tagging;               // K=V&K2=V2, URL-encoded or not
    std::optional<CannedAcl> acl;
    std::optional<Sse> sse;
    std::string sse_kms_key_id;
    std::optional<ChecksumAlgorithm> checksum_algorithm;
};

struct ObjectSettings {
    std::string storage_class;
    std::string cache_control;
    std::string content_disposition;
    std::vector<std::pair<std::string, std::string>> metadata; // lower-case names, input order
    std::string tagging;                                       // canonical: encoded, input order
    std::vector<std::pair<std::string, std::string>> tags;     // the same, decoded
    std::optional<CannedAcl> acl;
    std::optional<Sse> sse;
    std::string sse_kms_key_id;
    std::optional<ChecksumAlgorithm> checksum; // --checksum-algorithm

    // S3's ETag is the MD5 of the object's bytes (or the multipart ETag of the parts' MD5s)
    // except under SSE-KMS, where it is opaque. Then the server's own check of Content-MD5 and
    // of the signed SHA-256, and x-amz-meta-sha256, are what vouch for the bytes.
    bool etag_is_md5() const { return sse != Sse::kms; }
};

// Validates everything, or fails naming the option and the problem:
//  --storage-class: 1-64 of A-Z a-z 0-9 _ - (AWS's classes, or a store's own, such as Ceph's);
//  --cache-control, --content-disposition: printable ASCII, at most 1024 bytes, no surrounding
//   space (an RFC 6266 filename*=UTF-8''... is ASCII);
//  --metadata KEY=VALUE: KEY of a-z 0-9 - _ (lower-cased, as S3 stores it), not "sha256"
//   (imgsync's own) and not repeated; VALUE printable ASCII; all names and values together at
//   most 2 KiB with x-amz-meta-sha256 (AWS's limit);
//  --tagging: at most 10 tags, keys 1-128 and values 0-256 characters of UTF-8 without control
//   characters, no key twice, none starting with "aws:";
//  --sse-kms-key-id only with --sse aws:kms.
util::Result<ObjectSettings> make_object_settings(const ObjectSettingsInput& input);

// The headers for one object (PutObject, CreateMultipartUpload), in a fixed order.
std::vector<Header> object_headers(const ObjectSettings& settings, std::string_view sha256_hex);

// The PutObjectTagging body for the tags. Some stores (radosgw before Quincy) ignore x-amz-tagging
// on CreateMultipartUpload, so the pass sets a multipart object's tags again once it is complete.
std::string tagging_body(const std::vector<std::pair<std::string, std::string>>& tags);

} // namespace imgsync::s3
