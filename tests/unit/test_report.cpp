#include "report/report.hpp"
#include "report_fixture.hpp"
#include "util/build_info.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace imgsync::core;

using namespace report_fixture;

TEST_SUITE_BEGIN("report");

TEST_CASE("growing backlog: rates, throughput and no ETA") {
    const StatusReport r = growing();
    CHECK(r.trend == Trend::growing);
    CHECK(r.oldest_pending_age_seconds == 180);
    REQUIRE(r.last_run);
    CHECK(r.last_run->id == 42);
    CHECK(r.last_finished_run->id == 42);
    CHECK(r.last_success_at == now - 210);
    CHECK_FALSE(r.run_in_progress);
    // Runs 42 and 41 did work (150 images in 150 s); run 40 found nothing and is left out.
    CHECK(r.pass_seconds == 150);
    CHECK(r.images_per_second == doctest::Approx(1.0));
    CHECK(r.bytes_per_second == doctest::Approx(15.0 * MiB / 150));
    CHECK(r.arrivals_per_hour == doctest::Approx(120));
    CHECK(r.uploads_per_hour == doctest::Approx(80));
    CHECK_FALSE(r.eta_seconds.has_value());
    CHECK(r.message == "new images arrive faster than they are uploaded: 120/h in, 80/h out");
}

TEST_CASE("draining backlog gets an ETA from the net wall-clock rate") {
    const StatusReport r = compute_status(backlog(1500), three_runs(), day(1920, 2880), now);
    CHECK(r.trend == Trend::draining);
    // 1500 / (120/h - 80/h) = 37.5 h
    CHECK(r.eta_seconds == 135000);
    CHECK(r.message == "uploads outpace arrivals (80/h in, 120/h out); empty in about 1d 13h");
}

TEST_CASE("ETA rounds up and counts images a pass has claimed") {
    BacklogCounts c = backlog(0);
    c.uploading = 3;
    const StatusReport r =
        compute_status(c, three_runs(), ArrivalWindow{3600, 0, 0, 7, 0, {}}, now);
    CHECK(r.trend == Trend::draining);
    CHECK(r.eta_seconds == 1543); // 3 * 3600 / 7 = 1542.9
    CHECK_FALSE(r.oldest_pending_age_seconds.has_value());
}

TEST_CASE("steady: stalled, and keeping pace") {
    const StatusReport stalled =
        compute_status(backlog(1500), three_runs(), ArrivalWindow{3600, 0, 0, 0, 0, {}}, now);
    CHECK(stalled.trend == Trend::steady);
    CHECK_FALSE(stalled.eta_seconds.has_value());
    CHECK(stalled.message ==
          "nothing was uploaded in the last 1h; the backlog (1500 images) is not draining");

    const StatusReport pace =
        compute_status(backlog(1), three_runs(), ArrivalWindow{5400, 150, 0, 150, 0, {}}, now);
    CHECK(pace.trend == Trend::steady);
    CHECK(pace.message ==
          "uploads only keep pace with arrivals (100/h in, 100/h out); the backlog (1 image) is "
          "not shrinking");
}

TEST_CASE("empty and unknown") {
    const StatusReport empty = compute_status(backlog(0), {}, day(10, 10), now);
    CHECK(empty.trend == Trend::empty);
    CHECK(empty.eta_seconds == 0);
    CHECK(empty.message == "the backlog is empty");

    const StatusReport first = compute_status(backlog(12), {}, day(12, 0), now);
    CHECK(first.trend == Trend::unknown);
    CHECK(first.message == "no upload pass has run yet; the backlog is 12 images");
    CHECK_FALSE(first.images_per_second.has_value());
    CHECK_FALSE(first.last_run.has_value());

    const StatusReport no_window =
        compute_status(backlog(12), three_runs(), ArrivalWindow{0, 0, 0, 0, 0, {}}, now);
    CHECK(no_window.trend == Trend::unknown);
    CHECK_FALSE(no_window.arrivals_per_hour.has_value());
    CHECK(no_window.message == "no time window to measure arrival and upload rates over");
}

