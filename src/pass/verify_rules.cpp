#include "pass/verify_rules.hpp"

#include "model/multipart.hpp"
#include "s3/xml.hpp"

#include <fmt/format.h>

namespace imgsync::core {

ObjectVerdict judge_object(const storage::ImageRecord& image, const util::HttpResponse& r) {
    if (r.transport == util::Transport::ok && r.status == 404) {
        return {ObjectCheck::missing, "no object under the key", std::nullopt};
    }
    std::string code;
    if (auto error = s3::parse_error(r.body)) {
        code = error->code;
    }
    if (auto failure = classify(r.transport, static_cast<int>(r.status), code)) {
        std::string reason =
            r.transport != util::Transport::ok
                ? fmt::format("{}: {}", util::transport_name(r.transport), r.transport_error)
                : fmt::format("HTTP {}{}{}", r.status, code.empty() ? "" : " ", code);
        if (r.status == 403) {
            reason += " (S3 answers 403 for a missing key too when the credentials lack "
                      "s3:ListBucket)";
        }
        return {ObjectCheck::unverified, "HEAD: " + reason, failure};
    }
    const std::string size = std::to_string(image.size);
    if (r.content_length != size) {
        return {ObjectCheck::changed,
                fmt::format("{} bytes, not the image's {}",
                            r.content_length.empty() ? "?" : r.content_length, size),
                std::nullopt};
    }
    if (!r.meta_sha256.empty()) {
        if (r.meta_sha256 != image.sha256) {
            return {ObjectCheck::changed,
                    fmt::format("x-amz-meta-sha256 {}, not the image's {}", r.meta_sha256,
                                image.sha256),
                    std::nullopt};
        }
        return {};
    }
    if (image.etag && !image.etag->empty() &&
        normalize_etag(r.etag) != normalize_etag(*image.etag)) {
        return {
            ObjectCheck::changed,
            fmt::format("ETag {}, not {} as uploaded", r.etag.empty() ? "?" : r.etag, *image.etag),
            std::nullopt};
    }
    return {};
}

bool local_file_matches(const storage::ImageRecord& image, std::uint64_t size,
                        std::int64_t mtime_ns, std::string_view sha256) {
    return size == image.size && mtime_ns == image.mtime_ns &&
           (sha256.empty() || sha256 == image.sha256);
}

} // namespace imgsync::core
