// How a file is cut into multipart parts. Pure: add uses it to hash the parts in the same read
// as the whole file, and the pass uses it to send them, so both agree on every part boundary.
#pragma once

#include <cstdint>

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

} // namespace imgsync::core
