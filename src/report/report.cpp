#include "report/report.hpp"

#include "report/chart.hpp"
#include "report/fleet.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "util/text.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

namespace imgsync::core {

namespace {

std::string images(std::int64_t n) {
    return fmt::format("{} image{}", n, n == 1 ? "" : "s");
}

// "24h", "90m", "45s": the window as an operator would have typed it for --window.
std::string window_label(std::int64_t seconds) {
    if (seconds > 0 && seconds % 3600 == 0) {
        return fmt::format("{}h", seconds / 3600);
    }
    if (seconds > 0 && seconds % 60 == 0) {
        return fmt::format("{}m", seconds / 60);
    }
    return fmt::format("{}s", seconds);
}

// Few digits, but never "0" for something that is not zero.
std::string format_amount(double x) {
    if (x == 0) {
        return "0";
    }
    std::string s;
    if (x >= 10) {
        s = fmt::format("{:.0f}", x);
    } else if (x >= 1) {
        s = fmt::format("{:.1f}", x);
    } else {
        s = fmt::format("{:.2f}", x);
    }
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') {
            s.pop_back();
        }
        if (s.back() == '.') {
            s.pop_back();
        }
    }
    return s == "0" ? "<0.01" : s;
}

std::string per_hour(const std::optional<double>& rate) {
    return rate ? format_amount(*rate) + "/h" : "?/h";
}

std::string rates_phrase(const StatusReport& r) {
    return fmt::format("{} in, {} out", per_hour(r.arrivals_per_hour),
                       per_hour(r.uploads_per_hour));
}

// Pass messages come from error text (a server's, too) for the plugin line: one line, escaped,
// and no '|', after which everything is performance data.
std::string plugin_text(std::string_view s) {
    std::string text = util::printable(s);
    std::replace(text.begin(), text.end(), '|', '/');
    return text;
}

void write_run(util::JsonWriter& w, const RunRecord& run) {
    w.begin_object();
    w.field("id", run.id);
    w.field("started_at", util::iso8601_utc(run.started_at));
    w.field("finished_at", util::iso8601_utc(run.finished_at));
    w.field("duration_seconds", run_duration(run));
    w.field("uploaded", run.uploaded);
    w.field("failed", run.failed);
    w.field("retried", run.retried);
    w.field("bytes", run.bytes);
    w.field("outcome", std::string(to_string(run.outcome)));
    w.field("message", run.message);
    w.end_object();
}

// "2026-12-07T03:10:00Z (2h 05m ago), all: 1000 checked, 998 ok, 1 missing, 1 changed, 0
// unverified, 1 requeued", and what to do when something is wrong.
std::string verification_text(const VerificationRecord& v, std::int64_t now) {
    const auto& t = v.totals;
    std::string text = fmt::format(
        "{} ({} ago), {}: {} checked, {} ok, {} missing, {} changed, {} unverified, {} requeued",
        util::iso8601_utc(v.finished_at),
        util::format_duration(std::max<std::int64_t>(0, now - v.finished_at)),
        util::printable(v.scope), t.checked, t.ok, t.missing, t.changed, t.unverified, t.requeued);
    if (v.outcome == VerifyOutcome::interrupted || v.outcome == VerifyOutcome::failed) {
        text += fmt::format(" ({}: {})", to_string(v.outcome), util::printable(v.message));
    }
    if (unresolved(t) > 0) {
        text += " (imgsync verify --requeue puts them back to pending)";
    }
    return text;
}

void write_verification(util::JsonWriter& w, const VerificationRecord& v) {
    const auto& t = v.totals;
    w.begin_object();
    w.field("started_at", util::iso8601_utc(v.started_at));
    w.field("finished_at", util::iso8601_utc(v.finished_at));
    w.field("host_id", v.host_id);
    w.field("scope", v.scope);
    w.field("outcome", to_string(v.outcome));
    w.field("checked", t.checked);
    w.field("ok", t.ok);
    w.field("missing", t.missing);
    w.field("changed", t.changed);
    w.field("unverified", t.unverified);
    w.field("requeued", t.requeued);
    w.field("unresolved", unresolved(t));
    w.field("message", v.message);
    w.end_object();
}

struct Verdict {
    int level = 0; // 0 OK, 1 WARNING, 2 CRITICAL
    std::string note;
};

Verdict judge(std::int64_t value, const std::optional<Threshold>& warn,
              const std::optional<Threshold>& crit, std::string (*show)(std::int64_t)) {
    if (crit && crit->alerts(value)) {
        return Verdict{2, fmt::format(" ({})", crit->describe(show))};
    }
    if (warn && warn->alerts(value)) {
        return Verdict{1, fmt::format(" ({})", warn->describe(show))};
    }
    return Verdict{};
}

