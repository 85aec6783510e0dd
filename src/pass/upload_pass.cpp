#include "pass/internal.hpp"

#include "model/lease.hpp"

#include "s3/credential_chain.hpp"
#include "s3/xml.hpp"
#include "util/hash.hpp"
#include "util/signals.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace imgsync::core {

namespace pass {

void Pass::refill(double now) {
    if (source_done_ || limit_reached_ ||
        queue_.size() >= static_cast<std::size_t>(o_.concurrency)) {
        return;
    }
    int want = std::max(16, o_.concurrency * 2);
    if (o_.max_images) {
        want = static_cast<int>(std::min<std::int64_t>(
            want, *o_.max_images - images_started_ - static_cast<std::int64_t>(queue_.size())));
    }
    if (want <= 0) {
        if (queue_.empty()) {
            limit_reached_ = true; // --max-images images claimed: nothing more this pass
        }
        return;
    }
    commit(); // claim() runs its own transaction
    auto batch = store_.claim(claimant_, clock_.wall_epoch(), want);
    if (batch.size() < static_cast<std::size_t>(want)) {
        source_done_ = true;
    }
    for (auto& image : batch) {
        auto job = std::make_unique<Job>();
        job->image = std::move(image);
        queue_.push_back(std::move(job));
    }
    (void)now;
}

void Pass::maybe_renew(double now) {
    if (!store_.leases() || !renewal_due(renewed_at_, now, o_.lease_seconds)) {
        return;
    }
    commit(); // what the batch holds is written before the leases are counted
    std::vector<storage::Lease> held;
    if (lease_lost(renewed_at_, now, o_.lease_seconds)) {
        // The loop did not renew in time: another pass may own these images by now.
        std::vector<std::int64_t> ids;
        for (auto& [id, job] : active_) {
            ids.push_back(id);
        }
        for (auto& job : queue_) {
            ids.push_back(job->image.id);
        }
        for (auto& job : held_) {
            ids.push_back(job->image.id);
        }
        for (auto id : ids) {
            lose(id);
        }
    }
    for (auto& [id, job] : active_) {
        held.push_back(lease_of(*job));
    }
    for (auto& job : queue_) {
        held.push_back(lease_of(*job));
    }
    for (auto& job : held_) {
        held.push_back(lease_of(*job));
    }
    auto renewed = store_.renew(claimant_, held);
    renewed_at_ = now;
    std::sort(renewed.begin(), renewed.end());
    for (const auto& lease : held) {
        if (!std::binary_search(renewed.begin(), renewed.end(), lease.image_id)) {
            lose(lease.image_id);
        }
    }
}

// The lease is gone (expired and perhaps claimed by another pass): stop uploading the image and
// write nothing about it.
void Pass::lose(std::int64_t id) {
    std::string key;
    if (auto it = active_.find(id); it != active_.end()) {
        key = it->second->image.key;
        cancel_requests(*it->second);
        drop(id);
    }
    auto gone = [&](const std::unique_ptr<Job>& job) {
        if (job->image.id != id) {
            return false;
        }
        key = job->image.key;
        return true;
    };
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), gone), queue_.end());
    held_.erase(std::remove_if(held_.begin(), held_.end(), gone), held_.end());
    log_.warn("lease_lost",
              {{"key", key}, {"reason", "the lease expired or another pass holds the image now"}});
}

// A token of the fleet's bucket is in hand, or one was taken now (about a quarter second's worth
// at a time, so that a fast pass asks a few times a second; what a pass leaves unspent at its end
// is lost to the fleet, which only errs on the slow side).
bool Pass::fleet_allows(double now) {
    if (o_.fleet_rate <= 0 || fleet_tokens_ > 0) {
        return true;
    }
    if (now < next_fleet_ask_) {
        return false;
    }
    commit(); // SQLite takes in a transaction of its own
    auto want = static_cast<std::int64_t>(
        std::max(1.0, std::min(static_cast<double>(o_.concurrency), o_.fleet_rate / 4)));
    fleet_tokens_ +=
        store_.take_fleet_tokens(o_.fleet_rate, o_.fleet_burst, want, clock_.wall_seconds());
    if (fleet_tokens_ > 0) {
        return true;
    }
    next_fleet_ask_ = now + std::min(1.0, 1 / o_.fleet_rate);
    return false;
}

