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
