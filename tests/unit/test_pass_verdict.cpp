// Whose failure is it, and how a pass ends: the rules that keep a failing pass from passing for
// success, and a misconfiguration from burning the backlog's attempts.
#include "pass/verdict.hpp"

#include <doctest/doctest.h>

using namespace imgsync::core;
using imgsync::ExitCode;

TEST_SUITE("pass_verdict") {

    TEST_CASE("PassHealth: before any success, refusals and spent transient failures are held") {
        PassHealth h(3);
        CHECK_FALSE(h.proven());
        CHECK(h.on_failure(FailureClass::refused) == Blame::hold);
        CHECK(h.on_failure(FailureClass::transient) == Blame::hold);
        CHECK(h.held() == 2);
        CHECK_FALSE(h.exhausted());
        CHECK(h.on_failure(FailureClass::refused) == Blame::hold);
        CHECK(h.exhausted()); // three images failed and nothing succeeded: the pass has failed
    }

    TEST_CASE("PassHealth: the first success makes later failures the images' own") {
        PassHealth h(3);
        CHECK(h.on_failure(FailureClass::refused) == Blame::hold);
        CHECK(h.on_success());       // the first time: the caller charges what it held
        CHECK_FALSE(h.on_success()); // only once
        CHECK(h.proven());
        CHECK(h.held() == 0);
        CHECK(h.on_failure(FailureClass::refused) == Blame::image);
        CHECK(h.on_failure(FailureClass::transient) == Blame::image);
        for (int i = 0; i < 10; ++i)
            CHECK(h.on_failure(FailureClass::refused) == Blame::image);
        CHECK_FALSE(h.exhausted());
    }

    TEST_CASE("PassHealth: image failures are the image's and pass-wide ones the pass's, always") {
        PassHealth before(3), after(3);
        after.on_success();
        for (PassHealth* h : {&before, &after}) {
            CHECK(h->on_failure(FailureClass::image) == Blame::image);
            CHECK(h->on_failure(FailureClass::pass) == Blame::pass);
        }
        CHECK(before.held() == 0);
    }

    TEST_CASE("PassHealth: a refusal already charged to the image is the image's at once") {
        PassHealth h(3);
        CHECK(h.on_failure(FailureClass::refused, true) == Blame::image);
        CHECK(h.held() == 0);
        CHECK_FALSE(h.proven()); // it proves nothing about the endpoint
        // Only refusals: a transient failure seen before may be an outage now.
        CHECK(h.on_failure(FailureClass::transient, true) == Blame::hold);
        CHECK(h.on_failure(FailureClass::pass, true) == Blame::pass);
    }

    TEST_CASE("PassHealth: a limit below one still holds one image") {
        PassHealth h(0);
        CHECK(h.on_failure(FailureClass::transient) == Blame::hold);
        CHECK(h.exhausted());
    }

    TEST_CASE("verdict: a clean pass, a limit, a deadline with progress") {
        PassTally t;
        t.proven = true;
        t.requests = 5;
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::ok);
        CHECK(v.exit_code == ExitCode::ok);
        t.limit_reached = true;
        CHECK(decide_verdict(t).outcome == RunOutcome::limit);
        t.stop = StopReason::deadline;
        v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::deadline);
        CHECK(v.exit_code == ExitCode::ok);
    }

    TEST_CASE("verdict: an empty backlog is ok") {
        PassTally t;
        CHECK(decide_verdict(t).outcome == RunOutcome::ok);
        CHECK(decide_verdict(t).exit_code == ExitCode::ok);
    }

    TEST_CASE("verdict: one pending image refused, nothing succeeded: failed, whatever the size") {
        PassTally t;
        t.requests = 1;
        t.held = 1;
        t.last_failure = "put: HTTP 403 SignatureDoesNotMatch";
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::failed);
        CHECK(v.exit_code == ExitCode::pass_failed);
        CHECK(v.message.find("1 image(s) failed and none succeeded") != std::string::npos);
        CHECK(v.message.find("SignatureDoesNotMatch") != std::string::npos);
        // Also when --max-images stopped it first.
        t.limit_reached = true;
        CHECK(decide_verdict(t).outcome == RunOutcome::failed);
    }

    TEST_CASE("verdict: a pass-wide failure stops the pass as failed, even after successes") {
        PassTally t;
        t.stop = StopReason::failed;
        t.proven = true;
        t.requests = 40;
        t.last_failure = "put: HTTP 403 InvalidAccessKeyId";
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::failed);
        CHECK(v.exit_code == ExitCode::pass_failed);
        CHECK(v.message == "put: HTTP 403 InvalidAccessKeyId");
    }

    TEST_CASE("verdict: every request stalled until the deadline: failed, not deadline") {
        PassTally t;
        t.stop = StopReason::deadline;
        t.requests = 8;
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::failed);
        CHECK(v.exit_code == ExitCode::pass_failed);
        CHECK(v.message.find("no request succeeded before --max-duration") != std::string::npos);
        // No request at all (the throttle let none start): nothing was tried, nothing failed.
        t.requests = 0;
        CHECK(decide_verdict(t).outcome == RunOutcome::deadline);
    }

    TEST_CASE("verdict: failures charged to images make the pass partial, exit 1") {
        PassTally t;
        t.proven = true;
        t.requests = 10;
        t.deferred = 2;
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::partial);
        CHECK(v.exit_code == ExitCode::images_failed);
        CHECK(v.message == "0 failed, 2 deferred to a later pass");
        t.stop = StopReason::deadline; // partial wins over deadline
        CHECK(decide_verdict(t).outcome == RunOutcome::partial);
        // Files that vanished fail on their own, with nothing sent: partial too.
        PassTally local;
        local.failed = 3;
        CHECK(decide_verdict(local).outcome == RunOutcome::partial);
    }

    TEST_CASE("verdict: a signal wins over everything") {
        PassTally t;
        t.stop = StopReason::interrupted;
        t.held = 2;
        auto v = decide_verdict(t);
        CHECK(v.outcome == RunOutcome::interrupted);
        CHECK(v.exit_code == ExitCode::interrupted);
    }

    TEST_CASE("to_string") {
        CHECK(to_string(Blame::image) == "image");
        CHECK(to_string(Blame::hold) == "hold");
        CHECK(to_string(Blame::pass) == "pass");
        CHECK(to_string(StopReason::none) == "none");
        CHECK(to_string(StopReason::deadline) == "deadline");
        CHECK(to_string(StopReason::interrupted) == "interrupted");
        CHECK(to_string(StopReason::failed) == "failed");
    }
}
