#include "util/crc32c.hpp"

#include "util/fs.hpp"

#include <array>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace imgsync::util {

namespace {

constexpr std::uint32_t reflected_polynomial = 0x82F63B78U;

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 1U) != 0 ? (c >> 1U) ^ reflected_polynomial : c >> 1U;
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> table = make_table();

std::uint32_t by_table(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        crc = table[(crc ^ p[i]) & 0xFFU] ^ (crc >> 8U);
    }
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t
by_instruction(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
    std::uint64_t c = crc;
    while (n >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<std::uint32_t>(c);
    while (n > 0) {
        c32 = _mm_crc32_u8(c32, *p);
        ++p;
        --n;
    }
    return c32;
}

bool has_instruction() {
    static const bool has = __builtin_cpu_supports("sse4.2") != 0;
    return has;
}
#endif

} // namespace

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::uint32_t c = ~crc;
#if defined(__x86_64__)
    if (has_instruction()) {
        return ~by_instruction(c, p, size);
    }
#endif
    return ~by_table(c, p, size);
}

std::optional<std::uint32_t> crc32c_of_range(int fd, std::uint64_t offset, std::uint64_t length) {
    std::vector<std::uint8_t> buf(1 << 20);
    std::uint32_t crc = 0;
    std::uint64_t done = 0;
    while (done < length) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
        long long n = read_at(fd, buf.data(), want, offset + done);
        if (n <= 0) {
            return std::nullopt;
        }
        crc = crc32c(crc, buf.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
    }
    return crc;
}

} // namespace imgsync::util
