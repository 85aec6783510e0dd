// Image type by content (never by file name) and a cheap "is this file whole?" check that fits a
// single streaming read: the caller already reads every file once, in chunks, to hash it.
//
// Two ways to use it:
//  * Keep the first image_head_bytes and the last image_tail_bytes of the file yourself, then call
//    sniff() and check_complete().
//  * Or feed every chunk to an ImageProbe next to the hash; it keeps head and tail itself and also
//    walks PNG chunks and HEIC/AVIF boxes, which catches truncations that head and tail cannot.
//    ingest (add) does this.
// Neither decodes pixels nor verifies CRCs: a file that passes may still be corrupt inside.
#pragma once

#include "util/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::core {

enum class ImageFormat { png, jpeg, gif, webp, tiff, bmp, avif, heic, unknown };

// "image/png", ...; "application/octet-stream" for unknown.
std::string_view content_type(ImageFormat format);
// "PNG", "JPEG", "GIF", "WebP", "TIFF", "BMP", "AVIF", "HEIC", "unknown".
std::string_view format_name(ImageFormat format);
// Usual file extension without the dot ("png", "jpg", ...); "bin" for unknown.
std::string_view file_extension(ImageFormat format);

// sniff() never needs more than this many leading bytes; check_complete() wants this many too.
inline constexpr std::size_t image_head_bytes = 64;
// check_complete() looks at no more than this many trailing bytes.
inline constexpr std::size_t image_tail_bytes = 16;

// Judges the type from the first bytes of a file. Fewer than image_head_bytes is fine (short
// files); each format needs only its signature (at most 32 bytes; HEIC/AVIF brands are searched in
// what is given). Anything not recognised is unknown.
ImageFormat sniff(const std::uint8_t* head, std::size_t n);

// Cheap completeness check from the ends of the file: fine, or a failure with a one-line reason
// ("truncated PNG (no IEND chunk at the end)", "zero-byte file", ...).
//  head: the first min(total_size, image_head_bytes) bytes; tail: the last
//  min(total_size, image_tail_bytes) bytes (it may overlap head in a small file); total_size: the
//  file's size. Passing fewer bytes only skips the checks that need them.
// What is checked: PNG IHDR first and IEND last; JPEG SOI first and EOI last; GIF trailer; WebP
// RIFF size; TIFF first-IFD offset; BMP header size; HEIC/AVIF ftyp box fits. Unknown: only zero
// size. Short trailing padding (NUL, CR, LF, space) after a JPEG EOI or GIF trailer is accepted.
util::Result<void> check_complete(ImageFormat format, const std::uint8_t* head, std::size_t head_n,
                                  const std::uint8_t* tail, std::size_t tail_n,
                                  std::uint64_t total_size);

// Streaming companion of sniff()/check_complete(): feed every byte of the file, in order, in chunks
// of any size, then ask. Constant memory, O(1) work per chunk plus one step per PNG chunk or
// ISO-BMFF box. The answers depend only on the bytes, never on how they were chunked.
class ImageProbe {
  public:
    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }

    std::uint64_t size() const { return size_; }
    // Valid once image_head_bytes have been fed, or at the end of a shorter file.
    ImageFormat format() const;
    // Call after the last update(). check_complete()'s answer first; if that is fine, the
    // chunk/box walk's (PNG: a chunk running past the end; HEIC/AVIF: a box running past the end,
    // e.g. a cut 'mdat'; a length field that cannot be right).
    util::Result<void> check() const;

  private:
    std::array<std::uint8_t, image_head_bytes> head_{};
    std::size_t head_n_ = 0;
    std::array<std::uint8_t, image_tail_bytes> tail_{};
    std::size_t tail_n_ = 0;
    std::uint64_t size_ = 0;

    // Walk of length-prefixed records, run for every file because the type is known only after
    // the head: PNG chunks from offset 8 and ISO-BMFF boxes from offset 0. Whichever does not fit
    // the format is ignored at the end.
    struct Walk {
        std::uint64_t next = 0; // offset of the next record header
        std::array<std::uint8_t, 16> hdr{};
        std::size_t hdr_n = 0;
        std::uint64_t last_start = 0; // offset and type of the last record begun
        std::array<char, 4> last_type{};
        bool started = false;
        bool done = false;   // PNG: IEND reached; ISO-BMFF: a size-0 box runs to the end
        bool broken = false; // a length field that cannot be right
        bool off = false;    // not this format: stop walking
        std::uint64_t broken_size = 0;
    };
    static void advance(Walk& w, bool bmff, std::uint64_t pos, const std::uint8_t* data,
                        std::size_t size);

    Walk png_{8};
    Walk bmff_{0};
    bool walks_pruned_ = false;
};

} // namespace imgsync::core
