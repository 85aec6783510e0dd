// The little XML that S3 talks: reading a few simple elements out of response bodies, and
// writing the CompleteMultipartUpload request body. No external library.
//
// The reader is deliberately forgiving and non-validating: it skips the prolog, comments,
// processing instructions and DOCTYPE, ignores attributes and namespace prefixes, takes CDATA as
// text, recovers from mismatched or missing end tags, and decodes the predefined and numeric
// character references. It reads only inside the given buffer whatever the input (it is fuzzed),
// and refuses documents nested deeper than kMaxXmlDepth instead of exhausting the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgsync::s3 {

inline constexpr std::size_t kMaxXmlDepth = 64;

// Replaces & < > " ' with entities. Other bytes pass through untouched.
std::string xml_escape(std::string_view s);

// Decodes &amp; &lt; &gt; &quot; &apos; &#NN; &#xNN; (to UTF-8). A reference that is unknown,
// malformed or names an invalid code point (0, a surrogate, > U+10FFFF) is kept literally.
// xml_unescape(xml_escape(s)) == s for every s.
std::string xml_unescape(std::string_view s);

struct XmlElement {
    std::string name; // local name: "s3:Key" is "Key"
    std::string text; // decoded character data directly inside this element, CDATA included
    std::vector<XmlElement> children;

    const XmlElement* child(std::string_view child_name) const;
    std::vector<const XmlElement*> children_named(std::string_view child_name) const;
    // Text of the first child of that name, or "" when there is none.
    std::string child_text(std::string_view child_name) const;
};

// The document's root element; nullopt when there is none or nesting exceeds kMaxXmlDepth.
std::optional<XmlElement> parse_xml(std::string_view body);

struct S3Error {
    std::string code;    // "SlowDown", "NoSuchUpload", ...
    std::string message; // may be empty: radosgw sends <Message/>
    std::string request_id;
    std::string host_id;
    std::string resource;
};

// nullopt unless the root element is <Error>. Also the way to spot the "200 OK with an <Error>
// body" that CompleteMultipartUpload and CopyObject can return.
std::optional<S3Error> parse_error(std::string_view body);

// Whether an answer is a web page (text/html, or an <html> body): no S3 API answers with one, so
// the endpoint is probably a web server, or a proxy's page, rather than the store.
bool is_html_answer(std::string_view content_type, std::string_view body);
// Appended to the error such an answer gets.
inline constexpr const char* not_s3_hint =
    "; the answer is not S3's: the endpoint is probably not an S3 API (check --endpoint: host, "
    "port, scheme, and a path that should not be there)";

// InitiateMultipartUploadResult -> UploadId; nullopt when missing or empty.
std::optional<std::string> parse_upload_id(std::string_view body);

struct PartInfo {
    int part_number = 0;
    std::string etag; // as sent, quotes included
    std::uint64_t size = 0;
};

struct ListPartsResult {
    std::string upload_id;
    std::vector<PartInfo> parts; // entries with an unreadable PartNumber or Size are left out
    bool is_truncated = false;
    std::optional<int> next_part_number_marker;
};

// nullopt unless the root element is <ListPartsResult>.
std::optional<ListPartsResult> parse_list_parts(std::string_view body);

struct CompleteMultipartUploadResult {
    std::string location;
    std::string bucket;
    std::string key;
    std::string etag;
};

// A CompleteMultipartUpload answer: a result, an error (even with status 200), or neither when
// the body is not something S3 sends.
struct CompleteOutcome {
    std::optional<CompleteMultipartUploadResult> result;
    std::optional<S3Error> error;
};
CompleteOutcome parse_complete_multipart_upload(std::string_view body);

struct ListBucketResult {
    std::vector<std::string> keys;
    bool is_truncated = false;
    std::string next_continuation_token; // ListObjectsV2
    std::string next_marker;             // ListObjects (v1), when the server sends it
};

// ListObjects v1 or v2; nullopt unless the root element is <ListBucketResult>.
std::optional<ListBucketResult> parse_list_bucket(std::string_view body);

// One part of a CompleteMultipartUpload: its number, its ETag as UploadPart returned it (quotes
// included) and, with --checksum-algorithm, its checksum as sent (s3/checksum).
struct CompletedPart {
    int number = 0;
    std::string etag;
    std::string checksum;
};

// <CompleteMultipartUpload> of the parts, written in ascending part-number order as S3 requires;
// each part's checksum in the element `checksum_element` (ChecksumCRC32C, ...) when it has one.
std::string complete_multipart_body(std::vector<CompletedPart> parts,
                                    std::string_view checksum_element = {});

} // namespace imgsync::s3
