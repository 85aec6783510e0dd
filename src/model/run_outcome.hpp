// How a pass ended, as the runs table records it and status reports it. Closed set; the names are
// stable (scripts and dashboards read them).
#pragma once

#include <optional>
#include <string_view>

namespace imgsync::core {

enum class RunOutcome {
    running,     // not finished (or killed before it could say: recovered as crashed)
    ok,          // the backlog it could see is done
    limit,       // stopped at --max-images or --max-bytes
    deadline,    // stopped at --max-duration after requests succeeded
    partial,     // some images failed or were deferred
    interrupted, // stopped by a signal
    failed,      // a pass-level failure, or nothing succeeded
    crashed,     // recorded by the next pass for one that died
};

constexpr RunOutcome all_run_outcomes[] = {
    RunOutcome::running, RunOutcome::ok,          RunOutcome::limit,  RunOutcome::deadline,
    RunOutcome::partial, RunOutcome::interrupted, RunOutcome::failed, RunOutcome::crashed};

// "running", "ok", "limit", "deadline", "partial", "interrupted", "failed", "crashed".
std::string_view to_string(RunOutcome outcome);
// Exact; nullopt for anything else (a state file written by a newer imgsync, say).
std::optional<RunOutcome> parse_run_outcome(std::string_view text);
// ok, limit and deadline: the pass did what it was asked (status's last success).
bool is_success(RunOutcome outcome);

} // namespace imgsync::core
