// The lease rules, with time as a parameter.
#include "model/lease.hpp"

#include <doctest/doctest.h>

using namespace imgsync::core;

TEST_CASE("renewals come every third of the lease") {
    CHECK(renewal_interval(60) == doctest::Approx(20));
    CHECK_FALSE(renewal_due(100, 119.9, 60));
    CHECK(renewal_due(100, 120, 60));
    CHECK(renewal_due(100, 500, 60));
    // A tiny lease still leaves the loop time between renewals.
    CHECK(renewal_interval(0.01) == doctest::Approx(0.05));
}

TEST_CASE("a lease counts as lost before the database would let it expire") {
    // Confirmed by a renewal sent at 100: the database's expiry is at least 160 on this clock.
    CHECK_FALSE(lease_lost(100, 120, 60));
    CHECK_FALSE(lease_lost(100, 153.9, 60));
    CHECK(lease_lost(100, 154, 60)); // a tenth of the lease as a margin
    CHECK(lease_lost(100, 161, 60));
    // Two renewals that did not happen (every lease/3) still leave it held.
    CHECK_FALSE(lease_lost(100, 100 + 2 * renewal_interval(60), 60));
}

TEST_CASE("what a claim may take") {
    CHECK(claimable(ImageState::pending, 0, std::nullopt, 1000));
    CHECK(claimable(ImageState::pending, 1000, std::nullopt, 1000));
    CHECK_FALSE(claimable(ImageState::pending, 1001, std::nullopt, 1000)); // not due yet
    CHECK_FALSE(claimable(ImageState::uploading, 0, 1001.0, 1000));        // live lease
    CHECK_FALSE(claimable(ImageState::uploading, 0, 1000.0, 1000));        // expires now
    CHECK(claimable(ImageState::uploading, 0, 999.5, 1000));               // expired
    CHECK_FALSE(claimable(ImageState::uploading, 0, std::nullopt, 1000));  // held by a flock
    CHECK_FALSE(claimable(ImageState::uploaded, 0, std::nullopt, 1000));
    CHECK_FALSE(claimable(ImageState::failed, 0, std::nullopt, 1000));
}
