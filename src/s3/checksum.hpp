// The additional checksums of S3 (x-amz-checksum-*, which current AWS SDKs send by default):
// upload --checksum-algorithm crc32c|sha256. Each body is sent with its checksum; a store that
// supports them checks it and stores it, and echoes it in its answer; a store that does not
// ignores the header (then Content-MD5 and the signed SHA-256 are the checks, as without it).
// Pure: the values are computed by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imgsync::s3 {

enum class ChecksumAlgorithm { crc32c, sha256 };
std::string_view to_string(ChecksumAlgorithm algorithm); // "crc32c", "sha256" (option values)

// The request and answer header of one body's checksum: "x-amz-checksum-crc32c".
std::string_view checksum_header(ChecksumAlgorithm algorithm);
// CreateMultipartUpload's x-amz-checksum-algorithm value: "CRC32C", "SHA256".
std::string_view checksum_algorithm_value(ChecksumAlgorithm algorithm);
// The element of a part's checksum in CompleteMultipartUpload: "ChecksumCRC32C".
std::string_view checksum_element(ChecksumAlgorithm algorithm);

// The header values: base64 of the big-endian CRC, or of the raw SHA-256 (from its hex; empty
// when the hex is not 64 hex digits).
std::string crc32c_value(std::uint32_t crc);
std::string sha256_value(std::string_view sha256_hex);

// What the answer's echo of the checksum says of the bytes stored.
enum class ChecksumEcho {
    confirmed, // the store echoed the value sent: it checked and stored it
    absent,    // no echo: a store without additional checksums (or one that does not echo)
    mismatch,  // another value: the store holds other bytes than those hashed
};
ChecksumEcho check_echo(std::string_view sent, std::string_view echoed);

} // namespace imgsync::s3
