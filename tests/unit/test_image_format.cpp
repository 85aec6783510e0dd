// Image type by content, and the cheap completeness checks (head/tail and streaming probe).
#include "images/image_format.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

using namespace imgsync::core;

namespace {

const std::uint8_t* u8(const std::string& s) {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

ImageFormat sniff_str(const std::string& s) {
    return sniff(u8(s), s.size());
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}
std::string le32(std::uint32_t v) {
    return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
            static_cast<char>(v >> 24)};
}

// A check's failure message, or nullopt when it passed: what most cases below compare.
std::optional<std::string> problem(const imgsync::util::Result<void>& checked) {
    return checked ? std::nullopt : std::optional<std::string>(checked.error());
}

// check_complete() the way a streaming reader calls it: head, tail and size of the whole file.
std::optional<std::string> complete(const std::string& f, ImageFormat format) {
    const std::size_t head = std::min(f.size(), image_head_bytes);
    const std::size_t tail = std::min(f.size(), image_tail_bytes);
    return problem(check_complete(format, u8(f), head, u8(f) + f.size() - tail, tail, f.size()));
}
std::optional<std::string> complete(const std::string& f) {
    return complete(f, sniff(u8(f), std::min(f.size(), image_head_bytes)));
}

// The probe fed in chunks of `step` bytes.
std::optional<std::string> probe(const std::string& f, std::size_t step) {
    ImageProbe p;
    for (std::size_t at = 0; at < f.size(); at += step) {
        p.update(f.data() + at, std::min(step, f.size() - at));
    }
    return problem(p.check());
}

const std::string png_sig = "\x89PNG\r\n\x1a\n";
const std::string iend = std::string("\0\0\0\0IEND\xAE\x42\x60\x82", 12);

std::string png_chunk(const std::string& type, const std::string& data) {
    // CRCs are not checked here; any value will do.
    return be32(static_cast<std::uint32_t>(data.size())) + type + data + "CRC!";
}

std::string small_png() {
    return png_sig + png_chunk("IHDR", std::string(13, '\1')) +
           png_chunk("IDAT", std::string(100, 'x')) + iend;
}

std::string box(const std::string& type, const std::string& data) {
    return be32(static_cast<std::uint32_t>(8 + data.size())) + type + data;
}

std::string heic(const std::string& mdat_payload) {
    return box("ftyp", "heic" + std::string(4, '\0') + "mif1heic") +
           box("meta", std::string(40, 'm')) + box("mdat", mdat_payload);
}

} // namespace

TEST_SUITE_BEGIN("image_format");

TEST_CASE("image format: names, content types, extensions") {
    CHECK(content_type(ImageFormat::png) == "image/png");
    CHECK(content_type(ImageFormat::jpeg) == "image/jpeg");
    CHECK(content_type(ImageFormat::gif) == "image/gif");
    CHECK(content_type(ImageFormat::webp) == "image/webp");
    CHECK(content_type(ImageFormat::tiff) == "image/tiff");
    CHECK(content_type(ImageFormat::bmp) == "image/bmp");
    CHECK(content_type(ImageFormat::avif) == "image/avif");
    CHECK(content_type(ImageFormat::heic) == "image/heic");
    CHECK(content_type(ImageFormat::unknown) == "application/octet-stream");
    CHECK(format_name(ImageFormat::webp) == "WebP");
    CHECK(format_name(ImageFormat::heic) == "HEIC");
    CHECK(format_name(ImageFormat::unknown) == "unknown");
    CHECK(file_extension(ImageFormat::jpeg) == "jpg");
    CHECK(file_extension(ImageFormat::tiff) == "tif");
    CHECK(file_extension(ImageFormat::unknown) == "bin");
}

