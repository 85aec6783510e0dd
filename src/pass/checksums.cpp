// upload --checksum-algorithm: each body's x-amz-checksum-* value, and the store's echo checked.
#include "pass/internal.hpp"
#include "pass/job.hpp"
#include "util/crc32c.hpp"

#include <fmt/format.h>

namespace imgsync::core::pass {

std::string checksum_of_range(s3::ChecksumAlgorithm algorithm, int fd, std::uint64_t offset,
                              std::uint64_t length, const std::string& sha256_hex) {
    if (algorithm == s3::ChecksumAlgorithm::sha256) {
        return s3::sha256_value(sha256_hex);
    }
    auto crc = util::crc32c_of_range(fd, offset, length);
    return crc ? s3::crc32c_value(*crc) : std::string();
}

std::optional<std::string> echo_problem(const s3::ObjectSettings& object, const std::string& sent,
                                        const std::string& echoed) {
    if (!object.checksum || sent.empty() ||
        s3::check_echo(sent, echoed) != s3::ChecksumEcho::mismatch) {
        return std::nullopt;
    }
    return fmt::format("the store answered {} {} for {} sent",
                       s3::checksum_header(*object.checksum), echoed, sent);
}

bool Pass::add_checksum(Job& job, s3::FileBody& body, std::string& sent) {
    if (!o_.object.checksum) {
        return true;
    }
    sent =
        checksum_of_range(*o_.object.checksum, body.fd, body.offset, body.length, body.sha256_hex);
    if (sent.empty()) {
        fail_image(job, "cannot read the file for its checksum");
        return false;
    }
    body.checksum_header = std::string(s3::checksum_header(*o_.object.checksum));
    body.checksum_value = sent;
    return true;
}

bool Pass::completed_parts(Job& job, std::vector<s3::CompletedPart>& parts) {
    for (auto& p : job.parts) {
        if (o_.object.checksum && p.checksum.empty()) {
            s3::FileBody body{job.fd.get(), p.offset, p.length, p.sha256_hex, p.md5_hex, {}, {}};
            if (!add_checksum(job, body, p.checksum)) {
                return false;
            }
        }
        parts.push_back({static_cast<int>(p.number), p.etag, p.checksum});
    }
    return true;
}

} // namespace imgsync::core::pass
