#include "images/exif.hpp"

#include <algorithm>

namespace imgsync::images {

namespace {

constexpr std::uint16_t tag_exif_ifd = 0x8769;
constexpr std::uint16_t tag_date_time_original = 0x9003;
constexpr std::uint16_t tag_date_time_digitized = 0x9004;
constexpr std::uint16_t type_ascii = 2;
constexpr std::uint16_t type_long = 4;

// A TIFF structure: byte order, and bounds-checked reads relative to its header.
class Tiff {
  public:
    Tiff(const std::uint8_t* data, std::size_t size) : d_(data), n_(size) {}

    bool open() {
        if (n_ < 8) {
            return false;
        }
        if (d_[0] == 'I' && d_[1] == 'I') {
            little_ = true;
        } else if (d_[0] == 'M' && d_[1] == 'M') {
            little_ = false;
        } else {
            return false;
        }
        return u16(2).value_or(0) == 42;
    }
    std::optional<std::uint32_t> first_ifd() const { return u32(4); }

    std::optional<std::uint16_t> u16(std::size_t at) const {
        if (at > n_ || n_ - at < 2) {
            return std::nullopt;
        }
        return little_ ? static_cast<std::uint16_t>(d_[at] | d_[at + 1] << 8)
                       : static_cast<std::uint16_t>(d_[at] << 8 | d_[at + 1]);
    }
    std::optional<std::uint32_t> u32(std::size_t at) const {
        if (at > n_ || n_ - at < 4) {
            return std::nullopt;
        }
        const std::uint32_t b0 = d_[at], b1 = d_[at + 1], b2 = d_[at + 2], b3 = d_[at + 3];
        return little_ ? (b0 | b1 << 8 | b2 << 16 | b3 << 24)
                       : (b0 << 24 | b1 << 16 | b2 << 8 | b3);
    }

    struct Entry {
        std::uint16_t type = 0;
        std::uint32_t count = 0;
        std::size_t value_at = 0; // where the value (or its offset) sits
    };
    // The entry with `tag` in the IFD at `ifd`, if the IFD is readable.
    std::optional<Entry> find(std::uint32_t ifd, std::uint16_t tag) const {
        const auto count = u16(ifd);
        if (!count || *count > max_ifd_entries) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < *count; ++i) {
            const std::size_t at = ifd + 2 + i * 12;
            const auto t = u16(at);
            const auto type = u16(at + 2);
            const auto n = u32(at + 4);
            if (!t || !type || !n) {
                return std::nullopt;
            }
            if (*t == tag) {
                return Entry{*type, *n, at + 8};
            }
        }
        return std::nullopt;
    }
    // An ASCII value of exactly `length` characters before its NUL (or the end of the count).
    std::optional<const std::uint8_t*> ascii(const Entry& e, std::size_t length) const {
        if (e.type != type_ascii || e.count < length) {
            return std::nullopt;
        }
        std::size_t at = e.value_at;
        if (e.count > 4) {
            const auto offset = u32(e.value_at);
            if (!offset) {
                return std::nullopt;
            }
            at = *offset;
        }
        if (at > n_ || n_ - at < length) {
            return std::nullopt;
        }
        return d_ + at;
    }

  private:
    const std::uint8_t* d_;
    std::size_t n_;
    bool little_ = true;
};

int digits(const std::uint8_t* p, int n) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

// "YYYY:MM:DD HH:MM:SS" (some writers use '-' or '/' between the date's fields).
std::optional<ExifDate> parse_date(const std::uint8_t* p) {
    const auto sep = [](std::uint8_t c) { return c == ':' || c == '-' || c == '/'; };
    if (!sep(p[4]) || !sep(p[7]) || (p[10] != ' ' && p[10] != 'T') || p[13] != ':' ||
        p[16] != ':') {
        return std::nullopt;
    }
    ExifDate d{digits(p, 4),      digits(p + 5, 2),  digits(p + 8, 2),
               digits(p + 11, 2), digits(p + 14, 2), digits(p + 17, 2)};
    if (d.year < 1 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 || d.hour < 0 ||
        d.hour > 23 || d.minute < 0 || d.minute > 59 || d.second < 0 || d.second > 60) {
        return std::nullopt;
    }
    return d;
}

std::optional<ExifDate> from_tiff(const std::uint8_t* data, std::size_t size) {
    Tiff tiff(data, size);
    if (!tiff.open()) {
        return std::nullopt;
    }
    const auto ifd0 = tiff.first_ifd();
    if (!ifd0) {
        return std::nullopt;
    }
    const auto pointer = tiff.find(*ifd0, tag_exif_ifd);
    if (!pointer || pointer->type != type_long || pointer->count != 1) {
        return std::nullopt;
    }
    const auto exif_ifd = tiff.u32(pointer->value_at);
    if (!exif_ifd) {
        return std::nullopt;
    }
    for (std::uint16_t tag : {tag_date_time_original, tag_date_time_digitized}) {
        if (const auto entry = tiff.find(*exif_ifd, tag)) {
            if (const auto text = tiff.ascii(*entry, 19)) {
                if (auto date = parse_date(*text)) {
                    return date;
                }
            }
        }
    }
    return std::nullopt;
}

// JPEG: markers from SOI up to the image data; the first APP1 that starts with "Exif\0\0".
std::optional<ExifDate> from_jpeg(const std::uint8_t* data, std::size_t size) {
    std::size_t at = 2;
    while (at + 4 <= size) {
        if (data[at] != 0xFF) {
            return std::nullopt;
        }
        const std::uint8_t marker = data[at + 1];
        if (marker == 0xFF) {
            ++at; // fill byte
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            at += 2; // no length
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) {
            return std::nullopt; // image data or the end: no EXIF before it
        }
        const std::size_t length = static_cast<std::size_t>(data[at + 2] << 8 | data[at + 3]);
        if (length < 2) {
            return std::nullopt;
        }
        const std::size_t body = at + 4;
        const std::size_t body_length = length - 2;
        if (marker == 0xE1 && body_length >= 6 && body + 6 <= size && data[body] == 'E' &&
            data[body + 1] == 'x' && data[body + 2] == 'i' && data[body + 3] == 'f' &&
            data[body + 4] == 0 && data[body + 5] == 0) {
            const std::size_t tiff_at = body + 6;
            const std::size_t available = std::min(size, body + body_length) - tiff_at;
            return from_tiff(data + tiff_at, available);
        }
        at = body + body_length;
    }
    return std::nullopt;
}

} // namespace

std::optional<ExifDate> exif_date(const std::uint8_t* data, std::size_t size) {
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
        return from_jpeg(data, size);
    }
    return from_tiff(data, size);
}

} // namespace imgsync::images
