// The names of pass outcomes are an interface (the runs table, status --json, dashboards).
#include "model/run_outcome.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::core;

TEST_CASE("run outcomes: stable names, exact parsing, which ones are a success") {
    const char* names[] = {"running", "ok",          "limit",  "deadline",
                           "partial", "interrupted", "failed", "crashed"};
    int i = 0;
    for (auto o : all_run_outcomes) {
        CHECK(to_string(o) == names[i]);
        CHECK(parse_run_outcome(names[i]) == o);
        ++i;
    }
    CHECK(i == 8);
    CHECK_FALSE(parse_run_outcome("OK"));
    CHECK_FALSE(parse_run_outcome(""));
    CHECK(is_success(RunOutcome::ok));
    CHECK(is_success(RunOutcome::limit));
    CHECK(is_success(RunOutcome::deadline));
    for (auto o : {RunOutcome::running, RunOutcome::partial, RunOutcome::interrupted,
                   RunOutcome::failed, RunOutcome::crashed})
        CHECK_FALSE(is_success(o));
}