std::string show_count(std::int64_t n) {
    return std::to_string(n);
}
std::string show_age(std::int64_t s) {
    return util::format_duration(s);
}

std::string threshold(const std::optional<Threshold>& t) {
    return t ? t->perfdata() : std::string();
}
std::string threshold(const std::optional<std::int64_t>& t) {
    return t ? std::to_string(*t) : std::string();
}

// Plain numbers only: a range says by itself where it alerts.
util::Result<void> check_thresholds(std::string_view what, const std::optional<Threshold>& warn,
                                    const std::optional<Threshold>& crit) {
    const bool plain_warn = warn && warn->plain(), plain_crit = crit && crit->plain();
    if ((plain_warn && *warn->low < 0) || (plain_crit && *crit->low < 0)) {
        return util::fail(fmt::format("negative threshold for {}", what));
    }
    if (plain_warn && plain_crit && *warn->low > *crit->low) {
        return util::fail(
            fmt::format("warning threshold for {} ({}) is above the critical one ({})", what,
                        *warn->low, *crit->low));
    }
    return {};
}

} // namespace

std::string_view to_string(Trend trend) {
    switch (trend) {
    case Trend::draining:
        return "draining";
    case Trend::growing:
        return "growing";
    case Trend::steady:
        return "steady";
    case Trend::empty:
        return "empty";
    case Trend::unknown:
        return "unknown";
    }
    return "unknown";
}

bool run_succeeded(const RunRecord& run) {
    return run.finished_at && is_success(run.outcome);
}

std::optional<double> run_duration(const RunRecord& run) {
    if (!run.finished_at) {
        return std::nullopt;
    }
    if (run.seconds) {
        return std::max(0.0, *run.seconds);
    }
    return static_cast<double>(std::max<std::int64_t>(0, *run.finished_at - run.started_at));
}

StatusReport compute_status(const BacklogCounts& counts, const std::vector<RunRecord>& recent_runs,
                            const ArrivalWindow& window, std::int64_t now,
                            std::optional<std::int64_t> last_success_at) {
    StatusReport r;
    r.now = now;
    r.counts = counts;
    r.window = window;
    if (counts.oldest_pending_added_at) {
        // A clock stepped backwards must not show a negative age.
        r.oldest_pending_age_seconds =
            std::max<std::int64_t>(0, now - *counts.oldest_pending_added_at);
    }

    r.runs = recent_runs;
    std::stable_sort(r.runs.begin(), r.runs.end(), [](const RunRecord& a, const RunRecord& b) {
        return a.started_at != b.started_at ? a.started_at > b.started_at : a.id > b.id;
    });
    if (!r.runs.empty()) {
        r.last_run = r.runs.front();
        r.run_in_progress = !r.runs.front().finished_at;
    }
    std::int64_t uploaded = 0;
    std::uint64_t bytes = 0;
    bool failed_streak = true;
    for (const RunRecord& run : r.runs) {
        if (!run.finished_at) {
            continue; // totals of a running pass are incomplete
        }
        if (!r.last_finished_run) {
            r.last_finished_run = run;
        }
        if (!r.last_success_at && run_succeeded(run)) {
            r.last_success_at = run.finished_at;
        }
        if (failed_streak && run.outcome == RunOutcome::failed) {
            ++r.failed_passes_in_a_row;
        } else {
            failed_streak = false;
        }
        // Passes that found nothing to do say nothing about speed.
        if (run.uploaded + run.failed > 0) {
            uploaded += run.uploaded;
            bytes += run.bytes;
            // A pass that did work took some time: a millisecond at least when it was measured,
            // a second when only its whole-second timestamps are known.
            r.pass_seconds += std::max(run.seconds ? 0.001 : 1.0, *run_duration(run));
        }
    }
    if (last_success_at && (!r.last_success_at || *last_success_at > *r.last_success_at)) {
        r.last_success_at = last_success_at;
    }
    if (r.pass_seconds > 0) {
        r.images_per_second = static_cast<double>(uploaded) / r.pass_seconds;
        r.bytes_per_second = static_cast<double>(bytes) / r.pass_seconds;
    }

    const std::int64_t ws = window.window_seconds;
    if (ws > 0) {
        const auto hourly = [ws](double n) { return n * 3600.0 / static_cast<double>(ws); };
        r.arrivals_per_hour = hourly(static_cast<double>(window.images_added));
        r.uploads_per_hour = hourly(static_cast<double>(window.images_uploaded));
        r.arrival_bytes_per_hour = hourly(static_cast<double>(window.bytes_added));
        r.upload_bytes_per_hour = hourly(static_cast<double>(window.bytes_uploaded));
    }

    // Images a pass claimed count as backlog: a killed pass returns them to pending.
    const std::int64_t backlog = counts.pending + counts.uploading;
    const std::int64_t net = window.images_uploaded - window.images_added;
    if (backlog <= 0) {
        r.trend = Trend::empty;
        r.eta_seconds = 0;
        r.message = "the backlog is empty";
    } else if (ws <= 0) {
        r.trend = Trend::unknown;
        r.message = "no time window to measure arrival and upload rates over";
    } else if (r.runs.empty() && window.images_uploaded == 0) {
        r.trend = Trend::unknown;
        r.message = fmt::format("no upload pass has run yet; the backlog is {}", images(backlog));
    } else if (net > 0) {
        r.trend = Trend::draining;
        // backlog / (net / window), in doubles: exact for any realistic count, and no overflow.
        r.eta_seconds = static_cast<std::int64_t>(std::ceil(
            static_cast<double>(backlog) * static_cast<double>(ws) / static_cast<double>(net)));
        r.message = fmt::format("uploads outpace arrivals ({}); empty in about {}", rates_phrase(r),
                                util::format_duration(*r.eta_seconds));
    } else if (net < 0) {
        r.trend = Trend::growing;
        r.message =
            fmt::format("new images arrive faster than they are uploaded: {}", rates_phrase(r));
    } else if (window.images_uploaded == 0) {
        r.trend = Trend::steady;
        r.message =
            fmt::format("nothing was uploaded in the last {}; the backlog ({}) is not draining",
                        window_label(ws), images(backlog));
    } else {
        r.trend = Trend::steady;
        r.message = fmt::format(
            "uploads only keep pace with arrivals ({}); the backlog ({}) is not shrinking",
            rates_phrase(r), images(backlog));
    }
    return r;
}

