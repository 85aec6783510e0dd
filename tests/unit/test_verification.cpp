// verify's vocabulary: the names status and the verifications table carry, and the totals.
#include "model/verification.hpp"

#include <doctest/doctest.h>

using namespace imgsync::core;

TEST_SUITE("verification") {
    TEST_CASE("outcome names round-trip; anything else is refused") {
        for (auto o : {VerifyOutcome::ok, VerifyOutcome::problems, VerifyOutcome::interrupted,
                       VerifyOutcome::failed}) {
            CHECK(parse_verify_outcome(to_string(o)) == o);
        }
        CHECK_FALSE(parse_verify_outcome("OK"));
        CHECK_FALSE(parse_verify_outcome(""));
        CHECK(to_string(ObjectCheck::unverified) == "unverified");
        CHECK(to_string(VerifyScope::since) == "since");
    }

    TEST_CASE("totals count each result; any problem makes the outcome problems") {
        VerifyTotals t;
        CHECK(outcome_of(t) == VerifyOutcome::ok);
        count(t, ObjectCheck::ok);
        count(t, ObjectCheck::ok);
        CHECK(outcome_of(t) == VerifyOutcome::ok);
        count(t, ObjectCheck::unverified);
        CHECK(outcome_of(t) == VerifyOutcome::problems);
        count(t, ObjectCheck::missing);
        count(t, ObjectCheck::changed);
        CHECK(t.checked == 5);
        CHECK(t.ok == 2);
        CHECK(t.missing == 1);
        CHECK(t.changed == 1);
        CHECK(t.unverified == 1);
    }

    TEST_CASE("unresolved: missing and changed objects not requeued (never negative)") {
        VerifyTotals t;
        t.missing = 2;
        t.changed = 1;
        t.unverified = 5;
        CHECK(unresolved(t) == 3);
        t.requeued = 3;
        CHECK(unresolved(t) == 0);
        t.requeued = 4;
        CHECK(unresolved(t) == 0);
    }
}
