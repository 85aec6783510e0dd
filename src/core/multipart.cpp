#include "core/multipart.hpp"

#include <algorithm>

namespace imgsync::core {

std::uint64_t choose_part_size(std::uint64_t size, std::uint64_t wanted) {
    constexpr std::uint64_t MiB = 1ULL << 20;
    std::uint64_t at_least = (size + max_part_count - 1) / max_part_count;
    at_least = (at_least + MiB - 1) / MiB * MiB;
    return std::min(std::max({wanted, min_part_size, at_least}), max_part_size);
}

} // namespace imgsync::core