TEST_CASE("runs are ordered newest first and a running pass is not a finished one") {
    std::vector<RunRecord> runs = three_runs();
    runs.push_back(run(43, 60, std::nullopt, 0, 0, 0, "running"));
    std::swap(runs[0], runs[2]);
    const StatusReport r = compute_status(backlog(5), runs, day(0, 0), now);
    REQUIRE(r.runs.size() == 4);
    CHECK(r.runs[0].id == 43);
    CHECK(r.runs[1].id == 42);
    CHECK(r.runs[3].id == 40);
    CHECK(r.run_in_progress);
    CHECK(r.last_run->id == 43);
    CHECK(r.last_finished_run->id == 42);
    CHECK(r.pass_seconds == 150);
}

TEST_CASE("a pass that did work within one second counts as one second") {
    const std::vector<RunRecord> runs{run(3, 50, 50, 4, 0, 4000, "ok")};
    const StatusReport r = compute_status(backlog(1), runs, day(0, 0), now);
    CHECK(r.pass_seconds == 1);
    CHECK(r.images_per_second == doctest::Approx(4.0));
    CHECK(r.bytes_per_second == doctest::Approx(4000.0));
}

TEST_CASE("success means ok, limit or deadline; durations never go negative") {
    CHECK(run_succeeded(run(1, 10, 5, 0, 0, 0, "limit")));
    CHECK(run_succeeded(run(1, 10, 5, 0, 0, 0, "deadline")));
    CHECK_FALSE(run_succeeded(run(1, 10, 5, 0, 0, 0, "partial")));
    CHECK_FALSE(run_succeeded(run(1, 10, 5, 0, 0, 0, "interrupted")));
    CHECK_FALSE(run_succeeded(run(1, 10, 5, 0, 0, 0, "crashed")));
    CHECK_FALSE(run_succeeded(run(1, 10, std::nullopt, 0, 0, 0, "ok")));
    CHECK(run_duration(run(1, 10, 15, 0, 0, 0, "ok")) == 0);
    BacklogCounts c = backlog(1);
    c.oldest_pending_added_at = now + 30;
    CHECK(compute_status(c, {}, day(0, 0), now).oldest_pending_age_seconds == 0);
}

TEST_CASE("a measured pass: its duration and speed with the logs' precision") {
    // 3 images in 0.009 s is 333 images/s, not "3 images/s" from a whole second.
    RunRecord quick = run(7, 10, 10, 3, 0, 3 * MiB, "ok");
    quick.seconds = 0.009;
    const StatusReport r = compute_status(backlog(0), {quick}, day(0, 3), now);
    CHECK(r.pass_seconds == doctest::Approx(0.009));
    REQUIRE(r.images_per_second);
    CHECK(*r.images_per_second == doctest::Approx(333.333).epsilon(0.001));
    CHECK(run_duration(quick) == doctest::Approx(0.009));
    const std::string text = render_status_text(r);
    CHECK(text.find("took 0.009s: 3 uploaded") != std::string::npos);
    CHECK(text.find("pass speed:  333 images/s") != std::string::npos);
    CHECK(render_status_json(r, imgsync::util::JsonWriter::Style::compact)
              .find(R"("duration_seconds":0.009,)") != std::string::npos);
    CHECK(render_prometheus(r).find("imgsync_last_run_duration_seconds 0.009\n") !=
          std::string::npos);
}

