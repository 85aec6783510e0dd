// MD5 of sixteen independent byte streams at once, one stream per 32-bit lane of two AVX2
// registers.
//
// Why: MD5 is one chain of dependent steps, so a single stream runs at about 5 cycles per byte
// however wide the CPU is, and Content-MD5 needs the MD5 of every byte (figures:
// doc/benchmarks.md).
// That made MD5 the largest cost of `imgsync add`. Eight files hashed side by side cost little
// more than one, sixteen a little more than eight. Where AVX2 is missing, the same interface runs
// one lane after the other.
//
// Pure computation, no I/O: the caller feeds whole 64-byte blocks and finishes a lane with the
// bytes left over. Generic: nothing here knows about files or images.
#pragma once

#include "util/hash.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace imgsync::util {

class Md5Lanes {
  public:
    // Two groups of eight: the second group's steps fill the first one's waits.
    static constexpr std::size_t lanes = 16;
    static constexpr std::size_t block_size = 64;

    // Every lane starts at MD5's initial state. `simd` false forces the one-lane-at-a-time
    // code (the unit tests compare both); true uses AVX2 when this CPU has it.
    explicit Md5Lanes(bool simd = true);

    // Hashes `blocks` whole 64-byte blocks of every lane whose data pointer is not null. A lane
    // given nullptr keeps its state. Each non-null pointer must reach blocks * 64 bytes.
    void compress(const std::array<const std::uint8_t*, lanes>& data, std::size_t blocks);

    // The digest of a lane's stream: `rest` holds its bytes after the last whole block given to
    // compress(), and `total_size` counts every byte of the stream. The lane starts over.
    Md5Digest finish(std::size_t lane, const std::uint8_t* rest, std::size_t rest_size,
                     std::uint64_t total_size);

    // Starts a lane over without a digest (its stream was abandoned).
    void reset(std::size_t lane);

    // The MD5 of each of several byte strings held in memory (for `seed`, whose images are in
    // memory anyway): each lane takes the next input when its own ends. Every lane must be at
    // its start, as after construction or finish(); all are again afterwards.
    std::vector<Md5Digest> hash_all(const std::vector<std::string_view>& inputs);

    bool uses_simd() const { return simd_; }

  private:
    // The four MD5 words of each lane, transposed: state_[word][lane], the layout AVX2 loads.
    alignas(32) std::uint32_t state_[4][lanes];
    bool simd_;
};

} // namespace imgsync::util
