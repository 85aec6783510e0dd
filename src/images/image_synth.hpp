// Synthetic but real images for `imgsync seed` (demo and CI data): decodable PNG and baseline JPEG
// of an exact byte size, distinct for every seed, fast enough to make thousands per second.
//
// What the pictures are: a colour gradient with a seeded texture, and the seed's 64 bits drawn as
// an 8x8 grid of black/white cells near the top-left corner, so two seeds never give equal pixels
// (same size) or equal bytes. A comment (PNG tEXt "Comment", JPEG COM) names the seed and carries
// the padding that makes the size exact.
//
// PNG: 8-bit RGB, no interlace, filter 0, zlib stream of stored (uncompressed) deflate blocks in
// one IDAT chunk. JPEG: baseline JFIF, YCbCr 4:2:0, quality-85 Annex K quantisation tables and the
// standard Annex K Huffman tables, no restart markers; the DCT coefficients are chosen directly
// (smooth DC gradients, AC texture from a fixed library of pre-coded blocks), so no DCT is run,
// which is what makes it cheap (throughput: doc/benchmarks.md). JPEG sizes
// come out at roughly 0.2-0.5 bytes per pixel, like camera and phone photos.
//
// Everything here is a pure function of its arguments: no I/O, no clock, no global state that
// changes results; thread-safe.
//
// This is the public face. The writers are image_synth_png and image_synth_jpeg, the JPEG tables
// and pre-coded AC blocks image_synth_jpeg_tables, what they share image_synth_common.
#pragma once

#include "images/image_format.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace imgsync::core {

// From this size up, synth_png() and synth_jpeg() return exactly target_bytes. Below it they are
// exact down to a floor (446 bytes for PNG, about 740 for JPEG depending on the seed) and return
// their smallest image, larger than asked, under it.
inline constexpr std::size_t synth_min_bytes = 1024;
// Larger targets throw std::length_error (a single PNG IDAT chunk is limited to 2 GiB).
inline constexpr std::size_t synth_max_bytes = std::size_t{1} << 30;

std::string synth_png(std::uint64_t seed, std::size_t target_bytes);
std::string synth_jpeg(std::uint64_t seed, std::size_t target_bytes);
// The same, writing into out (replacing its content) so a loop can reuse one buffer.
void synth_png(std::uint64_t seed, std::size_t target_bytes, std::string& out);
void synth_jpeg(std::uint64_t seed, std::size_t target_bytes, std::string& out);
// PNG or JPEG by format; throws std::invalid_argument for any other format.
void synth_image(ImageFormat format, std::uint64_t seed, std::size_t target_bytes,
                 std::string& out);

// A realistic file size: log-uniform in [min_bytes, max_bytes], deterministic from the seed (the
// same seed gives the same size on a given platform; it uses std::log/std::exp). Returns min_bytes
// when max_bytes <= min_bytes.
std::size_t synth_size(std::uint64_t seed, std::size_t min_bytes, std::size_t max_bytes);
// The format of a `mixed` seed set: about 70 % JPEG, 30 % PNG, deterministic from the seed and
// independent of synth_size() for the same seed.
ImageFormat synth_format(std::uint64_t seed);

// What a seed set is made of (seed --format): all PNG, all JPEG, or the mix above.
enum class SynthFormat { png, jpeg, mixed };
// "png", "jpeg", "mixed".
std::string_view to_string(SynthFormat format);
// The format of the image made from this seed in a set of that kind.
ImageFormat synth_format(SynthFormat format, std::uint64_t seed);

} // namespace imgsync::core
