// The PNG writer of image_synth: 8-bit RGB, no interlace, filter 0, a zlib stream of stored
// (uncompressed) deflate blocks in one IDAT chunk, a tEXt "Comment" that names the seed and pads
// the file to the exact size. Internal; the public API is synth_png() in images/image_synth.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace imgsync::core::synth {

// Replaces out with a PNG of exactly target bytes, or its smallest image (446 bytes) when target
// is smaller. target must be at most synth_max_bytes (a chunk's length field is 31 bits).
void write_png(std::uint64_t seed, std::size_t target, std::string& out);

} // namespace imgsync::core::synth
