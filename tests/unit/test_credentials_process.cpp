// util/process, which runs credential_process: no shell, stdout kept, stderr only counted, and
// a deadline that kills the whole process group.
#include "util/clock.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>

using namespace imgsync::util;

TEST_SUITE_BEGIN("credentials");

TEST_CASE("process: output, exit status, stderr counted but not kept") {
    auto r =
        run_process({"sh", "-c", "printf out; printf secret-on-stderr >&2; exit 3"}, 5000, 1024);
    REQUIRE(r);
    CHECK(r->out == "out");
    CHECK(r->exit_status == 3);
    CHECK(r->err_bytes == 16);
    CHECK_FALSE(r->timed_out);
}

TEST_CASE("process: no shell: the words are passed as they are") {
    auto r = run_process({"printf", "%s|", "a b", "$HOME", "*"}, 5000, 1024);
    REQUIRE(r);
    CHECK(r->out == "a b|$HOME|*|");
    CHECK(r->exit_status == 0);
}

TEST_CASE("process: a missing program, a limit on the output, a timeout") {
    auto missing = run_process({"/nonexistent/helper"}, 1000, 1024);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().find("cannot run it") != std::string::npos);

    auto big = run_process({"sh", "-c", "head -c 5000 /dev/zero"}, 5000, 100);
    REQUIRE(big);
    CHECK(big->out.size() == 100);
    CHECK(big->out_truncated);

    const double t0 = monotonic_seconds();
    // A child that keeps the pipe open in a grandchild: the group is killed at the deadline.
    auto slow = run_process({"sh", "-c", "sleep 30 & sleep 30"}, 300, 100);
    const double took = monotonic_seconds() - t0;
    REQUIRE(slow);
    CHECK(slow->timed_out);
    CHECK(slow->signal == 9);
    CHECK(took < 5);

    auto killed = run_process({"sh", "-c", "kill -TERM $$"}, 5000, 100);
    REQUIRE(killed);
    CHECK(killed->signal == 15);
    CHECK(killed->exit_status == -1);
}
