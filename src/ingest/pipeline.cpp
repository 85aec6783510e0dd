#include "ingest/pipeline.hpp"

#include "images/image_format.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/md5_lanes.hpp"
#include "util/work_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>

namespace imgsync::core {

namespace {

// A big file's pages are dropped from the page cache every so many bytes read (and at its end),
// so that an archive of huge files does not evict everything else.
constexpr std::uint64_t dontneed_every = 64ULL << 20;
// Small files hashed in one task: the sixteen MD5 lanes take the next file as soon as one ends,
// so only the group's last files leave lanes idle; more files per group, fewer idle lanes.
constexpr std::size_t group_files = 2 * util::Md5Lanes::lanes;
// A multipart file's part MD5s are hashed sixteen parts at a time through the MD5 lanes, from a
// second read of those parts while they are still in the page cache (the first read, in file
// order, feeds the SHA-256s): at most IngestOptions::window_bytes of parts per window, so that a
// window just read is still cached. Sixteen lanes cost the same however many are busy, and beat one
// stream each from about four busy lanes on: parts too large for eight per window (over 32 MiB) are
// hashed one stream each instead.
constexpr std::size_t min_window_parts = 8;

struct Batch {
    std::vector<std::string> paths;
    std::vector<Ingested> out;
    std::size_t remaining = 0; // answers not in `out` yet; guarded by Impl::mu
    std::string error;         // a digest that failed (guarded by Impl::mu)
};

// Bytes read into one buffer; shared by the streams it feeds, freed by the last of them.
struct Chunk {
    BufferPool::Lease lease;
    std::size_t size = 0;
};
using ChunkPtr = std::shared_ptr<const Chunk>;

struct Part {
    util::Sha256 sha;
    util::Md5 md5;                             // fed chunk by chunk, unless hashed in a window
    std::optional<util::Md5Digest> md5_digest; // from a window's lanes
    std::string sha_hex, md5_hex;
    std::shared_ptr<util::Strand> sha_strand, md5_strand;
};

Ingested refused(std::string reason) {
    Ingested out;
    out.refusal = std::move(reason);
    return out;
}

const char* const not_an_image =
    "not an image (content is not PNG, JPEG, GIF, WebP, TIFF, BMP, AVIF or HEIC)";

} // namespace

// One file on its way: what it was when opened, and the digest states its tasks update. The
// reader holds one reference in `pending` while it reads; each task posted holds one more; the
// last one out makes the answer.
struct FileJob {
    IngestPipeline::Impl* impl = nullptr;
    std::shared_ptr<Batch> batch;
    std::size_t slot = 0;
    util::FileStat st{};
    std::uint64_t part_size = 0; // 0: one PUT
    util::Sha256 sha;
    ImageProbe probe;
    std::optional<util::Md5> md5;              // a single-PUT file read in chunks
    std::optional<util::Md5Digest> md5_digest; // its MD5, however computed
    std::vector<std::unique_ptr<Part>> parts;  // a multipart file
    std::shared_ptr<util::Strand> whole;       // SHA-256 and probe, in file order
    std::shared_ptr<util::Strand> md5_strand;  // single PUT in chunks
    std::uint64_t offset = 0;                  // bytes read (the reader's)
    std::string refusal;                       // set by the reader
    std::atomic<std::size_t> pending{1};
    std::atomic<bool> reread_short{false}; // a window's second read came back short
    std::mutex error_mu;
    std::string error;

    void fail(const char* what) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (error.empty()) {
            error = what;
        }
    }
    void release();
    Ingested answer();
};

struct IngestPipeline::Impl {
    PartPlan plan;
    IngestOptions options;
    mutable std::mutex mu;
    std::condition_variable done_cv;                     // a batch's last answer came in
    std::condition_variable work_cv;                     // a batch was submitted, or stopping
    std::deque<std::shared_ptr<Batch>> to_read, to_take; // guarded by mu
    bool stopping = false;
    BufferPool buffers;
    util::WorkPool workers;
    // A file read in chunks uses at most half the buffers at once (16 per worker and 16 more by
    // default: a 16 MiB part hashed on each worker while the next one is read), so that a big
    // file costs half the memory that small files may.
    std::size_t stream_limit;
    // Small files read whole, waiting to be hashed sixteen at a time (the reader's).
    std::vector<std::pair<std::shared_ptr<FileJob>, ChunkPtr>> group;
    std::thread reader;

