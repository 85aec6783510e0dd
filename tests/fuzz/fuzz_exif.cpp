// libFuzzer target for images/exif: exif_date() on arbitrary bytes. Besides memory safety (run it
// with ASan/UBSan), it checks that a date found is a valid one, and that reading fewer bytes
// finds either nothing or the same date (offsets are followed, never guessed).
// Build: cmake -DIMGSYNC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...; run: ./fuzz_exif -max_len=4096
#include "images/exif.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace imgsync::images;

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto whole = exif_date(data, size);
    if (whole) {
        require(whole->year >= 1 && whole->month >= 1 && whole->month <= 12 && whole->day >= 1 &&
                whole->day <= 31 && whole->hour >= 0 && whole->hour <= 23 && whole->minute >= 0 &&
                whole->minute <= 59 && whole->second >= 0 && whole->second <= 60);
    }
    if (size > 0) {
        const auto part = exif_date(data, size - 1 - data[0] % size);
        require(!part || (whole && *part == *whole));
    }
    return 0;
}
