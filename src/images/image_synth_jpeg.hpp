// The JPEG writer of image_synth: baseline JFIF, YCbCr 4:2:0, quality-85 Annex K quantisation
// tables and the standard Huffman tables, no restart markers. The DCT coefficients are chosen
// directly (smooth DC gradients, AC texture from the pre-coded library of
// image_synth_jpeg_tables), so no DCT is run. COM segments name the seed and pad the file to the
// exact size. Internal; the public API is synth_jpeg() in images/image_synth.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace imgsync::core::synth {

// Replaces out with a JPEG of exactly target bytes, or its smallest image (about 740 bytes,
// depending on the seed) when target is smaller. target must be at most synth_max_bytes.
void write_jpeg(std::uint64_t seed, std::size_t target, std::string& out);

} // namespace imgsync::core::synth
