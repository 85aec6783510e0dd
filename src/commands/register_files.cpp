#include "commands/register_files.hpp"

#include "commands/common.hpp"
#include "images/exif.hpp"
#include "ingest/exclude.hpp"
#include "ingest/ingest.hpp"
#include "ingest/pipeline.hpp"
#include "model/key_template.hpp"
#include "util/clock.hpp"
#include "util/dir_walk.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/walk_ahead.hpp"
#include "util/work_pool.hpp"

#include <fmt/format.h>

#include <ctime>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unordered_set>

namespace imgsync::core {

namespace fs = std::filesystem;

namespace {

// S3 keys are UTF-8. A name that is not valid UTF-8 or holds a control character (a newline
// would break every line-oriented tool downstream) is refused rather than silently mangled.
std::optional<std::string> key_problem(const std::string& key) {
    if (!util::is_valid_utf8(key)) {
        return std::string("name is not valid UTF-8 (S3 keys are UTF-8; rename the file)");
    }
    for (unsigned char c : key) {
        if (c < 0x20 || c == 0x7f) {
            return std::string("name contains a control character such as a newline");
        }
    }
    if (key.size() > 1024) {
        return fmt::format("key is {} bytes, S3 allows 1024", key.size());
    }
    return std::nullopt;
}

// The built-in layouts are templates too; date-less templates never read EXIF data.
model::KeyTemplate template_for(const AddSettings& s) {
    if (!s.key_template.empty()) {
        return model::KeyTemplate::parse(s.key_template).or_throw(ExitCode::usage);
    }
    std::string_view text = "{prefix}{path}";
    switch (s.key_layout) {
    case KeyLayout::sha256:
        text = "{prefix}{sha256:2}/{sha256}.{ext}";
        break;
    case KeyLayout::date:
    case KeyLayout::exif_date:
        text = "{prefix}{date}/{name}";
        break;
    case KeyLayout::path:
        break;
    }
    return model::KeyTemplate::parse(text).or_throw(ExitCode::internal);
}

// "jpg" for image/jpeg, else the subtype: png, tiff, webp, heic, avif, gif, bmp.
std::string_view extension_for(std::string_view content_type) {
    if (content_type == "image/jpeg") {
        return "jpg";
    }
    const auto slash = content_type.find('/');
    return slash == std::string_view::npos ? content_type : content_type.substr(slash + 1);
}

// When the photo was taken: EXIF DateTimeOriginal from the start of the file, else the mtime.
model::CalendarTime taken_at(const std::string& path, std::int64_t mtime_ns) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd) {
        std::vector<std::uint8_t> head(images::exif_scan_bytes);
        const long long n = util::read_at(fd.get(), head.data(), head.size(), 0);
        if (n > 0) {
            if (auto d = images::exif_date(head.data(), static_cast<std::size_t>(n))) {
                return {d->year, d->month, d->day, d->hour, d->minute, d->second};
            }
        }
    }
    return model::utc_time(mtime_ns);
}

std::string make_key(const model::KeyTemplate& key, KeyLayout layout, const std::string& prefix,
                     const std::string& relative, const storage::NewImage& image) {
    model::KeyFields f;
    f.prefix = prefix;
    f.relative = relative;
    f.sha256 = image.sha256;
    f.ext = extension_for(image.content_type);
    if (key.uses_date()) {
        f.taken = layout == KeyLayout::date ? model::utc_time(image.mtime_ns)
                                            : taken_at(image.path, image.mtime_ns);
    }
    return key.render(f);
}

// A file's size, mtime and inode as lstat gives them, before it is read.
struct FileStat {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
};

FileStat file_stat(const struct stat& st) {
    return FileStat{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                    static_cast<std::uint64_t>(st.st_ino)};
}

// Whether the file is the one registered: the same size and mtime, and the same inode where the
// state knows it (0: registered before inodes were recorded). A file replaced by a copy with the
// same size and mtime (cp -p, rsync) is another file.
bool same_as_registered(const FileStat& st, const storage::Store::Known& known) {
    return st.size == known.size && st.mtime_ns == known.mtime_ns &&
           (known.inode == 0 || st.inode == known.inode);
}

std::optional<FileStat> stat_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return file_stat(st);
}

