// imgsync prune, and the walk upload --after-upload shares with it.
#include "commands/prune.hpp"

#include "commands/common.hpp"
#include "model/prune.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/safe_remove.hpp"
#include "util/signals.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::core {

namespace {

// A source as the walk of add names the files below it: absolute and normalized (a link to a
// directory resolved, as add follows it), ending in '/'.
std::string source_root(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path root = fs::absolute(dir, ec);
    if (!ec && fs::is_symlink(fs::symlink_status(root, ec))) {
        root = fs::canonical(root, ec);
    }
    std::string out = root.lexically_normal().string();
    if (out.empty() || out.back() != '/') {
        out += '/';
    }
    return out;
}

// The file as the upload had it, for the checks of util/safe_remove.
util::FileStat as_uploaded(const storage::ImageRecord& image) {
    util::FileStat st;
    st.size = image.size;
    st.mtime_ns = image.mtime_ns;
    st.mode = S_IFREG;
    st.inode = image.inode;
    return st;
}

class Walk {
  public:
    Walk(const PrunePlan& plan, storage::Store& store, util::Logger& log, std::int64_t now)
        : plan_(plan), store_(store), log_(log), now_(now) {}

    PruneTotals run() {
        const auto before = now_ - static_cast<std::int64_t>(std::max(0.0, plan_.keep_for_seconds));
        storage::Store::PruneCursor cursor;
        for (;;) { // bounded: each page moves the cursor past its images
            auto page = store_.prunable_page(before, cursor, plan_.host_id, 500);
            for (const auto& image : page) {
                if (util::stop_signals > 0) {
                    return totals_;
                }
                cursor = {image.uploaded_at.value_or(0), image.id};
                one(image);
            }
            if (page.size() < 500) {
                return totals_;
            }
        }
    }

  private:
    void print(std::string_view what, const storage::ImageRecord& image,
               const std::string& detail) const {
        if (plan_.print) {
            std::printf("%s%s\t%lld\t%s%s%s\n", plan_.dry_run ? "would " : "",
                        std::string(what).c_str(), static_cast<long long>(image.id),
                        util::printable(image.path).c_str(), detail.empty() ? "" : "\t",
                        util::printable(detail).c_str());
        }
    }

    void refuse(const storage::ImageRecord& image, const std::string& reason) {
        ++totals_.refused;
        log_.warn("prune_refused", {{"id", image.id}, {"path", image.path}, {"reason", reason}});
        if (plan_.print) {
            std::printf("refused\t%lld\t%s\t%s\n", static_cast<long long>(image.id),
                        util::printable(image.path).c_str(), util::printable(reason).c_str());
        }
    }

    void record(const storage::ImageRecord& image, const std::optional<std::string>& moved_to) {
        if (!store_.mark_pruned(image.id, image.size, image.mtime_ns, now_, moved_to)) {
            log_.warn("prune_not_recorded",
                      {{"id", image.id},
                       {"path", image.path},
                       {"reason", "the image changed in the state file meanwhile"}});
        }
    }

    void one(const storage::ImageRecord& image) {
        auto local = util::lstat_path(image.path);
        if (!local) {
            return refuse(image, local.error());
        }
        const auto decision = judge_prune(image, *local, now_, plan_.keep_for_seconds);
        const std::string dest = plan_.action == AfterUpload::move
                                     ? move_destination(plan_.move_to, image.path)
                                     : std::string();
        switch (decision.step) {
        case PruneStep::wait:
            return;
        case PruneStep::refuse:
            return refuse(image, decision.reason);
        case PruneStep::gone:
            return gone(image, dest);
        case PruneStep::prune:
            break;
        }
        if (plan_.action == AfterUpload::move) {
            if (dest.empty()) {
                return refuse(image, "its path cannot be placed under --move-to");
            }
            if (store_.find_by_path(dest)) {
                return refuse(image, fmt::format("{} is the path of another image", dest));
            }
        }
        const char* verb = plan_.action == AfterUpload::move ? "moved" : "deleted";
        if (plan_.dry_run) {
            print(plan_.action == AfterUpload::move ? "move" : "delete", image, dest);
            count(image);
            return;
        }
        auto done = plan_.action == AfterUpload::move
                        ? util::move_if_same(image.path, dest, **local)
                        : util::remove_if_same(image.path, **local);
        if (!done) {
            return refuse(image, done.error());
        }
        if (*done == util::Removal::changed) {
            return refuse(image, "another file took its path while it was being pruned");
        }
        record(image,
               plan_.action == AfterUpload::move ? std::optional<std::string>(dest) : std::nullopt);
        count(image);
        remove_empty_dirs(image.path);
        log_.info("pruned", {{"id", image.id},
                             {"key", image.key},
                             {"path", image.path},
                             {"action", std::string(verb)},
                             {"to", dest}});
        print(verb, image, dest);
    }

