#include "images/image_format.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace imgsync::core {

namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint64_t be64(const std::uint8_t* p) {
    return std::uint64_t{be32(p)} << 32 | be32(p + 4);
}
std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}
std::uint64_t le64(const std::uint8_t* p) {
    return std::uint64_t{le32(p + 4)} << 32 | le32(p);
}
std::uint16_t le16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[1] << 8 | p[0]);
}

bool starts_with(const std::uint8_t* p, std::size_t n, std::string_view sig) {
    return n >= sig.size() && std::memcmp(p, sig.data(), sig.size()) == 0;
}

bool is_heic_brand(const std::uint8_t* b) {
    static constexpr std::string_view brands[] = {"heic", "heix", "heim", "heis",
                                                  "hevc", "hevx", "hevm", "hevs"};
    return std::any_of(std::begin(brands), std::end(brands),
                       [b](std::string_view s) { return std::memcmp(b, s.data(), 4) == 0; });
}

// ISO-BMFF: the ftyp box lists a major brand and compatible brands. AVIF files often carry the
// generic HEIF brands too, so an AVIF brand anywhere wins; generic "mif1"/"msf1" alone is HEIF,
// which we serve as HEIC.
ImageFormat sniff_bmff(const std::uint8_t* head, std::size_t n) {
    if (n < 12 || std::memcmp(head + 4, "ftyp", 4) != 0) {
        return ImageFormat::unknown;
    }
    // Only the head counts, so the answer never depends on how much more the caller passes.
    const std::size_t box = std::min<std::size_t>({be32(head), n, image_head_bytes});
    bool heic = false;
    bool heif = false;
    for (std::size_t off = 8; off + 4 <= std::max<std::size_t>(box, 12); off += 4) {
        if (off == 12) {
            continue; // minor_version, not a brand
        }
        const std::uint8_t* b = head + off;
        if (std::memcmp(b, "avif", 4) == 0 || std::memcmp(b, "avis", 4) == 0) {
            return ImageFormat::avif;
        }
        heic = heic || is_heic_brand(b);
        heif = heif || std::memcmp(b, "mif1", 4) == 0 || std::memcmp(b, "msf1", 4) == 0;
    }
    return heic || heif ? ImageFormat::heic : ImageFormat::unknown;
}

bool is_trailing_pad(std::uint8_t c) {
    return c == 0 || c == '\n' || c == '\r' || c == ' ';
}

// Index one past the last byte that is not trailing padding.
std::size_t unpadded_end(const std::uint8_t* tail, std::size_t tail_n) {
    while (tail_n > 0 && is_trailing_pad(tail[tail_n - 1])) {
        --tail_n;
    }
    return tail_n;
}

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

std::string printable_type(const std::array<char, 4>& type) {
    std::string s(type.data(), type.size());
    for (char& c : s) {
        if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
    }
    return s;
}

