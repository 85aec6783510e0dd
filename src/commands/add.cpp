// imgsync add: register existing image files.
#include "commands/common.hpp"
#include "ingest/ingest.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <sys/stat.h>

namespace imgsync::core {

namespace fs = std::filesystem;

namespace {

std::string extension_for(const std::string& content_type) {
    if (content_type == "image/jpeg") {
        return ".jpg";
    }
    auto slash = content_type.find('/');
    return "." + content_type.substr(slash + 1);
}

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

std::string make_key(KeyLayout layout, const std::string& prefix, const std::string& relative,
                     const storage::NewImage& image) {
    switch (layout) {
    case KeyLayout::sha256:
        return fmt::format("{}{}/{}{}", prefix, image.sha256.substr(0, 2), image.sha256,
                           extension_for(image.content_type));
    case KeyLayout::date: {
        std::time_t t = static_cast<std::time_t>(image.mtime_ns / 1000000000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        return fmt::format("{}{:04}/{:02}/{:02}/{}", prefix, tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, fs::path(relative).filename().string());
    }
    case KeyLayout::path:
        break;
    }
    return prefix + relative;
}

struct AddRun {
    const Context& ctx;
    const AddSettings& settings;
    storage::Store& store;
    Registrar registrar;
    PartPlan parts;
    std::int64_t unchanged = 0, refused = 0, skipped = 0;
    std::vector<std::string> missing{}; // arguments that do not exist: a usage error (exit 2)
    // Files found but not read yet: read in batches, so that ingest_files() hashes sixteen at once.
    struct Candidate {
        std::string path, relative;
        std::optional<std::int64_t> replace_id;
    };
    static constexpr std::size_t ingest_batch = 64;
    std::vector<Candidate> pending{};

    void refuse(const std::string& path, const std::string& reason) {
        ++refused;
        ctx.log->warn("add_refused", {{"path", path}, {"reason", reason}});
    }

    void file(const fs::path& path, const std::string& relative) {
        std::string abs = fs::absolute(path).lexically_normal().string();
        if (auto problem = key_problem(relative)) {
            refuse(abs, *problem);
            return;
        }
        pending.push_back({abs, relative, std::nullopt});
        if (pending.size() == ingest_batch) {
            ingest_pending();
        }
    }

    // Whether a file found needs reading: new, or changed since it was added (then replace_id
    // is set). Unchanged files and files under a running pass are counted here.
    bool needs_reading(Candidate& c) {
        auto known = store.find_by_path(c.path);
        if (!known) {
            return true;
        }
        struct stat st {};
        if (::lstat(c.path.c_str(), &st) == 0 &&
            static_cast<std::uint64_t>(st.st_size) == known->size &&
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec ==
                known->mtime_ns) {
            ++unchanged;
            return false;
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

    // Reads and registers the files queued by file(), in the order they were found. The state
    // file is read in one snapshot before and one after the files are read.
    void ingest_pending() {
        std::vector<Candidate> to_read;
        {
            storage::ReadTransaction snapshot(store.db());
            for (auto& c : pending) {
                if (needs_reading(c)) {
                    to_read.push_back(std::move(c));
                }
            }
        }
        pending.clear();
        std::vector<std::string> paths;
        paths.reserve(to_read.size());
        for (const auto& c : to_read) {
            paths.push_back(c.path);
        }
        auto results = ingest_files(paths, parts);
        {
            storage::ReadTransaction snapshot(store.db());
            for (std::size_t i = 0; i < to_read.size(); ++i) {
                Ingested& in = results[i];
                const Candidate& c = to_read[i];
                if (!in.image) {
                    refuse(c.path, in.refusal);
                    continue;
                }
                in.image->key =
                    make_key(settings.key_layout, ctx.global.prefix, c.relative, *in.image);
                if (auto problem = key_problem(in.image->key)) {
                    refuse(c.path, *problem);
                    continue;
                }
                if (!registrar.add(*in.image, c.replace_id)) {
                    ++refused;
                } else {
                    ctx.log->debug("added", {{"path", c.path}, {"key", in.image->key}});
                }
            }
        }
        registrar.flush_if_full();
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
            auto it = fs::recursive_directory_iterator(
                root, fs::directory_options::skip_permission_denied, ec);
            for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                const auto& entry = *it;
                auto st = entry.symlink_status(ec);
                if (ec) {
                    break;
                }
                if (fs::is_symlink(st)) {
                    // Policy: links are not followed inside a tree (no loops, no escaping it).
                    ++skipped;
                    ctx.log->info("add_skipped", {{"path", entry.path().string()},
                                                  {"reason", "symbolic link (not followed)"}});
                    continue;
                }
                if (fs::is_regular_file(st)) {
                    file(entry.path(), entry.path().lexically_relative(root).string());
                } else if (!fs::is_directory(st)) {
                    // FIFOs, sockets, devices: never images, and opening a FIFO could block.
                    ++skipped;
                    ctx.log->info("add_skipped", {{"path", entry.path().string()},
                                                  {"reason", "not a regular file"}});
                }
            }
            if (ec) {
                refuse(arg, fmt::format("cannot walk directory: {}", ec.message()));
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

int cmd_add(const Context& ctx, const AddSettings& s) {
    PartPlan parts = require_part_plan(s.multipart); // a bad value is refused before any write
    auto store = open_store(ctx);
    AddRun run{ctx, s, *store, Registrar(*store, *ctx.log), parts};
    for (const auto& arg : s.paths) {
        run.argument(arg);
    }
    run.ingest_pending();
    run.registrar.flush();
    run.unchanged += run.registrar.duplicates;
    run.refused += run.registrar.refused;
    ctx.log->info("add_done", {{"added", run.registrar.added},
                               {"updated", run.registrar.updated},
                               {"unchanged", run.unchanged},
                               {"skipped", run.skipped},
                               {"refused", run.refused}});
    std::printf("added %lld, updated %lld, unchanged %lld, skipped %lld, refused %lld\n",
                static_cast<long long>(run.registrar.added),
                static_cast<long long>(run.registrar.updated),
                static_cast<long long>(run.unchanged), static_cast<long long>(run.skipped),
                static_cast<long long>(run.refused));
    std::fflush(stdout); // the summary before the error line, also when both go to one pipe
    if (!run.missing.empty()) {
        // A path that does not exist is a mistyped argument: the rest was added all the same.
        throw Error(ExitCode::usage,
                    fmt::format("add: {}: no such file or directory{}", run.missing.front(),
                                run.missing.size() > 1
                                    ? fmt::format(" (and {} more)", run.missing.size() - 1)
                                    : std::string()));
    }
    return static_cast<int>(run.refused ? ExitCode::images_failed : ExitCode::ok);
}

} // namespace imgsync::core