TEST_CASE("text summary") {
    CHECK(render_status_text(growing()) ==
          "pending:     1500 images, 1.4 GiB, oldest waiting 3m 00s\n"
          "uploading:   0 images\n"
          "uploaded:    5000 images, 4.8 GiB\n"
          "failed:      0 images\n"
          "last pass:   #42 ok, started 2026-11-28T14:59:05Z (5m 00s ago), took 1m 30s: "
          "100 uploaded, 0 failed, 10 MiB\n"
          "pass speed:  1 images/s, 102.3 KiB/s while passes run\n"
          "last 24h:    120/h in, 80/h out (2880 added, 1920 uploaded)\n"
          "trend:       growing: new images arrive faster than they are uploaded: "
          "120/h in, 80/h out\n");
}

TEST_CASE("text summary before the first pass, with failures and a running pass") {
    BacklogCounts c = backlog(12);
    c.failed = 3;
    c.bytes_failed = 3 * MiB;
    CHECK(render_status_text(compute_status(c, {}, day(60, 0), now)) ==
          "pending:     12 images, 12 MiB, oldest waiting 3m 00s\n"
          "uploading:   0 images\n"
          "uploaded:    5000 images, 4.8 GiB\n"
          "failed:      3 images, 3 MiB (imgsync list --state failed; imgsync retry --all)\n"
          "last pass:   none yet\n"
          "pass speed:  unknown (no recent pass uploaded anything)\n"
          "last 24h:    2.5/h in, 0/h out (60 added, 0 uploaded)\n"
          "trend:       unknown: no upload pass has run yet; the backlog is 12 images\n");

    const std::vector<RunRecord> runs{run(7, 75, std::nullopt, 0, 0, 0, "running", "a\nb")};
    const std::string text =
        render_status_text(compute_status(c, runs, ArrivalWindow{1000000, 1, 0, 0, 0, {}}, now));
    CHECK(text.find("last pass:   #7 running since 2026-11-28T15:02:50Z (1m 15s) (a\\nb)\n") !=
          std::string::npos);
    CHECK(text.find("last 1000000s: <0.01/h in, 0/h out (1 added, 0 uploaded)\n") !=
          std::string::npos);
}

TEST_CASE("json status, compact") {
    const std::string run42 =
        R"({"id":42,"started_at":"2026-11-28T14:59:05Z","finished_at":"2026-11-28T15:00:35Z",)"
        R"("duration_seconds":90,"uploaded":100,"failed":0,"retried":2,"bytes":10485760,)"
        R"("outcome":"ok","message":""})";
    const std::string expected =
        R"({"generated_at":"2026-11-28T15:04:05Z",)"
        R"("counts":{"pending":1500,"uploading":0,"uploaded":5000,"failed":0,"pruned":0},)"
        R"("bytes":{"pending":1572864000,"uploading":0,"uploaded":5242880000,"failed":0,"pruned":0,)"
        R"("uploaded_on_local_disk":5242880000},)"
        R"("oldest_pending_age_seconds":180,"refused_files":0,"last_run":)" +
        run42 + R"(,"last_success_at":"2026-11-28T15:00:35Z","runs":[)" + run42 +
        R"(,{"id":41,"started_at":"2026-11-28T14:44:05Z","finished_at":"2026-11-28T14:45:05Z",)"
        R"("duration_seconds":60,"uploaded":50,"failed":1,"retried":0,"bytes":5242880,)"
        R"("outcome":"partial","message":"1 upload failed"},)"
        R"({"id":40,"started_at":"2026-11-28T14:29:05Z","finished_at":"2026-11-28T14:29:06Z",)"
        R"("duration_seconds":1,"uploaded":0,"failed":0,"retried":0,"bytes":0,)"
        R"("outcome":"ok","message":""}],)"
        R"("in_flight":{"passes":0,"images":0,"requests":0},)"
        R"("passes":[],"expired_leases":0,"hosts":[],"last_verification":null,)"
        R"("throughput":{"images_per_second":1,"bytes_per_second":104857.6,"pass_seconds":150},)"
        R"("rates":{"window_seconds":86400,"images_added":2880,"images_uploaded":1920,)"
        R"("bytes_added":3019898880,"bytes_uploaded":2013265920,"arrivals_per_hour":120,)"
        R"("uploads_per_hour":80,"arrival_bytes_per_hour":125829120,)"
        R"("upload_bytes_per_hour":83886080},)"
        R"("trend":"growing","eta_seconds":null,)"
        R"("message":"new images arrive faster than they are uploaded: 120/h in, 80/h out"})"
        "\n";
    CHECK(render_status_json(growing(), imgsync::util::JsonWriter::Style::compact) == expected);
}