struct AddRun {
    const Context& ctx;
    const AddSettings& settings;
    const model::KeyTemplate& key;
    const ExcludeList& exclude;
    storage::Store& store;
    Registrar registrar;
    IngestPipeline& pipeline;
    bool any_refusals; // whether the state remembers refusals at all (else none is looked up)
    std::int64_t unchanged = 0, refused = 0, skipped = 0, excluded = 0, remembered = 0;
    std::vector<std::string> missing{}; // arguments that do not exist: a usage error (exit 2)
    // Files found but not read yet: looked up in the state file a batch at a time, then read
    // by the pipeline while the walk goes on.
    struct Candidate {
        std::string path, relative;
        std::optional<std::int64_t> replace_id;
        std::optional<FileStat> stat{}; // before it was read: what a refusal remembers
        bool had_refusal = false;       // a refusal is remembered for the path
    };
    static constexpr std::size_t ingest_batch = 64;
    // Batches in the pipeline before the oldest is registered: enough to keep every worker busy
    // while this thread walks and writes the state file.
    static constexpr std::size_t batches_in_flight = 8;
    std::vector<Candidate> pending{};
    std::deque<std::vector<Candidate>> reading{}; // submitted, in order
    std::unordered_set<std::string> reading_paths{};
    // Refusals to remember and paths whose remembered refusal no longer holds: written after
    // the snapshot they were found in, with the batches.
    std::vector<storage::Refusal> to_remember{};
    std::vector<std::string> to_drop{};

    void refuse(const std::string& path, const std::string& reason) {
        ++refused;
        ctx.log->warn("add_refused", {{"path", path}, {"reason", reason}});
    }

    // A file refused: counted and logged, and remembered with the size and mtime it had before
    // it was read, when they are known (a file that changed since is tried again next time).
    void refuse_file(const std::string& path, const std::string& reason,
                     const std::optional<FileStat>& st) {
        refuse(path, reason);
        if (st) {
            to_remember.push_back({path, st->size, st->mtime_ns, reason, 0, 0, ctx.global.host_id});
        }
    }

    // Whether a refusal remembered for the path still holds: the file has the size and mtime it
    // had when it was refused (counted, logged at debug). `had` says whether one is remembered.
    bool still_refused(const std::string& path, const std::optional<FileStat>& st, bool& had) {
        if (!any_refusals) {
            return false;
        }
        auto r = store.find_refusal(path);
        if (!r) {
            return false;
        }
        had = true;
        if (!st || st->size != r->size || st->mtime_ns != r->mtime_ns) {
            return false;
        }
        ++remembered;
        ctx.log->debug("add_refusal_remembered", {{"path", path}, {"reason", r->reason}});
        return true;
    }

    void flush_refusals() {
        if (to_remember.empty() && to_drop.empty()) {
            return;
        }
        const std::int64_t now = util::wall_epoch();
        storage::WriteTransaction txn(store);
        for (const auto& r : to_remember) {
            store.remember_refusal(r, now);
        }
        for (const auto& path : to_drop) {
            store.drop_refusal(path);
        }
        txn.commit();
        to_remember.clear();
        to_drop.clear();
    }

    // Whether --exclude matches an entry of a tree (logged at debug, counted).
    bool excluded_entry(const std::string& path, std::string_view relative, bool is_dir) {
        const std::string* pattern = exclude.match(relative, is_dir);
        if (!pattern) {
            return false;
        }
        ++excluded;
        ctx.log->debug("add_excluded", {{"path", path}, {"pattern", *pattern}});
        return true;
    }

    void file(const fs::path& path, const std::string& relative) {
        found(fs::absolute(path).lexically_normal().string(), relative);
    }

    // A file by its absolute, normalized path, with its size and mtime when the walk took them.
    void found(std::string abs, const std::string& relative,
               std::optional<FileStat> st = std::nullopt) {
        if (auto problem = key_problem(relative)) {
            if (!st) {
                st = stat_of(abs);
            }
            bool had = false;
            if (!still_refused(abs, st, had)) {
                refuse_file(abs, *problem, st);
            }
            return;
        }
        pending.push_back({std::move(abs), relative, std::nullopt, st});
        if (pending.size() == ingest_batch) {
            ingest_pending();
        }
    }