std::string render_status_text(const StatusReport& r, bool chart) {
    std::string out;
    // An empty label continues the line above.
    const auto line = [&out](std::string_view label, const std::string& text) {
        fmt::format_to(std::back_inserter(out), "{:<12} {}\n",
                       label.empty() ? std::string() : fmt::format("{}:", label), text);
    };
    const BacklogCounts& c = r.counts;

    std::string pending =
        fmt::format("{}, {}", images(c.pending), util::format_bytes(c.bytes_pending));
    if (r.oldest_pending_age_seconds) {
        pending += fmt::format(", oldest waiting {}",
                               util::format_duration(*r.oldest_pending_age_seconds));
    }
    line("pending", pending);
    const RunningPasses running = running_passes(r.fleet, r.now);
    line("uploading", uploading_text(c.uploading, running));
    std::string uploaded =
        fmt::format("{}, {}", images(c.uploaded), util::format_bytes(c.bytes_uploaded));
    if (c.pruned > 0) {
        uploaded += fmt::format(" ({} pruned; {} still on the local disk)", c.pruned,
                                util::format_bytes(c.bytes_uploaded - c.bytes_pruned));
    }
    line("uploaded", uploaded);
    std::string failed = images(c.failed);
    if (c.failed > 0) {
        failed += fmt::format(", {} (imgsync list --state failed; imgsync retry --all)",
                              util::format_bytes(c.bytes_failed));
    }
    line("failed", failed);
    if (r.refused_files > 0) {
        line("refused", fmt::format("{} file{} add skips while unchanged (imgsync list --refused; "
                                    "imgsync forget --refused)",
                                    r.refused_files, r.refused_files == 1 ? "" : "s"));
    }
    for (const auto& [label, text] : fleet_lines(r.fleet, r.now)) {
        line(label, text);
    }

    if (!r.last_run) {
        line("last pass", "none yet");
    } else {
        const RunRecord& run = *r.last_run;
        const std::int64_t ago = std::max<std::int64_t>(0, r.now - run.started_at);
        std::string text;
        if (!run.finished_at) {
            text = fmt::format("#{} running since {} ({})", run.id,
                               util::iso8601_utc(run.started_at), util::format_duration(ago));
        } else {
            text = fmt::format("#{} {}, started {} ({} ago), took {}: {} uploaded, {} failed, {}",
                               run.id, to_string(run.outcome), util::iso8601_utc(run.started_at),
                               util::format_duration(ago), util::format_elapsed(*run_duration(run)),
                               run.uploaded, run.failed, util::format_bytes(run.bytes));
        }
        if (!run.message.empty()) {
            text += fmt::format(" ({})", util::printable(run.message));
        }
        line("last pass", text);
    }

    if (r.images_per_second && r.bytes_per_second) {
        line("pass speed",
             fmt::format("{} images/s, {}/s while passes run", format_amount(*r.images_per_second),
                         util::format_bytes(static_cast<std::uint64_t>(*r.bytes_per_second))));
    } else {
        line("pass speed", "unknown (no recent pass uploaded anything)");
    }

    if (r.window.window_seconds > 0) {
        line(fmt::format("last {}", window_label(r.window.window_seconds)),
             fmt::format("{} ({} added, {} uploaded)", rates_phrase(r), r.window.images_added,
                         r.window.images_uploaded));
    }
    if (chart) {
        const auto hourly = backlog_by_hour(r.window, c.pending + c.uploading, r.now);
        if (hourly.size() >= 2) {
            line("backlog", fmt::format("{} pending each hour of the last {}, 0 to {}",
                                        sparkline(hourly), window_label(r.window.window_seconds),
                                        *std::max_element(hourly.begin(), hourly.end())));
        }
    }
    line("trend", fmt::format("{}: {}", to_string(r.trend), r.message));
    if (r.last_verification) {
        line("verified", verification_text(*r.last_verification, r.now));
    }
    return out;
}

