// The process edge: runs a program without a shell (argv as given, found on PATH), with stdin
// from /dev/null, its stdout captured up to a limit and its stderr counted but not kept, and a
// deadline after which its whole process group is killed. For credential_process, whose stderr
// may hold secrets and must not be logged.
#pragma once

#include "util/result.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace imgsync::util {

struct ProcessOutput {
    int exit_status = -1; // the status it exited with; -1 when a signal ended it
    int signal = 0;       // the signal that ended it, or 0
    bool timed_out = false;
    std::string out;            // stdout, at most max_out bytes
    bool out_truncated = false; // it wrote more
    std::size_t err_bytes = 0;  // how much it wrote on stderr (discarded)
};

// Fails only when the program cannot be started (not found, not executable); what the program
// did is in the output.
Result<ProcessOutput> run_process(const std::vector<std::string>& argv, int timeout_ms,
                                  std::size_t max_out);

} // namespace imgsync::util