    Impl(const PartPlan& p, IngestOptions o)
        : plan(p), options(o),
          buffers(o.buffers ? o.buffers : default_buffers(o.jobs), o.buffer_size),
          workers(o.jobs, "imgsync-hash"),
          stream_limit(std::max<std::size_t>(1, buffers.capacity() / 2)) {
        reader = std::thread([this] {
            util::name_this_thread("imgsync-read");
            read_loop();
        });
    }

    ~Impl() {
        {
            std::lock_guard<std::mutex> lock(mu);
            stopping = true;
        }
        work_cv.notify_all();
        if (reader.joinable()) {
            reader.join();
        }
    }

    void answered(Batch& batch, std::size_t slot, Ingested answer, const std::string& error) {
        {
            std::lock_guard<std::mutex> lock(mu);
            batch.out[slot] = std::move(answer);
            if (!error.empty() && batch.error.empty()) {
                batch.error = error;
            }
            --batch.remaining;
        }
        done_cv.notify_all();
    }

    void read_loop() {
        for (;;) {
            std::shared_ptr<Batch> batch;
            {
                std::unique_lock<std::mutex> lock(mu);
                work_cv.wait(lock, [this] { return stopping || !to_read.empty(); });
                if (stopping) {
                    return;
                }
                batch = to_read.front();
                to_read.pop_front();
            }
            for (std::size_t i = 0; i < batch->paths.size(); ++i) {
                if (stopping_now()) {
                    return;
                }
                read_file(batch, i);
            }
            flush_group(); // the batch's last files do not wait for the next batch
        }
    }

    bool stopping_now() {
        std::lock_guard<std::mutex> lock(mu);
        return stopping;
    }

    // A buffer, with fewer than `limit` lent. When there is none, the tasks in flight give theirs
    // back sooner or later; but if the small files waiting in the group hold `limit` buffers,
    // they are hashed first (waiting with them held would wait forever). A group flushed early
    // hashes fewer than sixteen MD5s for the cost of sixteen, so this is the exception. The
    // reader itself holds no lease when it calls this.
    BufferPool::Lease lease(std::size_t limit = SIZE_MAX) {
        if (auto l = buffers.try_acquire(limit)) {
            return std::move(*l);
        }
        // Once every other lease is back, the group's are still out: if they alone reach the
        // limit, waiting would never end.
        if (group.size() >= std::min(limit, buffers.capacity())) {
            flush_group();
        }
        return buffers.acquire(limit);
    }

    void read_file(const std::shared_ptr<Batch>& batch, std::size_t slot) {
        auto job = std::make_shared<FileJob>();
        job->impl = this;
        job->batch = batch;
        job->slot = slot;
        try {
            util::UniqueFd fd = open_file(*job, batch->paths[slot]);
            if (fd) {
                if (job->part_size == 0 && job->st.size < buffers.buffer_size()) {
                    read_small(job, fd.get());
                } else {
                    read_stream(job, fd.get());
                }
            }
        } catch (const std::exception& e) {
            job->fail(e.what());
        }
        job->release();
    }

    // Opens the file without following a symlink at the last component and judges it by its
    // type and size; an empty descriptor and job.refusal set if it cannot be an image object.
    util::UniqueFd open_file(FileJob& job, const std::string& path) {
        util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (!fd) {
            job.refusal = errno == ELOOP ? "is a symbolic link (not followed)"
                                         : fmt::format("cannot open: {}", std::strerror(errno));
            return fd;
        }
        auto st = util::stat_fd(fd.get());
        if (!st) {
            job.refusal = fmt::format("cannot stat: {}", std::strerror(errno));
        } else if (!S_ISREG(st->mode)) {
            job.refusal = "not a regular file";
        } else if (st->size == 0) {
            job.refusal = "zero-byte file";
        } else if (st->size > max_object_size) {
            job.refusal = fmt::format("{} bytes is larger than S3's 5 TiB object limit", st->size);
        }
        if (!job.refusal.empty()) {
            return util::UniqueFd();
        }
        job.st = *st;
        job.part_size = plan.part_size(st->size);
        return fd;
    }

    // Reads `want` bytes at job.offset; false (refusal set) on an error, or when the first bytes
    // are no image. A read asks for one byte past the size fstat() gave at the end, so a file
    // that grew is seen; `at_end` is set by a short read.
    bool read_chunk(FileJob& job, int fd, std::uint8_t* buf, std::size_t want, std::size_t& got,
                    bool& at_end) {
        long long n = util::read_at(fd, buf, want, job.offset, job.st.size);
        if (n < 0) {
            job.refusal = fmt::format("cannot read: {}", std::strerror(errno));
            return false;
        }
        got = static_cast<std::size_t>(n);
        at_end = got < want;
        if (job.offset == 0 &&
            sniff(buf, std::min(got, image_head_bytes)) == ImageFormat::unknown) {
            job.refusal = not_an_image;
            return false;
        }
        job.offset += got;
        return true;
    }

