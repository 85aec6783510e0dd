// The pass's state and steps, shared by the files that implement it: upload_pass.cpp (the loop
// and the scheduling), answers.cpp (what each answer means) and outcomes.cpp (what
// goes into the state file). Nothing outside those three includes this.
#pragma once

#include "pass/job.hpp"
#include "pass/upload_pass.hpp"
#include "pass/verdict.hpp"
#include "pass/writes.hpp"

#include <deque>
#include <map>
#include <memory>
#include <random>

namespace imgsync::core::pass {

class Pass {
  public:
    Pass(const PassOptions& options, storage::Store& store, util::HttpTransport& http,
         s3::Operations& s3, util::Logger& log, std::int64_t run_id, const util::Clock& clock)
        : o_(options), store_(store), http_(http), s3_(s3), log_(log), clock_(clock),
          rate_(options.rate,
                options.burst > 0 ? options.burst : std::max(1.0, double(options.concurrency))),
          bandwidth_(0, 1), adaptive_(make_adaptive(options)), rng_(std::random_device{}()),
          writes_(store), health_(options.hold_limit) {
        run_.id = run_id;
        claimant_ = {run_id, options.host_id, options.claim_scope, options.lease_seconds};
        credentials_refresh_at_ = options.credentials_refresh_at;
        event_level_ = o_.progress ? util::Level::debug : util::Level::info;
    }

    PassResult run();

  private:
    static AdaptiveConfig make_adaptive(const PassOptions& o) {
        AdaptiveConfig c;
        c.max_concurrency = o.concurrency;
        return c;
    }

    // --- the state file, written in batches -------------------------------------------------
    template <typename F> void write(F&& f) { writes_.write(clock_.monotonic_seconds(), f); }
    // Writes an outcome (mark_uploaded, mark_failed, mark_pending). False when the state file no
    // longer shows the image claimed by this pass (an operator or a recovery changed it under
    // us): the outcome is not ours to record, and the image is dropped from the pass uncounted.
    template <typename F> bool record_outcome(Job& job, F&& mark) {
        bool held = true;
        write([&] { held = mark(); });
        if (!held) {
            log_.warn(
                "outcome_not_recorded",
                {{"key", job.image.key},
                 {"reason", "the state file no longer shows this image claimed by this pass"}});
            drop(job.image.id);
        }
        return held;
    }
    // The requests in flight, for status, in the open batch (or one of their own).
    void maybe_report_requests(double now) {
        const auto n = static_cast<std::int64_t>(requests_.size());
        if (requests_report_due(requests_reported_, n, requests_reported_at_, now)) {
            write([&] { store_.set_run_requests(run_.id, n); });
            requests_reported_ = n;
            requests_reported_at_ = now;
        }
    }
    void maybe_commit(double now) {
        if (writes_.due(now)) {
            commit();
        }
    }
    void commit() {
        if (writes_.open()) {
            record_uploaded();
            writes_.commit();
        }
    }
    // Single PUTs the server confirmed, written by record_uploaded() in one statement when the
    // transaction that holds them commits; counted and logged then, since only the state file
    // can say whether the pass still held each image.
    struct Confirmed {
        std::string etag;
        std::string key;
        std::uint64_t bytes;
        std::int64_t ms;
        std::int64_t token;
    };
    std::map<std::int64_t, Confirmed> confirmed_; // by image id
    void record_uploaded();

    // --- scheduling ----------------------------------------------------------------------------
    void refill(double now);
    bool start_one(double now);
    bool start_new_job(double now);
    void start_step(Job& job, Step step, std::size_t part, double now);
    void begin_job(std::unique_ptr<Job> job, double now);
    void update_limits(double now);
    double next_wakeup(double now) const;
    void progress(double now, bool final);
    void maybe_refresh_credentials();

    // --- outcomes ------------------------------------------------------------------------------
    void on_done(std::uint64_t tag, util::HttpResponse&& response);
    void on_success(Job& job, Step step, std::size_t part, const util::HttpResponse& r);
    void on_existing(Job& job, const util::HttpResponse& r);
    void on_failure(Job& job, Step step, std::size_t part, const util::HttpResponse& r,
                    const std::string& code, const std::string& message);
    void proved();
    void give_up(Job& job, FailureClass failure);
    bool restart_multipart(Job& job, Step step, const std::string& code, int status,
                           const std::string& reason);
    void succeed(Job& job, const std::string& etag);
    void fail_image(Job& job, const std::string& reason);
    // --checksum-algorithm: puts the body's checksum into `body` and `sent` (pass/checksums.cpp);
    // false (and the image failed) when the file cannot be read.
    bool add_checksum(Job& job, s3::FileBody& body, std::string& sent);
    // The parts for CompleteMultipartUpload, with their checksums (a part ListParts found done
    // was sent by an earlier pass: its checksum is computed again); false as add_checksum.
    bool completed_parts(Job& job, std::vector<s3::CompletedPart>& parts);
    void defer(Job& job, const std::string& reason);
    void hold(Job& job, FailureClass failure);
    void release(Job& job, std::int64_t next_attempt_at);
    void drop(std::int64_t id);
    storage::Lease lease_of(const Job& job) const {
        return {run_.id, job.image.id, job.image.lease_token};
    }
    // Renews the leases of every image the pass holds when lease_rules says so, and stops
    // uploading those whose lease is lost.
    void maybe_renew(double now);
    void lose(std::int64_t id);
    void cancel_requests(Job& job);
    s3::AmzDate sign_date() const {
        return s3::AmzDate::from_epoch(clock_.wall_epoch() + clock_offset_);
    }

    const PassOptions& o_;
    storage::Store& store_;
    util::HttpTransport& http_;
    s3::Operations& s3_;
    util::Logger& log_;
    const util::Clock& clock_;
    util::Level event_level_;

    TokenBucket rate_;
    TokenBucket bandwidth_;
    AdaptiveLimiter adaptive_;
    std::mt19937_64 rng_;

    std::deque<std::unique_ptr<Job>> queue_;              // claimed, not started
    std::map<std::int64_t, std::unique_ptr<Job>> active_; // started
    std::map<std::uint64_t, Request> requests_;           // in flight, by tag
    std::uint64_t next_tag_ = 1;

    WriteBatch writes_;
    std::int64_t requests_reported_ = 0;
    double requests_reported_at_ = -1e9; // monotonic

    storage::RunRecord run_;
    storage::Claimant claimant_;
    double renewed_at_ = 0; // monotonic: when the last renewal was sent
    // Tokens taken from the fleet's bucket and not spent yet; when to ask it again.
    std::int64_t fleet_tokens_ = 0;
    double next_fleet_ask_ = 0;
    bool fleet_allows(double now);
    std::int64_t deferred_ = 0;
    std::int64_t images_started_ = 0;
    std::uint64_t bytes_started_ = 0;
    bool source_done_ = false;
    bool limit_reached_ = false;
    PassHealth health_;
    std::vector<std::unique_ptr<Job>> held_; // failed before anything succeeded: not charged yet
    std::int64_t requests_started_ = 0;
    std::string last_failure_;
    std::string fatal_; // why the pass stops as failed
    std::optional<std::int64_t> credentials_refresh_at_;
    std::int64_t clock_offset_ = 0;
    double started_ = 0;
    double last_progress_ = 0;
    double last_schedule_check_ = -1;
    std::int64_t planned_ = 0;
};

} // namespace imgsync::core::pass
