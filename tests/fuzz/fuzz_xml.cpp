// libFuzzer target: the S3 response readers must never crash or read outside the buffer, and
// what we escape must come back unchanged.
#include "s3/xml.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace imgsync::s3;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    (void)parse_xml(in);
    (void)parse_error(in);
    (void)parse_upload_id(in);
    (void)parse_complete_multipart_upload(in);
    (void)parse_list_bucket(in);
    if (const auto parts = parse_list_parts(in)) {
        for (const auto& p : parts->parts) {
            check(p.part_number >= 0);
        }
    }

    check(xml_unescape(xml_escape(in)) == in);

    // Any ETag we are handed must survive the request body we write and our own reader.
    const std::string body = complete_multipart_body({{1, std::string(in), ""}});
    const auto root = parse_xml(body);
    check(root.has_value());
    check(root->name == "CompleteMultipartUpload");
    const XmlElement* part = root->child("Part");
    check(part != nullptr);
    check(part->child_text("PartNumber") == "1");
    check(part->child_text("ETag") == in);
    return 0;
}
