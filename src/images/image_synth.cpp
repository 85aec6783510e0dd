#include "images/image_synth.hpp"

#include "images/image_synth_common.hpp"
#include "images/image_synth_jpeg.hpp"
#include "images/image_synth_png.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace imgsync::core {

namespace {

void check_target(std::size_t target) {
    if (target > synth_max_bytes) {
        throw std::length_error("synthetic image size " + std::to_string(target) +
                                " is over the 1 GiB limit");
    }
}

} // namespace

std::string synth_png(std::uint64_t seed, std::size_t target_bytes) {
    std::string out;
    synth_png(seed, target_bytes, out);
    return out;
}

std::string synth_jpeg(std::uint64_t seed, std::size_t target_bytes) {
    std::string out;
    synth_jpeg(seed, target_bytes, out);
    return out;
}

void synth_png(std::uint64_t seed, std::size_t target_bytes, std::string& out) {
    check_target(target_bytes);
    synth::write_png(seed, target_bytes, out);
}

void synth_jpeg(std::uint64_t seed, std::size_t target_bytes, std::string& out) {
    check_target(target_bytes);
    synth::write_jpeg(seed, target_bytes, out);
}

void synth_image(ImageFormat format, std::uint64_t seed, std::size_t target_bytes,
                 std::string& out) {
    switch (format) {
    case ImageFormat::png:
        synth_png(seed, target_bytes, out);
        return;
    case ImageFormat::jpeg:
        synth_jpeg(seed, target_bytes, out);
        return;
    default:
        break;
    }
    throw std::invalid_argument("cannot synthesize " + std::string(format_name(format)) +
                                " images");
}

std::size_t synth_size(std::uint64_t seed, std::size_t min_bytes, std::size_t max_bytes) {
    if (max_bytes <= min_bytes) {
        return min_bytes;
    }
    synth::Rng rng(seed, synth::stream_size);
    const double u = static_cast<double>(rng.next() >> 11) * 0x1p-53;
    const double lo = static_cast<double>(std::max<std::size_t>(min_bytes, 1));
    const double v = lo * std::exp(u * std::log(static_cast<double>(max_bytes) / lo));
    const auto n = static_cast<std::size_t>(std::llround(v));
    return std::clamp(n, min_bytes, max_bytes);
}

ImageFormat synth_format(std::uint64_t seed) {
    synth::Rng rng(seed, synth::stream_format);
    return rng.next() % 100 < 70 ? ImageFormat::jpeg : ImageFormat::png;
}

std::string_view to_string(SynthFormat format) {
    switch (format) {
    case SynthFormat::png:
        return "png";
    case SynthFormat::jpeg:
        return "jpeg";
    case SynthFormat::mixed:
        return "mixed";
    }
    return "mixed";
}

ImageFormat synth_format(SynthFormat format, std::uint64_t seed) {
    switch (format) {
    case SynthFormat::png:
        return ImageFormat::png;
    case SynthFormat::jpeg:
        return ImageFormat::jpeg;
    case SynthFormat::mixed:
        break;
    }
    return synth_format(seed);
}

} // namespace imgsync::core
