// CRC-32C (Castagnoli), the checksum S3 names x-amz-checksum-crc32c: the SSE4.2 crc32
// instruction where the CPU has it, a table otherwise. Same answers either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace imgsync::util {

// The CRC-32C of `data` continuing from `crc` (0 to start): crc32c(crc32c(0, a), b) is the CRC of
// a followed by b.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

// The CRC-32C of `length` bytes of file `fd` from `offset`; nullopt if they cannot all be read.
std::optional<std::uint32_t> crc32c_of_range(int fd, std::uint64_t offset, std::uint64_t length);

} // namespace imgsync::util