TEST_CASE("image format: sniff by signature") {
    CHECK(sniff_str(png_sig) == ImageFormat::png);
    CHECK(sniff_str("\xFF\xD8\xFF\xE0") == ImageFormat::jpeg);
    CHECK(sniff_str("\xFF\xD8\xFF\xE1xxExif") == ImageFormat::jpeg);
    CHECK(sniff_str("GIF87a....") == ImageFormat::gif);
    CHECK(sniff_str("GIF89a....") == ImageFormat::gif);
    CHECK(sniff_str("RIFF" + le32(100) + "WEBPVP8 ") == ImageFormat::webp);
    CHECK(sniff_str("RIFF" + le32(100) + "WAVEfmt ") == ImageFormat::unknown);
    CHECK(sniff_str(std::string("II*\0\x08\0\0\0", 8)) == ImageFormat::tiff);
    CHECK(sniff_str(std::string("MM\0*\0\0\0\x08", 8)) == ImageFormat::tiff);
    CHECK(sniff_str(std::string("II+\0\x08\0\0\0", 8)) == ImageFormat::tiff); // BigTIFF
    CHECK(sniff_str("BM" + le32(1000) + le32(0) + le32(54) + le32(40)) == ImageFormat::bmp);
    CHECK(sniff_str("BM" + le32(1000) + le32(0) + le32(26) + le32(12)) == ImageFormat::bmp);
    // Text that happens to start with "BM" is not a bitmap.
    CHECK(sniff_str("BMW owners club newsletter, issue 7") == ImageFormat::unknown);

    CHECK(sniff_str(heic("")) == ImageFormat::heic);
    CHECK(sniff_str(box("ftyp", "mif1" + std::string(4, '\0') + "mif1heic")) == ImageFormat::heic);
    CHECK(sniff_str(box("ftyp", "avif" + std::string(4, '\0') + "avifmif1miaf")) ==
          ImageFormat::avif);
    // Major brand generic, AVIF only among the compatible brands.
    CHECK(sniff_str(box("ftyp", "mif1" + std::string(4, '\0') + "mif1avif")) == ImageFormat::avif);
    CHECK(sniff_str(box("ftyp", "msf1" + std::string(4, '\0') + "msf1")) == ImageFormat::heic);
    // Video in the same container is not an image.
    CHECK(sniff_str(box("ftyp", "isom" + std::string(4, '\0') + "isomiso2mp41")) ==
          ImageFormat::unknown);
    CHECK(sniff_str(box("ftyp", "qt  " + std::string(4, '\0') + "qt  ")) == ImageFormat::unknown);

    CHECK(sniff_str("") == ImageFormat::unknown);
    CHECK(sniff(nullptr, 10) == ImageFormat::unknown);
    CHECK(sniff_str("\x89PN") == ImageFormat::unknown); // too short to tell
    CHECK(sniff_str("\xFF\xD8") == ImageFormat::unknown);
    CHECK(sniff_str("hello, world") == ImageFormat::unknown);
    CHECK(sniff_str(std::string(64, '\0')) == ImageFormat::unknown);
}

TEST_CASE("image format: zero-byte files and unknown content") {
    CHECK(check_complete(ImageFormat::png, nullptr, 0, nullptr, 0, 0).error() == "zero-byte file");
    CHECK(check_complete(ImageFormat::unknown, nullptr, 0, nullptr, 0, 0).error() ==
          "zero-byte file");
    CHECK_FALSE(complete("just some text", ImageFormat::unknown).has_value());
    CHECK(probe("", 1) == "zero-byte file");
}

TEST_CASE("image format: PNG completeness") {
    const std::string ok = small_png();
    CHECK_FALSE(complete(ok).has_value());
    CHECK(complete(ok.substr(0, ok.size() - 1)) == "truncated PNG (no IEND chunk at the end)");
    CHECK(complete(ok.substr(0, 80)) == "truncated PNG (no IEND chunk at the end)");
    CHECK(complete(ok.substr(0, 20)) == "truncated PNG (20 bytes)");
    // Junk shorter than the tail window after IEND is tolerated.
    CHECK_FALSE(complete(ok + "\0\0", ImageFormat::png).has_value());
    const std::string no_ihdr = png_sig + png_chunk("tEXt", std::string(40, 't')) + iend;
    CHECK(complete(no_ihdr) == "PNG without IHDR chunk first");
    CHECK(complete(std::string(100, 'x'), ImageFormat::png) == "PNG signature missing");
}

