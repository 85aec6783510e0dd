#include "core/ingest.hpp"

#include "core/image_format.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

namespace imgsync::core {

namespace {
constexpr std::size_t head_bytes = image_head_bytes;
constexpr std::size_t tail_bytes = image_tail_bytes;
constexpr std::size_t chunk = 1 << 20;
} // namespace

namespace {
// The digests of each part of a multipart file, fed from the same buffers as the whole file's.
class PartHasher {
  public:
    explicit PartHasher(std::uint64_t part_size) : part_size_(part_size) {}
    void update(const std::uint8_t* data, std::size_t n) {
        while (part_size_ > 0 && n > 0) {
            auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n, part_size_ - filled_));
            md5_->update(data, take);
            sha_->update(data, take);
            filled_ += take;
            data += take;
            n -= take;
            if (filled_ == part_size_)
                close_part();
        }
    }
    std::vector<storage::PartDigest> finish() {
        if (filled_ > 0)
            close_part();
        return std::move(digests_);
    }

  private:
    void close_part() {
        digests_.push_back({static_cast<std::int64_t>(digests_.size() + 1),
                            util::to_hex(md5_->finish()), util::to_hex(sha_->finish())});
        md5_.emplace();
        sha_.emplace();
        filled_ = 0;
    }
    std::uint64_t part_size_;
    std::uint64_t filled_ = 0;
    std::optional<util::Md5> md5_{std::in_place};
    std::optional<util::Sha256> sha_{std::in_place};
    std::vector<storage::PartDigest> digests_;
};
} // namespace

Ingested ingest_file(const std::string& path, const PartPlan& plan) {
    Ingested out;
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        out.refusal = errno == ELOOP ? "is a symbolic link (not followed)"
                                     : fmt::format("cannot open: {}", std::strerror(errno));
        return out;
    }
    auto st = util::stat_fd(fd.get());
    if (!st) {
        out.refusal = fmt::format("cannot stat: {}", std::strerror(errno));
        return out;
    }
    if (!S_ISREG(st->mode)) {
        out.refusal = "not a regular file";
        return out;
    }
    if (st->size == 0) {
        out.refusal = "zero-byte file";
        return out;
    }
    if (st->size > max_object_size) {
        out.refusal = fmt::format("{} bytes is larger than S3's 5 TiB object limit", st->size);
        return out;
    }
    std::uint8_t head[head_bytes] = {};
    long long head_n = util::read_at(fd.get(), head, head_bytes, 0);
    if (head_n < 0) {
        out.refusal = fmt::format("cannot read: {}", std::strerror(errno));
        return out;
    }
    ImageFormat format = sniff(head, static_cast<std::size_t>(head_n));
    if (format == ImageFormat::unknown) {
        out.refusal = "not an image (content is not PNG, JPEG, GIF, WebP, TIFF, BMP, AVIF or HEIC)";
        return out;
    }

    util::Sha256 sha;
    util::Md5 md5;
    std::uint64_t part_size = plan.part_size(st->size);
    PartHasher parts(part_size);
    // One buffer for every file: a fresh zero-filled 1 MiB per file made `add` of a million
    // small files spend most of its time in memset.
    static thread_local std::vector<std::uint8_t> buf(chunk);
    std::uint8_t tail[tail_bytes] = {};
    std::size_t tail_n = 0;
    std::uint64_t offset = 0;
    for (;;) {
        long long n = util::read_at(fd.get(), buf.data(), buf.size(), offset);
        if (n < 0) {
            out.refusal = fmt::format("cannot read: {}", std::strerror(errno));
            return out;
        }
        if (n == 0)
            break;
        auto got = static_cast<std::size_t>(n);
        sha.update(buf.data(), got);
        md5.update(buf.data(), got);
        parts.update(buf.data(), got);
        // Keep the last tail_bytes of the file seen so far.
        if (got >= tail_bytes) {
            std::memcpy(tail, buf.data() + got - tail_bytes, tail_bytes);
            tail_n = tail_bytes;
        } else {
            std::size_t keep = std::min(tail_n, tail_bytes - got);
            std::memmove(tail, tail + tail_n - keep, keep);
            std::memcpy(tail + keep, buf.data(), got);
            tail_n = keep + got;
        }
        offset += got;
    }
    if (offset != st->size) {
        out.refusal =
            fmt::format("changed while being read ({} bytes expected, {} read)", st->size, offset);
        return out;
    }
    if (auto problem = check_complete(format, head, static_cast<std::size_t>(head_n), tail, tail_n,
                                      st->size)) {
        out.refusal = *problem;
        return out;
    }
    storage::NewImage image;
    image.path = path;
    image.size = st->size;
    image.mtime_ns = st->mtime_ns;
    image.sha256 = util::to_hex(sha.finish());
    image.md5 = util::to_hex(md5.finish());
    image.content_type = std::string(content_type(format));
    image.digest_part_size = part_size;
    image.part_digests = parts.finish();
    out.image = std::move(image);
    return out;
}

} // namespace imgsync::core