TEST_CASE("json status, pretty, before the first pass") {
    const StatusReport r = compute_status(BacklogCounts{}, {}, ArrivalWindow{}, now);
    CHECK(render_status_json(r) == R"({
  "generated_at": "2026-11-28T15:04:05Z",
  "counts": {
    "pending": 0,
    "uploading": 0,
    "uploaded": 0,
    "failed": 0,
    "pruned": 0
  },
  "bytes": {
    "pending": 0,
    "uploading": 0,
    "uploaded": 0,
    "failed": 0,
    "pruned": 0,
    "uploaded_on_local_disk": 0
  },
  "oldest_pending_age_seconds": null,
  "refused_files": 0,
  "last_run": null,
  "last_success_at": null,
  "runs": [],
  "in_flight": {
    "passes": 0,
    "images": 0,
    "requests": 0
  },
  "passes": [],
  "expired_leases": 0,
  "hosts": [],
  "last_verification": null,
  "throughput": {
    "images_per_second": null,
    "bytes_per_second": null,
    "pass_seconds": 0
  },
  "rates": {
    "window_seconds": 0,
    "images_added": 0,
    "images_uploaded": 0,
    "bytes_added": 0,
    "bytes_uploaded": 0,
    "arrivals_per_hour": null,
    "uploads_per_hour": null,
    "arrival_bytes_per_hour": null,
    "upload_bytes_per_hour": null
  },
  "trend": "empty",
  "eta_seconds": 0,
  "message": "the backlog is empty"
}
)");
}

// The last metric: the build's own version and commit.
static std::string build_info_lines() {
    const std::string commit = imgsync::util::build_commit();
    return std::string(
               "# HELP imgsync_build_info Always 1; the labels name the imgsync version and "
               "the commit it was built from.\n"
               "# TYPE imgsync_build_info gauge\n"
               "imgsync_build_info{version=\"") +
           imgsync::util::build_version() + "\",commit=\"" + (commit.empty() ? "unknown" : commit) +
           "\"} 1\n";
}

