// `imgsync status`: is the backlog draining? Pure arithmetic over what the state file reports,
// plus renderers for people (text), scripts (JSON), Nagios/Icinga (--check) and Prometheus
// (node_exporter textfile). Time is always a parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/records.hpp"
#include "report/threshold.hpp"
#include "util/json.hpp"

namespace imgsync::core {

using storage::ArrivalWindow;
using storage::BacklogCounts;
using storage::FleetStatus;
using storage::PassRecord;
using storage::RunRecord;
using storage::VerificationRecord;

enum class Trend {
    draining, // uploads outpace arrivals over the window
    growing,  // arrivals outpace uploads
    steady,   // as many uploaded as added (including none of either)
    empty,    // nothing pending or uploading
    unknown,  // no window to measure, or no pass has ever run
};
std::string_view to_string(Trend trend);

// A pass that ended normally without failed uploads: "ok", or stopped by its image/byte limit or
// its deadline, which are how periodic passes are meant to end.
bool run_succeeded(const RunRecord& run);
// How long a finished pass ran: its measured seconds, or finished_at - started_at (whole seconds,
// never negative) for a pass recorded without them; none while the pass runs.
std::optional<double> run_duration(const RunRecord& run);

struct StatusReport {
    std::int64_t now = 0;
    BacklogCounts counts;
    std::optional<std::int64_t> oldest_pending_age_seconds;
    std::int64_t refused_files = 0; // refusals add remembers (filled by the caller)

    std::vector<RunRecord> runs;                 // newest first
    std::optional<RunRecord> last_run;           // the newest pass, possibly still running
    std::optional<RunRecord> last_finished_run;  // what alerts should look at
    std::optional<std::int64_t> last_success_at; // finished_at of the newest successful pass
    // Finished passes with outcome "failed", counted from the newest finished one back to the
    // first that did not fail (0 unless the last finished pass failed).
    std::int64_t failed_passes_in_a_row = 0;
    bool run_in_progress = false;

    // Speed while passes run, over recent finished passes that had work to do; none if there is
    // no such pass. Says what a pass can do, not whether the backlog drains.
    std::optional<double> images_per_second, bytes_per_second;
    double pass_seconds = 0; // time those passes ran

    // Wall-clock rates over the window: with periodic passes these decide the trend.
    ArrivalWindow window;
    std::optional<double> arrivals_per_hour, uploads_per_hour; // none if the window is empty
    std::optional<double> arrival_bytes_per_hour, upload_bytes_per_hour;

    Trend trend = Trend::unknown;
    // Seconds until pending + uploading reach zero at the window's net rate: 0 when empty, none
    // unless draining.
    std::optional<std::int64_t> eta_seconds;
    std::string message; // one sentence explaining the trend

    // The passes running now and recent ones, and the expired leases (filled by the caller).
    FleetStatus fleet;
    // The newest imgsync verify (filled by the caller).
    std::optional<VerificationRecord> last_verification;
};

// recent_runs may come in any order; the report keeps them newest first.
// last_success_at: the newest successful pass the state file knows, which may be older than
// every pass in recent_runs.
StatusReport compute_status(const BacklogCounts& counts, const std::vector<RunRecord>& recent_runs,
                            const ArrivalWindow& window, std::int64_t now,
                            std::optional<std::int64_t> last_success_at = std::nullopt);

// Aligned "label: value" lines, each ending in '\n'. With `chart` (a UTF-8 terminal), a line
// "backlog:" draws the pending images of each hour of the window as a sparkline.
std::string render_status_text(const StatusReport& report, bool chart = false);
// One JSON object followed by '\n'. Timestamps are ISO-8601 UTC strings, unknowns are null.
std::string render_status_json(const StatusReport& report,
                               util::JsonWriter::Style style = util::JsonWriter::Style::pretty);
// Prometheus text exposition format for node_exporter's textfile collector, ending in '\n'.
// Metrics about the last pass are left out until a pass has finished.
std::string render_prometheus(const StatusReport& report);

// Alert when the value is >= the threshold. Whatever the thresholds, a last finished pass with
// outcome "failed" is at least WARNING, and objects the last verification found missing or
// changed and did not requeue are CRITICAL.
struct CheckThresholds {
    // A plain number N alerts at >= N; a range (report/threshold.hpp) as the Monitoring Plugins.
    std::optional<Threshold> warn_pending, crit_pending;
    std::optional<Threshold> warn_age_seconds, crit_age_seconds;
    std::optional<Threshold> warn_failed, crit_failed;
    // CRITICAL when this many finished passes in a row, the newest included, failed.
    std::optional<std::int64_t> crit_failed_passes;
    // Seconds since the newest successful pass ended. With passes on record but none successful
    // among them, every success-age threshold is reached; before the first pass, none is.
    std::optional<Threshold> warn_success_age_seconds, crit_success_age_seconds;
};

struct CheckResult {
    int exit_code = 3; // 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
    std::string line;  // plugin output per the Monitoring Plugins guidelines, no newline
};

// "IMGSYNC CRITICAL - 1500 pending (>= 1000), oldest 3m 00s, 0 failed | pending=1500;100;1000;0
// oldest_age=180s;600;3600;0 failed=0;;1;0 uploaded=5000;;;0 failed_passes=0;1;;0", with
// ", last pass failed: MESSAGE" (or "last 3 passes failed") after a failed pass and
// ", last success 2h 00m ago" when a success-age threshold is set. Text from the state file is
// escaped (util::printable) and '|' becomes '/'. Negative thresholds, a warning threshold above
// its critical one, or --crit-failed-passes below 1 give UNKNOWN: the check is misconfigured.
CheckResult evaluate_check(const StatusReport& report, const CheckThresholds& thresholds);
// For failures before there is a report (unreadable state file, bad option).
CheckResult check_unknown(std::string_view reason);

} // namespace imgsync::core