// The 12-byte IEND chunk: zero length, type, CRC. It is the same in every PNG.
constexpr std::uint8_t iend_chunk[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

util::Result<void> check_png(const std::uint8_t* head, std::size_t head_n, const std::uint8_t* tail,
                             std::size_t tail_n, std::uint64_t total) {
    // Signature, IHDR (25 bytes) and IEND (12 bytes) are the least a PNG can have.
    if (total < 8 + 25 + 12) {
        return util::fail("truncated PNG (" + num(total) + " bytes)");
    }
    if (head_n >= 16 && (be32(head + 8) != 13 || std::memcmp(head + 12, "IHDR", 4) != 0)) {
        return util::fail("PNG without IHDR chunk first");
    }
    if (tail_n >= sizeof iend_chunk && std::search(tail, tail + tail_n, std::begin(iend_chunk),
                                                   std::end(iend_chunk)) == tail + tail_n) {
        return util::fail(std::string("truncated PNG (no IEND chunk at the end)"));
    }
    return {};
}

util::Result<void> check_jpeg(const std::uint8_t* tail, std::size_t tail_n, std::uint64_t total) {
    if (total < 4) {
        return util::fail("truncated JPEG (" + num(total) + " bytes)");
    }
    if (tail_n < 2) {
        return {};
    }
    // Entropy-coded data stuffs every 0xFF with 0x00, so FF D9 at the end can only be EOI.
    const std::size_t end = unpadded_end(tail, tail_n);
    if (end < 2 || tail[end - 2] != 0xFF || tail[end - 1] != 0xD9) {
        return util::fail(std::string("truncated JPEG (no end-of-image marker)"));
    }
    return {};
}

util::Result<void> check_gif(const std::uint8_t* tail, std::size_t tail_n, std::uint64_t total) {
    // Header (6), logical screen descriptor (7), trailer (1).
    if (total < 14) {
        return util::fail("truncated GIF (" + num(total) + " bytes)");
    }
    if (tail_n < 1) {
        return {};
    }
    const std::size_t end = unpadded_end(tail, tail_n);
    if (end < 1 || tail[end - 1] != 0x3B) {
        return util::fail("GIF without trailer");
    }
    return {};
}

util::Result<void> check_webp(const std::uint8_t* head, std::size_t head_n, std::uint64_t total) {
    if (total < 12) {
        return util::fail("truncated WebP (" + num(total) + " bytes)");
    }
    if (head_n < 8) {
        return {};
    }
    // The RIFF size counts everything after the 8-byte RIFF header.
    const std::uint64_t wanted = std::uint64_t{le32(head + 4)} + 8;
    if (wanted > total) {
        return util::fail("WebP RIFF size says " + num(wanted) + " bytes, file has " + num(total));
    }
    return {};
}

util::Result<void> check_tiff(const std::uint8_t* head, std::size_t head_n, std::uint64_t total) {
    if (head_n < 8) {
        if (total < 8) {
            return util::fail("truncated TIFF (" + num(total) + " bytes)");
        }
        return {};
    }
    const bool little = head[0] == 'I';
    const bool big_tiff = (little ? le16(head + 2) : (head[2] << 8 | head[3])) == 43;
    std::uint64_t ifd = 0;
    std::uint64_t min_ifd = 8;
    std::uint64_t ifd_head = 2; // the IFD's entry count
    if (big_tiff) {
        if (head_n < 16) {
            if (total < 16) {
                return util::fail("truncated TIFF (" + num(total) + " bytes)");
            }
            return {};
        }
        ifd = little ? le64(head + 8) : be64(head + 8);
        min_ifd = 16;
        ifd_head = 8;
    } else {
        ifd = little ? le32(head + 4) : be32(head + 4);
    }
    if (ifd < min_ifd || ifd > total || total - ifd < ifd_head) {
        return util::fail("truncated TIFF (first IFD at offset " + num(ifd) + ", file has " +
                          num(total) + " bytes)");
    }
    return {};
}

util::Result<void> check_bmp(const std::uint8_t* head, std::size_t head_n, std::uint64_t total) {
    // File header (14) and the smallest DIB header (12).
    if (total < 26) {
        return util::fail("truncated BMP (" + num(total) + " bytes)");
    }
    if (head_n < 14) {
        return {};
    }
    // Some writers leave the size field 0 or round it; only a claim beyond the end counts.
    const std::uint64_t declared = le32(head + 2);
    if (declared > total) {
        return util::fail("truncated BMP (header says " + num(declared) + " bytes, file has " +
                          num(total) + ")");
    }
    const std::uint64_t pixels = le32(head + 10);
    if (pixels > total) {
        return util::fail("truncated BMP (pixel data at offset " + num(pixels) + ", file has " +
                          num(total) + " bytes)");
    }
    return {};
}

util::Result<void> check_bmff(ImageFormat format, const std::uint8_t* head, std::size_t head_n,
                              std::uint64_t total) {
    const std::string name(format_name(format));
    if (total < 16) {
        return util::fail("truncated " + name + " (" + num(total) + " bytes)");
    }
    if (head_n < 4) {
        return {};
    }
    const std::uint64_t ftyp = be32(head);
    if (ftyp > total) {
        return util::fail("truncated " + name + " (ftyp box needs " + num(ftyp) +
                          " bytes, file has " + num(total) + ")");
    }
    return {};
}

bool same_family(ImageFormat a, ImageFormat b) {
    const auto bmff = [](ImageFormat f) {
        return f == ImageFormat::avif || f == ImageFormat::heic;
    };
    return a == b || (bmff(a) && bmff(b));
}

} // namespace

std::string_view content_type(ImageFormat format) {
    switch (format) {
    case ImageFormat::png:
        return "image/png";
    case ImageFormat::jpeg:
        return "image/jpeg";
    case ImageFormat::gif:
        return "image/gif";
    case ImageFormat::webp:
        return "image/webp";
    case ImageFormat::tiff:
        return "image/tiff";
    case ImageFormat::bmp:
        return "image/bmp";
    case ImageFormat::avif:
        return "image/avif";
    case ImageFormat::heic:
        return "image/heic";
    case ImageFormat::unknown:
        break;
    }
    return "application/octet-stream";
}