TEST_CASE("prometheus textfile") {
    CHECK(render_prometheus(growing()) ==
          "# HELP imgsync_images Images in the state file by upload state.\n"
          "# TYPE imgsync_images gauge\n"
          "imgsync_images{state=\"pending\"} 1500\n"
          "imgsync_images{state=\"uploading\"} 0\n"
          "imgsync_images{state=\"uploaded\"} 5000\n"
          "imgsync_images{state=\"failed\"} 0\n"
          "# HELP imgsync_bytes Bytes of image data in the state file by upload state.\n"
          "# TYPE imgsync_bytes gauge\n"
          "imgsync_bytes{state=\"pending\"} 1572864000\n"
          "imgsync_bytes{state=\"uploading\"} 0\n"
          "imgsync_bytes{state=\"uploaded\"} 5242880000\n"
          "imgsync_bytes{state=\"failed\"} 0\n"
          "# HELP imgsync_pruned_images Uploaded images whose local file was deleted or moved "
          "(--after-upload, prune).\n"
          "# TYPE imgsync_pruned_images gauge\n"
          "imgsync_pruned_images 0\n"
          "# HELP imgsync_uploaded_local_bytes Bytes of uploaded images whose local file is "
          "still there (not pruned).\n"
          "# TYPE imgsync_uploaded_local_bytes gauge\n"
          "imgsync_uploaded_local_bytes 5242880000\n"
          "# HELP imgsync_oldest_pending_age_seconds Seconds the oldest pending image has "
          "waited; "
          "0 when none is pending.\n"
          "# TYPE imgsync_oldest_pending_age_seconds gauge\n"
          "imgsync_oldest_pending_age_seconds 180\n"
          "# HELP imgsync_rate_window_seconds Window the hourly rates are measured over.\n"
          "# TYPE imgsync_rate_window_seconds gauge\n"
          "imgsync_rate_window_seconds 86400\n"
          "# HELP imgsync_arrivals_per_hour Images added per hour over the rate window.\n"
          "# TYPE imgsync_arrivals_per_hour gauge\n"
          "imgsync_arrivals_per_hour 120\n"
          "# HELP imgsync_uploads_per_hour Images uploaded per hour over the rate window.\n"
          "# TYPE imgsync_uploads_per_hour gauge\n"
          "imgsync_uploads_per_hour 80\n"
          "# HELP imgsync_backlog_trend 1 for the current backlog trend over the rate window, 0 "
          "for the others.\n"
          "# TYPE imgsync_backlog_trend gauge\n"
          "imgsync_backlog_trend{trend=\"draining\"} 0\n"
          "imgsync_backlog_trend{trend=\"growing\"} 1\n"
          "imgsync_backlog_trend{trend=\"steady\"} 0\n"
          "imgsync_backlog_trend{trend=\"empty\"} 0\n"
          "imgsync_backlog_trend{trend=\"unknown\"} 0\n"
          "# HELP imgsync_pass_images_per_second Images uploaded per second while recent passes "
          "ran.\n"
          "# TYPE imgsync_pass_images_per_second gauge\n"
          "imgsync_pass_images_per_second 1\n"
          "# HELP imgsync_pass_bytes_per_second Bytes uploaded per second while recent passes "
          "ran.\n"
          "# TYPE imgsync_pass_bytes_per_second gauge\n"
          "imgsync_pass_bytes_per_second 104857.6\n"
          "# HELP imgsync_run_in_progress 1 while an upload pass is running.\n"
          "# TYPE imgsync_run_in_progress gauge\n"
          "imgsync_run_in_progress 0\n"
          "# HELP imgsync_last_run_timestamp_seconds When the last finished pass ended.\n"
          "# TYPE imgsync_last_run_timestamp_seconds gauge\n"
          "imgsync_last_run_timestamp_seconds 1795878035\n"
          "# HELP imgsync_last_run_duration_seconds How long the last finished pass ran.\n"
          "# TYPE imgsync_last_run_duration_seconds gauge\n"
          "imgsync_last_run_duration_seconds 90\n"
          "# HELP imgsync_last_run_uploaded Images the last finished pass uploaded.\n"
          "# TYPE imgsync_last_run_uploaded gauge\n"
          "imgsync_last_run_uploaded 100\n"
          "# HELP imgsync_last_run_failed Images that failed in the last finished pass.\n"
          "# TYPE imgsync_last_run_failed gauge\n"
          "imgsync_last_run_failed 0\n"
          "# HELP imgsync_last_run_success 1 if the last finished pass ended ok, at its limit or "
          "at its deadline.\n"
          "# TYPE imgsync_last_run_success gauge\n"
          "imgsync_last_run_success 1\n"
          "# HELP imgsync_last_success_timestamp_seconds When the newest successful pass "
          "ended.\n"
          "# TYPE imgsync_last_success_timestamp_seconds gauge\n"
          "imgsync_last_success_timestamp_seconds 1795878035\n" +
              build_info_lines());
}

