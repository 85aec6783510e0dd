#include "s3/operations.hpp"

#include "s3/xml.hpp"
#include "util/hash.hpp"

#include <fmt/format.h>

namespace imgsync::s3 {

namespace {

std::string md5_base64(const std::string& md5_hex) {
    util::Md5Digest raw{};
    if (!util::from_hex(md5_hex, raw.data(), raw.size())) {
        return {};
    }
    return util::base64(raw);
}

} // namespace

Operations::Operations(Endpoint endpoint, Credentials credentials)
    : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {
    options_.region = endpoint_.region();
}

util::HttpRequest Operations::build(const std::string& method, const std::string& canonical_uri,
                                    const std::vector<QueryParam>& query,
                                    const std::vector<Header>& headers,
                                    const std::string& payload_hash, const AmzDate& date) {
    HttpRequest to_sign;
    to_sign.method = method;
    to_sign.host = endpoint_.host();
    to_sign.canonical_uri = canonical_uri;
    to_sign.query = query;
    to_sign.headers = headers;
    to_sign.payload_hash = payload_hash;
    SignedRequest signed_request = sign_request(to_sign, credentials_, options_, date, &keys_);
    last_canonical_ = signed_request.canonical_request;

    util::HttpRequest out;
    out.method = method;
    out.url = endpoint_.url(canonical_uri, query);
    for (const auto& h : headers) {
        out.headers.push_back(h.name + ": " + h.value);
    }
    for (const auto& h : signed_request.headers) {
        out.headers.push_back(h.name + ": " + h.value);
    }
    return out;
}

util::HttpRequest Operations::put_object(const std::string& key, const FileBody& body,
                                         const std::string& content_type,
                                         const std::vector<Header>& object, const AmzDate& date) {
    std::vector<Header> headers{{"content-type", content_type},
                                {"content-md5", md5_base64(body.md5_hex)}};
    headers.insert(headers.end(), object.begin(), object.end());
    if (!body.checksum_header.empty()) {
        headers.push_back({body.checksum_header, body.checksum_value});
    }
    auto req = build("PUT", endpoint_.object_uri(key), {}, headers, body.sha256_hex, date);
    req.body_fd = body.fd;
    req.offset = body.offset;
    req.length = body.length;
    return req;
}

util::HttpRequest Operations::create_multipart(const std::string& key,
                                               const std::string& content_type,
                                               const std::vector<Header>& object,
                                               const AmzDate& date) {
    std::vector<Header> headers{{"content-type", content_type}};
    headers.insert(headers.end(), object.begin(), object.end());
    return build("POST", endpoint_.object_uri(key), {{"uploads", ""}}, headers,
                 std::string(kEmptyPayloadSha256), date);
}

util::HttpRequest Operations::upload_part(const std::string& key, const std::string& upload_id,
                                          std::int64_t part_number, const FileBody& body,
                                          const AmzDate& date) {
    std::vector<Header> headers{{"content-md5", md5_base64(body.md5_hex)}};
    if (!body.checksum_header.empty()) {
        headers.push_back({body.checksum_header, body.checksum_value});
    }
    auto req = build("PUT", endpoint_.object_uri(key),
                     {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                     headers, body.sha256_hex, date);
    req.body_fd = body.fd;
    req.offset = body.offset;
    req.length = body.length;
    return req;
}

util::HttpRequest Operations::complete_multipart(const std::string& key,
                                                 const std::string& upload_id,
                                                 const std::vector<CompletedPart>& parts,
                                                 std::string_view checksum_element,
                                                 bool if_none_match, const AmzDate& date) {
    std::string body = complete_multipart_body(parts, checksum_element);
    std::vector<Header> headers{{"content-type", "application/xml"}};
    if (if_none_match) {
        headers.push_back({"if-none-match", "*"});
    }
    auto req = build("POST", endpoint_.object_uri(key), {{"uploadId", upload_id}}, headers,
                     util::sha256_hex(body), date);
    req.memory = std::move(body);
    return req;
}

util::HttpRequest Operations::put_object_tagging(const std::string& key, const std::string& body,
                                                 const AmzDate& date) {
    auto req =
        build("PUT", endpoint_.object_uri(key), {{"tagging", ""}},
              {{"content-md5", util::base64(util::md5(body))}, {"content-type", "application/xml"}},
              util::sha256_hex(body), date);
    req.memory = body;
    return req;
}

util::HttpRequest Operations::abort_multipart(const std::string& key, const std::string& upload_id,
                                              const AmzDate& date) {
    return build("DELETE", endpoint_.object_uri(key), {{"uploadId", upload_id}}, {},
                 std::string(kEmptyPayloadSha256), date);
}

util::HttpRequest Operations::list_parts(const std::string& key, const std::string& upload_id,
                                         std::int64_t part_number_marker, const AmzDate& date) {
    std::vector<QueryParam> query{{"uploadId", upload_id}};
    if (part_number_marker > 0) {
        query.push_back({"part-number-marker", std::to_string(part_number_marker)});
    }
    return build("GET", endpoint_.object_uri(key), query, {}, std::string(kEmptyPayloadSha256),
                 date);
}

util::HttpRequest Operations::head_bucket(const AmzDate& date) {
    return build("HEAD", endpoint_.bucket_uri(), {}, {}, std::string(kEmptyPayloadSha256), date);
}

util::HttpRequest Operations::list_objects(std::int64_t max_keys, const AmzDate& date) {
    return build("GET", endpoint_.bucket_uri(),
                 {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}}, {},
                 std::string(kEmptyPayloadSha256), date);
}

util::HttpRequest Operations::head_object(const std::string& key, const AmzDate& date) {
    return build("HEAD", endpoint_.object_uri(key), {}, {}, std::string(kEmptyPayloadSha256), date);
}

} // namespace imgsync::s3
