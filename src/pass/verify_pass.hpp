// imgsync verify: HEAD each selected uploaded image's object and judge it (pass/verify_rules),
// paced like a pass (a rate and a concurrency), in id order, in pages read from the store so
// that memory stays bounded and no transaction stays open while objects are checked. The
// network, the clock and the local file check are parameters, so that the unit tests drive it
// with a scripted transport (tests/unit/test_verify_pass.cpp).
#pragma once

#include "model/verification.hpp"
#include "pass/verify_rules.hpp"
#include "s3/operations.hpp"
#include "storage/store.hpp"
#include "util/clock.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace imgsync::core {

struct VerifyOptions {
    VerifyScope scope = VerifyScope::all;
    std::int64_t sample = 0;                 // --sample N
    std::optional<std::int64_t> since_epoch; // --since: uploaded at or after (epoch seconds)
    int concurrency = 8;
    double rate = 0;  // HEAD requests per second; 0 = unlimited
    double burst = 0; // 0 = concurrency
    bool requeue = false;
    int max_attempts = 4; // per object, for transient failures (backoff between them)
    long stall_seconds = 60;
    long connect_timeout_ms = 10000;
    // Temporary credentials, as for a pass: when to replace them and how.
    std::optional<std::int64_t> credentials_refresh_at;
    std::function<util::Result<s3::Credentials>(std::int64_t now)> refresh_credentials;
};

// An object found missing, changed or unverified, as the command reports it.
struct VerifyFinding {
    storage::ImageRecord image;
    ObjectVerdict verdict;
    bool requeued = false;
};

struct VerifyRun {
    VerifyTotals totals;
    VerifyOutcome outcome = VerifyOutcome::ok;
    std::string message; // why it stopped early (failed, interrupted)
};

// `local_matches` says whether an image's local file is still the image (asked with --requeue
// only, for missing and changed objects); `on_finding` hears of every object that is not ok.
VerifyRun run_verify(const VerifyOptions& options, storage::Store& store, util::HttpTransport& http,
                     s3::Operations& s3, util::Logger& log,
                     const std::function<bool(const storage::ImageRecord&)>& local_matches,
                     const std::function<void(const VerifyFinding&)>& on_finding,
                     const util::Clock& clock = util::Clock::system());

} // namespace imgsync::core