TEST_CASE("prometheus before the first pass leaves out pass metrics and shows an ETA of 0") {
    const std::string text = render_prometheus(compute_status(BacklogCounts{}, {}, day(0, 0), now));
    CHECK(text.find("imgsync_last_run") == std::string::npos);
    CHECK(text.find("imgsync_last_success") == std::string::npos);
    CHECK(text.find("imgsync_pass_images_per_second") == std::string::npos);
    CHECK(text.find("\nimgsync_oldest_pending_age_seconds 0\n") != std::string::npos);
    CHECK(text.find("\nimgsync_backlog_eta_seconds 0\n") != std::string::npos);
    CHECK(text.find("\nimgsync_backlog_trend{trend=\"empty\"} 1\n") != std::string::npos);
}

TEST_CASE("prometheus reports a failed last pass as 0") {
    const std::vector<RunRecord> runs{run(9, 100, 40, 3, 2, 0, "partial"),
                                      run(8, 900, 800, 5, 0, 0, "ok")};
    const std::string text = render_prometheus(compute_status(backlog(2), runs, day(0, 0), now));
    CHECK(text.find("\nimgsync_last_run_success 0\n") != std::string::npos);
    CHECK(text.find("\nimgsync_last_run_failed 2\n") != std::string::npos);
    CHECK(text.find("\nimgsync_last_success_timestamp_seconds 1795877445\n") != std::string::npos);
}