std::string_view format_name(ImageFormat format) {
    switch (format) {
    case ImageFormat::png:
        return "PNG";
    case ImageFormat::jpeg:
        return "JPEG";
    case ImageFormat::gif:
        return "GIF";
    case ImageFormat::webp:
        return "WebP";
    case ImageFormat::tiff:
        return "TIFF";
    case ImageFormat::bmp:
        return "BMP";
    case ImageFormat::avif:
        return "AVIF";
    case ImageFormat::heic:
        return "HEIC";
    case ImageFormat::unknown:
        break;
    }
    return "unknown";
}

std::string_view file_extension(ImageFormat format) {
    switch (format) {
    case ImageFormat::png:
        return "png";
    case ImageFormat::jpeg:
        return "jpg";
    case ImageFormat::gif:
        return "gif";
    case ImageFormat::webp:
        return "webp";
    case ImageFormat::tiff:
        return "tif";
    case ImageFormat::bmp:
        return "bmp";
    case ImageFormat::avif:
        return "avif";
    case ImageFormat::heic:
        return "heic";
    case ImageFormat::unknown:
        break;
    }
    return "bin";
}

ImageFormat sniff(const std::uint8_t* head, std::size_t n) {
    if (head == nullptr) {
        return ImageFormat::unknown;
    }
    if (starts_with(head, n, "\x89PNG\r\n\x1a\n")) {
        return ImageFormat::png;
    }
    if (starts_with(head, n, "\xFF\xD8\xFF")) {
        return ImageFormat::jpeg;
    }
    if (starts_with(head, n, "GIF87a") || starts_with(head, n, "GIF89a")) {
        return ImageFormat::gif;
    }
    if (starts_with(head, n, "RIFF") && n >= 12 && std::memcmp(head + 8, "WEBP", 4) == 0) {
        return ImageFormat::webp;
    }
    if (starts_with(head, n, std::string_view("II*\0", 4)) ||
        starts_with(head, n, std::string_view("MM\0*", 4)) ||
        starts_with(head, n, std::string_view("II+\0", 4)) ||
        starts_with(head, n, std::string_view("MM\0+", 4))) {
        return ImageFormat::tiff;
    }
    // "BM" alone starts plenty of text files; the DIB header size must be one of the known ones.
    if (starts_with(head, n, "BM") && n >= 18) {
        switch (le32(head + 14)) {
        case 12:
        case 16:
        case 40:
        case 52:
        case 56:
        case 64:
        case 108:
        case 124:
            return ImageFormat::bmp;
        default:
            break;
        }
    }
    return sniff_bmff(head, n);
}

util::Result<void> check_complete(ImageFormat format, const std::uint8_t* head, std::size_t head_n,
                                  const std::uint8_t* tail, std::size_t tail_n,
                                  std::uint64_t total_size) {
    if (total_size == 0) {
        return util::fail("zero-byte file");
    }
    if (head == nullptr) {
        head_n = 0;
    }
    if (tail == nullptr) {
        tail_n = 0;
    }
    head_n = static_cast<std::size_t>(std::min<std::uint64_t>(head_n, total_size));
    tail_n = static_cast<std::size_t>(std::min<std::uint64_t>(tail_n, total_size));
    // A head too short to identify any format (BMP needs 18 bytes) falls through to the
    // per-format checks, which call such a file truncated.
    if (format != ImageFormat::unknown &&
        head_n >= std::min<std::uint64_t>(total_size, image_head_bytes) && head_n >= 18 &&
        !same_family(sniff(head, head_n), format)) {
        return util::fail(std::string(format_name(format)) + " signature missing");
    }
    switch (format) {
    case ImageFormat::png:
        return check_png(head, head_n, tail, tail_n, total_size);
    case ImageFormat::jpeg:
        return check_jpeg(tail, tail_n, total_size);
    case ImageFormat::gif:
        return check_gif(tail, tail_n, total_size);
    case ImageFormat::webp:
        return check_webp(head, head_n, total_size);
    case ImageFormat::tiff:
        return check_tiff(head, head_n, total_size);
    case ImageFormat::bmp:
        return check_bmp(head, head_n, total_size);
    case ImageFormat::avif:
    case ImageFormat::heic:
        return check_bmff(format, head, head_n, total_size);
    case ImageFormat::unknown:
        break;
    }
    return {};
}

