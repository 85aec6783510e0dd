#include "util/build_info.hpp"

namespace imgsync::util {

std::string version_line() {
    const std::string commit = build_commit();
    return std::string("imgsync ") + build_version() +
           (commit.empty() ? " (commit unknown: built from a source tree without git)"
                           : " (commit " + commit + ")");
}

} // namespace imgsync::util
