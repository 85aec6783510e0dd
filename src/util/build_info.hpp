// What this binary was built from: the version (CMake's project version) and the commit (`git
// describe --always --dirty` at build time, or a note that the source tree had no git).
#pragma once

#include <string>

namespace imgsync::util {

// The release version, e.g. "0.1.0".
constexpr const char* build_version() {
    return IMGSYNC_VERSION;
}

// e.g. "4770085a1b2c" or "4770085a1b2c-dirty"; empty when the source tree had no git. Defined
// in a file generated at build time (cmake/build-commit.cmake).
const char* build_commit();

// "imgsync 0.1.0 (commit 4770085a1b2c)", or "(commit unknown: built from a source tree without
// git)": what --version prints.
std::string version_line();

} // namespace imgsync::util