std::string render_status_json(const StatusReport& r, util::JsonWriter::Style style) {
    util::JsonWriter w(style);
    const BacklogCounts& c = r.counts;
    w.begin_object();
    w.field("generated_at", util::iso8601_utc(r.now));
    w.key("counts").begin_object();
    w.field("pending", c.pending);
    w.field("uploading", c.uploading);
    w.field("uploaded", c.uploaded);
    w.field("failed", c.failed);
    w.field("pruned", c.pruned);
    w.end_object();
    w.key("bytes").begin_object();
    w.field("pending", c.bytes_pending);
    w.field("uploading", c.bytes_uploading);
    w.field("uploaded", c.bytes_uploaded);
    w.field("failed", c.bytes_failed);
    w.field("pruned", c.bytes_pruned);
    w.field("uploaded_on_local_disk", c.bytes_uploaded - c.bytes_pruned);
    w.end_object();
    w.field("oldest_pending_age_seconds", r.oldest_pending_age_seconds);
    w.field("refused_files", r.refused_files);
    w.key("last_run");
    if (r.last_run) {
        write_run(w, *r.last_run);
    } else {
        w.null();
    }
    w.field("last_success_at", util::iso8601_utc(r.last_success_at));
    w.key("runs").begin_array();
    for (const RunRecord& run : r.runs) {
        write_run(w, run);
    }
    w.end_array();
    const RunningPasses running = running_passes(r.fleet, r.now);
    w.key("in_flight").begin_object();
    w.field("passes", running.passes);
    w.field("images", running.images);
    w.field("requests", running.requests);
    w.end_object();
    write_fleet_json(w, r.fleet, r.now);
    w.key("last_verification");
    if (r.last_verification) {
        write_verification(w, *r.last_verification);
    } else {
        w.null();
    }
    w.key("throughput").begin_object();
    w.field("images_per_second", r.images_per_second);
    w.field("bytes_per_second", r.bytes_per_second);
    w.field("pass_seconds", r.pass_seconds);
    w.end_object();
    w.key("rates").begin_object();
    w.field("window_seconds", r.window.window_seconds);
    w.field("images_added", r.window.images_added);
    w.field("images_uploaded", r.window.images_uploaded);
    w.field("bytes_added", r.window.bytes_added);
    w.field("bytes_uploaded", r.window.bytes_uploaded);
    w.field("arrivals_per_hour", r.arrivals_per_hour);
    w.field("uploads_per_hour", r.uploads_per_hour);
    w.field("arrival_bytes_per_hour", r.arrival_bytes_per_hour);
    w.field("upload_bytes_per_hour", r.upload_bytes_per_hour);
    w.end_object();
    w.field("trend", to_string(r.trend));
    w.field("eta_seconds", r.eta_seconds);
    w.field("message", r.message);
    w.end_object();
    std::string out = w.take();
    out.push_back('\n');
    return out;
}

CheckResult check_unknown(std::string_view reason) {
    return CheckResult{3, "IMGSYNC UNKNOWN - " + plugin_text(reason)};
}

