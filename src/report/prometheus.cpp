// render_prometheus: the status report as Prometheus text exposition (node_exporter's textfile
// collector).
#include "report/report.hpp"

#include "report/fleet.hpp"

#include "util/build_info.hpp"

#include <fmt/format.h>

#include <iterator>

namespace imgsync::core {

namespace {

class Exposition {
  public:
    void header(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                       type);
    }
    template <typename T> void sample(std::string_view name, T value) {
        fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
    }
    template <typename T> void sample(std::string_view name, std::string_view label, T value) {
        fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, label, value);
    }
    template <typename T>
    void gauge(std::string_view name, std::string_view help, const std::optional<T>& value) {
        if (value) {
            header(name, "gauge", help);
            sample(name, *value);
        }
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// A label's value as the exposition format quotes it: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
    std::string out;
    for (char ch : v) {
        if (ch == '\\' || ch == '"') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else {
            out += ch;
        }
    }
    return out;
}

std::string host_label(const std::string& host_id) {
    return fmt::format("host_id=\"{}\"", label_value(host_id));
}

// Per host id: the backlog registered with it, and the passes it runs now with their requests
// in flight (0 for a host id with a backlog and no pass running, so alerts need no absent()).
void host_samples(Exposition& e, const FleetStatus& fleet, std::int64_t now) {
    if (!fleet.hosts.empty()) {
        const auto states = [&e](std::string_view name, const std::string& host, auto pending,
                                 auto uploading, auto failed) {
            e.sample(name, host + ",state=\"pending\"", pending);
            e.sample(name, host + ",state=\"uploading\"", uploading);
            e.sample(name, host + ",state=\"failed\"", failed);
        };
        e.header("imgsync_host_images", "gauge",
                 "Images not uploaded yet by the host id that registered them, by upload state.");
        for (const auto& h : fleet.hosts) {
            states("imgsync_host_images", host_label(h.host_id), h.pending, h.uploading, h.failed);
        }
        e.header("imgsync_host_bytes", "gauge",
                 "Bytes of images not uploaded yet by the host id that registered them, by state.");
        for (const auto& h : fleet.hosts) {
            states("imgsync_host_bytes", host_label(h.host_id), h.bytes_pending, h.bytes_uploading,
                   h.bytes_failed);
        }
    }
    const auto by_host = running_by_host(fleet, now);
    if (by_host.empty()) {
        return;
    }
    e.header("imgsync_passes_running", "gauge", "Upload passes running now, by host id.");
    for (const auto& [id, r] : by_host) {
        e.sample("imgsync_passes_running", host_label(id), r.passes);
    }
    e.header("imgsync_requests_in_flight", "gauge",
             "HTTP requests the running passes have in flight (about a second old), by host id.");
    for (const auto& [id, r] : by_host) {
        e.sample("imgsync_requests_in_flight", host_label(id), r.requests);
    }
}

} // namespace

