// imgsync verify's vocabulary: which images a verification checks, what each object turned out
// to be, and how the verification ended. Closed sets; the names are stable (status --json, the
// metrics and the verifications table carry them).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace imgsync::core {

// Which uploaded images a verification checks: all of them, a random sample of N, or those
// uploaded within the last DURATION.
enum class VerifyScope { all, sample, since };
// "all", "sample", "since".
std::string_view to_string(VerifyScope scope);

// What one object turned out to be.
enum class ObjectCheck {
    ok,         // there, with the image's size and content
    missing,    // no object under the key
    changed,    // there, but another size, SHA-256 or ETag than the image's
    unverified, // no answer that says either (a refusal, or a transient error retried too often)
};
// "ok", "missing", "changed", "unverified".
std::string_view to_string(ObjectCheck check);

enum class VerifyOutcome {
    ok,          // every object checked was there and unchanged
    problems,    // some were missing, changed or could not be checked
    interrupted, // stopped by a signal before it checked everything
    failed,      // stopped because nothing would answer (credentials, bucket, network)
};
// "ok", "problems", "interrupted", "failed".
std::string_view to_string(VerifyOutcome outcome);
// Exact; nullopt for anything else.
std::optional<VerifyOutcome> parse_verify_outcome(std::string_view text);

struct VerifyTotals {
    std::int64_t checked = 0, ok = 0, missing = 0, changed = 0, unverified = 0;
    std::int64_t requeued = 0; // missing or changed ones put back to pending (verify --requeue)
};

// Adds one object's result to the totals.
void count(VerifyTotals& totals, ObjectCheck check);
// ok or problems; interrupted and failed are the caller's to say.
VerifyOutcome outcome_of(const VerifyTotals& totals);
// Objects found missing or changed and not put back to pending: what status --check reports as
// critical until a later verification finds them fine.
std::int64_t unresolved(const VerifyTotals& totals);

} // namespace imgsync::core
