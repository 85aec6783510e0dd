// The one exception type that carries a documented exit status to main().
#pragma once

#include <stdexcept>
#include <string>

namespace imgsync {

// Documented in README.md and man/imgsync.1; scripts depend on these numbers.
enum class ExitCode : int {
    ok = 0,            // done, nothing to do, or stopped at a limit or deadline
    images_failed = 1, // some images failed in this pass (or some files were refused by add)
    usage = 2,         // bad option, configuration or missing credentials
    pass_failed = 3,   // the whole pass failed: credentials refused, bucket missing, network down
    state_error = 4,   // the state file is corrupt, read-only, locked by another program, or full
    locked = 5,        // another pass holds the lock
    interrupted = 6,   // stopped by SIGTERM, SIGINT or SIGHUP
    internal = 70,     // a bug: an unexpected exception
};

class Error : public std::runtime_error {
  public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode code() const { return code_; }

  private:
    ExitCode code_;
};

} // namespace imgsync
