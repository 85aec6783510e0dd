// The state file's guards around SQLite: before it opens the file, that the path is a regular file
// of its own (no link is followed, nothing but regular files beside it); once the file is known to
// be an imgsync state file, that nobody else may read it.
#pragma once

#include <string>
#include <vector>

namespace imgsync::storage {

// Permissions taken away from one file, for the caller's warning.
struct ModeFix {
    std::string path;
    unsigned was = 0;
    unsigned now = 0;
};

// Before SQLite opens anything. Creates the file (0600) if it does not exist. Throws
// Error(state_error) with one line for a symbolic link at `path` (SQLite would follow it, and an
// empty file it points to would be adopted), anything but a regular file there, a -wal, -shm or
// -journal beside it that is not a regular file, or a file or directory imgsync cannot write.
// Returns whether the state file is new (empty: just created, or prepared by somebody).
bool check_state_file(const std::string& path);

// Once the file is known to be an imgsync state file (or a new one): it names every image. A new
// state file loses every group and other permission (0600, as imgsync creates it); an existing one
// loses those of others only, because a group with read-write access may be how producers share
// it with the uploader. The same for its -wal and -shm. Each change is appended to `fixes`; when
// the mode may not be changed, throws Error(state_error).
void make_state_private(const std::string& path, bool fresh, std::vector<ModeFix>& fixes);

} // namespace imgsync::storage