CheckResult evaluate_check(const StatusReport& r, const CheckThresholds& t) {
    for (const auto& checked : {check_thresholds("pending", t.warn_pending, t.crit_pending),
                                check_thresholds("age", t.warn_age_seconds, t.crit_age_seconds),
                                check_thresholds("failed", t.warn_failed, t.crit_failed),
                                check_thresholds("success age", t.warn_success_age_seconds,
                                                 t.crit_success_age_seconds)}) {
        if (!checked) {
            return check_unknown(checked.error());
        }
    }
    if (t.crit_failed_passes && *t.crit_failed_passes < 1) {
        return check_unknown("the threshold for failed passes must be at least 1");
    }

    const BacklogCounts& c = r.counts;
    const Verdict pending = judge(c.pending, t.warn_pending, t.crit_pending, show_count);
    const std::int64_t age = r.oldest_pending_age_seconds.value_or(0);
    const Verdict oldest = r.oldest_pending_age_seconds
                               ? judge(age, t.warn_age_seconds, t.crit_age_seconds, show_age)
                               : Verdict{};
    const Verdict failed = judge(c.failed, t.warn_failed, t.crit_failed, show_count);

    // A failed pass is at least a warning: it uploaded nothing it should have, whatever the
    // backlog's size says.
    const std::int64_t failed_passes = r.failed_passes_in_a_row;
    Verdict passes;
    if (failed_passes > 0) {
        passes = judge(failed_passes, Threshold(1),
                       t.crit_failed_passes ? std::optional<Threshold>(*t.crit_failed_passes)
                                            : std::nullopt,
                       show_count);
    }

    const bool success_thresholds = t.warn_success_age_seconds || t.crit_success_age_seconds;
    std::optional<std::int64_t> success_age;
    if (r.last_success_at) {
        success_age = std::max<std::int64_t>(0, r.now - *r.last_success_at);
    }
    Verdict success;
    if (success_age) {
        success =
            judge(*success_age, t.warn_success_age_seconds, t.crit_success_age_seconds, show_age);
    } else if (r.last_finished_run && success_thresholds) {
        // Passes ran, and none of those on record succeeded: older than any threshold.
        success = Verdict{t.crit_success_age_seconds ? 2 : 1, ""};
    }

    // Objects the last verification found missing or changed, not requeued: CRITICAL (S3 no
    // longer holds what the state file says it does) until a verification finds them fine.
    const std::int64_t lost = r.last_verification ? unresolved(r.last_verification->totals) : 0;
    const Verdict verified{lost > 0 ? 2 : 0, ""};

    const int level = std::max(
        {pending.level, oldest.level, failed.level, passes.level, success.level, verified.level});
    static constexpr std::string_view names[] = {"OK", "WARNING", "CRITICAL"};

    std::string line =
        fmt::format("IMGSYNC {} - {} pending{}", names[level], c.pending, pending.note);
    if (r.oldest_pending_age_seconds) {
        line += fmt::format(", oldest {}{}", util::format_duration(age), oldest.note);
    }
    line += fmt::format(", {} failed{}", c.failed, failed.note);
    if (failed_passes > 0) {
        line += failed_passes == 1 ? std::string(", last pass failed")
                                   : fmt::format(", last {} passes failed", failed_passes);
        line += passes.level == 2 ? fmt::format(" (>= {})", *t.crit_failed_passes) : "";
        if (!r.last_finished_run->message.empty()) {
            line += ": " + plugin_text(r.last_finished_run->message);
        }
    }
    if (success_thresholds) {
        if (success_age) {
            line += fmt::format(", last success {} ago{}", util::format_duration(*success_age),
                                success.note);
        } else if (r.last_finished_run) {
            const std::size_t n = r.runs.size();
            line += n == 1 ? std::string(", the only pass on record did not succeed")
                           : fmt::format(", none of the last {} passes succeeded", n);
        }
    }
    if (lost > 0) {
        line += fmt::format(", last verify found {} object{} missing or changed", lost,
                            lost == 1 ? "" : "s");
    }
    line += fmt::format(" | pending={};{};{};0 oldest_age={}s;{};{};0 failed={};{};{};0 "
                        "uploaded={};;;0 failed_passes={};1;{};0",
                        c.pending, threshold(t.warn_pending), threshold(t.crit_pending), age,
                        threshold(t.warn_age_seconds), threshold(t.crit_age_seconds), c.failed,
                        threshold(t.warn_failed), threshold(t.crit_failed), c.uploaded,
                        failed_passes, threshold(t.crit_failed_passes));
    if (success_age) {
        line += fmt::format(" success_age={}s;{};{};0", *success_age,
                            threshold(t.warn_success_age_seconds),
                            threshold(t.crit_success_age_seconds));
    }
    return CheckResult{level, line};
}

} // namespace imgsync::core