    // Whether a file found needs reading: new, or changed since it was added (then replace_id
    // is set). Unchanged files and files under a running pass are counted here.
    // A file refused before and unchanged since is skipped (remembered).
    bool needs_reading(Candidate& c, const std::optional<storage::Store::Known>& known) {
        if (!c.stat) {
            c.stat = stat_of(c.path);
        }
        if (known && c.stat && same_as_registered(*c.stat, *known)) {
            ++unchanged;
            return false;
        }
        if (still_refused(c.path, c.stat, c.had_refusal)) {
            return false;
        }
        if (!known) {
            return true;
        }
        if (known->state == ImageState::uploading) {
            // A running pass is sending the old content; replacing the row under it could
            // record the new hashes as uploaded.
            refuse(c.path, "changed while a pass is uploading it; add it again after the pass");
            return false;
        }
        c.replace_id = known->id; // the file changed since it was added: new content
        return true;
    }

    // Looks up the files queued by file() in one snapshot of the state file and hands those to
    // read to the pipeline; registers the oldest batches once enough are in flight.
    void ingest_pending() {
        // A path found again while its first sighting is still being read (a file named on the
        // command line and found in a tree too): what is in flight is registered first, so the
        // lookup below sees it, as it would without the pipeline.
        for (const auto& c : pending) {
            if (reading_paths.count(c.path) != 0) {
                drain();
                break;
            }
        }
        std::vector<Candidate> to_read;
        {
            storage::ReadSnapshot snapshot(store);
            std::vector<std::string_view> paths;
            paths.reserve(pending.size());
            for (const auto& c : pending) {
                paths.emplace_back(c.path);
            }
            const auto known = store.find_by_paths(paths);
            for (std::size_t i = 0; i < pending.size(); ++i) {
                if (needs_reading(pending[i], known[i])) {
                    to_read.push_back(std::move(pending[i]));
                }
            }
        }
        pending.clear();
        if (to_read.empty()) {
            return;
        }
        std::vector<std::string> paths;
        paths.reserve(to_read.size());
        for (const auto& c : to_read) {
            paths.push_back(c.path);
            reading_paths.insert(c.path);
        }
        pipeline.submit(std::move(paths));
        reading.push_back(std::move(to_read));
        while (reading.size() >= batches_in_flight) {
            register_oldest();
        }
    }

    // Registers every batch in flight, in order.
    void drain() {
        while (!reading.empty()) {
            register_oldest();
        }
    }

