#include "util/md5_lanes.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define IMGSYNC_MD5_AVX2 1
#endif

namespace imgsync::util {

namespace {

// RFC 1321: the sine-derived constants, the rotation of each step, the initial state.
constexpr std::uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                       5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                       4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                       6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
constexpr std::uint32_t initial[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

std::uint32_t load_le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// One block of one stream, the textbook loop: used for the last blocks of a lane and on CPUs
// without AVX2, where speed matters less than being obviously right.
void compress_one(std::uint32_t st[4], const std::uint8_t* block) {
    std::uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
        m[i] = load_le32(block + 4 * i);
    }
    std::uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; ++i) {
        std::uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        std::uint32_t sum = a + f + K[i] + m[g];
        a = d;
        d = c;
        c = b;
        b += (sum << S[i]) | (sum >> (32 - S[i]));
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

#ifdef IMGSYNC_MD5_AVX2
#define IMGSYNC_AVX2 __attribute__((target("avx2")))

// Eight rows of eight 32-bit words in, eight columns out: row l of the input is 32 bytes of
// lane l's block; column i of the output is word i of every lane.
IMGSYNC_AVX2 inline void transpose8(__m256i r[8]) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

#define MD5_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define MD5_G(b, c, d) _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)))
#define MD5_H(b, c, d) _mm256_xor_si256(_mm256_xor_si256(b, c), d)
#define MD5_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
// a = b + rotl(a + f(b, c, d) + K[i] + m[g], S[i]) in each group of eight lanes; the shift
// counts are immediates. The groups' chains are independent, so their steps overlap in the CPU:
// one group alone waits on the latency of each step.
// fn names a function-like macro (MD5_F, ...), so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MD5_STEP(fn, a, b, c, d, i, g)                                                             \
    _Pragma("GCC unroll 2") for (int k = 0; k < groups; ++k) {                                     \
        __m256i sum_ = _mm256_add_epi32(                                                           \
            _mm256_add_epi32((a)[k], fn((b)[k], (c)[k], (d)[k])),                                  \
            _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(K[(i)])), m[k][(g)]));             \
        (a)[k] = _mm256_add_epi32((b)[k], _mm256_or_si256(_mm256_slli_epi32(sum_, S[(i)]),         \
                                                          _mm256_srli_epi32(sum_, 32 - S[(i)])));  \
    }
#define MD5_FOUR(fn, i, g0, g1, g2, g3)                                                            \
    MD5_STEP(fn, a, b, c, d, i, g0)                                                                \
    MD5_STEP(fn, d, a, b, c, i + 1, g1)                                                            \
    MD5_STEP(fn, c, d, a, b, i + 2, g2)                                                            \
    MD5_STEP(fn, b, c, d, a, i + 3, g3)
// NOLINTEND(bugprone-macro-parentheses)

IMGSYNC_AVX2 void compress_avx2(std::uint32_t state[4][Md5Lanes::lanes],
                                const std::array<const std::uint8_t*, Md5Lanes::lanes>& data,
                                std::size_t blocks) {
    constexpr int groups = Md5Lanes::lanes / 8;
    const __m256i ones = _mm256_set1_epi32(-1);
    __m256i a[groups], b[groups], c[groups], d[groups];
    for (int k = 0; k < groups; ++k) {
        a[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[0] + 8 * k));
        b[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[1] + 8 * k));
        c[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[2] + 8 * k));
        d[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[3] + 8 * k));
    }
    for (std::size_t n = 0; n < blocks; ++n) {
        __m256i m[groups][16], a0[groups], b0[groups], c0[groups], d0[groups];
        for (int k = 0; k < groups; ++k) {
            for (int half = 0; half < 2; ++half) {
                for (int l = 0; l < 8; ++l) {
                    m[k][8 * half + l] = _mm256_loadu_si256(
                        reinterpret_cast<const __m256i*>(data[8 * k + l] + 64 * n + 32 * half));
                }
                transpose8(m[k] + 8 * half);
            }
            a0[k] = a[k];
            b0[k] = b[k];
            c0[k] = c[k];
            d0[k] = d[k];
        }
        MD5_FOUR(MD5_F, 0, 0, 1, 2, 3)
        MD5_FOUR(MD5_F, 4, 4, 5, 6, 7)
        MD5_FOUR(MD5_F, 8, 8, 9, 10, 11)
        MD5_FOUR(MD5_F, 12, 12, 13, 14, 15)
        MD5_FOUR(MD5_G, 16, 1, 6, 11, 0)
        MD5_FOUR(MD5_G, 20, 5, 10, 15, 4)
        MD5_FOUR(MD5_G, 24, 9, 14, 3, 8)
        MD5_FOUR(MD5_G, 28, 13, 2, 7, 12)
        MD5_FOUR(MD5_H, 32, 5, 8, 11, 14)
        MD5_FOUR(MD5_H, 36, 1, 4, 7, 10)
        MD5_FOUR(MD5_H, 40, 13, 0, 3, 6)
        MD5_FOUR(MD5_H, 44, 9, 12, 15, 2)
        MD5_FOUR(MD5_I, 48, 0, 7, 14, 5)
        MD5_FOUR(MD5_I, 52, 12, 3, 10, 1)
        MD5_FOUR(MD5_I, 56, 8, 15, 6, 13)
        MD5_FOUR(MD5_I, 60, 4, 11, 2, 9)
        for (int k = 0; k < groups; ++k) {
            a[k] = _mm256_add_epi32(a[k], a0[k]);
            b[k] = _mm256_add_epi32(b[k], b0[k]);
            c[k] = _mm256_add_epi32(c[k], c0[k]);
            d[k] = _mm256_add_epi32(d[k], d0[k]);
        }
    }
    for (int k = 0; k < groups; ++k) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(state[0] + 8 * k), a[k]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(state[1] + 8 * k), b[k]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(state[2] + 8 * k), c[k]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(state[3] + 8 * k), d[k]);
    }
}

