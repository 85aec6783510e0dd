#include "pass/internal.hpp"

#include "s3/xml.hpp"
#include "util/hash.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace imgsync::core::pass {

void Pass::succeed(Job& job, const std::string& etag) {
    auto ms = static_cast<std::int64_t>((clock_.monotonic_seconds() - job.started_at) * 1000);
    std::int64_t id = job.image.id;
    bool part_rows = !job.upload_id.empty() || !job.parts.empty() || job.image.has_part_digests;
    if (!part_rows) {
        write([&] {
            confirmed_.emplace(
                id, Confirmed{etag, job.image.key, job.image.size, ms, job.image.lease_token});
        });
        drop(id);
        return;
    }
    if (!record_outcome(
            job, [&] { return store_.mark_uploaded(lease_of(job), etag, clock_.wall_epoch()); })) {
        return;
    }
    ++run_.uploaded;
    run_.bytes += job.image.size;
    log_.log(event_level_, "uploaded",
             {{"key", job.image.key},
              {"bytes", job.image.size},
              {"ms", ms},
              {"multipart", job.multipart}});
    drop(id);
}

void Pass::record_uploaded() {
    if (confirmed_.empty()) {
        return;
    }
    std::vector<storage::Store::Uploaded> images;
    for (const auto& [id, c] : confirmed_) {
        images.push_back({{run_.id, id, c.token}, c.etag});
    }
    for (auto id : store_.mark_uploaded(images, clock_.wall_epoch())) {
        auto it = confirmed_.find(id);
        ++run_.uploaded;
        run_.bytes += it->second.bytes;
        log_.log(event_level_, "uploaded",
                 {{"key", it->second.key},
                  {"bytes", it->second.bytes},
                  {"ms", it->second.ms},
                  {"multipart", false}});
        confirmed_.erase(it);
    }
    for (const auto& [id, c] : confirmed_) {
        log_.warn("outcome_not_recorded",
                  {{"key", c.key},
                   {"reason", "the state file no longer shows this image claimed by this pass"}});
    }
    confirmed_.clear();
}

void Pass::fail_image(Job& job, const std::string& reason) {
    cancel_requests(job);
    std::int64_t id = job.image.id;
    std::int64_t attempts = job.image.attempts + 1;
    if (!job.upload_id.empty()) {
        // No orphaned parts left behind to cost money: abort, fire and forget.
        auto req = s3_.abort_multipart(job.image.key, job.upload_id, sign_date());
        req.stall_seconds = o_.stall_seconds;
        req.connect_timeout_ms = o_.connect_timeout_ms;
        http_.start(next_tag_++, std::move(req));
        write([&] { (void)store_.set_multipart(lease_of(job), std::nullopt, 0); });
    }
    if (!record_outcome(job, [&] { return store_.mark_failed(lease_of(job), attempts, reason); })) {
        return;
    }
    ++run_.failed;
    log_.error("upload_failed",
               {{"key", job.image.key}, {"path", job.image.path}, {"reason", reason}});
    drop(id);
}

void Pass::defer(Job& job, const std::string& reason) {
    cancel_requests(job);
    ImageRecord record{ImageState::uploading, static_cast<int>(job.image.attempts) - 1, 0};
    auto next = apply(record, ImageEvent::transient_failure, clock_.wall_epoch(), o_.retry);
    std::int64_t id = job.image.id;
    if (next && next->state == ImageState::failed) {
        if (!record_outcome(
                job, [&] { return store_.mark_failed(lease_of(job), next->attempts, reason); })) {
            return;
        }
        ++run_.failed;
        log_.error("upload_failed", {{"key", job.image.key},
                                     {"attempts", next->attempts},
                                     {"reason", "gave up after max attempts: " + reason}});
    } else {
        std::int64_t at = next ? next->next_attempt_at : clock_.wall_epoch();
        if (!record_outcome(job, [&] {
                return store_.mark_pending(lease_of(job), job.image.attempts, at, reason);
            })) {
            return;
        }
        ++deferred_;
        log_.warn("upload_deferred", {{"key", job.image.key},
                                      {"attempts", job.image.attempts},
                                      {"next_attempt_at", util::iso8601_utc(at)},
                                      {"reason", reason}});
    }
    drop(id);
}

// Back to pending because the pass stops (not the image's fault): the tries this pass made, and
// their error, count only if the pass proved that the endpoint works. So last_error is always
// the failure that cost the image its last attempt (the run's message tells why a pass failed).
void Pass::release(Job& job, std::int64_t next_attempt_at) {
    std::int64_t id = job.image.id;
    bool charged = health_.proven() && !job.last_error.empty();
    write([&] {
        (void)store_.mark_pending(
            lease_of(job), charged ? job.image.attempts : job.attempts_at_claim, next_attempt_at,
            charged ? std::optional<std::string>(job.last_error) : std::nullopt);
    });
    drop(id);
}

void Pass::cancel_requests(Job& job) {
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.image_id == job.image.id) {
            http_.cancel(it->first);
            it = requests_.erase(it);
        } else {
            ++it;
        }
    }
    job.parts_in_flight = 0;
    job.step_in_flight = false;
    for (auto& p : job.parts) {
        p.in_flight = false;
    }
}

void Pass::drop(std::int64_t id) {
    active_.erase(id);
}

} // namespace imgsync::core::pass
