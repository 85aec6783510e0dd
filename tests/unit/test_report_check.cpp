// status --check (evaluate_check): the Monitoring Plugins line, its thresholds, and what a
// failed pass or an old success does to the state.
#include "report/report.hpp"
#include "report_fixture.hpp"

#include <doctest/doctest.h>

using namespace imgsync::core;
using namespace report_fixture;

TEST_SUITE_BEGIN("report");

TEST_CASE("nagios check") {
    CheckThresholds t;
    t.warn_pending = 100;
    t.crit_pending = 1000;
    t.warn_age_seconds = 600;
    t.crit_age_seconds = 3600;
    t.crit_failed = 1;

    const CheckResult ok =
        evaluate_check(compute_status(backlog(12), three_runs(), day(0, 0), now), t);
    CHECK(ok.exit_code == 0);
    CHECK(ok.line ==
          "IMGSYNC OK - 12 pending, oldest 3m 00s, 0 failed | pending=12;100;1000;0 "
          "oldest_age=180s;600;3600;0 failed=0;;1;0 uploaded=5000;;;0 failed_passes=0;1;;0 "
          "success_age=210s;;;0");

    const CheckResult crit = evaluate_check(growing(), t);
    CHECK(crit.exit_code == 2);
    CHECK(crit.line == "IMGSYNC CRITICAL - 1500 pending (>= 1000), oldest 3m 00s, 0 failed | "
                       "pending=1500;100;1000;0 oldest_age=180s;600;3600;0 failed=0;;1;0 "
                       "uploaded=5000;;;0 failed_passes=0;1;;0 success_age=210s;;;0");

    BacklogCounts old = backlog(100); // exactly the warning threshold
    old.oldest_pending_added_at = now - 700;
    const CheckResult warn = evaluate_check(compute_status(old, {}, day(0, 0), now), t);
    CHECK(warn.exit_code == 1);
    CHECK(warn.line == "IMGSYNC WARNING - 100 pending (>= 100), oldest 11m 40s (>= 10m 00s), "
                       "0 failed | pending=100;100;1000;0 oldest_age=700s;600;3600;0 "
                       "failed=0;;1;0 uploaded=5000;;;0 failed_passes=0;1;;0");

    BacklogCounts failing = backlog(0);
    failing.failed = 1; // exactly the critical threshold
    const CheckResult failed = evaluate_check(compute_status(failing, {}, day(0, 0), now), t);
    CHECK(failed.exit_code == 2);
    CHECK(failed.line ==
          "IMGSYNC CRITICAL - 0 pending, 1 failed (>= 1) | pending=0;100;1000;0 "
          "oldest_age=0s;600;3600;0 failed=1;;1;0 uploaded=5000;;;0 failed_passes=0;1;;0");
}

TEST_CASE("nagios check without thresholds is always OK") {
    const CheckResult r = evaluate_check(growing(), CheckThresholds{});
    CHECK(r.exit_code == 0);
    CHECK(r.line == "IMGSYNC OK - 1500 pending, oldest 3m 00s, 0 failed | pending=1500;;;0 "
                    "oldest_age=180s;;;0 failed=0;;;0 uploaded=5000;;;0 failed_passes=0;1;;0 "
                    "success_age=210s;;;0");
}

TEST_CASE("misconfigured thresholds and early failures are UNKNOWN") {
    CheckThresholds t;
    t.warn_pending = 2000;
    t.crit_pending = 1000;
    const CheckResult r = evaluate_check(growing(), t);
    CHECK(r.exit_code == 3);
    CHECK(r.line == "IMGSYNC UNKNOWN - warning threshold for pending (2000) is above the "
                    "critical one (1000)");

    CheckThresholds negative;
    negative.crit_age_seconds = -1;
    CHECK(evaluate_check(growing(), negative).line ==
          "IMGSYNC UNKNOWN - negative threshold for age");

    const CheckResult early = check_unknown("cannot open state.db: a|b\nc");
    CHECK(early.exit_code == 3);
    CHECK(early.line == "IMGSYNC UNKNOWN - cannot open state.db: a/b\\nc");
    CHECK(check_unknown("bad \x1b[2J\xC2\x9B value\xFF").line ==
          "IMGSYNC UNKNOWN - bad \\x1b[2J\\u009b value\\xff");
}