    void read_small(const std::shared_ptr<FileJob>& job, int fd) {
        auto buf = lease();
        std::size_t got = 0;
        bool at_end = false;
        if (!read_chunk(*job, fd, buf.data(), job->st.size + 1, got, at_end)) {
            return;
        }
        auto chunk = std::make_shared<Chunk>(Chunk{std::move(buf), got});
        ++job->pending;
        group.emplace_back(job, std::move(chunk));
        if (group.size() == group_files) {
            flush_group();
        }
    }

    // Posts one task that hashes the group's files: their MD5s side by side, then each one's
    // SHA-256 and probe.
    void flush_group() {
        if (group.empty()) {
            return;
        }
        // Longest first: the lanes take the next file as each one ends, so the group's end,
        // where lanes fall idle one by one, holds its shortest files.
        std::stable_sort(group.begin(), group.end(), [](const auto& a, const auto& b) {
            return a.second->size > b.second->size;
        });
        workers.post([files = std::move(group)]() mutable {
            std::vector<std::string_view> views;
            views.reserve(files.size());
            for (const auto& [job, chunk] : files) {
                views.emplace_back(reinterpret_cast<const char*>(chunk->lease.data()), chunk->size);
            }
            std::vector<util::Md5Digest> md5s;
            try {
                md5s = util::Md5Lanes().hash_all(views);
            } catch (const std::exception& e) {
                for (auto& f : files) {
                    f.first->fail(e.what());
                }
            }
            for (std::size_t i = 0; i < files.size(); ++i) {
                FileJob& job = *files[i].first;
                try {
                    job.sha.update(views[i].data(), views[i].size());
                    job.probe.update(views[i].data(), views[i].size());
                    if (i < md5s.size()) {
                        job.md5_digest = md5s[i];
                    }
                } catch (const std::exception& e) {
                    job.fail(e.what());
                }
                files[i].second.reset(); // the buffer goes back before the answer is made
                job.release();
            }
        });
        group.clear();
    }

    // Posts `fn(job, chunk)` on `strand`, holding the job until it ran.
    static void post(util::Strand& strand, const std::shared_ptr<FileJob>& job,
                     const ChunkPtr& chunk, void (*fn)(FileJob&, const Chunk&, std::size_t),
                     std::size_t part) {
        ++job->pending;
        strand.post([job, chunk, fn, part] {
            try {
                fn(*job, *chunk, part);
            } catch (const std::exception& e) {
                job->fail(e.what());
            }
            job->release();
        });
    }

