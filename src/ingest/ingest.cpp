#include "ingest/ingest.hpp"

#include "images/image_format.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/md5_lanes.hpp"

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
// Reads of a multipart file, which is hashed on its own.
constexpr std::size_t whole_chunk = 1 << 20;
// Reads of each of the files hashed side by side: sixteen such buffers (1 MiB) stay in cache;
// 32 KiB reads measured worse (more system calls per file).
constexpr std::size_t lane_chunk = 64 << 10;

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
            if (filled_ == part_size_) {
                close_part();
            }
        }
    }
    std::vector<storage::PartDigest> finish() {
        if (filled_ > 0) {
            close_part();
        }
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

// One file being read: what it was when opened, and everything computed from its bytes but the
// MD5, which the caller computes (in a lane, or on its own for a multipart file).
struct FileRead {
    std::size_t slot = 0; // where its answer goes
    std::string path;
    util::UniqueFd fd;
    util::FileStat st{};
    ImageFormat format = ImageFormat::unknown; // judged by the first read
    std::uint64_t part_size = 0;               // 0: one PUT
    util::Sha256 sha;
    ImageProbe probe; // every byte read: head, tail, PNG chunks and HEIC/AVIF boxes
    std::uint64_t offset = 0;
    bool at_end = false; // a read came back short: the next one would read nothing
    std::string refusal;

    // The next bytes of the file into buf, hashed with SHA-256 and fed to the probe, which judges
    // the type and whether the file is whole: > 0 bytes read, 0 at the end, -1 on an error or when
    // the head is no image (refusal says which). Reads ask for one byte past the size fstat() gave,
    // so a file that keeps growing ends the loop too; the first read brings the head along, so a
    // file costs one pread per buffer and none more.
    long long read(std::uint8_t* buf, std::size_t size) {
        size = static_cast<std::size_t>(std::min<std::uint64_t>(size, st.size + 1 - offset));
        if (size == 0 || at_end) {
            return 0;
        }
        long long n = util::read_at(fd.get(), buf, size, offset, st.size);
        if (n < 0) {
            refusal = fmt::format("cannot read: {}", std::strerror(errno));
            return -1;
        }
        auto got = static_cast<std::size_t>(n);
        at_end = got < size;
        probe.update(buf, got);
        if (format == ImageFormat::unknown && (probe.size() >= head_bytes || at_end)) {
            format = probe.format();
            if (format == ImageFormat::unknown) {
                refusal = "not an image (content is not PNG, JPEG, GIF, WebP, TIFF, BMP, AVIF or "
                          "HEIC)";
                return -1;
            }
        }
        sha.update(buf, got);
        offset += got;
        return n;
    }
};

Ingested refused(std::string reason) {
    Ingested out;
    out.refusal = std::move(reason);
    return out;
}

// Opens the file and judges it by its size; nullopt and `refusal` set if it cannot be an image
// object. Its first read judges its content.
std::optional<FileRead> open_image(const std::string& path, const PartPlan& plan,
                                   std::string& refusal) {
    FileRead f;
    f.path = path;
    f.fd = util::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!f.fd) {
        refusal = errno == ELOOP ? "is a symbolic link (not followed)"
                                 : fmt::format("cannot open: {}", std::strerror(errno));
        return std::nullopt;
    }
    auto st = util::stat_fd(f.fd.get());
    if (!st) {
        refusal = fmt::format("cannot stat: {}", std::strerror(errno));
        return std::nullopt;
    }
    if (!S_ISREG(st->mode)) {
        refusal = "not a regular file";
        return std::nullopt;
    }
    if (st->size == 0) {
        refusal = "zero-byte file";
        return std::nullopt;
    }
    if (st->size > max_object_size) {
        refusal = fmt::format("{} bytes is larger than S3's 5 TiB object limit", st->size);
        return std::nullopt;
    }
    f.st = *st;
    f.part_size = plan.part_size(st->size);
    return f;
}

// After the last read: the size still as opened, the image complete, then the record.
Ingested finish(FileRead& f, const util::Md5Digest& md5, std::vector<storage::PartDigest> parts) {
    if (f.offset != f.st.size) {
        return refused(fmt::format("changed while being read ({} bytes expected, {}{} read)",
                                   f.st.size, f.offset > f.st.size ? "more than " : "",
                                   std::min(f.offset, f.st.size)));
    }
    // The probe has seen exactly the st.size bytes: check_complete() on the head and tail, then
    // the walk of PNG chunks and HEIC/AVIF boxes (a cut 'mdat' has a whole head and tail).
    if (auto checked = f.probe.check(); !checked) {
        return refused(checked.error());
    }
    storage::NewImage image;
    image.path = f.path;
    image.size = f.st.size;
    image.mtime_ns = f.st.mtime_ns;
    image.sha256 = util::to_hex(f.sha.finish());
    image.md5 = util::to_hex(md5);
    image.content_type = std::string(content_type(f.format));
    image.digest_part_size = f.part_size;
    image.part_digests = std::move(parts);
    Ingested out;
    out.image = std::move(image);
    return out;
}

