// images/exif: DateTimeOriginal from JPEG APP1 and TIFF structures, in both byte orders, and
// nothing from anything malformed.
#include "images/exif.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using imgsync::images::exif_date;
using imgsync::images::ExifDate;

namespace {

// A TIFF structure: IFD0 with an Exif IFD pointer (and a filler tag), the Exif IFD with `tag`
// holding `date` (20 bytes with its NUL, so stored at an offset).
std::vector<std::uint8_t> tiff(bool little, std::uint16_t tag, const std::string& date) {
    std::vector<std::uint8_t> b;
    auto u16 = [&](std::uint16_t v) {
        if (little) {
            b.push_back(v & 0xFF), b.push_back(v >> 8);
        } else {
            b.push_back(v >> 8), b.push_back(v & 0xFF);
        }
    };
    auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            const int shift = little ? 8 * i : 24 - 8 * i;
            b.push_back(static_cast<std::uint8_t>(v >> shift));
        }
    };
    b.push_back(little ? 'I' : 'M'), b.push_back(little ? 'I' : 'M');
    u16(42);
    u32(8);
    // IFD0 at 8: two entries (ImageWidth, ExifIFD pointer), next IFD 0.
    u16(2);
    u16(0x0100), u16(3), u32(1), u16(640), u16(0);
    const std::uint32_t exif_ifd = 8 + 2 + 2 * 12 + 4;
    u16(0x8769), u16(4), u32(1), u32(exif_ifd);
    u32(0);
    // The Exif IFD: one entry, the date at the offset after it.
    const std::uint32_t date_at = exif_ifd + 2 + 12 + 4;
    u16(1);
    u16(tag), u16(2), u32(static_cast<std::uint32_t>(date.size() + 1)), u32(date_at);
    u32(0);
    for (char c : date) {
        b.push_back(static_cast<std::uint8_t>(c));
    }
    b.push_back(0);
    return b;
}

std::vector<std::uint8_t> jpeg_with(const std::vector<std::uint8_t>& tiff_bytes) {
    std::vector<std::uint8_t> j{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F',
                                0,    1,    1,    0,    0,    1,    0,   1,   0,   0};
    const std::size_t length = 2 + 6 + tiff_bytes.size();
    j.insert(j.end(), {0xFF, 0xE1, static_cast<std::uint8_t>(length >> 8),
                       static_cast<std::uint8_t>(length & 0xFF), 'E', 'x', 'i', 'f', 0, 0});
    j.insert(j.end(), tiff_bytes.begin(), tiff_bytes.end());
    j.insert(j.end(), {0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9});
    return j;
}

std::optional<ExifDate> read(const std::vector<std::uint8_t>& b) {
    return exif_date(b.data(), b.size());
}

} // namespace

TEST_SUITE("exif") {

    TEST_CASE("DateTimeOriginal from TIFF structures in both byte orders, and from a JPEG") {
        const ExifDate want{2019, 7, 14, 10, 20, 30};
        for (bool little : {true, false}) {
            INFO("little endian: ", little);
            const auto t = tiff(little, 0x9003, "2019:07:14 10:20:30");
            CHECK(read(t) == want);
            CHECK(read(jpeg_with(t)) == want);
        }
    }

    TEST_CASE("DateTimeDigitized when there is no DateTimeOriginal; other tags are not dates") {
        CHECK(read(tiff(true, 0x9004, "2001:02:03 04:05:06")) == ExifDate{2001, 2, 3, 4, 5, 6});
        CHECK_FALSE(read(tiff(true, 0x0132, "2001:02:03 04:05:06")));
    }

    TEST_CASE("unset and impossible dates are no dates") {
        for (const char* bad : {"0000:00:00 00:00:00", "2019:13:01 00:00:00", "2019:00:10 00:00:00",
                                "2019:01:32 00:00:00", "2019:01:01 24:00:00", "2019:01:01 12:60:00",
                                "    :  :     :  :  ", "2019:07:14"}) {
            INFO(bad);
            CHECK_FALSE(read(tiff(true, 0x9003, bad)));
        }
        CHECK(read(tiff(true, 0x9003, "2019-07-14 10:20:30")) == ExifDate{2019, 7, 14, 10, 20, 30});
    }

    TEST_CASE("every truncation of a valid file is read safely") {
        const auto j = jpeg_with(tiff(false, 0x9003, "2019:07:14 10:20:30"));
        for (std::size_t n = 0; n < j.size(); ++n) {
            const auto d = exif_date(j.data(), n);
            if (d) {
                CHECK(*d == ExifDate{2019, 7, 14, 10, 20, 30});
            }
        }
        CHECK(read(j));
    }

    TEST_CASE("offsets pointing outside the data, loops and huge counts are no dates") {
        auto t = tiff(true, 0x9003, "2019:07:14 10:20:30");
        auto outside = t;
        outside[8 + 2 + 12 + 8] = 0xFF; // the Exif IFD pointer, now far past the end
        outside[8 + 2 + 12 + 11] = 0x7F;
        CHECK_FALSE(read(outside));
        auto huge = t;
        huge[8] = 0xFF, huge[9] = 0xFF; // IFD0 claims 65535 entries
        CHECK_FALSE(read(huge));
        auto loop = t;
        loop[8 + 2 + 12 + 8] = 8, loop[8 + 2 + 12 + 9] = 0; // Exif IFD = IFD0: no date tag there
        loop[8 + 2 + 12 + 10] = 0, loop[8 + 2 + 12 + 11] = 0;
        CHECK_FALSE(read(loop));
        CHECK_FALSE(read({}));
        CHECK_FALSE(read({0xFF, 0xD8, 0xFF, 0xD9}));
        CHECK_FALSE(read({'I', 'I', 43, 0, 8, 0, 0, 0})); // BigTIFF: not read
    }
}

TEST_CASE("exif: files written by exiftool (the fuzz corpus' seeds)") {
    struct Seed {
        const char* name;
        ExifDate date;
    };
    for (const Seed& s : {Seed{"jpeg-exif.jpg", {2019, 7, 14, 10, 20, 30}},
                          Seed{"tiff-exif-le.tif", {2001, 2, 3, 4, 5, 6}}}) {
        INFO(s.name);
        const std::string path =
            std::string(IMGSYNC_SOURCE_DIR) + "/tests/fuzz/corpus/exif/" + s.name;
        FILE* f = std::fopen(path.c_str(), "rb");
        REQUIRE(f);
        std::vector<std::uint8_t> bytes(imgsync::images::exif_scan_bytes);
        bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f));
        std::fclose(f);
        CHECK(read(bytes) == s.date);
    }
}
