// libFuzzer target for images/image_format: sniff(), check_complete() and ImageProbe on arbitrary
// bytes. Besides memory safety (run it with ASan/UBSan), it checks that:
//  * the probe's answers do not depend on how the input is chunked,
//  * the probe agrees with sniff() and reports at least what check_complete() reports,
//  * every format's check runs on any bytes without trouble.
// Build: cmake -DIMGSYNC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...; run: ./fuzz_image_format
// -max_len=4096
#include "images/image_format.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace imgsync::core;

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::size_t head = std::min(size, image_head_bytes);
    const std::size_t tail = std::min(size, image_tail_bytes);
    const ImageFormat format = sniff(data, head);
    require(sniff(data, size) == format); // nothing past the head matters
    const auto expected = check_complete(format, data, head, data + size - tail, tail, size);
    require(!content_type(format).empty() && !format_name(format).empty());

    ImageProbe whole;
    whole.update(data, size);
    require(whole.size() == size);
    require(whole.format() == format);
    const auto checked = whole.check();
    require(expected || checked.error() == expected.error());

    // Chunk sizes 1..16 taken from the data itself, so the fuzzer explores the splits too.
    ImageProbe pieces;
    std::size_t at = 0;
    for (std::size_t i = 0; at < size; ++i) {
        const std::size_t step = std::min<std::size_t>(size - at, 1 + data[i % size] % 16);
        pieces.update(data + at, step);
        at += step;
    }
    require(pieces.format() == format);
    const auto pieces_checked = pieces.check();
    require(pieces_checked.ok() == checked.ok() && pieces_checked.error() == checked.error());

    for (int f = 0; f <= static_cast<int>(ImageFormat::unknown); ++f) {
        const auto any = static_cast<ImageFormat>(f);
        const auto answer = check_complete(any, data, head, data + size - tail, tail, size);
        require(answer || !answer.error().empty());
        // Fewer bytes than asked for must not hurt either.
        (void)check_complete(any, data, head / 2, data + size - tail / 2, tail / 2, size);
    }
    return 0;
}