void Pass::update_limits(double now) {
    if (o_.rate > 0) {
        rate_.set_rate(now, o_.rate * adaptive_.rate_factor());
    }
    if (o_.bandwidth && now - last_schedule_check_ >= 1.0) {
        last_schedule_check_ = now;
        auto local = util::local_time_of_week(clock_.wall_epoch());
        std::uint64_t limit =
            o_.bandwidth->limit_at(week_minute(local.weekday, local.minute_of_day));
        if (limit != static_cast<std::uint64_t>(bandwidth_.rate())) {
            double burst = std::max(64.0 * 1024, static_cast<double>(limit) / 4);
            bandwidth_.set_burst(now, burst);
            bandwidth_.set_rate(now, static_cast<double>(limit));
            log_.info("bandwidth", {{"bytes_per_second", limit}});
        }
    }
}

bool Pass::start_one(double now) {
    // Finish what has begun first: steps and parts of images already in flight or retrying.
    for (auto& [id, job] : active_) {
        if (job->step_in_flight || job->ready_at > now) {
            continue;
        }
        if (!job->parts_phase()) {
            if (job->in_flight() == 0) {
                start_step(*job, job->next, no_part, now);
                return true;
            }
            continue;
        }
        for (std::size_t i = 0; i < job->parts.size(); ++i) {
            Part& p = job->parts[i];
            if (!p.done && !p.in_flight && p.ready_at <= now) {
                start_step(*job, Step::part, i, now);
                return true;
            }
        }
    }
    return start_new_job(now);
}

bool Pass::start_new_job(double now) {
    if (queue_.empty()) {
        return false;
    }
    const auto& next = queue_.front()->image;
    if (o_.max_images && images_started_ >= *o_.max_images) {
        limit_reached_ = true;
        return false;
    }
    // The first image of a pass always goes, so one image larger than --max-bytes cannot stall
    // the backlog forever.
    if (o_.max_bytes && images_started_ > 0 && bytes_started_ + next.size > *o_.max_bytes) {
        limit_reached_ = true;
        return false;
    }
    // Until a request succeeds, a failure makes the pass cautious: the images already started
    // finish their tries before another starts, so a broken endpoint costs a few requests.
    if (!health_.proven() && !last_failure_.empty() && !active_.empty()) {
        return false;
    }
    if (!fleet_allows(now) || !rate_.try_take(now, 1)) {
        return false;
    }
    if (o_.fleet_rate > 0) {
        --fleet_tokens_;
    }
    auto job = std::move(queue_.front());
    queue_.pop_front();
    ++images_started_;
    bytes_started_ += job->image.size;
    begin_job(std::move(job), now);
    return true;
}

