// Whose failure is it, the pass's or the image's, and how did the pass end. Pure: the pass feeds
// it what happened, it answers what to do and what to record.
//
// The rule: a failure is charged to an image only once the pass has shown that the endpoint, the
// credentials and the bucket work, that is once one request of this pass got an answer that
// checked out. Until then, an image whose request failed for good (a refusal that may concern
// some keys only, or a transient error that outlasted the in-pass retries) is held aside,
// uncharged. The first success charges the held images to themselves; a pass that ends, or holds
// `hold_limit` images, with nothing succeeded has failed (exit 3), and its held images go back to
// pending with their attempts untouched. A failure that cannot depend on the key (credentials,
// bucket, DNS, TLS, connection refused) stops the pass at once, whatever the backlog's size.
// A refusal that an earlier pass already charged to the same image, word for word, is the image's
// at once: that pass proved the endpoint worked while this key was refused, so a backlog of
// nothing but refused keys still reaches the dead letter instead of failing every pass.
#pragma once

#include "model/run_outcome.hpp"
#include "pass/retry.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace imgsync::core {

// What the pass does with an image whose request failed for good in this pass.
enum class Blame {
    image, // the image's: failed (image class), or pending with the attempt used (dead letter
           // after --max-attempts)
    hold,  // not known yet: kept aside uncharged until a request succeeds or the pass ends
    pass,  // the pass's: stop it; the image goes back to pending uncharged
};

std::string_view to_string(Blame blame);

class PassHealth {
  public:
    explicit PassHealth(int hold_limit) : hold_limit_(hold_limit < 1 ? 1 : hold_limit) {}

    // A request's answer checked out. True the first time: the held images are then charged.
    bool on_success();
    // A request failed for good with this class (after any in-pass retries of a transient one).
    // refused_before: the image's last charged failure was this same refusal.
    Blame on_failure(FailureClass failure, bool refused_before = false);

    bool proven() const { return proven_; }
    int held() const { return held_; }
    // As many images held as the limit, with nothing succeeded: the pass has failed.
    bool exhausted() const { return !proven_ && held_ >= hold_limit_; }

  private:
    int hold_limit_;
    bool proven_ = false;
    int held_ = 0;
};

enum class StopReason { none, deadline, interrupted, failed };

std::string_view to_string(StopReason reason); // "none", "deadline", "interrupted", "failed"

// How a pass went, as counted by the pass when it ends.
struct PassTally {
    StopReason stop = StopReason::none;
    bool proven = false;        // a request of this pass succeeded
    int held = 0;               // images held uncharged (meaningful while not proven)
    std::int64_t requests = 0;  // requests started
    std::int64_t failed = 0;    // images marked failed
    std::int64_t deferred = 0;  // images left pending with an attempt charged
    bool limit_reached = false; // --max-images or --max-bytes
    std::string last_failure;   // the failure that stopped the pass, or the last one seen
};

struct PassVerdict {
    RunOutcome outcome = RunOutcome::ok;
    std::string message;
    ExitCode exit_code = ExitCode::ok;
};

// The first rule that applies:
//   interrupted                                    -> interrupted, exit 6
//   stopped as failed (a pass-wide failure, or hold_limit images held with nothing succeeded)
//                                                  -> failed, exit 3
//   nothing succeeded and an image was held        -> failed, exit 3
//   nothing succeeded, requests were made and the deadline stopped the pass (every request
//   stalled or timed out)                          -> failed, exit 3
//   images failed or were deferred                 -> partial, exit 1
//   the deadline stopped the pass                  -> deadline, exit 0
//   --max-images or --max-bytes stopped it         -> limit, exit 0
//   otherwise                                      -> ok, exit 0
PassVerdict decide_verdict(const PassTally& tally);

} // namespace imgsync::core
