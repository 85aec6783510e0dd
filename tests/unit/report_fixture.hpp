// The status report's test fixture: a clock, passes, a backlog and a day of activity, shared by
// test_report.cpp and test_report_check.cpp.
#pragma once

#include "report/report.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace report_fixture {

using namespace imgsync::core;

constexpr std::int64_t now = 1795878245; // 2026-11-28T15:04:05Z
constexpr std::uint64_t MiB = 1024 * 1024;

inline RunRecord run(std::int64_t id, std::int64_t started_ago,
                     std::optional<std::int64_t> finished_ago, std::int64_t uploaded,
                     std::int64_t failed, std::uint64_t bytes, std::string outcome,
                     std::string message = "") {
    RunRecord r;
    r.id = id;
    r.started_at = now - started_ago;
    if (finished_ago) {
        r.finished_at = now - *finished_ago;
    }
    r.uploaded = uploaded;
    r.failed = failed;
    r.bytes = bytes;
    r.outcome = imgsync::core::parse_run_outcome(outcome).value();
    r.message = std::move(message);
    return r;
}

inline BacklogCounts backlog(std::int64_t pending) {
    BacklogCounts c;
    c.pending = pending;
    c.uploaded = 5000;
    c.bytes_pending = static_cast<std::uint64_t>(pending) * MiB;
    c.bytes_uploaded = 5000 * MiB;
    if (pending > 0) {
        c.oldest_pending_added_at = now - 180;
    }
    return c;
}

inline std::vector<RunRecord> three_runs() {
    RunRecord newest = run(42, 300, 210, 100, 0, 10 * MiB, "ok");
    newest.retried = 2;
    return {newest, run(41, 1200, 1140, 50, 1, 5 * MiB, "partial", "1 upload failed"),
            run(40, 2100, 2099, 0, 0, 0, "ok")};
}

inline ArrivalWindow day(std::int64_t added, std::int64_t uploaded) {
    return ArrivalWindow{86400,
                         added,
                         static_cast<std::uint64_t>(added) * MiB,
                         uploaded,
                         static_cast<std::uint64_t>(uploaded) * MiB,
                         {}};
}

// 120/h in, 80/h out over a day, 1500 waiting.
inline StatusReport growing() {
    return compute_status(backlog(1500), three_runs(), day(2880, 1920), now);
}

} // namespace report_fixture
