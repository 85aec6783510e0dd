// Plain records as the state file stores them. No behaviour: the domain code computes with them.
#pragma once

#include "model/image_state.hpp"
#include "model/run_outcome.hpp"
#include "model/verification.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::storage {

struct ImageRecord {
    std::int64_t id = 0;
    std::string path;
    std::string key;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256; // lower-case hex
    std::string md5;    // lower-case hex
    std::string content_type;
    core::ImageState state = core::ImageState::pending;
    std::int64_t attempts = 0;
    std::optional<std::string> last_error;
    std::int64_t next_attempt_at = 0;
    std::int64_t added_at = 0;
    std::optional<std::int64_t> uploaded_at;
    std::optional<std::string> etag;
    std::optional<std::string> upload_id; // multipart upload in progress
    std::int64_t part_size = 0;
    bool has_part_digests = false; // add recorded part digests (set by Store::claim only)
    std::int64_t lease_token = 0;  // the claim's fencing token (set by Store::claim only)
    std::string host_id;           // the host that registered it
    std::uint64_t inode = 0;       // of the file add hashed (0: not recorded)
    // The local file was deleted or moved after the upload (upload --after-upload, prune): when,
    // and where to (none: deleted).
    std::optional<std::int64_t> pruned_at;
    std::optional<std::string> pruned_to;
};

// The digests of one part of a file that will go up as a multipart upload, computed by add in
// the same read as the whole file's, so a pass need not read the part twice.
struct PartDigest {
    std::int64_t part_number = 0;
    std::string md5;    // lower-case hex
    std::string sha256; // lower-case hex
};

// What add registers: the file as it was when hashed.
struct NewImage {
    std::string path;
    std::string key;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256;
    std::string md5;
    std::string content_type;
    std::uint64_t digest_part_size = 0; // 0: no part digests (below the multipart threshold)
    std::vector<PartDigest> part_digests;
    std::string host_id; // --host-id of the add or seed that registered it
    std::uint64_t inode = 0;
};

struct PartRecord {
    std::int64_t part_number = 0;
    std::string etag;
    std::uint64_t size = 0;
};

// One image with everything imgsync migrate copies: its row, its multipart progress and the part
// digests add recorded.
struct ImageExport {
    ImageRecord image;
    std::vector<PartRecord> parts;
    std::uint64_t digest_part_size = 0;
    std::vector<PartDigest> digests;
};

// A file add refused, remembered with the size and mtime it had then: a later add skips it while
// both stay the same (epoch seconds for the sightings).
struct Refusal {
    std::string path;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string reason;
    std::int64_t first_seen = 0, last_seen = 0;
    std::string host_id;
};

struct BacklogCounts {
    std::int64_t pending = 0, uploading = 0, uploaded = 0, failed = 0;
    std::uint64_t bytes_pending = 0, bytes_uploading = 0, bytes_uploaded = 0, bytes_failed = 0;
    // Uploaded images whose local file was pruned (deleted or moved): among `uploaded`, so
    // uploaded - pruned are still on the local disk.
    std::int64_t pruned = 0;
    std::uint64_t bytes_pruned = 0;
    std::optional<std::int64_t> oldest_pending_added_at; // epoch seconds

    // One state's images and bytes, as a backend's totals name the state ("pending", ...);
    // other names are ignored.
    void set(std::string_view state, std::int64_t images, std::uint64_t bytes) {
        const auto pick = [&](std::int64_t& n, std::uint64_t& b) { n = images, b = bytes; };
        if (state == "pending") {
            pick(pending, bytes_pending);
        } else if (state == "uploading") {
            pick(uploading, bytes_uploading);
        } else if (state == "uploaded") {
            pick(uploaded, bytes_uploaded);
        } else if (state == "failed") {
            pick(failed, bytes_failed);
        } else if (state == "pruned") {
            pick(pruned, bytes_pruned);
        }
    }
};

struct RunRecord {
    std::int64_t id = 0;
    std::int64_t started_at = 0;
    std::optional<std::int64_t> finished_at;
    std::int64_t uploaded = 0, failed = 0, retried = 0;
    std::uint64_t bytes = 0;
    core::RunOutcome outcome = core::RunOutcome::running;
    std::string message;
    std::int64_t pid = 0;
    std::string host_id;
    // How long the pass ran, by its monotonic clock (started_at and finished_at are whole
    // seconds); absent for a pass that did not finish or was recorded before it was kept.
    std::optional<double> seconds;
};

// A pass as the fleet view shows it: running now, or one of the recent ones.
struct PassRecord {
    std::int64_t run_id = 0;
    std::string host_id;
    std::int64_t pid = 0;
    std::int64_t started_at = 0;
    std::optional<std::int64_t> finished_at;
    core::RunOutcome outcome = core::RunOutcome::running;
    std::int64_t in_flight = 0;                   // images it holds now
    std::int64_t requests = 0;                    // its HTTP requests in flight (about 1 s old)
    std::optional<std::int64_t> lease_expires_at; // its run lease (PostgreSQL), epoch seconds
};

// The backlog registered with one host id (add --host-id): its images not uploaded yet.
struct HostBacklog {
    std::string host_id;
    std::int64_t pending = 0, uploading = 0, failed = 0;
    std::uint64_t bytes_pending = 0, bytes_uploading = 0, bytes_failed = 0;
};

// The passes running now and recent ones, newest first; the images whose lease expired (their
// pass died or was cut off; any pass may claim them); the backlog by host id, in host id order
// (uploaded images are counted only in BacklogCounts: the query never reads them).
struct FleetStatus {
    std::vector<PassRecord> passes;
    std::int64_t expired_leases = 0;
    std::vector<HostBacklog> hosts;

    // Adds one host id's images and bytes in one state, as the backends' GROUP BY names it; rows
    // come in host id order.
    void add_host_state(const std::string& host_id, std::string_view state, std::int64_t images,
                        std::uint64_t bytes) {
        if (hosts.empty() || hosts.back().host_id != host_id) {
            hosts.push_back(HostBacklog{host_id, 0, 0, 0, 0, 0, 0});
        }
        HostBacklog& h = hosts.back();
        if (state == "pending") {
            h.pending = images, h.bytes_pending = bytes;
        } else if (state == "uploading") {
            h.uploading = images, h.bytes_uploading = bytes;
        } else if (state == "failed") {
            h.failed = images, h.bytes_failed = bytes;
        }
    }
};

// Activity within [now - window_seconds, now], from the hourly activity table.
// Images added and uploaded in one clock hour (hour: epoch seconds / 3600).
struct HourActivity {
    std::int64_t hour = 0;
    std::int64_t added = 0;
    std::int64_t uploaded = 0;
};

struct ArrivalWindow {
    std::int64_t window_seconds = 0;
    std::int64_t images_added = 0;
    std::uint64_t bytes_added = 0;
    std::int64_t images_uploaded = 0;
    std::uint64_t bytes_uploaded = 0;
    std::vector<HourActivity> hours; // the hours of the window with any activity, in order
};

// One finished imgsync verify: what it checked (scope: "all", "sample 100", "since 7d"), what it
// found, and how it ended.
struct VerificationRecord {
    std::int64_t id = 0;
    std::int64_t started_at = 0, finished_at = 0; // epoch seconds
    std::string host_id;
    std::string scope;
    core::VerifyOutcome outcome = core::VerifyOutcome::ok;
    core::VerifyTotals totals;
    std::string message; // why it stopped early, if it did
};

} // namespace imgsync::storage