TEST_CASE("nagios check: a failed last pass is at least WARNING") {
    // A tiny backlog and no thresholds at all: still a warning.
    const std::vector<RunRecord> one{run(9, 100, 90, 0, 0, 0, "failed", "HTTP 403 | denied\n"),
                                     run(8, 400, 390, 5, 0, 0, "ok")};
    const CheckResult warn =
        evaluate_check(compute_status(backlog(1), one, day(0, 0), now), CheckThresholds{});
    CHECK(warn.exit_code == 1);
    CHECK(warn.line == "IMGSYNC WARNING - 1 pending, oldest 3m 00s, 0 failed, last pass failed: "
                       "HTTP 403 / denied\\n | pending=1;;;0 oldest_age=180s;;;0 failed=0;;;0 "
                       "uploaded=5000;;;0 failed_passes=1;1;;0 success_age=390s;;;0");
    // An empty backlog does not hide it either.
    CHECK(evaluate_check(compute_status(backlog(0), one, day(0, 0), now), CheckThresholds{})
              .exit_code == 1);

    // A pass running now does not clear it: the last finished pass decides.
    std::vector<RunRecord> running = one;
    running.insert(running.begin(), run(10, 10, std::nullopt, 0, 0, 0, "running"));
    CHECK(evaluate_check(compute_status(backlog(1), running, day(0, 0), now), CheckThresholds{})
              .exit_code == 1);

    // A successful pass after the failed one clears it.
    std::vector<RunRecord> recovered = one;
    recovered.insert(recovered.begin(), run(10, 50, 40, 1, 0, 0, "ok"));
    CHECK(evaluate_check(compute_status(backlog(1), recovered, day(0, 0), now), CheckThresholds{})
              .exit_code == 0);

    // Thresholds that say CRITICAL still win.
    CheckThresholds t;
    t.crit_pending = 1;
    CHECK(evaluate_check(compute_status(backlog(1), one, day(0, 0), now), t).exit_code == 2);
}

TEST_CASE("nagios check: failed passes in a row reach CRITICAL") {
    const std::vector<RunRecord> runs{
        run(9, 100, 90, 0, 0, 0, "failed", "timeout"), run(8, 400, 390, 0, 0, 0, "failed"),
        run(7, 700, 690, 0, 0, 0, "failed"), run(6, 1000, 990, 5, 0, 0, "ok")};
    CheckThresholds t;
    t.crit_failed_passes = 3;
    const CheckResult crit = evaluate_check(compute_status(backlog(1), runs, day(0, 0), now), t);
    CHECK(crit.exit_code == 2);
    CHECK(crit.line == "IMGSYNC CRITICAL - 1 pending, oldest 3m 00s, 0 failed, last 3 passes "
                       "failed (>= 3): timeout | pending=1;;;0 oldest_age=180s;;;0 failed=0;;;0 "
                       "uploaded=5000;;;0 failed_passes=3;1;3;0 success_age=990s;;;0");
    t.crit_failed_passes = 4;
    CHECK(evaluate_check(compute_status(backlog(1), runs, day(0, 0), now), t).exit_code == 1);
    t.crit_failed_passes = 0;
    CHECK(evaluate_check(compute_status(backlog(1), runs, day(0, 0), now), t).line ==
          "IMGSYNC UNKNOWN - the threshold for failed passes must be at least 1");
}

TEST_CASE("nagios check: time since the last successful pass") {
    const std::vector<RunRecord> runs{run(9, 100, 90, 0, 0, 0, "partial"),
                                      run(8, 4000, 3900, 5, 0, 0, "ok")};
    CheckThresholds t;
    t.warn_success_age_seconds = 3600;
    t.crit_success_age_seconds = 7200;
    const CheckResult warn = evaluate_check(compute_status(backlog(1), runs, day(0, 0), now), t);
    CHECK(warn.exit_code == 1);
    CHECK(warn.line == "IMGSYNC WARNING - 1 pending, oldest 3m 00s, 0 failed, last success 1h 05m "
                       "ago (>= 1h 00m) | pending=1;;;0 oldest_age=180s;;;0 failed=0;;;0 "
                       "uploaded=5000;;;0 failed_passes=0;1;;0 success_age=3900s;3600;7200;0");

    // Passes on record but none successful: every success-age threshold is reached.
    const std::vector<RunRecord> failing{run(9, 100, 90, 0, 0, 0, "failed"),
                                         run(8, 400, 390, 0, 0, 0, "partial")};
    const CheckResult none = evaluate_check(compute_status(backlog(1), failing, day(0, 0), now), t);
    CHECK(none.exit_code == 2);
    CHECK(none.line == "IMGSYNC CRITICAL - 1 pending, oldest 3m 00s, 0 failed, last pass failed, "
                       "none of the last 2 passes succeeded | pending=1;;;0 oldest_age=180s;;;0 "
                       "failed=0;;;0 uploaded=5000;;;0 failed_passes=1;1;;0");

    // Before the first pass there is nothing to judge.
    CHECK(evaluate_check(compute_status(backlog(1), {}, day(0, 0), now), t).exit_code == 0);

    CheckThresholds inverted;
    inverted.warn_success_age_seconds = 7200;
    inverted.crit_success_age_seconds = 3600;
    CHECK(evaluate_check(compute_status(backlog(1), runs, day(0, 0), now), inverted).exit_code ==
          3);
}

TEST_SUITE_END();
