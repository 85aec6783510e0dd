// The commit rule of the pass's write batches: 64 writes or 250 ms, whichever comes first.
#include "pass/writes.hpp"

#include <doctest/doctest.h>

using imgsync::core::pass::commit_due;

TEST_CASE("commit_due: 64 writes or a quarter of a second") {
    CHECK_FALSE(commit_due(1, 10.0, 10.0));
    CHECK_FALSE(commit_due(63, 10.0, 10.24));
    CHECK(commit_due(64, 10.0, 10.0));
    CHECK(commit_due(1, 10.0, 10.25));
    CHECK(commit_due(0, 10.0, 11.0));
}

TEST_CASE("requests_report_due: when the number changed, at most once a second") {
    using imgsync::core::pass::requests_report_due;
    CHECK(requests_report_due(0, 4, -1e9, 0.0));       // the first report
    CHECK_FALSE(requests_report_due(4, 4, 0.0, 10.0)); // unchanged: nothing to write
    CHECK_FALSE(requests_report_due(4, 3, 0.0, 0.999));
    CHECK(requests_report_due(4, 3, 0.0, 1.0));
    CHECK(requests_report_due(3, 0, 5.0, 6.5)); // back to none is reported too
}
