// The fleet in a status report, pure: the passes running now with what they hold, and the
// backlog by host id, as text lines, JSON and Prometheus samples.
#pragma once

#include "model/records.hpp"
#include "util/json.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace imgsync::core {

// The passes running now (recorded as running, and on PostgreSQL with a run lease not expired
// at `now`), the images they hold and the HTTP requests they last reported in flight.
struct RunningPasses {
    std::int64_t passes = 0, images = 0, requests = 0;
};
bool pass_running(const storage::PassRecord& pass, std::int64_t now);
RunningPasses running_passes(const storage::FleetStatus& fleet, std::int64_t now);
// The same by host id, for every host id that has a backlog (FleetStatus::hosts) or a pass
// running; zeros where none runs.
std::map<std::string, RunningPasses> running_by_host(const storage::FleetStatus& fleet,
                                                     std::int64_t now);

// status' "uploading:" text: images claimed, and what the passes running do with them.
std::string uploading_text(std::int64_t claimed, const RunningPasses& running);

// status' lines about the fleet, as (label, text) pairs: one "running" line per pass running
// now, "expired" when leases expired, and "by host" lines when images belong to more than one
// host id (at most `max_hosts`, then how many more).
std::vector<std::pair<std::string, std::string>>
fleet_lines(const storage::FleetStatus& fleet, std::int64_t now, std::size_t max_hosts = 20);

// "passes", "expired_leases" and "hosts" of status --json.
void write_fleet_json(util::JsonWriter& w, const storage::FleetStatus& fleet, std::int64_t now);

} // namespace imgsync::core