TEST_CASE("status text escapes the pass message") {
    const std::vector<RunRecord> runs{
        run(7, 100, 40, 0, 0, 0, "failed", "HTTP 403 AccessDenied\n\x1b[32mfake: ok\xC2\x9B")};
    const std::string text = render_status_text(compute_status(backlog(2), runs, day(0, 0), now));
    CHECK(text.find("(HTTP 403 AccessDenied\\n\\x1b[32mfake: ok\\u009b)\n") != std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
    // JSON stays exact.
    const std::string json = render_status_json(compute_status(backlog(2), runs, day(0, 0), now));
    CHECK(json.find(R"("message": "HTTP 403 AccessDenied\n\u001b[32mfake: ok)"
                    "\xC2\x9B\"") != std::string::npos);
}

TEST_CASE("failed passes never count as success") {
    // Newest first: a failed pass, a partial one, an interrupted one, then the last ok pass.
    const std::vector<RunRecord> runs{
        run(9, 100, 90, 0, 0, 0, "failed", "no such bucket"), run(8, 400, 390, 3, 1, 0, "partial"),
        run(7, 700, 690, 0, 0, 0, "interrupted"), run(6, 1000, 990, 5, 0, 0, "ok")};
    const StatusReport r = compute_status(backlog(2), runs, day(0, 0), now);
    CHECK(r.last_finished_run->id == 9);
    CHECK(r.last_success_at == now - 990);
    CHECK(r.failed_passes_in_a_row == 1);
    const std::string text = render_prometheus(r);
    CHECK(text.find("\nimgsync_last_run_success 0\n") != std::string::npos);
    CHECK(text.find("\nimgsync_last_success_timestamp_seconds 1795877255\n") != std::string::npos);
    for (const char* outcome : {"failed", "crashed", "interrupted", "partial", "running"}) {
        RunRecord x = run(1, 100, 90, 0, 0, 0, outcome);
        CHECK_FALSE(run_succeeded(x));
    }
    const StatusReport never =
        compute_status(backlog(2), {run(3, 100, 90, 0, 0, 0, "failed")}, day(0, 0), now);
    CHECK_FALSE(never.last_success_at.has_value());
    CHECK(render_prometheus(never).find("imgsync_last_success_timestamp") == std::string::npos);
    // A success older than every recent pass still counts, as the state file tells it.
    const StatusReport older = compute_status(backlog(2), {run(3, 100, 90, 0, 0, 0, "failed")},
                                              day(0, 0), now, now - 86400);
    CHECK(older.last_success_at == now - 86400);
    CHECK(render_prometheus(older).find("\nimgsync_last_success_timestamp_seconds 1795791845\n") !=
          std::string::npos);
}

TEST_SUITE_END();

TEST_CASE("the last verification in the text, the JSON, the metrics and the check") {
    StatusReport r = growing();
    imgsync::storage::VerificationRecord v;
    v.started_at = now - 3700;
    v.finished_at = now - 3600;
    v.host_id = "host-a";
    v.scope = "sample 100";
    v.outcome = imgsync::core::VerifyOutcome::problems;
    v.totals = {100, 97, 2, 1, 0, 1};
    r.last_verification = v;

    const std::string text = render_status_text(r);
    CHECK(text.find("verified:    2026-11-28T14:04:05Z (1h 00m ago), sample 100: 100 checked, 97 "
                    "ok, 2 missing, 1 changed, 0 unverified, 1 requeued (imgsync verify "
                    "--requeue puts them back to pending)\n") != std::string::npos);
    CHECK(render_status_text(growing()).find("verified:") == std::string::npos);

    const std::string json = render_status_json(r, imgsync::util::JsonWriter::Style::compact);
    CHECK(json.find(R"("last_verification":{"started_at":"2026-11-28T14:02:25Z",)"
                    R"("finished_at":"2026-11-28T14:04:05Z","host_id":"host-a",)"
                    R"("scope":"sample 100","outcome":"problems","checked":100,"ok":97,)"
                    R"("missing":2,"changed":1,"unverified":0,"requeued":1,"unresolved":2,)"
                    R"("message":""})") != std::string::npos);

    const std::string metrics = render_prometheus(r);
    CHECK(metrics.find("imgsync_verify_last_timestamp_seconds " + std::to_string(now - 3600) +
                       "\n") != std::string::npos);
    CHECK(metrics.find("imgsync_verify_objects{result=\"missing\"} 2\n") != std::string::npos);
    CHECK(metrics.find("imgsync_verify_objects{result=\"ok\"} 97\n") != std::string::npos);
    CHECK(metrics.find("imgsync_verify_unresolved 2\n") != std::string::npos);
    CHECK(render_prometheus(growing()).find("imgsync_verify") == std::string::npos);

    // Two objects missing or changed and not requeued: CRITICAL whatever the thresholds.
    const CheckResult crit = evaluate_check(r, CheckThresholds{});
    CHECK(crit.exit_code == 2);
    CHECK(crit.line.find("IMGSYNC CRITICAL - ") == 0);
    CHECK(crit.line.find(", last verify found 2 objects missing or changed |") !=
          std::string::npos);
    // All requeued: the pass will upload them again; nothing to alert on.
    r.last_verification->totals.requeued = 3;
    CHECK(evaluate_check(r, CheckThresholds{}).exit_code == 0);
}

TEST_CASE("pruned images: the bytes still on the local disk in the text and the JSON") {
    StatusReport r = growing();
    r.counts.pruned = 4000;
    r.counts.bytes_pruned = 4ULL << 30;
    CHECK(render_status_text(r).find("5000 images, 4.8 GiB (4000 pruned; 904 MiB still on the "
                                     "local disk)\n") != std::string::npos);
    const std::string json = render_status_json(r, imgsync::util::JsonWriter::Style::compact);
    CHECK(json.find(R"("pruned":4294967296,"uploaded_on_local_disk":947912704})") !=
          std::string::npos);
    CHECK(render_prometheus(r).find("imgsync_uploaded_local_bytes 947912704\n") !=
          std::string::npos);
}

TEST_CASE("status shows remembered refusals in text (only when there are some) and JSON") {
    StatusReport r = compute_status(BacklogCounts{}, {}, ArrivalWindow{}, now);
    CHECK(render_status_text(r).find("refused:") == std::string::npos);
    r.refused_files = 2;
    CHECK(render_status_text(r).find("refused:     2 files add skips while unchanged "
                                     "(imgsync list --refused; imgsync forget --refused)\n") !=
          std::string::npos);
    CHECK(render_status_json(r, imgsync::util::JsonWriter::Style::compact)
              .find("\"refused_files\":2,") != std::string::npos);
}
