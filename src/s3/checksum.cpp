#include "s3/checksum.hpp"

#include "util/hash.hpp"

#include <array>

namespace imgsync::s3 {

std::string_view to_string(ChecksumAlgorithm algorithm) {
    return algorithm == ChecksumAlgorithm::crc32c ? "crc32c" : "sha256";
}

std::string_view checksum_header(ChecksumAlgorithm algorithm) {
    return algorithm == ChecksumAlgorithm::crc32c ? "x-amz-checksum-crc32c"
                                                  : "x-amz-checksum-sha256";
}

std::string_view checksum_algorithm_value(ChecksumAlgorithm algorithm) {
    return algorithm == ChecksumAlgorithm::crc32c ? "CRC32C" : "SHA256";
}

std::string_view checksum_element(ChecksumAlgorithm algorithm) {
    return algorithm == ChecksumAlgorithm::crc32c ? "ChecksumCRC32C" : "ChecksumSHA256";
}

std::string crc32c_value(std::uint32_t crc) {
    std::array<std::uint8_t, 4> raw{
        static_cast<std::uint8_t>(crc >> 24U), static_cast<std::uint8_t>(crc >> 16U),
        static_cast<std::uint8_t>(crc >> 8U), static_cast<std::uint8_t>(crc)};
    return util::base64(raw);
}

std::string sha256_value(std::string_view sha256_hex) {
    util::Sha256Digest raw{};
    if (sha256_hex.size() != 2 * raw.size() ||
        !util::from_hex(sha256_hex, raw.data(), raw.size())) {
        return {};
    }
    return util::base64(raw);
}

ChecksumEcho check_echo(std::string_view sent, std::string_view echoed) {
    if (echoed.empty()) {
        return ChecksumEcho::absent;
    }
    return echoed == sent ? ChecksumEcho::confirmed : ChecksumEcho::mismatch;
}

} // namespace imgsync::s3
