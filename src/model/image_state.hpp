// The life of one image in the upload queue, as pure functions over its state.
//
//                claim                       succeed
//   +---------+ --------> +-----------+ ----------------> +----------+
//   | pending |           | uploading |                   | uploaded |  terminal
//   +---------+ <-------- +-----------+                   +----------+
//        ^   transient_failure  |
//        |   (attempts + 1,     |  permanent_failure (attempts + 1), or
//        |   next_attempt_at);  |  transient_failure when attempts + 1
//        |   interrupted        |  reach max_attempts
//        |   (attempts kept)    v
//        |    requeue      +--------+
//        +---------------- | failed |  dead letter: stays until an operator requeues it
//         (attempts = 0)   +--------+
//
// Anything not drawn is illegal, in particular a second claim of an image
// that is already uploading, which is how two workers (or two overlapping cron runs) would
// otherwise both upload it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace imgsync::core {

enum class ImageState { pending, uploading, uploaded, failed };

enum class ImageEvent {
    claim,             // a worker starts an attempt
    succeed,           // the object is stored and verified
    transient_failure, // the attempt failed for a reason that may go away
    permanent_failure, // the image itself cannot be uploaded (FailureClass::image)
    interrupted,       // the pass died, was stopped, or hit a pass-level failure: not the image's
                       // fault, so its attempt is not counted; also used to recover images left
                       // uploading by a crashed run
    requeue,           // an operator gives a failed image another chance
};

// Stable lower-case names, as stored in the database and printed in logs:
// "pending", "uploading", "uploaded", "failed"; "claim", "succeed", "transient_failure",
// "permanent_failure", "interrupted", "requeue". parse() is exact (case-sensitive).
std::string_view to_string(ImageState state);
std::string_view to_string(ImageEvent event);
std::optional<ImageState> parse_image_state(std::string_view text);
std::optional<ImageEvent> parse_image_event(std::string_view text);

// The state graph alone: the target of a legal transition, nullopt if illegal. For
// transient_failure it answers pending; apply() diverts to failed once the retry budget is spent.
std::optional<ImageState> transition(ImageState from, ImageEvent event);

struct ImageRecord {
    ImageState state = ImageState::pending;
    int attempts = 0;                 // failed attempts counted against max_attempts
    std::int64_t next_attempt_at = 0; // epoch seconds; a pending image is due from then on

    friend bool operator==(const ImageRecord& a, const ImageRecord& b) {
        return a.state == b.state && a.attempts == b.attempts &&
               a.next_attempt_at == b.next_attempt_at;
    }
    friend bool operator!=(const ImageRecord& a, const ImageRecord& b) { return !(a == b); }
};

// How long a transiently failed image waits before a later pass may try it again, given the
// attempts it has used so far (including the one that just failed):
//   min(cap, base * 2^(total_attempts - 1)), 0 for total_attempts <= 0.
// Returns 0 when base or cap is not positive. Defaults (base 1 min, cap 6 h): 1 -> 1 min, 2 -> 2
// min, 3 -> 4 min, 4 -> 8 min, 5 -> 16 min, 6 -> 32 min, 7 -> 64 min, 8 -> 128 min, 9 -> 256 min,
// 10 and up -> 6 h.
std::chrono::seconds next_attempt_delay(int total_attempts,
                                        std::chrono::seconds base = std::chrono::minutes(1),
                                        std::chrono::seconds cap = std::chrono::hours(6));

// True when an image has used its whole budget and goes to failed (the dead-letter state) instead
// of back to pending. max_attempts <= 0 means no limit.
bool should_dead_letter(int total_attempts, int max_attempts);

struct RetryPolicy {
    int max_attempts = 10; // <= 0: never dead-letter
    std::chrono::seconds base_delay = std::chrono::minutes(1);
    std::chrono::seconds max_delay = std::chrono::hours(6);
};

// The full transition, nullopt if illegal. now is epoch seconds.
//   claim              pending -> uploading; does not look at next_attempt_at (use is_due to pick)
//   succeed            uploading -> uploaded; attempts kept as history, next_attempt_at = 0
//   transient_failure  uploading -> pending with attempts + 1 and
//                      next_attempt_at = now + next_attempt_delay(attempts + 1, base, max);
//                      or -> failed (attempts + 1, next_attempt_at = 0) when
//                      should_dead_letter(attempts + 1, max_attempts)
//   permanent_failure  uploading -> failed, attempts + 1, next_attempt_at = 0
//   interrupted        uploading -> pending, attempts and next_attempt_at unchanged
//   requeue            failed -> pending, attempts = 0, next_attempt_at = 0
std::optional<ImageRecord> apply(const ImageRecord& record, ImageEvent event, std::int64_t now,
                                 const RetryPolicy& policy);

// A pending image whose retry time has come.
bool is_due(const ImageRecord& record, std::int64_t now);

} // namespace imgsync::core