void ImageProbe::update(const void* data, std::size_t size) {
    if (size == 0 || data == nullptr) {
        return;
    }
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (head_n_ < head_.size()) {
        const std::size_t take = std::min(size, head_.size() - head_n_);
        std::memcpy(head_.data() + head_n_, p, take);
        head_n_ += take;
    }
    if (size >= tail_.size()) {
        std::memcpy(tail_.data(), p + size - tail_.size(), tail_.size());
        tail_n_ = tail_.size();
    } else {
        const std::size_t keep = std::min(tail_n_, tail_.size() - size);
        std::memmove(tail_.data(), tail_.data() + tail_n_ - keep, keep);
        std::memcpy(tail_.data() + keep, p, size);
        tail_n_ = keep + size;
    }
    advance(png_, false, size_, p, size);
    advance(bmff_, true, size_, p, size);
    size_ += size;
    // Until the head is complete either walk may be the right one; after that, only one can be.
    if (!walks_pruned_ && head_n_ == head_.size()) {
        const ImageFormat f = format();
        png_.off = f != ImageFormat::png;
        bmff_.off = f != ImageFormat::avif && f != ImageFormat::heic;
        walks_pruned_ = true;
    }
}

void ImageProbe::advance(Walk& w, bool bmff, std::uint64_t pos, const std::uint8_t* data,
                         std::size_t size) {
    const std::uint64_t end = pos + size;
    while (!w.off && !w.broken && !w.done) {
        const std::uint64_t at = w.next + w.hdr_n;
        if (at >= end) {
            return;
        }
        // ISO-BMFF size 1 means a 64-bit size follows the type.
        const std::size_t need = bmff && w.hdr_n >= 8 && be32(w.hdr.data()) == 1 ? 16 : 8;
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(need - w.hdr_n, end - at));
        std::memcpy(w.hdr.data() + w.hdr_n, data + (at - pos), take);
        w.hdr_n += take;
        if (w.hdr_n < need) {
            return; // this chunk of input ran out inside the header
        }
        const std::uint32_t field = be32(w.hdr.data());
        if (bmff && field == 1 && w.hdr_n < 16) {
            continue;
        }
        w.started = true;
        w.last_start = w.next;
        std::memcpy(w.last_type.data(), w.hdr.data() + 4, 4);
        std::uint64_t length = 0;
        if (bmff) {
            if (field == 0) {
                w.done = true;
                return;
            }
            length = field == 1 ? be64(w.hdr.data() + 8) : field;
            if (length < (field == 1 ? 16U : 8U)) {
                w.broken = true;
                w.broken_size = length;
                return;
            }
        } else {
            // PNG chunk lengths are limited to 2^31 - 1.
            if (field > 0x7fffffffU) {
                w.broken = true;
                w.broken_size = field;
                return;
            }
            length = std::uint64_t{field} + 12;
            if (std::memcmp(w.hdr.data() + 4, "IEND", 4) == 0) {
                w.done = true;
            }
        }
        if (length > std::numeric_limits<std::uint64_t>::max() - w.next) {
            w.broken = true;
            w.broken_size = length;
            return;
        }
        w.next += length;
        w.hdr_n = 0;
    }
}

ImageFormat ImageProbe::format() const {
    return sniff(head_.data(), head_n_);
}

util::Result<void> ImageProbe::check() const {
    const ImageFormat f = format();
    if (auto ends = check_complete(f, head_.data(), head_n_, tail_.data(), tail_n_, size_); !ends) {
        return ends;
    }
    const bool is_png = f == ImageFormat::png;
    if (!is_png && f != ImageFormat::avif && f != ImageFormat::heic) {
        return {};
    }
    const Walk& w = is_png ? png_ : bmff_;
    const std::string name(format_name(f));
    const char* unit = is_png ? "chunk" : "box";
    if (w.broken) {
        return util::fail(name + " " + unit + " at offset " + num(w.last_start) +
                          " has an impossible " + (is_png ? "length (" : "size (") +
                          num(w.broken_size) + ")");
    }
    if (w.done && !is_png) {
        return {}; // a box that runs to the end of the file cannot be cut short
    }
    if (w.hdr_n > 0) {
        return util::fail("truncated " + name + " (file ends inside a " + unit +
                          " header at offset " + num(w.next) + ")");
    }
    if (w.started && w.next > size_) {
        return util::fail("truncated " + name + " (" + unit + " '" + printable_type(w.last_type) +
                          "' at offset " + num(w.last_start) + " ends at byte " + num(w.next) +
                          ", file has " + num(size_) + ")");
    }
    return {};
}

} // namespace imgsync::core