    void read_stream(const std::shared_ptr<FileJob>& job, int fd) {
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        job->whole = std::make_shared<util::Strand>(workers);
        if (job->part_size == 0) {
            job->md5.emplace();
            job->md5_strand = std::make_shared<util::Strand>(workers);
        } else {
            // Every part's state exists before the first task runs: the vector never changes
            // while workers read it.
            std::uint64_t count = (job->st.size + job->part_size - 1) / job->part_size;
            job->parts.reserve(count);
            for (std::uint64_t i = 0; i < count; ++i) {
                auto p = std::make_unique<Part>();
                p->sha_strand = std::make_shared<util::Strand>(workers);
                p->md5_strand = std::make_shared<util::Strand>(workers);
                job->parts.push_back(std::move(p));
            }
        }
        const std::uint64_t end = job->st.size + 1; // one byte more: a file that grew is seen
        std::size_t window = job->part_size > 0 ? window_parts(job->part_size) : 0;
        if (window < min_window_parts) {
            window = 0;
        }
        std::shared_ptr<util::UniqueFd> again; // the descriptor the windows read through
        if (window > 1) {
            again = std::make_shared<util::UniqueFd>(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
            if (!*again) {
                window = 0; // no descriptor to spare: each part's MD5 as a stream of its own
            }
        }
        std::size_t windowed = 0; // parts handed to a window task so far
        std::uint64_t dropped = 0;
        bool at_end = false;
        while (!at_end && job->offset < end) {
            std::uint64_t limit = end;
            std::size_t part = 0;
            if (job->part_size > 0) {
                // Reads stop at part boundaries: each chunk feeds exactly one part.
                part = static_cast<std::size_t>(job->offset / job->part_size);
                limit = std::min(end, (job->offset / job->part_size + 1) * job->part_size);
                if (limit >= job->st.size) {
                    limit = end; // the last part takes the byte past the end
                    part = job->parts.size() - 1;
                }
            }
            auto buf = lease(stream_limit);
            auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), limit - job->offset));
            std::size_t got = 0;
            if (!read_chunk(*job, fd, buf.data(), want, got, at_end)) {
                break;
            }
            if (got == 0) {
                break;
            }
            ChunkPtr chunk = std::make_shared<Chunk>(Chunk{std::move(buf), got});
            post(*job->whole, job, chunk, &hash_whole, 0);
            if (job->part_size == 0) {
                post(*job->md5_strand, job, chunk, &hash_md5, 0);
            } else {
                post(*job->parts[part]->sha_strand, job, chunk, &hash_part_sha, part);
                if (window < 2) {
                    post(*job->parts[part]->md5_strand, job, chunk, &hash_part_md5, part);
                }
            }
            chunk.reset(); // the reader holds no buffer while it waits for the next one
            if (window > 1) {
                // Parts read whole (all of them at the end) go to a window once there are enough.
                std::size_t whole = at_end || job->offset >= job->st.size
                                        ? job->parts.size()
                                        : static_cast<std::size_t>(job->offset / job->part_size);
                while (whole - windowed >= window ||
                       (whole == job->parts.size() && whole > windowed)) {
                    std::size_t n = std::min(window, whole - windowed);
                    post_window(job, again, windowed, n);
                    windowed += n;
                }
                continue; // the windows drop the pages they read again
            }
            if (job->offset - dropped >= dontneed_every) {
                ::posix_fadvise(fd, static_cast<off_t>(dropped),
                                static_cast<off_t>(job->offset - dropped), POSIX_FADV_DONTNEED);
                dropped = job->offset;
            }
        }
        if (window < 2) {
            ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        }
    }

    // How many parts of this size a window takes: up to sixteen, within options.window_bytes.
    std::size_t window_parts(std::uint64_t part_size) const {
        return static_cast<std::size_t>(
            std::min<std::uint64_t>(util::Md5Lanes::lanes, options.window_bytes / part_size));
    }

    // Posts the MD5s of parts [first, first + n) as one task through the lanes, with a buffer
    // leased here (a task never waits for one).
    void post_window(const std::shared_ptr<FileJob>& job, const std::shared_ptr<util::UniqueFd>& fd,
                     std::size_t first, std::size_t n) {
        ChunkPtr buf = std::make_shared<Chunk>(Chunk{lease(stream_limit), 0});
        ++job->pending;
        workers.post([job, fd, buf, first, n] {
            try {
                hash_window(*job, fd->get(), buf->lease, first, n);
            } catch (const std::exception& e) {
                job->fail(e.what());
            }
            job->release();
        });
    }

    // The second read of a window's parts, side by side: each lane reads its part in slices of
    // a sixteenth of the buffer, and one compress() hashes the slice of every lane. Then the
    // window's pages leave the page cache.
    static void hash_window(FileJob& job, int fd, const BufferPool::Lease& buf, std::size_t first,
                            std::size_t n) {
        constexpr std::size_t lanes = util::Md5Lanes::lanes, block = util::Md5Lanes::block_size;
        const std::size_t slice = buf.size() / lanes / block * block;
        util::Md5Lanes md5;
        std::array<std::uint64_t, lanes> done{}, length{};
        const std::uint64_t start = first * job.part_size;
        for (std::size_t l = 0; l < n; ++l) {
            std::uint64_t off = start + l * job.part_size;
            length[l] = std::min(job.part_size, job.st.size - off);
        }
        auto read_slice = [&](std::size_t l, std::size_t want) {
            std::uint8_t* p = buf.data() + l * slice;
            long long got = util::read_at(fd, p, want, start + l * job.part_size + done[l]);
            if (got != static_cast<long long>(want)) {
                job.reread_short = true;
                return static_cast<std::uint8_t*>(nullptr);
            }
            return p;
        };
        for (;;) {
            std::array<const std::uint8_t*, lanes> data{};
            bool any = false;
            for (std::size_t l = 0; l < n; ++l) {
                if (length[l] - done[l] >= slice) {
                    data[l] = read_slice(l, slice);
                    if (!data[l]) {
                        return;
                    }
                    any = true;
                }
            }
            if (!any) {
                break;
            }
            md5.compress(data, slice / block);
            for (std::size_t l = 0; l < n; ++l) {
                if (data[l]) {
                    done[l] += slice;
                }
            }
        }
        for (std::size_t l = 0; l < n; ++l) { // each part's last bytes, less than a slice
            auto rest = static_cast<std::size_t>(length[l] - done[l]);
            const std::uint8_t* p = rest > 0 ? read_slice(l, rest) : buf.data();
            if (!p) {
                return;
            }
            std::array<const std::uint8_t*, lanes> data{};
            data[l] = p;
            if (rest / block > 0) {
                md5.compress(data, rest / block);
            }
            job.parts[first + l]->md5_digest =
                md5.finish(l, p + rest / block * block, rest % block, length[l]);
        }
        ::posix_fadvise(fd, static_cast<off_t>(start), static_cast<off_t>(n * job.part_size),
                        POSIX_FADV_DONTNEED);
    }

    static void hash_whole(FileJob& job, const Chunk& c, std::size_t /*part*/) {
        job.sha.update(c.lease.data(), c.size);
        job.probe.update(c.lease.data(), c.size);
    }
    static void hash_md5(FileJob& job, const Chunk& c, std::size_t /*part*/) {
        job.md5->update(c.lease.data(), c.size);
    }
    static void hash_part_sha(FileJob& job, const Chunk& c, std::size_t part) {
        job.parts[part]->sha.update(c.lease.data(), c.size);
    }
    static void hash_part_md5(FileJob& job, const Chunk& c, std::size_t part) {
        job.parts[part]->md5.update(c.lease.data(), c.size);
    }
};

