// The walk that deletes or moves the local files of uploaded images (model/prune decides,
// util/safe_remove acts, the store records): imgsync prune, and upload --after-upload after its
// pass.
#pragma once

#include "commands/commands.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace imgsync::core {

struct PrunePlan {
    AfterUpload action = AfterUpload::keep;
    std::string move_to;
    double keep_for_seconds = 0;
    // Only the images this host id registered (a shared backlog: files on this host's disks);
    // none: every image (a state file of this host's own, or upload --claim any).
    std::optional<std::string> host_id;
    bool dry_run = false;
    bool print = false; // one line per file on stdout (imgsync prune)
    // --delete-empty-dirs: the sources, absolute and normalized, each ending in '/'. After a file
    // below one went, its directories that are empty now go too, up to (not) the source.
    std::vector<std::string> empty_dir_roots;
};

struct PruneTotals {
    std::int64_t deleted = 0, moved = 0, gone = 0, refused = 0;
    std::uint64_t bytes = 0; // of the files deleted or moved
    std::int64_t dirs = 0;   // empty directories removed
};

// Validates the settings into a plan: move needs --move-to (an absolute directory), keep_for a
// duration, --delete-empty-dirs a source. Throws Error(usage) naming the option.
PrunePlan prune_plan(const LocalFileSettings& s, const std::vector<std::string>& sources);

// Every image uploaded at least keep_for ago whose local file is still there, oldest upload
// first: the file is deleted or moved if it still is the file uploaded (its size, mtime and
// inode), refused (logged, left as it is) if not; a file already gone is recorded as pruned.
// Each deletion and each refusal is logged. Stops between files at a stop signal.
PruneTotals prune_files(const PrunePlan& plan, storage::Store& store, util::Logger& log,
                        std::int64_t now);

// "12 files, 34.5 MiB: 10 deleted, 0 moved, 2 already gone; 1 refused" (and "; 3 empty
// directories removed" when there were some)
std::string describe(const PruneTotals& totals);

} // namespace imgsync::core
