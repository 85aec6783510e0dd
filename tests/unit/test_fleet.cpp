// The fleet in status (report/fleet): which passes run now, what they hold and request, the
// backlog by host id, in text, JSON and Prometheus.
#include "report/fleet.hpp"
#include "report/report.hpp"

#include <cstdint>
#include <string>

#include <doctest/doctest.h>

using namespace imgsync::core;
using imgsync::storage::HostBacklog;

namespace {

constexpr std::int64_t now = 1795878245; // 2026-11-28T15:04:05Z

PassRecord pass(std::int64_t run, const std::string& host, std::int64_t held,
                std::int64_t requests) {
    PassRecord p;
    p.run_id = run;
    p.host_id = host;
    p.pid = 4000 + run;
    p.started_at = now - 130;
    p.in_flight = held;
    p.requests = requests;
    return p;
}

FleetStatus two_hosts() {
    FleetStatus f;
    PassRecord a = pass(43, "host-a", 8, 4);
    a.lease_expires_at = now + 50;
    PassRecord b = pass(44, "host-b", 2, 1);
    PassRecord dead = pass(41, "host-c", 5, 3); // its run lease expired: not running
    dead.lease_expires_at = now - 1;
    PassRecord done = pass(40, "host-a", 0, 0);
    done.finished_at = now - 200;
    done.outcome = RunOutcome::ok;
    f.passes = {b, a, dead, done};
    f.expired_leases = 5;
    f.hosts = {HostBacklog{"host-a", 100, 8, 2, 1000, 80, 20},
               HostBacklog{"host-b", 7, 2, 0, 70, 20, 0}};
    return f;
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("running passes: recorded running, without an expired run lease") {
    const FleetStatus f = two_hosts();
    CHECK(pass_running(f.passes[0], now));
    CHECK(pass_running(f.passes[1], now));
    CHECK_FALSE(pass_running(f.passes[2], now));
    CHECK_FALSE(pass_running(f.passes[3], now));
    const RunningPasses r = running_passes(f, now);
    CHECK(r.passes == 2);
    CHECK(r.images == 10);
    CHECK(r.requests == 5);
    const auto by_host = running_by_host(f, now);
    REQUIRE(by_host.size() == 2); // host-c has neither a backlog nor a live pass
    CHECK(by_host.at("host-a").requests == 4);
    CHECK(by_host.at("host-b").passes == 1);
}

TEST_CASE("uploading: images claimed against requests in flight") {
    CHECK(uploading_text(0, {}) == "0 images");
    CHECK(uploading_text(3, {}) == "3 images claimed, no pass running (the next pass takes them "
                                   "back)");
    CHECK(uploading_text(12, {2, 12, 5}) == "12 images claimed, 5 requests in flight (2 passes "
                                            "running)");
    CHECK(uploading_text(1, {1, 1, 1}) == "1 image claimed, 1 request in flight (1 pass running)");
}

TEST_CASE("the fleet's text lines: running passes, expired leases, the backlog by host") {
    const auto lines = fleet_lines(two_hosts(), now);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].first == "running");
    CHECK(lines[0].second == "#44 on host-b (pid 4044) for 2m 10s: 2 images held, 1 request in "
                             "flight");
    CHECK(lines[1].second == "#43 on host-a (pid 4043) for 2m 10s: 8 images held, 4 requests in "
                             "flight, lease until 2026-11-28T15:04:55Z");
    CHECK(lines[2] == std::pair<std::string, std::string>(
                          "expired", "5 images whose lease expired (any pass takes them over)"));
    CHECK(lines[3].first == "by host");
    CHECK(lines[3].second == "host-a: 100 pending, 1000 B; 8 uploading; 2 failed");
    CHECK(lines[4].first.empty());
    CHECK(lines[4].second == "host-b: 7 pending, 70 B; 2 uploading; 0 failed");

    // One host id says nothing a total does not; past max_hosts, how many more.
    FleetStatus one;
    one.hosts = {HostBacklog{"solo", 1, 0, 0, 1, 0, 0}};
    CHECK(fleet_lines(one, now).empty());
    const auto capped = fleet_lines(two_hosts(), now, 1);
    CHECK(capped.back().second == "and 1 more host ids (status --json lists them)");
}

TEST_CASE("status text and JSON carry the fleet") {
    StatusReport r = compute_status(BacklogCounts{}, {}, ArrivalWindow{}, now);
    r.counts.uploading = 10;
    r.fleet = two_hosts();
    const std::string text = render_status_text(r);
    CHECK(text.find("uploading:   10 images claimed, 5 requests in flight (2 passes running)\n"
                    "uploaded:") != std::string::npos);
    CHECK(text.find("\nrunning:     #44 on host-b") != std::string::npos);
    CHECK(text.find("\nby host:     host-a: 100 pending, 1000 B; 8 uploading; 2 failed\n"
                    "             host-b: 7 pending") != std::string::npos);

    const std::string json = render_status_json(r, imgsync::util::JsonWriter::Style::compact);
    CHECK(json.find(R"("in_flight":{"passes":2,"images":10,"requests":5},)") != std::string::npos);
    CHECK(json.find(R"({"run":43,"host_id":"host-a","pid":4043,)"
                    R"("started_at":"2026-11-28T15:01:55Z","finished_at":null,)"
                    R"("outcome":"running","running":true,"in_flight":8,"requests_in_flight":4,)"
                    R"("lease_expires_at":"2026-11-28T15:04:55Z"})") != std::string::npos);
    // A pass whose run lease expired reports no requests, whatever it wrote last.
    CHECK(json.find(R"("outcome":"running","running":false,"in_flight":5,)"
                    R"("requests_in_flight":0,)") != std::string::npos);
    CHECK(json.find(R"("expired_leases":5,"hosts":[{"host_id":"host-a",)"
                    R"("counts":{"pending":100,"uploading":8,"failed":2},)"
                    R"("bytes":{"pending":1000,"uploading":80,"failed":20}},)") !=
          std::string::npos);
}

TEST_CASE("metrics per host id, with label values escaped") {
    StatusReport r = compute_status(BacklogCounts{}, {}, ArrivalWindow{}, now);
    r.fleet = two_hosts();
    r.fleet.hosts.push_back(HostBacklog{"we\"ird\\host\n", 1, 0, 0, 5, 0, 0});
    const std::string m = render_prometheus(r);
    CHECK(m.find("imgsync_host_images{host_id=\"host-a\",state=\"pending\"} 100\n") !=
          std::string::npos);
    CHECK(m.find("imgsync_host_bytes{host_id=\"host-b\",state=\"uploading\"} 20\n") !=
          std::string::npos);
    CHECK(m.find("imgsync_host_images{host_id=\"we\\\"ird\\\\host\\n\",state=\"pending\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("imgsync_passes_running{host_id=\"host-a\"} 1\n") != std::string::npos);
    CHECK(m.find("imgsync_requests_in_flight{host_id=\"host-a\"} 4\n") != std::string::npos);
    // A host id with a backlog and no pass running reads 0, not absent.
    CHECK(m.find("imgsync_passes_running{host_id=\"we\\\"ird\\\\host\\n\"} 0\n") !=
          std::string::npos);
    CHECK(m.find("host-c") == std::string::npos);
    // Nothing per host before anything is registered.
    CHECK(render_prometheus(compute_status(BacklogCounts{}, {}, ArrivalWindow{}, now))
              .find("imgsync_host_") == std::string::npos);
}

TEST_SUITE_END();
