// What happens to an image's local file once S3 holds it (upload --after-upload, imgsync prune),
// pure: which files may go, and where a moved one goes. The file system work is storage-free
// and lives in util/safe_remove; the walk over the backlog in commands/prune.
#pragma once

#include "model/records.hpp"
#include "util/fs.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::core {

// keep: leave the file; remove: delete it; move: move it under --move-to.
enum class AfterUpload { keep, remove, move };
// "keep", "delete", "move".
std::string_view to_string(AfterUpload action);

enum class PruneStep {
    prune,  // the file is the one uploaded and old enough: delete or move it
    wait,   // uploaded less than --keep-for ago
    gone,   // no file at the path any more: record it as pruned
    refuse, // the file at the path is not the one uploaded: leave it, say why
};

struct PruneDecision {
    PruneStep step = PruneStep::refuse;
    std::string reason; // refuse: what differs
};

// `local` is the file at image.path now, as lstat() sees it (nullopt: nothing there). An image
// may go only when it is uploaded and not pruned yet, its upload at least keep_for seconds ago,
// and the file at its path is a regular file with the size and mtime the upload had and, when
// add recorded one (older state files did not), the same inode: a file rewritten, replaced or
// truncated since is another file and is never deleted or moved.
PruneDecision judge_prune(const storage::ImageRecord& image,
                          const std::optional<util::FileStat>& local, std::int64_t now,
                          double keep_for_seconds);

// Where `move` puts a file: its absolute path under move_to, so that files from different
// directories never collide ("/archive" and "/srv/in/a.jpg": "/archive/srv/in/a.jpg"). Empty
// when `path` is not absolute or names a parent ("..") component, or move_to is "/".
std::string move_destination(std::string_view move_to, std::string_view path);

} // namespace imgsync::core