    // No file at the path: deleted by someone else, or by a prune that was killed before it
    // recorded it (then its hidden name, or the moved copy, is still there).
    void gone(const storage::ImageRecord& image, const std::string& dest) {
        std::optional<std::string> moved_to;
        if (!dest.empty() && image.inode != 0) {
            auto there = util::lstat_path(dest);
            if (there && *there && util::same_file(**there, as_uploaded(image))) {
                moved_to = dest;
            }
        }
        if (!plan_.dry_run && image.inode != 0) {
            if (auto leftover = util::remove_leftover(image.path, as_uploaded(image)); !leftover) {
                return refuse(image, leftover.error());
            }
        }
        ++totals_.gone;
        if (!plan_.dry_run) {
            record(image, moved_to);
            remove_empty_dirs(image.path);
            log_.info("pruned", {{"id", image.id},
                                 {"key", image.key},
                                 {"path", image.path},
                                 {"action", std::string("already gone")},
                                 {"to", moved_to.value_or("")}});
        }
        print("gone", image, moved_to.value_or(""));
    }

    // After the file at `path` went: its directory and the ones above it, while each is empty
    // and below a source (never the source itself). rmdir(2) removes only an empty directory, so
    // one that another program just put a file into stays.
    void remove_empty_dirs(const std::string& path) {
        for (const auto& root : plan_.empty_dir_roots) {
            if (path.compare(0, root.size(), root) != 0) {
                continue;
            }
            for (std::string dir = util::parent_dir(path); dir.size() >= root.size() && dir != "/";
                 dir = util::parent_dir(dir)) { // bounded: each step is a shorter path
                if (::rmdir(dir.c_str()) != 0) {
                    if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
                        log_.warn("prune_dir_kept",
                                  {{"path", dir}, {"reason", std::strerror(errno)}});
                    }
                    return;
                }
                ++totals_.dirs;
                log_.info("pruned_dir", {{"path", dir}});
            }
            return;
        }
    }

    void count(const storage::ImageRecord& image) {
        (plan_.action == AfterUpload::move ? totals_.moved : totals_.deleted) += 1;
        totals_.bytes += image.size;
    }

    const PrunePlan& plan_;
    storage::Store& store_;
    util::Logger& log_;
    std::int64_t now_;
    PruneTotals totals_;
};

} // namespace

PrunePlan prune_plan(const LocalFileSettings& s, const std::vector<std::string>& sources) {
    PrunePlan plan;
    if (s.delete_empty_dirs) {
        if (sources.empty()) {
            throw Error(ExitCode::usage, "--delete-empty-dirs needs --source DIR: directories "
                                         "are removed only below a source");
        }
        for (const auto& dir : sources) {
            plan.empty_dir_roots.push_back(source_root(dir));
        }
    }
    plan.action = s.after_upload;
    plan.keep_for_seconds = require_seconds("--keep-for", s.keep_for);
    if (plan.keep_for_seconds < 0) {
        throw Error(ExitCode::usage, "--keep-for must not be negative");
    }
    if (s.after_upload == AfterUpload::move) {
        if (s.move_to.empty() || s.move_to.front() != '/') {
            throw Error(ExitCode::usage,
                        "--after-upload move needs --move-to DIR, an absolute directory");
        }
        plan.move_to = s.move_to;
    } else if (!s.move_to.empty()) {
        throw Error(ExitCode::usage, "--move-to is for --after-upload move");
    }
    return plan;
}

PruneTotals prune_files(const PrunePlan& plan, storage::Store& store, util::Logger& log,
                        std::int64_t now) {
    return Walk(plan, store, log, now).run();
}

std::string describe(const PruneTotals& t) {
    const auto files = t.deleted + t.moved + t.gone;
    std::string out = fmt::format(
        "{} file{}, {}: {} deleted, {} moved, {} already gone; {} refused", files,
        files == 1 ? "" : "s", util::format_bytes(t.bytes), t.deleted, t.moved, t.gone, t.refused);
    if (t.dirs > 0) {
        out += fmt::format("; {} empty director{} removed", t.dirs, t.dirs == 1 ? "y" : "ies");
    }
    return out;
}

int cmd_prune(const Context& ctx, const PruneSettings& s) {
    PrunePlan plan = prune_plan(s.local, s.sources);
    if (plan.action == AfterUpload::keep) {
        throw Error(ExitCode::usage,
                    "prune: --after-upload is keep, which prunes nothing; give delete or move "
                    "(here or as after_upload in the config file)");
    }
    plan.dry_run = s.dry_run;
    plan.print = true;
    auto store = open_existing_store(ctx);
    if (store->leases()) {
        plan.host_id = ctx.global.host_id;
    }
    util::StopSignals signals;
    auto totals = prune_files(plan, *store, *ctx.log, util::wall_epoch());
    std::printf("%s %s\n", plan.dry_run ? "would prune" : "pruned", describe(totals).c_str());
    std::fflush(stdout);
    if (util::stop_signals > 0) {
        return static_cast<int>(ExitCode::interrupted);
    }
    return static_cast<int>(totals.refused > 0 ? ExitCode::images_failed : ExitCode::ok);
}

} // namespace imgsync::core