TEST_CASE("image format: JPEG completeness") {
    const std::string body = "\xFF\xD8\xFF\xE0" + std::string(200, 'j');
    CHECK_FALSE(complete(body + "\xFF\xD9").has_value());
    CHECK_FALSE(complete(body + "\xFF\xD9" + std::string(6, '\0')).has_value());
    CHECK_FALSE(complete(body + "\xFF\xD9\r\n").has_value());
    CHECK(complete(body) == "truncated JPEG (no end-of-image marker)");
    CHECK(complete(body + "\xFF\xD9" + "trailing data") ==
          "truncated JPEG (no end-of-image marker)");
    CHECK(complete(body + std::string(32, '\0')) == "truncated JPEG (no end-of-image marker)");
    CHECK(complete("\xFF\xD8\xFF") == "truncated JPEG (3 bytes)");
}

TEST_CASE("image format: GIF, WebP, TIFF, BMP completeness") {
    const std::string gif = "GIF89a" + std::string(30, 'g');
    CHECK_FALSE(complete(gif + ";").has_value());
    CHECK_FALSE(complete(gif + ";\n").has_value());
    CHECK(complete(gif) == "GIF without trailer");
    CHECK(complete(std::string("GIF89a\1\0", 8)) == "truncated GIF (8 bytes)");

    const std::string webp = "RIFF" + le32(12345 - 8) + "WEBPVP8 " + std::string(983, 'w');
    CHECK(webp.size() == 999);
    CHECK(complete(webp) == "WebP RIFF size says 12345 bytes, file has 999");
    CHECK_FALSE(complete("RIFF" + le32(991) + "WEBPVP8 " + std::string(983, 'w')).has_value());

    const std::string tiff_head = std::string("II*\0", 4);
    CHECK_FALSE(complete(tiff_head + le32(8) + std::string(100, 't')).has_value());
    CHECK(complete(tiff_head + le32(5000) + std::string(100, 't')) ==
          "truncated TIFF (first IFD at offset 5000, file has 108 bytes)");
    CHECK(complete(std::string("MM\0*", 4) + be32(4) + std::string(100, 't')) ==
          "truncated TIFF (first IFD at offset 4, file has 108 bytes)");
    const std::string big_tiff = std::string("II+\0\x08\0\0\0", 8);
    CHECK_FALSE(complete(big_tiff + le32(16) + le32(0) + std::string(100, 't')).has_value());
    CHECK(complete(big_tiff + le32(900) + le32(0) + std::string(100, 't')) ==
          "truncated TIFF (first IFD at offset 900, file has 116 bytes)");

    const std::string dib = le32(40) + std::string(36, 'd');
    const std::string bmp_ok =
        "BM" + le32(2000) + le32(0) + le32(54) + dib + std::string(1946, 'p');
    CHECK(bmp_ok.size() == 2000);
    CHECK_FALSE(complete(bmp_ok).has_value());
    CHECK(complete(bmp_ok.substr(0, 1000)) ==
          "truncated BMP (header says 2000 bytes, file has 1000)");
    // A zero size field is common and fine.
    CHECK_FALSE(
        complete("BM" + le32(0) + le32(0) + le32(54) + dib + std::string(100, 'p')).has_value());
}

