// imgsync seed: write N real, decodable, distinct images into the spool and register them.
#include "commands/common.hpp"
#include "images/image_format.hpp"
#include "images/image_synth.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/md5_lanes.hpp"
#include "util/work_pool.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::core {

namespace {

// Writes the whole buffer or removes the file and throws: a full disk leaves no truncated image.
void write_image(const std::string& path, const std::string& bytes) {
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) {
        throw Error(ExitCode::state_error,
                    fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    }
    if (int err = util::write_all(fd.get(), bytes)) {
        ::unlink(path.c_str());
        throw Error(ExitCode::state_error,
                    fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
    if (::close(fd.release()) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        throw Error(ExitCode::state_error,
                    fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
}

} // namespace

int cmd_seed(const Context& ctx, const SeedSettings& s) {
    std::uint64_t min_bytes = require_size("--min-bytes", s.min_bytes);
    std::uint64_t max_bytes = require_size("--max-bytes", s.max_bytes);
    if (min_bytes < synth_min_bytes || max_bytes < min_bytes) {
        throw Error(ExitCode::usage,
                    fmt::format("--min-bytes must be at least {} and at most --max-bytes",
                                synth_min_bytes));
    }
    if (max_bytes > 256ULL * 1024 * 1024) {
        throw Error(ExitCode::usage, "--max-bytes: seed writes images of at most 256M");
    }

    double started = util::monotonic_seconds();
    std::uint64_t base_seed = s.seed ? *s.seed
                                     : static_cast<std::uint64_t>(util::wall_seconds() * 1e6) ^
                                           (static_cast<std::uint64_t>(::getpid()) << 40);
    // One folder per seed run keeps keys readable and runs apart.
    std::string batch = fmt::format("seed-{:016x}", base_seed);
    std::string dir = ctx.global.spool + "/" + batch;
    util::make_dirs(ctx.global.spool, 0700).or_throw(ExitCode::state_error);
    util::make_dirs(dir, 0700).or_throw(ExitCode::state_error);

    auto store = open_store(ctx);
    Registrar registrar(*store, *ctx.log);
    std::uint64_t total_bytes = 0;
    // Images are made, written and hashed a batch at a time, so that Md5Lanes::hash_all hashes up
    // to sixteen side by side; a batch holds at most 64 MiB (or one larger image).
    constexpr std::size_t batch_images = util::Md5Lanes::lanes, batch_bytes = 64 << 20;
    std::vector<std::string> bytes(batch_images); // reused buffers
    std::vector<storage::NewImage> images;        // written, not registered yet
    // Also on the way out of a failed write: the images already on disk keep their rows.
    auto register_written = [&] {
        std::vector<std::string_view> views(bytes.begin(), bytes.begin() + images.size());
        auto md5s = util::Md5Lanes().hash_all(views);
        {
            storage::ReadSnapshot snapshot(*store);
            for (std::size_t k = 0; k < images.size(); ++k) {
                images[k].md5 = util::to_hex(md5s[k]);
                registrar.add(images[k], std::nullopt);
                total_bytes += images[k].size;
                if (bytes[k].capacity() > 8 << 20) {
                    std::string().swap(bytes[k]); // memory stays bounded whatever the sizes
                }
            }
        }
        images.clear();
        registrar.flush_if_full();
    };
    // Each batch's images are made and hashed on the pool, one task per image, then written in
    // order by this thread.
    util::WorkPool pool(s.jobs > 0 ? s.jobs : util::available_cores());
    struct Planned {
        std::uint64_t seed;
        std::size_t size;
        ImageFormat format;
        std::string sha256;
    };
    std::vector<Planned> plan;
    for (std::int64_t i = 0; i < s.count;) {
        plan.clear();
        std::size_t held = 0;
        for (std::int64_t j = i; j < s.count && plan.size() < batch_images && held < batch_bytes;
             ++j) {
            std::uint64_t seed = base_seed + static_cast<std::uint64_t>(j) * 0x9E3779B97F4A7C15ULL;
            std::size_t size = synth_size(seed, min_bytes, max_bytes);
            plan.push_back({seed, size, synth_format(s.format, seed), {}});
            held += size;
        }
        std::vector<std::function<void()>> tasks;
        for (std::size_t k = 0; k < plan.size(); ++k) {
            tasks.emplace_back([&, k] {
                synth_image(plan[k].format, plan[k].seed, plan[k].size, bytes[k]);
                plan[k].sha256 = util::to_hex(util::sha256(bytes[k]));
            });
        }
        pool.run_all(std::move(tasks));
        try {
            for (std::size_t k = 0; k < plan.size(); ++k, ++i) {
                const std::string& data = bytes[k];
                std::string name = fmt::format("img-{:06}.{}", i, file_extension(plan[k].format));
                std::string path = fmt::format("{}/{}", dir, name);
                write_image(path, data);

                storage::NewImage image;
                image.path = path;
                image.host_id = ctx.global.host_id;
                image.key = fmt::format("{}{}/{}", ctx.global.prefix, batch, name);
                image.size = data.size();
                struct stat info {};
                ::stat(path.c_str(), &info);
                image.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                                 info.st_mtim.tv_nsec;
                image.inode = static_cast<std::uint64_t>(info.st_ino);
                image.sha256 = std::move(plan[k].sha256);
                image.content_type = std::string(content_type(plan[k].format));
                images.push_back(std::move(image));
            }
        } catch (...) {
            register_written();
            throw;
        }
        register_written();
    }
    registrar.flush();
    double seconds = util::monotonic_seconds() - started;
    ctx.log->info("seed_done", {{"images", s.count},
                                {"bytes", total_bytes},
                                {"dir", dir},
                                {"ms", static_cast<std::int64_t>(seconds * 1000)}});
    std::printf("seeded %lld images (%s) in %s\n", static_cast<long long>(s.count),
                util::format_bytes(total_bytes).c_str(), dir.c_str());
    return 0;
}

} // namespace imgsync::core