#undef MD5_FOUR
#undef MD5_STEP
#undef MD5_I
#undef MD5_H
#undef MD5_G
#undef MD5_F

bool cpu_has_avx2() {
    return __builtin_cpu_supports("avx2");
}
#else
bool cpu_has_avx2() {
    return false;
}
#endif

} // namespace

Md5Lanes::Md5Lanes(bool simd) : simd_(simd && cpu_has_avx2()) {
    for (std::size_t l = 0; l < lanes; ++l) {
        reset(l);
    }
}

void Md5Lanes::reset(std::size_t lane) {
    for (int w = 0; w < 4; ++w) {
        state_[w][lane] = initial[w];
    }
}

void Md5Lanes::compress(const std::array<const std::uint8_t*, lanes>& data, std::size_t blocks) {
    if (blocks == 0) {
        return;
    }
#ifdef IMGSYNC_MD5_AVX2
    if (simd_) {
        // An idle lane reads some other lane's bytes and gets its old state back afterwards,
        // which is cheaper than a branch per step.
        const std::uint8_t* any = nullptr;
        for (auto* p : data) {
            if (p) {
                any = p;
            }
        }
        if (!any) {
            return;
        }
        std::array<const std::uint8_t*, lanes> inputs = data;
        std::uint32_t saved[4][lanes];
        std::memcpy(saved, state_, sizeof saved);
        for (auto& p : inputs) {
            if (!p) {
                p = any;
            }
        }
        compress_avx2(state_, inputs, blocks);
        for (std::size_t l = 0; l < lanes; ++l) {
            if (!data[l]) {
                for (int w = 0; w < 4; ++w) {
                    state_[w][l] = saved[w][l];
                }
            }
        }
        return;
    }
#endif
    for (std::size_t l = 0; l < lanes; ++l) {
        if (!data[l]) {
            continue;
        }
        std::uint32_t st[4] = {state_[0][l], state_[1][l], state_[2][l], state_[3][l]};
        for (std::size_t n = 0; n < blocks; ++n) {
            compress_one(st, data[l] + block_size * n);
        }
        for (int w = 0; w < 4; ++w) {
            state_[w][l] = st[w];
        }
    }
}

Md5Digest Md5Lanes::finish(std::size_t lane, const std::uint8_t* rest, std::size_t rest_size,
                           std::uint64_t total_size) {
    std::uint32_t st[4] = {state_[0][lane], state_[1][lane], state_[2][lane], state_[3][lane]};
    for (; rest_size >= block_size; rest += block_size, rest_size -= block_size) {
        compress_one(st, rest);
    }
    // RFC 1321 padding: 0x80, zeros to 56 mod 64, then the bit length, little-endian.
    std::uint8_t pad[2 * block_size] = {};
    if (rest_size > 0) {
        std::memcpy(pad, rest, rest_size);
    }
    pad[rest_size] = 0x80;
    std::size_t padded = rest_size < 56 ? block_size : 2 * block_size;
    std::uint64_t bits = total_size * 8;
    for (int i = 0; i < 8; ++i) {
        pad[padded - 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
    }
    for (std::size_t off = 0; off < padded; off += block_size) {
        compress_one(st, pad + off);
    }
    Md5Digest out{};
    for (int w = 0; w < 4; ++w) {
        for (int i = 0; i < 4; ++i) {
            out[4 * w + i] = static_cast<std::uint8_t>(st[w] >> (8 * i));
        }
    }
    reset(lane);
    return out;
}

std::vector<Md5Digest> Md5Lanes::hash_all(const std::vector<std::string_view>& inputs) {
    std::vector<Md5Digest> out(inputs.size());
    std::array<std::size_t, lanes> input{}, done{}; // each lane's input, bytes of it hashed
    std::array<bool, lanes> busy{};
    std::size_t next = 0;
    auto bytes = [&](std::size_t l) {
        return reinterpret_cast<const std::uint8_t*>(inputs[input[l]].data());
    };
    // Each round hashes at least one block of every busy lane: bounded by the inputs' bytes.
    for (;;) {
        std::array<const std::uint8_t*, lanes> data{};
        std::size_t blocks = SIZE_MAX;
        for (std::size_t l = 0; l < lanes; ++l) {
            // Less than a block left: the lane finishes its input and takes the next one.
            for (;;) {
                if (!busy[l]) {
                    if (next == inputs.size()) {
                        break;
                    }
                    input[l] = next++;
                    done[l] = 0;
                    busy[l] = true;
                }
                std::size_t size = inputs[input[l]].size();
                if (size - done[l] >= block_size) {
                    break;
                }
                out[input[l]] = finish(l, bytes(l) + done[l], size - done[l], size);
                busy[l] = false;
            }
            if (busy[l]) {
                data[l] = bytes(l) + done[l];
                blocks = std::min(blocks, (inputs[input[l]].size() - done[l]) / block_size);
            }
        }
        if (blocks == SIZE_MAX) {
            return out;
        }
        compress(data, blocks);
        for (std::size_t l = 0; l < lanes; ++l) {
            if (busy[l]) {
                done[l] += blocks * block_size;
            }
        }
    }
}

} // namespace imgsync::util
