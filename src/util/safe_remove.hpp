// Deleting and moving a file only if it still is the file the caller checked: same inode, size
// and modification time, even when another process replaces the path at the same moment. Each
// step that could touch another file renames first and checks what it renamed, then undoes the
// rename if it was not the file expected. Nothing here follows a symbolic link or replaces an
// existing file.
#pragma once

#include "util/fs.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>

namespace imgsync::util {

// The file at `path` as lstat() sees it; nullopt when nothing is there; a failure (naming the
// path) when it cannot be looked at.
Result<std::optional<FileStat>> lstat_path(const std::string& path);

// Whether two looks at a file saw the same file with the same content stamp.
bool same_file(const FileStat& a, const FileStat& b);

enum class Removal {
    done,    // removed (or moved)
    changed, // the path holds another file now: left as it was
};

// Deletes the file at `path` if it is `expected`. It is renamed to ".imgsync-removing-INODE"
// beside it (never replacing anything), checked there, and unlinked; another file is renamed
// back. A crash between leaves the file under that name: remove_leftover() finishes the job.
Result<Removal> remove_if_same(const std::string& path, const FileStat& expected);

// After a crash in remove_if_same(): deletes ".imgsync-removing-INODE" beside `path` if it is
// `expected`. Returns whether there was one.
Result<bool> remove_leftover(const std::string& path, const FileStat& expected);

// Moves the file at `path` to `dest` if it is `expected`, never replacing a file at `dest`, and
// creates dest's directories (mode 0755 before the umask). Within a file system one rename
// (RENAME_NOREPLACE), checked at `dest` and undone if it moved another file; across file systems
// a copy into a temporary file beside `dest` (fsynced, its mtime set to the original's), linked
// to `dest`, and then remove_if_same() of the original.
Result<Removal> move_if_same(const std::string& path, const std::string& dest,
                             const FileStat& expected);

} // namespace imgsync::util
