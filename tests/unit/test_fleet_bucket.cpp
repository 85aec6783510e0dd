// The fleet's token bucket, with time as a parameter.
#include "model/fleet_bucket.hpp"

#include <doctest/doctest.h>

using imgsync::core::fleet_default_burst;
using imgsync::core::fleet_take;

TEST_CASE("the bucket hands out whole tokens it has, up to what is asked") {
    auto g = fleet_take(5, 100, 100, 2, 10, 3);
    CHECK(g.granted == 3);
    CHECK(g.tokens_left == doctest::Approx(2));
    g = fleet_take(2.5, 100, 100, 2, 10, 4);
    CHECK(g.granted == 2);
    CHECK(g.tokens_left == doctest::Approx(0.5));
    g = fleet_take(0.5, 100, 100, 2, 10, 4);
    CHECK(g.granted == 0);
    CHECK(g.tokens_left == doctest::Approx(0.5));
}

TEST_CASE("it refills at the rate up to the burst") {
    CHECK(fleet_take(0, 100, 101.5, 2, 10, 100).granted == 3);
    CHECK(fleet_take(0, 100, 1000, 2, 10, 100).granted == 10); // never more than the burst
    auto g = fleet_take(0, 100, 100.25, 2, 10, 1);
    CHECK(g.granted == 0);
    CHECK(g.tokens_left == doctest::Approx(0.5));
    // A clock that went back refills nothing (and takes nothing away).
    g = fleet_take(3, 100, 90, 2, 10, 1);
    CHECK(g.granted == 1);
    CHECK(g.tokens_left == doctest::Approx(2));
}

TEST_CASE("N images per period hold whoever asks") {
    // Four passes asking every 10 ms for 2 tokens at 10/s with a burst of 5: over 10 s the
    // bucket hands out at most 5 + 10 * 10.
    double tokens = 5, updated = 0, granted = 0;
    for (int step = 0; step < 1000; ++step) {
        double now = step * 0.01;
        for (int pass = 0; pass < 4; ++pass) {
            auto g = fleet_take(tokens, updated, now, 10, 5, 2);
            tokens = g.tokens_left;
            updated = now;
            granted += g.granted;
        }
    }
    CHECK(granted <= 5 + 10 * 9.99 + 1e-9);
    CHECK(granted >= 10 * 9.99 - 1);
    CHECK(fleet_default_burst(0.1) == 1);
    CHECK(fleet_default_burst(20) == 20);
}
