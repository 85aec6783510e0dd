#include "report/fleet.hpp"

#include "model/run_outcome.hpp"
#include "util/text.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace imgsync::core {

using storage::FleetStatus;
using storage::HostBacklog;
using storage::PassRecord;

namespace {

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string host_name(const std::string& host_id) {
    return host_id.empty() ? std::string("(no host id)") : util::printable(host_id);
}

std::string host_text(const HostBacklog& h) {
    return fmt::format("{}: {} pending, {}; {} uploading; {} failed", host_name(h.host_id),
                       h.pending, util::format_bytes(h.bytes_pending), h.uploading, h.failed);
}

} // namespace

bool pass_running(const PassRecord& pass, std::int64_t now) {
    return pass.outcome == RunOutcome::running && !pass.finished_at &&
           (!pass.lease_expires_at || *pass.lease_expires_at >= now);
}

std::map<std::string, RunningPasses> running_by_host(const FleetStatus& fleet, std::int64_t now) {
    std::map<std::string, RunningPasses> by_host;
    for (const HostBacklog& h : fleet.hosts) {
        by_host[h.host_id];
    }
    for (const PassRecord& p : fleet.passes) {
        if (pass_running(p, now)) {
            RunningPasses& r = by_host[p.host_id];
            ++r.passes;
            r.images += p.in_flight;
            r.requests += p.requests;
        }
    }
    return by_host;
}

RunningPasses running_passes(const FleetStatus& fleet, std::int64_t now) {
    RunningPasses total;
    for (const auto& [host, r] : running_by_host(fleet, now)) {
        total.passes += r.passes;
        total.images += r.images;
        total.requests += r.requests;
    }
    return total;
}

std::string uploading_text(std::int64_t claimed, const RunningPasses& running) {
    if (running.passes == 0) {
        return claimed == 0 ? std::string("0 images")
                            : fmt::format("{} claimed, no pass running (the next pass takes "
                                          "them back)",
                                          plural(claimed, "image", "images"));
    }
    return fmt::format("{} claimed, {} in flight ({} running)", plural(claimed, "image", "images"),
                       plural(running.requests, "request", "requests"),
                       plural(running.passes, "pass", "passes"));
}

std::vector<std::pair<std::string, std::string>>
fleet_lines(const FleetStatus& fleet, std::int64_t now, std::size_t max_hosts) {
    std::vector<std::pair<std::string, std::string>> lines;
    for (const PassRecord& p : fleet.passes) {
        if (!pass_running(p, now)) {
            continue;
        }
        std::string text = fmt::format(
            "#{} on {} (pid {}) for {}: {} held, {} in flight", p.run_id, host_name(p.host_id),
            p.pid, util::format_duration(std::max<std::int64_t>(0, now - p.started_at)),
            plural(p.in_flight, "image", "images"), plural(p.requests, "request", "requests"));
        if (p.lease_expires_at) {
            text += fmt::format(", lease until {}", util::iso8601_utc(*p.lease_expires_at));
        }
        lines.emplace_back("running", std::move(text));
    }
    if (fleet.expired_leases > 0) {
        lines.emplace_back("expired",
                           fmt::format("{} whose lease expired (any pass takes them over)",
                                       plural(fleet.expired_leases, "image", "images")));
    }
    if (fleet.hosts.size() > 1) {
        for (std::size_t i = 0; i < fleet.hosts.size() && i < max_hosts; ++i) {
            lines.emplace_back(i == 0 ? "by host" : "", host_text(fleet.hosts[i]));
        }
        if (fleet.hosts.size() > max_hosts) {
            lines.emplace_back("", fmt::format("and {} more host ids (status --json lists them)",
                                               fleet.hosts.size() - max_hosts));
        }
    }
    return lines;
}

void write_fleet_json(util::JsonWriter& w, const FleetStatus& fleet, std::int64_t now) {
    w.key("passes").begin_array();
    for (const PassRecord& p : fleet.passes) {
        w.begin_object();
        w.field("run", p.run_id);
        w.field("host_id", p.host_id);
        w.field("pid", p.pid);
        w.field("started_at", util::iso8601_utc(p.started_at));
        w.field("finished_at", util::iso8601_utc(p.finished_at));
        w.field("outcome", std::string(to_string(p.outcome)));
        const bool running = pass_running(p, now);
        w.field("running", running);
        w.field("in_flight", p.in_flight);
        w.field("requests_in_flight", running ? p.requests : 0);
        w.field("lease_expires_at", util::iso8601_utc(p.lease_expires_at));
        w.end_object();
    }
    w.end_array();
    w.field("expired_leases", fleet.expired_leases);
    w.key("hosts").begin_array();
    for (const HostBacklog& h : fleet.hosts) {
        w.begin_object();
        w.field("host_id", h.host_id);
        w.key("counts").begin_object();
        w.field("pending", h.pending);
        w.field("uploading", h.uploading);
        w.field("failed", h.failed);
        w.end_object();
        w.key("bytes").begin_object();
        w.field("pending", h.bytes_pending);
        w.field("uploading", h.bytes_uploading);
        w.field("failed", h.bytes_failed);
        w.end_object();
        w.end_object();
    }
    w.end_array();
}

} // namespace imgsync::core