void FileJob::release() {
    if (--pending != 0) {
        return;
    }
    Ingested out;
    try {
        out = answer();
    } catch (const std::exception& e) {
        fail(e.what());
    }
    std::string err;
    {
        std::lock_guard<std::mutex> lock(error_mu);
        err = error;
    }
    // The strands hold nothing of this job any more; breaking the cycle frees it.
    whole.reset();
    md5_strand.reset();
    impl->answered(*batch, slot, std::move(out), err);
}

// After the last task: the size still as opened, the image complete, then the record.
Ingested FileJob::answer() {
    if (!refusal.empty()) {
        return refused(refusal);
    }
    if (offset != st.size || reread_short) {
        return refused(fmt::format("changed while being read ({} bytes expected, {}{} read)",
                                   st.size, offset > st.size ? "more than " : "",
                                   std::min(offset, st.size)));
    }
    // The probe has seen exactly the st.size bytes: check_complete() on the head and tail, then
    // the walk of PNG chunks and HEIC/AVIF boxes (a cut 'mdat' has a whole head and tail).
    if (auto checked = probe.check(); !checked) {
        return refused(checked.error());
    }
    storage::NewImage image;
    image.path = batch->paths[slot];
    image.size = st.size;
    image.mtime_ns = st.mtime_ns;
    image.inode = st.inode;
    image.sha256 = util::to_hex(sha.finish());
    if (md5) {
        md5_digest = md5->finish();
    }
    if (md5_digest) {
        image.md5 = util::to_hex(*md5_digest);
    }
    image.content_type = std::string(content_type(probe.format()));
    image.digest_part_size = part_size;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        image.part_digests.push_back(
            {static_cast<std::int64_t>(i + 1),
             util::to_hex(parts[i]->md5_digest ? *parts[i]->md5_digest : parts[i]->md5.finish()),
             util::to_hex(parts[i]->sha.finish())});
    }
    Ingested out;
    out.image = std::move(image);
    return out;
}

std::size_t default_buffers(unsigned jobs) {
    return group_files * (std::max(jobs, 1U) + 1); // a group on every worker, one being read
}

IngestPipeline::IngestPipeline(const PartPlan& plan, IngestOptions options)
    : impl_(std::make_unique<Impl>(plan, options)) {}

IngestPipeline::~IngestPipeline() = default;

void IngestPipeline::submit(std::vector<std::string> paths) {
    auto batch = std::make_shared<Batch>();
    batch->out.resize(paths.size());
    batch->remaining = paths.size();
    batch->paths = std::move(paths);
    {
        std::lock_guard<std::mutex> lock(impl_->mu);
        impl_->to_read.push_back(batch);
        impl_->to_take.push_back(batch);
    }
    impl_->work_cv.notify_one();
}

std::vector<Ingested> IngestPipeline::next() {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (impl_->to_take.empty()) {
        throw std::logic_error("IngestPipeline::next: no batch pending");
    }
    auto batch = impl_->to_take.front();
    impl_->done_cv.wait(lock, [&] { return batch->remaining == 0; });
    impl_->to_take.pop_front();
    if (!batch->error.empty()) {
        throw std::runtime_error("hashing failed: " + batch->error);
    }
    return std::move(batch->out);
}

std::size_t IngestPipeline::batches_pending() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->to_take.size();
}

const BufferPool& IngestPipeline::buffers() const {
    return impl_->buffers;
}

} // namespace imgsync::core