// A multipart file on its own: the whole file's MD5 and each part's digests from one read.
Ingested ingest_whole(FileRead& f) {
    util::Md5 md5;
    PartHasher parts(f.part_size);
    // One buffer for every file: a fresh zero-filled 1 MiB per file made `add` of a million
    // small files spend most of its time in memset.
    static thread_local std::vector<std::uint8_t> buf(whole_chunk);
    for (;;) {
        long long n = f.read(buf.data(), buf.size());
        if (n < 0) {
            return refused(f.refusal);
        }
        if (n == 0) {
            break;
        }
        md5.update(buf.data(), static_cast<std::size_t>(n));
        parts.update(buf.data(), static_cast<std::size_t>(n));
    }
    return finish(f, md5.finish(), parts.finish());
}

// Files sent with one PUT, sixteen at a time: each lane streams one file through its own buffer,
// and one Md5Lanes::compress() hashes the whole blocks that every busy lane holds. A lane whose
// file ends takes the next one, so lanes stay busy while files of any sizes come and go.
void ingest_in_lanes(std::vector<FileRead>& files, std::vector<Ingested>& out) {
    constexpr std::size_t lanes = util::Md5Lanes::lanes, block = util::Md5Lanes::block_size;
    constexpr std::size_t stride = lane_chunk + block;
    static thread_local std::vector<std::uint8_t> buffers(lanes * stride);
    util::Md5Lanes md5;
    struct Lane {
        FileRead* file = nullptr;
        std::size_t pos = 0, have = 0; // unhashed bytes: buffer[pos, pos + have)
    };
    std::array<Lane, lanes> lane{};
    std::size_t next = 0;
    // Each round hashes at least one block of every busy lane or ends a file: bounded by the
    // bytes of the batch.
    for (;;) {
        std::array<const std::uint8_t*, lanes> data{};
        std::size_t blocks = SIZE_MAX;
        for (std::size_t l = 0; l < lanes; ++l) {
            std::uint8_t* buf = buffers.data() + l * stride;
            Lane& ln = lane[l];
            for (;;) {
                if (!ln.file) {
                    if (next == files.size()) {
                        break;
                    }
                    ln = Lane{&files[next++], 0, 0};
                }
                if (ln.have >= block) {
                    break;
                }
                // Less than a block left: move it to the front and read more behind it.
                std::memmove(buf, buf + ln.pos, ln.have);
                ln.pos = 0;
                long long n = ln.file->read(buf + ln.have, lane_chunk);
                if (n > 0) {
                    ln.have += static_cast<std::size_t>(n);
                    continue;
                }
                if (n < 0) {
                    md5.reset(l);
                    out[ln.file->slot] = refused(ln.file->refusal);
                } else {
                    out[ln.file->slot] =
                        finish(*ln.file, md5.finish(l, buf, ln.have, ln.file->offset), {});
                }
                ln.file->fd.reset(); // at most a batch of descriptors open, and closed early
                ln.file = nullptr;
            }
            if (ln.file) {
                data[l] = buf + ln.pos;
                blocks = std::min(blocks, ln.have / block);
            }
        }
        if (blocks == SIZE_MAX) {
            return; // no lane busy and no file left
        }
        md5.compress(data, blocks);
        for (auto& ln : lane) {
            if (ln.file) {
                ln.pos += blocks * block;
                ln.have -= blocks * block;
            }
        }
    }
}

} // namespace

std::vector<Ingested> ingest_files(const std::vector<std::string>& paths, const PartPlan& plan) {
    std::vector<Ingested> out(paths.size());
    std::vector<FileRead> single_put;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        auto f = open_image(paths[i], plan, out[i].refusal);
        if (!f) {
            continue;
        }
        f->slot = i;
        if (f->part_size > 0) {
            out[i] = ingest_whole(*f);
        } else {
            single_put.push_back(std::move(*f));
        }
    }
    ingest_in_lanes(single_put, out);
    return out;
}

std::string_view to_string(KeyLayout layout) {
    switch (layout) {
    case KeyLayout::path:
        return "path";
    case KeyLayout::sha256:
        return "sha256";
    case KeyLayout::date:
        return "date";
    }
    return "path";
}

} // namespace imgsync::core
