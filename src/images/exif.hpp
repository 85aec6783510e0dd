// When a photo was taken, from its EXIF data: DateTimeOriginal (or, without it, DateTimeDigitized)
// of a JPEG (the TIFF structure in its APP1 "Exif" segment) or of a TIFF-based file (TIFF, DNG and
// the raw formats built on TIFF: CR2, NEF, ARW, ...), as photo managers read it.
//
// Pure and bounded: it reads only the bytes given (the start of the file; the date sits in the
// first few KiB in practice), follows at most one IFD0 and one Exif IFD with at most
// max_ifd_entries entries each, checks every offset against the buffer, and never allocates
// per entry. Anything malformed is "no date", never an error: the key then falls back to the
// file's mtime. Fuzzed (tests/fuzz/fuzz_exif.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace imgsync::images {

// The bytes of the file's start worth reading for exif_date().
constexpr std::size_t exif_scan_bytes = 128 * 1024;
constexpr std::size_t max_ifd_entries = 1024;

// A calendar date and time as the camera wrote it (local time, no zone: EXIF 2.3 keeps the
// offset elsewhere). Validated: month 1-12, day 1-31, hour 0-23, minute and second 0-59 (60 for a
// leap second).
struct ExifDate {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    bool operator==(const ExifDate& o) const {
        return year == o.year && month == o.month && day == o.day && hour == o.hour &&
               minute == o.minute && second == o.second;
    }
};

// The date the photo was taken, or nullopt (no EXIF, no date tag, a date such as
// "0000:00:00 00:00:00" that cameras write when unset, or malformed data).
std::optional<ExifDate> exif_date(const std::uint8_t* data, std::size_t size);

} // namespace imgsync::images
