#include "model/multipart.hpp"

#include "util/hash.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>

namespace imgsync::core {

std::uint64_t choose_part_size(std::uint64_t size, std::uint64_t wanted) {
    constexpr std::uint64_t MiB = 1ULL << 20;
    std::uint64_t at_least = (size + max_part_count - 1) / max_part_count;
    at_least = (at_least + MiB - 1) / MiB * MiB;
    return std::min(std::max({wanted, min_part_size, at_least}), max_part_size);
}

std::string normalize_etag(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return util::ascii_lower(etag);
}

std::string multipart_etag(const std::vector<std::string>& part_md5_hex) {
    util::Md5 md5;
    for (const auto& hex : part_md5_hex) {
        std::array<std::uint8_t, 16> raw{};
        if (hex.size() != 32 || !util::from_hex(hex, raw.data(), raw.size())) {
            return {};
        }
        md5.update(raw.data(), raw.size());
    }
    return util::to_hex(md5.finish()) + "-" + std::to_string(part_md5_hex.size());
}

} // namespace imgsync::core
