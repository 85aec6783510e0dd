// imgsync status: is the backlog draining? Text, JSON, a Nagios check, Prometheus metrics.
#include "commands/common.hpp"
#include "commands/status_io.hpp"
#include "report/report.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>

namespace imgsync::core {

StatusReport load_status(storage::Store& store, std::int64_t window_seconds) {
    auto now = util::wall_epoch();
    return compute_status(store.counts(), store.recent_runs(20), store.window(now, window_seconds),
                          now, store.last_success_at());
}

bool write_metrics(const std::string& path, const StatusReport& report, util::Logger& log) {
    auto written = util::write_file_atomic(path, render_prometheus(report), 0644);
    if (!written) {
        log.error("metrics_failed", {{"path", path}, {"error", written.error()}});
    }
    return written.ok();
}

int cmd_status(const Context& ctx, const StatusSettings& s) {
    auto window = static_cast<std::int64_t>(require_seconds("--window", s.window));
    if (window <= 0) {
        throw Error(ExitCode::usage, "--window must be longer than 0s");
    }
    CheckThresholds thresholds;
    if (s.check) {
        thresholds.warn_pending = s.warn_pending;
        thresholds.crit_pending = s.crit_pending;
        thresholds.crit_failed = s.crit_failed;
        if (!s.warn_age.empty()) {
            thresholds.warn_age_seconds =
                static_cast<std::int64_t>(require_seconds("--warn-age", s.warn_age));
        }
        if (!s.crit_age.empty()) {
            thresholds.crit_age_seconds =
                static_cast<std::int64_t>(require_seconds("--crit-age", s.crit_age));
        }
        thresholds.crit_failed_passes = s.crit_failed_passes;
        if (!s.warn_success_age.empty()) {
            thresholds.warn_success_age_seconds = static_cast<std::int64_t>(
                require_seconds("--warn-success-age", s.warn_success_age));
        }
        if (!s.crit_success_age.empty()) {
            thresholds.crit_success_age_seconds = static_cast<std::int64_t>(
                require_seconds("--crit-success-age", s.crit_success_age));
        }
    }
    // Errors (unreadable state file, bad values) reach cli::run, which answers UNKNOWN for
    // --check.
    auto store = open_existing_store(ctx);
    const StatusReport report = load_status(*store, window);
    // A metrics file that cannot be written is logged (metrics_failed) and the report still
    // printed. The plugin's status stays the backlog's; otherwise the command exits 2, because
    // the file --prometheus names does not work, which is not a state file problem (4).
    bool metrics_ok = s.prometheus.empty() || write_metrics(s.prometheus, report, *ctx.log);
    if (s.check) {
        auto result = evaluate_check(report, thresholds);
        std::puts(result.line.c_str());
        return result.exit_code;
    }
    std::string out = s.json ? render_status_json(report) : render_status_text(report);
    if (out.empty() || out.back() != '\n') {
        out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    return metrics_ok ? 0 : static_cast<int>(ExitCode::usage);
}

} // namespace imgsync::core
