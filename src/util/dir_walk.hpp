// Walks a directory tree depth first, in the order the directories list their entries (as
// std::filesystem::recursive_directory_iterator does), through descriptors: each directory is
// opened with openat() relative to its parent's descriptor and read with readdir() (getdents64
// in 32 KiB batches); an entry's type comes from the listing (fstatat() relative to the
// directory only where the file system does not say). One path buffer grows and shrinks with
// the walk: no path is rebuilt per entry. Symbolic links are reported, never followed.
// Generic: nothing here knows about images.
#pragma once

#include "util/result.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace imgsync::util {

enum class EntryKind { regular, symlink, other }; // other: FIFOs, sockets, devices

struct WalkEntry {
    EntryKind kind;
    const std::string& path;   // root, "/", then the names below it
    std::string_view relative; // the part of `path` below root
    int dir_fd;                // the open directory that lists it (for fstatat), during visit
    const char* name;          // its name in that directory
};

// Whether the walk enters a directory below root, given its path relative to root (no trailing
// "/"); false prunes it and everything under it.
using EnterDir = std::function<bool(std::string_view relative)>;

// Calls `visit` for every entry of the tree under `root` but directories, which it descends
// into unless `enter` (when given) says no. A directory that cannot be opened for lack of
// permission is skipped without a word (root included); any other error ends the walk with its
// message (strerror's text).
Result<void> walk_tree(const std::string& root, const std::function<void(const WalkEntry&)>& visit,
                       const EnterDir& enter = {});

} // namespace imgsync::util
