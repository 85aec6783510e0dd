// imgsync status: is the backlog draining? Text, JSON, a Nagios check, Prometheus metrics.
#include "commands/common.hpp"
#include "commands/status_io.hpp"
#include "report/chart.hpp"
#include "report/report.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <unistd.h>

namespace imgsync::core {

StatusReport load_status(storage::Store& store, std::int64_t window_seconds) {
    auto now = util::wall_epoch();
    StatusReport report =
        compute_status(store.counts(), store.recent_runs(20), store.window(now, window_seconds),
                       now, store.last_success_at());
    report.fleet = store.fleet(10);
    report.last_verification = store.last_verification();
    report.refused_files = store.count_refusals();
    return report;
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
    { // also without --check: a bad value is refused either way
        // Counts and durations, each as a plain number or a Monitoring Plugins range.
        const BoundParser count = parse_count;
        auto seconds_of = [](const std::string& option) {
            return BoundParser([option](std::string_view text) -> util::Result<std::int64_t> {
                return static_cast<std::int64_t>(require_seconds(option, std::string(text)));
            });
        };
        auto read = [](const std::string& option, const std::string& text,
                       const BoundParser& bound) -> std::optional<Threshold> {
            if (text.empty()) {
                return std::nullopt;
            }
            return parse_threshold(text, bound).or_throw(ExitCode::usage, option + ": ");
        };
        thresholds.warn_pending = read("--warn-pending", s.warn_pending, count);
        thresholds.crit_pending = read("--crit-pending", s.crit_pending, count);
        thresholds.crit_failed = read("--crit-failed", s.crit_failed, count);
        thresholds.warn_age_seconds = read("--warn-age", s.warn_age, seconds_of("--warn-age"));
        thresholds.crit_age_seconds = read("--crit-age", s.crit_age, seconds_of("--crit-age"));
        thresholds.crit_failed_passes = s.crit_failed_passes;
        thresholds.warn_success_age_seconds =
            read("--warn-success-age", s.warn_success_age, seconds_of("--warn-success-age"));
        thresholds.crit_success_age_seconds =
            read("--crit-success-age", s.crit_success_age, seconds_of("--crit-success-age"));
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
    const bool chart =
        !s.json && ::isatty(STDOUT_FILENO) == 1 &&
        utf8_locale(std::getenv("LC_ALL"), std::getenv("LC_CTYPE"), std::getenv("LANG"));
    std::string out = s.json ? render_status_json(report) : render_status_text(report, chart);
    if (out.empty() || out.back() != '\n') {
        out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    return metrics_ok ? 0 : static_cast<int>(ExitCode::usage);
}

} // namespace imgsync::core
