// The S3 calls imgsync makes, as signed HTTP requests ready for util::HttpClient. Pure: the
// signing time is a parameter; nothing is sent here.
#pragma once

#include "s3/credentials.hpp"
#include "s3/endpoint.hpp"
#include "s3/sigv4.hpp"
#include "s3/xml.hpp"
#include "util/http_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imgsync::s3 {

// Where a body comes from: `length` bytes of file `fd` from `offset`, with the hashes the server
// checks (hex SHA-256 signed as x-amz-content-sha256; hex MD5 sent as Content-MD5), so any byte
// that differs from what was hashed is refused (BadDigest / XAmzContentSHA256Mismatch).
struct FileBody {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::string sha256_hex;
    std::string md5_hex;
    // With --checksum-algorithm: x-amz-checksum-crc32c (or -sha256) and its value.
    std::string checksum_header;
    std::string checksum_value;
};

class Operations {
  public:
    Operations(Endpoint endpoint, Credentials credentials);

    const Endpoint& endpoint() const { return endpoint_; }
    // Fresh temporary credentials: requests built from now on are signed with them; those
    // already built keep their signatures.
    void set_credentials(Credentials credentials) { credentials_ = std::move(credentials); }

    // `object` is the object's own headers (s3/object_settings: object_headers), signed too.
    util::HttpRequest put_object(const std::string& key, const FileBody& body,
                                 const std::string& content_type, const std::vector<Header>& object,
                                 const AmzDate& date);
    util::HttpRequest create_multipart(const std::string& key, const std::string& content_type,
                                       const std::vector<Header>& object, const AmzDate& date);
    util::HttpRequest upload_part(const std::string& key, const std::string& upload_id,
                                  std::int64_t part_number, const FileBody& body,
                                  const AmzDate& date);
    // if_none_match: If-None-Match: * (AWS refuses the completion with 412 if the key exists).
    util::HttpRequest complete_multipart(const std::string& key, const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts,
                                         std::string_view checksum_element, bool if_none_match,
                                         const AmzDate& date);
    util::HttpRequest abort_multipart(const std::string& key, const std::string& upload_id,
                                      const AmzDate& date);
    util::HttpRequest list_parts(const std::string& key, const std::string& upload_id,
                                 std::int64_t part_number_marker, const AmzDate& date);
    util::HttpRequest head_bucket(const AmzDate& date);
    // ListObjectsV2 with max-keys: unlike HEAD, its errors carry an S3 error code.
    util::HttpRequest list_objects(std::int64_t max_keys, const AmzDate& date);
    util::HttpRequest head_object(const std::string& key, const AmzDate& date);
    // PutObjectTagging with a body from s3::tagging_body.
    util::HttpRequest put_object_tagging(const std::string& key, const std::string& body,
                                         const AmzDate& date);

    // The signature of the last request built, for a debug log on SignatureDoesNotMatch.
    const std::string& last_canonical_request() const { return last_canonical_; }

  private:
    util::HttpRequest build(const std::string& method, const std::string& canonical_uri,
                            const std::vector<QueryParam>& query,
                            const std::vector<Header>& headers, const std::string& payload_hash,
                            const AmzDate& date);

    Endpoint endpoint_;
    Credentials credentials_;
    SigningOptions options_;
    SigningKeyCache keys_;
    std::string last_canonical_;
};

} // namespace imgsync::s3
