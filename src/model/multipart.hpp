// How a file is cut into multipart parts. Pure: add uses it to hash the parts in the same read
// as the whole file, and the pass uses it to send them, so both agree on every part boundary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::core {

constexpr std::uint64_t min_part_size = 5ULL << 20; // S3: every part but the last
constexpr std::uint64_t max_part_size = 5ULL << 30;
constexpr std::uint64_t max_part_count = 10000;

// Part size for a multipart upload of `size` bytes: at least `wanted`, 5 MiB and size/10000
// (rounded up to a MiB), at most 5 GiB.
std::uint64_t choose_part_size(std::uint64_t size, std::uint64_t wanted);

// The multipart settings as add and upload share them (--multipart-threshold, --part-size).
struct PartPlan {
    std::uint64_t threshold = 64ULL << 20;
    std::uint64_t wanted_part_size = 16ULL << 20;

    bool multipart(std::uint64_t size) const { return size >= threshold; }
    // 0 below the threshold.
    std::uint64_t part_size(std::uint64_t size) const {
        return multipart(size) ? choose_part_size(size, wanted_part_size) : 0;
    }
};

// An ETag as a server sends it ("\"0a1b...\"", any case), as bare lower-case hex.
std::string normalize_etag(std::string_view etag);

// The ETag S3 gives a completed multipart upload: the MD5 of the parts' binary MD5s, in part
// order, in hex, then "-" and the number of parts. Empty if a part's MD5 is not 32 hex digits.
std::string multipart_etag(const std::vector<std::string>& part_md5_hex);

} // namespace imgsync::core