    // The oldest batch's answers, registered in the order the files were found. The state
    // file is read in one snapshot for the batch.
    void register_oldest() {
        auto results = pipeline.next();
        std::vector<Candidate> batch = std::move(reading.front());
        reading.pop_front();
        {
            storage::ReadSnapshot snapshot(store);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                Ingested& in = results[i];
                const Candidate& c = batch[i];
                reading_paths.erase(c.path);
                if (!in.image) {
                    refuse_file(c.path, in.refusal, c.stat);
                    continue;
                }
                in.image->host_id = ctx.global.host_id;
                in.image->key =
                    make_key(key, settings.key_layout, ctx.global.prefix, c.relative, *in.image);
                if (auto problem = key_problem(in.image->key)) {
                    refuse_file(c.path, *problem, c.stat);
                    continue;
                }
                if (!registrar.add(*in.image, c.replace_id)) {
                    ++refused; // a key conflict: not remembered, it may be resolved elsewhere
                } else {
                    ctx.log->debug("added", {{"path", c.path}, {"key", in.image->key}});
                    if (c.had_refusal) {
                        to_drop.push_back(c.path); // it ingests now
                    }
                }
            }
        }
        registrar.flush_if_full();
        if (to_remember.size() + to_drop.size() >= 500) {
            flush_refusals();
        }
    }

    // One entry of a tree, as the walk found it.
    void entry(util::WalkAhead::Entry& e) {
        using Kind = util::WalkAhead::Entry::Kind;
        if (excluded_entry(e.path, e.relative(), e.kind == Kind::pruned)) {
            return;
        }
        switch (e.kind) {
        case Kind::regular: {
            std::string relative(e.relative()); // before the path moves
            found(std::move(e.path), relative,
                  e.stat_ok ? std::optional<FileStat>(FileStat{e.size, e.mtime_ns, e.inode})
                            : std::nullopt);
            return;
        }
        case Kind::symlink:
            // Policy: links are not followed inside a tree (no loops, no escaping it).
            ++skipped;
            ctx.log->info("add_skipped",
                          {{"path", e.path}, {"reason", "symbolic link (not followed)"}});
            return;
        case Kind::other:
            // FIFOs, sockets, devices: never images, and opening a FIFO could block.
            ++skipped;
            ctx.log->info("add_skipped", {{"path", e.path}, {"reason", "not a regular file"}});
            return;
        case Kind::pruned:
            return; // counted by excluded_entry()
        }
    }

    void argument(const std::string& arg) {
        std::error_code ec;
        auto status = fs::symlink_status(arg, ec);
        if (ec) {
            if (ec == std::errc::no_such_file_or_directory) {
                missing.push_back(arg);
            }
            refuse(arg, ec == std::errc::no_such_file_or_directory
                            ? std::string("no such file or directory")
                            : ec.message());
            return;
        }
        // Absolute once here, so that each file below is not made absolute with a getcwd().
        fs::path root = fs::absolute(arg, ec);
        if (ec) {
            refuse(arg, ec.message());
            return;
        }
        if (fs::is_symlink(status) && fs::is_directory(fs::status(arg, ec))) {
            // A link to a directory named on the command line is followed too (find -H): the
            // tree is walked from its target, keys stay relative to the argument.
            root = fs::canonical(arg, ec);
            if (ec) {
                refuse(arg, fmt::format("cannot follow symbolic link: {}", ec.message()));
                return;
            }
            status = fs::symlink_status(root, ec);
        }
        if (fs::is_directory(status)) {
            // Normalized once: the names below it hold no "." or ".." and no "/", so each
            // file's path is normal as the walk builds it.
            // The walk and the stats run on a thread of their own, ahead of the look-ups here.
            const std::string top = root.lexically_normal().string();
            util::WalkAhead walk(
                top, exclude.empty() ? util::EnterDir() : [&](std::string_view relative) {
                    return exclude.match(relative, true) == nullptr;
                });
            std::vector<util::WalkAhead::Entry> chunk;
            while (walk.next(chunk)) {
                for (auto& e : chunk) {
                    entry(e);
                }
            }
            if (!walk.result()) {
                refuse(arg, fmt::format("cannot walk directory: {}", walk.result().error()));
            }
            return;
        }
        // A file named on the command line: followed if it is a link, as cp does.
        fs::path path(arg);
        if (fs::is_symlink(status)) {
            path = fs::canonical(path, ec);
            if (ec) {
                refuse(arg, fmt::format("broken symbolic link: {}", ec.message()));
                return;
            }
        }
        file(path, fs::path(arg).filename().string());
    }
};

} // namespace

void check_register_settings(const AddSettings& s) {
    require_part_plan(s.multipart);
    template_for(s);
    ExcludeList::parse(s.exclude).or_throw(ExitCode::usage, "--exclude: ");
}

RegisterTotals register_files(const Context& ctx, const AddSettings& s, storage::Store& store) {
    PartPlan parts = require_part_plan(s.multipart); // a bad value is refused before any write
    const model::KeyTemplate key = template_for(s);
    const ExcludeList exclude =
        ExcludeList::parse(s.exclude).or_throw(ExitCode::usage, "--exclude: ");
    IngestOptions options;
    options.jobs = s.jobs > 0 ? s.jobs : util::available_cores();
    IngestPipeline pipeline(parts, options);
    AddRun run{ctx,      s,
               key,      exclude,
               store,    Registrar(store, *ctx.log),
               pipeline, store.count_refusals() > 0};
    for (const auto& arg : s.paths) {
        run.argument(arg);
    }
    run.ingest_pending();
    run.drain();
    run.registrar.flush();
    run.flush_refusals();
    RegisterTotals t;
    t.added = run.registrar.added;
    t.updated = run.registrar.updated;
    t.unchanged = run.unchanged + run.registrar.duplicates;
    t.skipped = run.skipped;
    t.excluded = run.excluded;
    t.remembered = run.remembered;
    t.refused = run.refused + run.registrar.refused;
    t.missing = std::move(run.missing);
    return t;
}

} // namespace imgsync::core
