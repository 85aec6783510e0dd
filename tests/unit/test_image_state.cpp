#include "model/image_state.hpp"

#include <doctest/doctest.h>

#include <climits>
#include <cstdint>
#include <limits>
#include <optional>

using namespace imgsync::core;
using std::chrono::seconds;

namespace {

constexpr ImageState all_states[] = {ImageState::pending, ImageState::uploading,
                                     ImageState::uploaded, ImageState::failed};
constexpr ImageEvent all_events[] = {ImageEvent::claim,
                                     ImageEvent::succeed,
                                     ImageEvent::transient_failure,
                                     ImageEvent::permanent_failure,
                                     ImageEvent::interrupted,
                                     ImageEvent::requeue};

// The legal edges, written out independently of the implementation's switch.
std::optional<ImageState> expected_target(ImageState from, ImageEvent event) {
    using S = ImageState;
    using E = ImageEvent;
    if (from == S::pending && event == E::claim)
        return S::uploading;
    if (from == S::uploading && event == E::succeed)
        return S::uploaded;
    if (from == S::uploading && event == E::transient_failure)
        return S::pending;
    if (from == S::uploading && event == E::permanent_failure)
        return S::failed;
    if (from == S::uploading && event == E::interrupted)
        return S::pending;
    if (from == S::failed && event == E::requeue)
        return S::pending;
    return std::nullopt;
}

ImageRecord rec(ImageState state, int attempts, std::int64_t next_attempt_at) {
    return ImageRecord{state, attempts, next_attempt_at};
}

const RetryPolicy default_policy{};

} // namespace