std::string render_prometheus(const StatusReport& r) {
    Exposition e;
    const BacklogCounts& c = r.counts;
    e.header("imgsync_images", "gauge", "Images in the state file by upload state.");
    e.sample("imgsync_images", "state=\"pending\"", c.pending);
    e.sample("imgsync_images", "state=\"uploading\"", c.uploading);
    e.sample("imgsync_images", "state=\"uploaded\"", c.uploaded);
    e.sample("imgsync_images", "state=\"failed\"", c.failed);
    e.header("imgsync_bytes", "gauge", "Bytes of image data in the state file by upload state.");
    e.sample("imgsync_bytes", "state=\"pending\"", c.bytes_pending);
    e.sample("imgsync_bytes", "state=\"uploading\"", c.bytes_uploading);
    e.sample("imgsync_bytes", "state=\"uploaded\"", c.bytes_uploaded);
    e.sample("imgsync_bytes", "state=\"failed\"", c.bytes_failed);
    e.gauge("imgsync_pruned_images",
            "Uploaded images whose local file was deleted or moved (--after-upload, prune).",
            std::optional<std::int64_t>(c.pruned));
    e.gauge("imgsync_uploaded_local_bytes",
            "Bytes of uploaded images whose local file is still there (not pruned).",
            std::optional<std::uint64_t>(c.bytes_uploaded - c.bytes_pruned));
    // 0 rather than absent when nothing waits, so "age > X" alerts need no absent() clause.
    e.gauge("imgsync_oldest_pending_age_seconds",
            "Seconds the oldest pending image has waited; 0 when none is pending.",
            std::optional<std::int64_t>(r.oldest_pending_age_seconds.value_or(0)));

    e.gauge("imgsync_rate_window_seconds", "Window the hourly rates are measured over.",
            std::optional<std::int64_t>(r.window.window_seconds));
    e.gauge("imgsync_arrivals_per_hour", "Images added per hour over the rate window.",
            r.arrivals_per_hour);
    e.gauge("imgsync_uploads_per_hour", "Images uploaded per hour over the rate window.",
            r.uploads_per_hour);
    e.header("imgsync_backlog_trend", "gauge",
             "1 for the current backlog trend over the rate window, 0 for the others.");
    for (const Trend t :
         {Trend::draining, Trend::growing, Trend::steady, Trend::empty, Trend::unknown}) {
        e.sample("imgsync_backlog_trend", fmt::format("trend=\"{}\"", to_string(t)),
                 t == r.trend ? 1 : 0);
    }
    e.gauge("imgsync_backlog_eta_seconds",
            "Estimated seconds until the backlog is empty at the current rates.", r.eta_seconds);
    e.gauge("imgsync_pass_images_per_second", "Images uploaded per second while recent passes ran.",
            r.images_per_second);
    e.gauge("imgsync_pass_bytes_per_second", "Bytes uploaded per second while recent passes ran.",
            r.bytes_per_second);

    e.gauge("imgsync_run_in_progress", "1 while an upload pass is running.",
            std::optional<int>(r.run_in_progress ? 1 : 0));
    host_samples(e, r.fleet, r.now);
    if (r.last_finished_run) {
        // The last finished pass, so a pass running at scrape time does not flap these.
        const RunRecord& run = *r.last_finished_run;
        e.gauge("imgsync_last_run_timestamp_seconds", "When the last finished pass ended.",
                run.finished_at);
        e.gauge("imgsync_last_run_duration_seconds", "How long the last finished pass ran.",
                run_duration(run));
        e.gauge("imgsync_last_run_uploaded", "Images the last finished pass uploaded.",
                std::optional<std::int64_t>(run.uploaded));
        e.gauge("imgsync_last_run_failed", "Images that failed in the last finished pass.",
                std::optional<std::int64_t>(run.failed));
        e.gauge("imgsync_last_run_success",
                "1 if the last finished pass ended ok, at its limit or at its deadline.",
                std::optional<int>(run_succeeded(run) ? 1 : 0));
    }
    e.gauge("imgsync_last_success_timestamp_seconds", "When the newest successful pass ended.",
            r.last_success_at);
    if (r.last_verification) {
        const VerificationRecord& v = *r.last_verification;
        e.gauge("imgsync_verify_last_timestamp_seconds", "When the last imgsync verify ended.",
                std::optional<std::int64_t>(v.finished_at));
        e.header("imgsync_verify_objects", "gauge",
                 "Objects the last imgsync verify checked, by what it found.");
        e.sample("imgsync_verify_objects", "result=\"ok\"", v.totals.ok);
        e.sample("imgsync_verify_objects", "result=\"missing\"", v.totals.missing);
        e.sample("imgsync_verify_objects", "result=\"changed\"", v.totals.changed);
        e.sample("imgsync_verify_objects", "result=\"unverified\"", v.totals.unverified);
        e.gauge("imgsync_verify_unresolved",
                "Objects the last imgsync verify found missing or changed and did not requeue.",
                std::optional<std::int64_t>(unresolved(v.totals)));
    }
    // Build-time constants (the commit's characters are [A-Za-z0-9._+~-], no label escaping).
    const std::string_view commit = util::build_commit();
    e.header("imgsync_build_info", "gauge",
             "Always 1; the labels name the imgsync version and the commit it was built from.");
    e.sample("imgsync_build_info",
             fmt::format("version=\"{}\",commit=\"{}\"", util::build_version(),
                         commit.empty() ? "unknown" : commit),
             1);
    return e.take();
}

} // namespace imgsync::core