void Pass::begin_job(std::unique_ptr<Job> owned, double now) {
    Job& job = *owned;
    std::int64_t id = job.image.id;
    active_[id] = std::move(owned);
    job.started_at = now;
    job.attempts_at_claim = job.image.attempts;
    // Known before anything can fail, so a failure aborts a half-done multipart upload.
    job.upload_id = job.image.upload_id.value_or("");
    job.fd.reset(::open(job.image.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!job.fd) {
        fail_image(job, errno == ENOENT
                            ? "file vanished: no such file"
                            : fmt::format("cannot open file: {}", std::strerror(errno)));
        return;
    }
    auto st = util::stat_fd(job.fd.get());
    // Policy for files that change after add: never upload bytes that do not match the recorded
    // hash. A changed size or mtime fails the image with the reason; `imgsync add` on the file
    // registers the new content (and the server refuses mismatched bytes anyway).
    if (!st) {
        fail_image(job, fmt::format("cannot stat file: {}", std::strerror(errno)));
        return;
    }
    if (auto change = describe_change(job.image, *st)) {
        fail_image(job, fmt::format("file changed since it was added ({}); run imgsync add on it "
                                    "again",
                                    *change));
        return;
    }
    if (o_.parts.multipart(job.image.size)) {
        job.multipart = true;
        bool resume = !job.upload_id.empty() && job.image.part_size > 0;
        job.part_size = resume ? static_cast<std::uint64_t>(job.image.part_size)
                               : o_.parts.part_size(job.image.size);
        std::uint64_t count = (job.image.size + job.part_size - 1) / job.part_size;
        // Digests add computed for this part size spare reading every part twice; without them
        // (another part size, or seeded images) each part is hashed just before it is sent.
        auto digests = store_.part_digests(job.image.id, job.part_size);
        if (digests.size() != count) {
            digests.clear();
        }
        for (std::uint64_t i = 0; i < count; ++i) {
            Part p;
            p.number = static_cast<std::int64_t>(i + 1);
            p.offset = i * job.part_size;
            p.length = std::min(job.part_size, job.image.size - p.offset);
            if (!digests.empty()) {
                p.md5_hex = std::move(digests[i].md5);
                p.sha256_hex = std::move(digests[i].sha256);
            }
            job.parts.push_back(p);
        }
        if (resume) {
            // Parts the state file recorded are candidates; ListParts confirms them.
            job.next = Step::list_parts;
        } else {
            // With --if-none-match, a key that exists is found before any part is sent.
            job.next = o_.if_none_match ? Step::existing : Step::create;
        }
    }
    start_step(job, job.next, no_part, now);
}

void Pass::start_step(Job& job, Step step, std::size_t part, double now) {
    const auto& img = job.image;
    util::HttpRequest req;
    auto date = sign_date();
    switch (step) {
    case Step::put: {
        if (img.md5.empty()) {
            // add records no whole-file MD5 for a file it registered as multipart; sent with one
            // PUT (a higher --multipart-threshold here), it is hashed now, and must still be the
            // content add hashed.
            std::string md5, sha;
            if (!hash_range(job.fd.get(), 0, img.size, md5, sha)) {
                fail_image(job, "cannot read the file");
                return;
            }
            if (sha != img.sha256) {
                fail_image(job, "file changed since it was added (its SHA-256 differs); run "
                                "imgsync add on it again");
                return;
            }
            job.image.md5 = md5;
        }
        auto headers = s3::object_headers(o_.object, img.sha256);
        if (o_.if_none_match) {
            headers.push_back({"if-none-match", "*"});
        }
        s3::FileBody body{job.fd.get(), 0, img.size, img.sha256, img.md5, {}, {}};
        if (!add_checksum(job, body, job.checksum)) {
            return;
        }
        req = s3_.put_object(img.key, body, img.content_type, headers, date);
        break;
    }
    case Step::create: {
        auto headers = s3::object_headers(o_.object, img.sha256);
        if (o_.object.checksum) {
            headers.push_back({"x-amz-checksum-algorithm",
                               std::string(s3::checksum_algorithm_value(*o_.object.checksum))});
        }
        req = s3_.create_multipart(img.key, img.content_type, headers, date);
        break;
    }
    case Step::list_parts:
        req = s3_.list_parts(img.key, job.upload_id, job.list_marker, date);
        break;
    case Step::complete: {
        std::vector<s3::CompletedPart> parts;
        if (!completed_parts(job, parts)) {
            return;
        }
        req = s3_.complete_multipart(img.key, job.upload_id, parts,
                                     o_.object.checksum ? s3::checksum_element(*o_.object.checksum)
                                                        : std::string_view(),
                                     o_.if_none_match, date);
        break;
    }
    case Step::verify:
    case Step::existing:
        req = s3_.head_object(img.key, date);
        break;
    case Step::tag:
        req = s3_.put_object_tagging(img.key, s3::tagging_body(o_.object.tags), date);
        break;
    case Step::part: {
        Part& p = job.parts[part];
        if (p.md5_hex.empty() &&
            !hash_range(job.fd.get(), p.offset, p.length, p.md5_hex, p.sha256_hex)) {
            fail_image(job, fmt::format("cannot read part {} of the file", p.number));
            return;
        }
        s3::FileBody body{job.fd.get(), p.offset, p.length, p.sha256_hex, p.md5_hex, {}, {}};
        if (!add_checksum(job, body, p.checksum)) {
            return;
        }
        req = s3_.upload_part(img.key, job.upload_id, p.number, body, date);
        p.in_flight = true;
        ++job.parts_in_flight;
        break;
    }
    }
    if (step != Step::part) {
        job.step_in_flight = true;
    }
    req.connect_timeout_ms = o_.connect_timeout_ms;
    req.stall_seconds = o_.stall_seconds;
    // Overall limit: generous for the body at the slowest pace the throttles allow.
    double pace = 1.0 * MiB;
    if (!bandwidth_.unlimited() && bandwidth_.rate() > 0) {
        pace = std::min(pace, bandwidth_.rate() / o_.concurrency);
    }
    req.total_timeout_ms =
        static_cast<long>(1000 * (60 + 3 * static_cast<double>(req.length) / pace));
    std::uint64_t tag = next_tag_++;
    requests_[tag] = Request{img.id, step, part};
    ++requests_started_;
    log_.debug("request", {{"key", img.key},
                           {"step", step_name(step)},
                           {"part", part == no_part ? 0 : job.parts[part].number}});
    http_.start(tag, std::move(req));
    (void)now;
}

double Pass::next_wakeup(double now) const {
    double wake = now + 0.1;
    for (const auto& [id, job] : active_) {
        if (job->in_flight() == 0 && job->ready_at > now) {
            wake = std::min(wake, job->ready_at);
        }
    }
    if (!queue_.empty() && o_.rate > 0) {
        wake = std::min(wake, now + rate_.wait_seconds(now, 1));
    }
    return std::max(wake, now + 0.001);
}

void Pass::progress(double now, bool final) {
    if (!o_.progress) {
        return;
    }
    if (final) {
        std::fputs("\r\033[K", stderr);
        return;
    }
    if (now - last_progress_ < 0.5) {
        return;
    }
    last_progress_ = now;
    double elapsed = std::max(0.001, now - started_);
    double per_s = static_cast<double>(run_.uploaded) / elapsed;
    std::int64_t left = std::max<std::int64_t>(0, planned_ - run_.uploaded - run_.failed);
    std::string eta =
        per_s > 0 ? util::format_duration(static_cast<std::int64_t>(left / per_s)) : "?";
    std::fprintf(stderr, "\r\033[K%lld/%lld images  %s  %.1f img/s  %s/s  ETA %s",
                 static_cast<long long>(run_.uploaded), static_cast<long long>(planned_),
                 util::format_bytes(run_.bytes).c_str(), per_s,
                 util::format_bytes(static_cast<std::uint64_t>(
                                        static_cast<double>(http_.bytes_sent_total()) / elapsed))
                     .c_str(),
                 eta.c_str());
    std::fflush(stderr);
}

// Temporary credentials are replaced before they expire. Requests in flight keep the signatures
// they were sent with; the ones built from now on are signed with the new credentials. The fetch
// blocks the loop for at most its own timeouts, which transfers in flight survive (the stall
// timeout is longer).
void Pass::maybe_refresh_credentials() {
    if (!credentials_refresh_at_ || !o_.refresh_credentials || !fatal_.empty()) {
        return;
    }
    const std::int64_t now = clock_.wall_epoch();
    if (now < *credentials_refresh_at_) {
        return;
    }
    auto fresh = o_.refresh_credentials(now);
    if (!fresh) {
        fatal_ = "credentials could not be refreshed: " + fresh.error();
        log_.warn("credentials_refresh_failed", {{"reason", fresh.error()}});
        return;
    }
    credentials_refresh_at_.reset();
    std::string expires = "never";
    if (fresh->expires_at) {
        credentials_refresh_at_ = s3::refresh_time(now, *fresh->expires_at);
        expires = util::iso8601_utc(*fresh->expires_at);
    }
    log_.info("credentials_refreshed",
              {{"credentials", fresh->source()}, {"credentials_expire", expires}});
    s3_.set_credentials(std::move(*fresh));
}

PassResult Pass::run() {
    started_ = clock_.monotonic_seconds();
    renewed_at_ = started_;
    auto counts = store_.counts();
    planned_ = o_.max_images ? std::min(*o_.max_images, counts.pending) : counts.pending;
    if (o_.bandwidth) {
        update_limits(started_);
    }
    http_.set_send_gate([this](std::size_t wanted) -> std::size_t {
        if (bandwidth_.unlimited() || bandwidth_.rate() <= 0) {
            return wanted;
        }
        double now = clock_.monotonic_seconds();
        double avail = bandwidth_.available(now);
        if (avail < 1) {
            return 0;
        }
        auto give = std::min(wanted, static_cast<std::size_t>(avail));
        bandwidth_.take(now, static_cast<double>(give));
        return give;
    });

    StopReason stop = StopReason::none;
    double drain_until = 0;
    bool aborted = false;
    for (;;) {
        double now = clock_.monotonic_seconds();
        if (stop == StopReason::none) {
            if (util::stop_signals > 0) {
                stop = StopReason::interrupted;
            } else if (!fatal_.empty()) {
                stop = StopReason::failed;
            } else if (o_.max_duration && now - started_ >= *o_.max_duration) {
                stop = StopReason::deadline;
            }
            if (stop != StopReason::none) {
                drain_until = now + (stop == StopReason::failed ? 0 : o_.grace);
                log_.info("pass_stopping", {{"reason", std::string(to_string(stop))},
                                            {"in_flight", requests_.size()},
                                            {"grace_s", drain_until - now}});
            }
        }
        if (stop != StopReason::none) {
            if (requests_.empty()) {
                break;
            }
            if (now >= drain_until || util::stop_signals > 1) {
                aborted = true;
                break;
            }
        } else {
            maybe_refresh_credentials();
            update_limits(now);
            refill(now);
            int allowed = adaptive_.concurrency();
            while (static_cast<int>(requests_.size()) < allowed && start_one(now)) {
            }
            if (requests_.empty() && queue_.empty() && active_.empty() &&
                (source_done_ || limit_reached_)) {
                break;
            }
            if (requests_.empty() && limit_reached_ && active_.empty()) {
                break;
            }
        }
        double wake = next_wakeup(now);
        http_.poll(
            static_cast<int>((wake - now) * 1000) + 1,
            [this](std::uint64_t tag, util::HttpResponse&& r) { on_done(tag, std::move(r)); });
        double after = clock_.monotonic_seconds();
        maybe_report_requests(after);
        maybe_commit(after);
        maybe_renew(after);
        progress(after, false);
    }
    commit(); // the final figures count the uploads it records
    progress(0, true);

    // Whatever is still claimed goes back to pending: queued, waiting to retry, or in flight.
    if (aborted) {
        log_.warn("pass_aborted", {{"in_flight", requests_.size()}});
    }
    for (auto& [tag, req] : requests_) {
        http_.cancel(tag);
    }
    requests_.clear();
    // What is left are AbortMultipartUpload requests: let them reach the server (bounded).
    for (int i = 0; i < 100 && http_.in_flight() > 0; ++i) {
        http_.poll(100, [](std::uint64_t, util::HttpResponse&&) {});
    }
    std::vector<std::int64_t> ids;
    for (auto& [id, job] : active_) {
        ids.push_back(id);
    }
    for (auto id : ids) {
        release(*active_[id], active_[id]->image.next_attempt_at);
    }
    // Held images failed before anything succeeded: uncharged, and a little later, so that other
    // images lead the next pass (a policy that refuses the oldest keys cannot stall the rest).
    for (auto& job : held_) {
        release(*job, clock_.wall_epoch() + o_.retry.base_delay.count());
    }
    for (auto& job : queue_) {
        write([&] {
            (void)store_.mark_pending(lease_of(*job), job->image.attempts,
                                      job->image.next_attempt_at, std::nullopt);
        });
    }
    queue_.clear();
    commit();

    PassTally tally;
    tally.stop = stop;
    tally.proven = health_.proven();
    tally.held = static_cast<int>(held_.size());
    tally.requests = requests_started_;
    tally.failed = run_.failed;
    tally.deferred = deferred_;
    tally.limit_reached = limit_reached_;
    tally.last_failure = stop == StopReason::failed ? fatal_ : last_failure_;
    held_.clear();
    auto verdict = decide_verdict(tally);
    run_.outcome = verdict.outcome;
    run_.message = verdict.message;
    PassResult result;
    result.deferred = deferred_;
    result.exit_code = verdict.exit_code;
    result.run = run_;
    return result;
}

} // namespace pass

PassResult run_upload_pass(const PassOptions& options, storage::Store& store,
                           util::HttpTransport& http, s3::Operations& s3, util::Logger& log,
                           std::int64_t run_id, const util::Clock& clock) {
    pass::Pass p(options, store, http, s3, log, run_id, clock);
    return p.run();
}

std::string_view to_string(ProgressMode mode) {
    switch (mode) {
    case ProgressMode::automatic:
        return "auto";
    case ProgressMode::always:
        return "always";
    case ProgressMode::never:
        return "never";
    }
    return "auto";
}

} // namespace imgsync::core