TEST_SUITE("image_state") {

    TEST_CASE("state and event names round-trip") {
        CHECK(to_string(ImageState::pending) == "pending");
        CHECK(to_string(ImageState::uploading) == "uploading");
        CHECK(to_string(ImageState::uploaded) == "uploaded");
        CHECK(to_string(ImageState::failed) == "failed");
        CHECK(to_string(ImageEvent::claim) == "claim");
        CHECK(to_string(ImageEvent::succeed) == "succeed");
        CHECK(to_string(ImageEvent::transient_failure) == "transient_failure");
        CHECK(to_string(ImageEvent::permanent_failure) == "permanent_failure");
        CHECK(to_string(ImageEvent::interrupted) == "interrupted");
        CHECK(to_string(ImageEvent::requeue) == "requeue");
        for (const ImageState s : all_states)
            CHECK(parse_image_state(to_string(s)) == s);
        for (const ImageEvent e : all_events)
            CHECK(parse_image_event(to_string(e)) == e);
        CHECK_FALSE(parse_image_state("Pending"));
        CHECK_FALSE(parse_image_state(""));
        CHECK_FALSE(parse_image_state("pending "));
        CHECK_FALSE(parse_image_state("done"));
        CHECK_FALSE(parse_image_event("Claim"));
        CHECK_FALSE(parse_image_event(""));
    }

    TEST_CASE("transition: every state x event pair") {
        int legal = 0;
        for (const ImageState s : all_states) {
            for (const ImageEvent e : all_events) {
                INFO(to_string(s), " + ", to_string(e));
                CHECK(transition(s, e) == expected_target(s, e));
                legal += expected_target(s, e) ? 1 : 0;
            }
        }
        CHECK(legal == 6);
    }

    TEST_CASE("transition: the refusals that matter") {
        CHECK_FALSE(transition(ImageState::uploading, ImageEvent::claim)); // double claim
        CHECK_FALSE(transition(ImageState::uploaded, ImageEvent::claim));  // re-upload
        CHECK_FALSE(transition(ImageState::failed, ImageEvent::claim));    // dead letter stays put
        CHECK_FALSE(transition(ImageState::pending, ImageEvent::succeed));
        CHECK_FALSE(transition(ImageState::pending, ImageEvent::interrupted));
        CHECK_FALSE(transition(ImageState::uploaded, ImageEvent::requeue));
        CHECK_FALSE(transition(ImageState::pending, ImageEvent::requeue));
    }

    TEST_CASE("apply: each legal transition updates the record as documented") {
        const std::int64_t now = 1'000'000;
        CHECK(apply(rec(ImageState::pending, 3, 999'000), ImageEvent::claim, now, default_policy) ==
              rec(ImageState::uploading, 3, 999'000));
        CHECK(apply(rec(ImageState::uploading, 3, 999'000), ImageEvent::succeed, now,
                    default_policy) == rec(ImageState::uploaded, 3, 0));
        CHECK(apply(rec(ImageState::uploading, 0, 0), ImageEvent::transient_failure, now,
                    default_policy) == rec(ImageState::pending, 1, now + 60));
        CHECK(apply(rec(ImageState::uploading, 2, 0), ImageEvent::transient_failure, now,
                    default_policy) == rec(ImageState::pending, 3, now + 240));
        CHECK(apply(rec(ImageState::uploading, 8, 0), ImageEvent::transient_failure, now,
                    default_policy) == rec(ImageState::pending, 9, now + 15360));
        CHECK(apply(rec(ImageState::uploading, 1, 500), ImageEvent::permanent_failure, now,
                    default_policy) == rec(ImageState::failed, 2, 0));
        CHECK(apply(rec(ImageState::uploading, 4, 777), ImageEvent::interrupted, now,
                    default_policy) == rec(ImageState::pending, 4, 777));
        CHECK(apply(rec(ImageState::failed, 7, 0), ImageEvent::requeue, now, default_policy) ==
              rec(ImageState::pending, 0, 0));
    }

    TEST_CASE("apply: the retry budget sends a transient failure to failed") {
        const std::int64_t now = 5000;
        // Default max_attempts is 10: the tenth failed attempt dead-letters.
        CHECK(apply(rec(ImageState::uploading, 9, 0), ImageEvent::transient_failure, now,
                    default_policy) == rec(ImageState::failed, 10, 0));
        const RetryPolicy three{3, std::chrono::seconds(10), std::chrono::seconds(100)};
        CHECK(apply(rec(ImageState::uploading, 1, 0), ImageEvent::transient_failure, now, three) ==
              rec(ImageState::pending, 2, now + 20));
        CHECK(apply(rec(ImageState::uploading, 2, 0), ImageEvent::transient_failure, now, three) ==
              rec(ImageState::failed, 3, 0));
        // A count already past the budget (the limit was lowered) also dead-letters.
        CHECK(apply(rec(ImageState::uploading, 5, 0), ImageEvent::transient_failure, now, three) ==
              rec(ImageState::failed, 6, 0));
        const RetryPolicy unlimited{0, std::chrono::seconds(60), std::chrono::hours(6)};
        CHECK(apply(rec(ImageState::uploading, 100, 0), ImageEvent::transient_failure, now,
                    unlimited) == rec(ImageState::pending, 101, now + 21600));
    }

    TEST_CASE("apply: illegal events are refused and nothing changes") {
        const std::int64_t now = 42;
        for (const ImageState s : all_states) {
            for (const ImageEvent e : all_events) {
                const ImageRecord before = rec(s, 2, 100);
                const auto after = apply(before, e, now, default_policy);
                INFO(to_string(s), " + ", to_string(e));
                CHECK(after.has_value() == expected_target(s, e).has_value());
                if (after && e != ImageEvent::transient_failure) {
                    CHECK(after->state == *expected_target(s, e));
                }
            }
        }
    }

    TEST_CASE("apply: saturates instead of overflowing") {
        const RetryPolicy unlimited{0, std::chrono::seconds(60), std::chrono::hours(6)};
        const std::int64_t late = std::numeric_limits<std::int64_t>::max() - 10;
        CHECK(apply(rec(ImageState::uploading, INT_MAX, 0), ImageEvent::transient_failure, late,
                    unlimited) ==
              rec(ImageState::pending, INT_MAX, std::numeric_limits<std::int64_t>::max()));
        CHECK(apply(rec(ImageState::uploading, INT_MAX, 0), ImageEvent::permanent_failure, 0,
                    unlimited) == rec(ImageState::failed, INT_MAX, 0));
    }

    TEST_CASE("is_due") {
        CHECK(is_due(rec(ImageState::pending, 0, 0), 0));
        CHECK(is_due(rec(ImageState::pending, 1, 100), 100));
        CHECK_FALSE(is_due(rec(ImageState::pending, 1, 101), 100));
        CHECK_FALSE(is_due(rec(ImageState::uploading, 0, 0), 100));
        CHECK_FALSE(is_due(rec(ImageState::uploaded, 0, 0), 100));
        CHECK_FALSE(is_due(rec(ImageState::failed, 0, 0), 100));
    }

    TEST_CASE("a whole life: retries, dead letter, requeue, success") {
        const RetryPolicy policy{3, std::chrono::seconds(60), std::chrono::hours(6)};
        ImageRecord r;
        std::int64_t now = 1000;
        const auto step = [&](ImageEvent e) {
            const auto next = apply(r, e, now, policy);
            REQUIRE(next.has_value());
            r = *next;
        };
        CHECK(is_due(r, now));
        step(ImageEvent::claim);
        step(ImageEvent::interrupted); // the pass was stopped: no attempt counted
        CHECK(r == rec(ImageState::pending, 0, 0));
        step(ImageEvent::claim);
        step(ImageEvent::transient_failure);
        CHECK(r == rec(ImageState::pending, 1, 1060));
        CHECK_FALSE(is_due(r, 1059));
        now = 1060;
        CHECK(is_due(r, now));
        step(ImageEvent::claim);
        step(ImageEvent::transient_failure);
        CHECK(r == rec(ImageState::pending, 2, 1180));
        now = 2000;
        step(ImageEvent::claim);
        step(ImageEvent::transient_failure);
        CHECK(r == rec(ImageState::failed, 3, 0));
        CHECK_FALSE(is_due(r, now));
        CHECK_FALSE(apply(r, ImageEvent::claim, now, policy));
        step(ImageEvent::requeue);
        CHECK(r == rec(ImageState::pending, 0, 0));
        step(ImageEvent::claim);
        step(ImageEvent::succeed);
        CHECK(r == rec(ImageState::uploaded, 0, 0));
        for (const ImageEvent e : all_events)
            CHECK_FALSE(apply(r, e, now, policy));
    }

    TEST_CASE("next_attempt_delay: documented schedule") {
        CHECK(next_attempt_delay(-1) == seconds(0));
        CHECK(next_attempt_delay(0) == seconds(0));
        CHECK(next_attempt_delay(1) == seconds(60));
        CHECK(next_attempt_delay(2) == seconds(120));
        CHECK(next_attempt_delay(3) == seconds(240));
        CHECK(next_attempt_delay(4) == seconds(480));
        CHECK(next_attempt_delay(5) == seconds(960));
        CHECK(next_attempt_delay(8) == seconds(7680));
        CHECK(next_attempt_delay(9) == seconds(15360));
        CHECK(next_attempt_delay(10) == seconds(21600));
        CHECK(next_attempt_delay(1000) == seconds(21600));
        CHECK(next_attempt_delay(INT_MAX) == seconds(21600));
    }

    TEST_CASE("next_attempt_delay: custom base and cap") {
        CHECK(next_attempt_delay(1, seconds(10), seconds(100)) == seconds(10));
        CHECK(next_attempt_delay(4, seconds(10), seconds(100)) == seconds(80));
        CHECK(next_attempt_delay(5, seconds(10), seconds(100)) == seconds(100));
        CHECK(next_attempt_delay(2, seconds(7), seconds(20)) == seconds(14));
        CHECK(next_attempt_delay(3, seconds(7), seconds(20)) == seconds(20));
        CHECK(next_attempt_delay(1, seconds(30), seconds(20)) == seconds(20));
        CHECK(next_attempt_delay(5, seconds(0), seconds(20)) == seconds(0));
        CHECK(next_attempt_delay(5, seconds(10), seconds(0)) == seconds(0));
        const seconds huge = seconds::max();
        CHECK(next_attempt_delay(INT_MAX, seconds(1), huge) == huge);
    }

    TEST_CASE("should_dead_letter") {
        CHECK_FALSE(should_dead_letter(0, 1));
        CHECK(should_dead_letter(1, 1));
        CHECK_FALSE(should_dead_letter(9, 10));
        CHECK(should_dead_letter(10, 10));
        CHECK(should_dead_letter(11, 10));
        CHECK_FALSE(should_dead_letter(100, 0));
        CHECK_FALSE(should_dead_letter(100, -1));
    }
} // TEST_SUITE
