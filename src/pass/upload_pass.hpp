// One upload pass: the pending backlog, oldest first, into S3 at the pace the operator set.
//
// Single-threaded event loop over util::HttpClient: up to `concurrency` requests in flight (a
// multipart upload's parts count one each), images claimed from the state file in small batches
// (memory stays bounded whatever the backlog), bodies streamed from disk, every state change
// written in batched transactions. See ARCHITECTURE.md for the image state machine.
#pragma once

#include "model/image_state.hpp"
#include "model/multipart.hpp"
#include "pass/throttle.hpp"
#include "s3/object_settings.hpp"
#include "s3/operations.hpp"
#include "storage/store.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::core {

// When the pass draws its live progress line on stderr (upload --progress): automatic means only
// when stderr is a terminal.
enum class ProgressMode { automatic, always, never };
// "auto", "always", "never".
std::string_view to_string(ProgressMode mode);

struct PassOptions {
    int concurrency = 8;
    std::optional<std::int64_t> max_images;
    std::optional<std::uint64_t> max_bytes;
    double rate = 0;  // images/s; 0 = unlimited
    double burst = 0; // 0 = concurrency
    std::optional<BandwidthSchedule> bandwidth;
    std::optional<double> max_duration; // seconds
    double grace = 30;
    RetryPolicy retry;
    int pass_attempts = 4;
    PartPlan parts;
    long stall_seconds = 60;
    long connect_timeout_ms = 10000;
    bool progress = false;
    // Images that may fail before anything succeeded in the pass; that many make the pass a
    // failed one (see pass/verdict.hpp).
    int hold_limit = 3;
    // Who claims, what and for how long (upload --host-id, --claim, --lease).
    std::string host_id;
    storage::ClaimScope claim_scope = storage::ClaimScope::local;
    double lease_seconds = 60;
    // upload --fleet-rate, --fleet-burst: the bucket every pass on the backlog shares (0: none).
    double fleet_rate = 0;
    double fleet_burst = 0;
    s3::ObjectSettings object; // storage class, headers, metadata, tags, ACL, encryption
    // upload --if-none-match: never overwrite an object; a key that exists counts as uploaded
    // only if its x-amz-meta-sha256 (or size and ETag) is the image's.
    bool if_none_match = false;
    // Temporary credentials: when to replace them (seconds since the epoch), and how to get new
    // ones. Unset for static keys. A refresh that fails ends the pass as failed.
    std::optional<std::int64_t> credentials_refresh_at;
    std::function<util::Result<s3::Credentials>(std::int64_t now)> refresh_credentials;
};

struct PassResult {
    storage::RunRecord run;    // totals and outcome, as recorded
    std::int64_t deferred = 0; // transient failures left pending for a later pass
    ExitCode exit_code = ExitCode::ok;
};

// The network and the clocks are parameters, so that the unit tests can drive a whole pass with
// a scripted transport and a clock of their own (tests/unit/test_upload_pass.cpp).
PassResult run_upload_pass(const PassOptions& options, storage::Store& store,
                           util::HttpTransport& http, s3::Operations& s3, util::Logger& log,
                           std::int64_t run_id, const util::Clock& clock = util::Clock::system());

} // namespace imgsync::core