TEST_CASE("image format: HEIC and AVIF completeness") {
    const std::string ok = heic(std::string(500, 'h'));
    CHECK(sniff_str(ok) == ImageFormat::heic);
    CHECK_FALSE(complete(ok).has_value());
    CHECK_FALSE(probe(ok, 7).has_value());
    // Head and tail alone cannot see a cut mdat; the probe's box walk can.
    const std::string cut = ok.substr(0, ok.size() - 100);
    CHECK_FALSE(complete(cut).has_value());
    CHECK(probe(cut, 1) ==
          "truncated HEIC (box 'mdat' at offset 72 ends at byte 580, file has 480)");
    CHECK(probe(cut, 4096) == probe(cut, 1));
    CHECK(probe(ok.substr(0, 76), 3) ==
          "truncated HEIC (file ends inside a box header at offset 72)");
    CHECK(complete(ok.substr(0, 10), ImageFormat::heic) == "truncated HEIC (10 bytes)");
    const std::string ftyp_only = box("ftyp", "heic" + std::string(4, '\0') + "mif1heic");
    CHECK(complete(ftyp_only.substr(0, 20), ImageFormat::heic) ==
          "truncated HEIC (ftyp box needs 24 bytes, file has 20)");

    // A 64-bit box size, and a last box of size 0 that runs to the end of the file.
    const std::string large = box("ftyp", "avif" + std::string(4, '\0') + "avifmif1") + be32(1) +
                              "mdat" + be32(0) + be32(16 + 300) + std::string(300, 'a');
    CHECK(sniff_str(large) == ImageFormat::avif);
    CHECK_FALSE(probe(large, 5).has_value());
    CHECK(probe(large.substr(0, large.size() - 1), 5) ==
          "truncated AVIF (box 'mdat' at offset 24 ends at byte 340, file has 339)");
    const std::string to_eof = box("ftyp", "avif" + std::string(4, '\0') + "avif") + be32(0) +
                               "mdat" + std::string(77, 'z');
    CHECK_FALSE(probe(to_eof, 9).has_value());
    const std::string bad = box("ftyp", "heic" + std::string(4, '\0') + "heic") + be32(3) + "meta" +
                            std::string(50, 'b');
    CHECK(probe(bad, 2) == "HEIC box at offset 20 has an impossible size (3)");
}

TEST_CASE("image format: the probe walks PNG chunks and ignores how input is chunked") {
    const std::string ok = small_png();
    for (std::size_t step : {1, 2, 3, 7, 8, 13, 64, 1000}) {
        CAPTURE(step);
        ImageProbe p;
        for (std::size_t at = 0; at < ok.size(); at += step) {
            p.update(ok.data() + at, std::min(step, ok.size() - at));
        }
        CHECK(p.format() == ImageFormat::png);
        CHECK(p.size() == ok.size());
        CHECK(p.check());
        CHECK(probe(ok.substr(0, ok.size() - 5), step) ==
              "truncated PNG (no IEND chunk at the end)");
    }
    // IEND is there, but a chunk in the middle claims more bytes than the file has: the IDAT
    // length was overwritten, or the file was cut and IEND appended by a careless tool.
    std::string lying = small_png();
    lying.replace(8 + 25, 4, be32(100000));
    CHECK_FALSE(complete(lying).has_value());
    CHECK(probe(lying, 10) ==
          "truncated PNG (chunk 'IDAT' at offset 33 ends at byte 100045, file has 157)");
    std::string broken = small_png();
    broken.replace(8 + 25, 4, be32(0x80000000U));
    CHECK(probe(broken, 10) == "PNG chunk at offset 33 has an impossible length (2147483648)");
    // Data after IEND is not walked.
    CHECK_FALSE(probe(small_png() + "\0\0\0", 4).has_value());
}

TEST_CASE("image format: the probe keeps head and tail across small updates") {
    const std::string body = "\xFF\xD8\xFF\xE0" + std::string(300, 'q');
    ImageProbe p;
    p.update(body);
    p.update("\xFF");
    p.update("");
    p.update("\xD9");
    CHECK(p.format() == ImageFormat::jpeg);
    CHECK(p.size() == body.size() + 2);
    CHECK(p.check());
    p.update("x");
    CHECK(p.check().error() == "truncated JPEG (no end-of-image marker)");
    ImageProbe short_file;
    short_file.update("GIF8");
    CHECK(short_file.format() == ImageFormat::unknown);
    CHECK(short_file.check());
}

TEST_SUITE_END();
