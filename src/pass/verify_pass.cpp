#include "pass/verify_pass.hpp"

#include "pass/throttle.hpp"
#include "s3/credential_rules.hpp"
#include "util/signals.hpp"
#include "util/timefmt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

namespace imgsync::core {

namespace {

struct Item {
    storage::ImageRecord image;
    int attempts = 0;
    double due = 0; // monotonic seconds: when a retry may start
};

class Verifier {
  public:
    Verifier(const VerifyOptions& o, storage::Store& store, util::HttpTransport& http,
             s3::Operations& s3, util::Logger& log,
             const std::function<bool(const storage::ImageRecord&)>& local_matches,
             const std::function<void(const VerifyFinding&)>& on_finding, const util::Clock& clock)
        : o_(o), store_(store), http_(http), s3_(s3), log_(log), local_matches_(local_matches),
          on_finding_(on_finding), clock_(clock),
          rate_(o.rate, o.burst > 0 ? o.burst : std::max(1.0, double(o.concurrency))),
          rng_(std::random_device{}()), refresh_at_(o.credentials_refresh_at) {}

    VerifyRun run() {
        if (o_.scope == VerifyScope::sample) {
            sample_ = store_.sample_uploaded(o_.sample);
        }
        while (!stopped()) {
            double now = clock_.monotonic_seconds();
            refresh_credentials();
            refill();
            while (static_cast<int>(in_flight_.size()) < o_.concurrency && start_one(now)) {
            }
            if (in_flight_.empty() && queue_.empty() && retries_.empty() && exhausted_) {
                break;
            }
            double wake = now + 0.25;
            if (!retries_.empty()) {
                wake = std::min(wake, retries_.begin()->first);
            }
            if (!queue_.empty() || !retries_.empty()) {
                wake = std::min(wake, now + std::max(0.001, rate_.wait_seconds(now)));
            }
            http_.poll(static_cast<int>(std::max(0.0, wake - now) * 1000) + 1,
                       [this](std::uint64_t tag, util::HttpResponse&& r) { on_done(tag, r); });
        }
        if (util::stop_signals > 0 && result_.outcome != VerifyOutcome::failed) {
            result_.outcome = VerifyOutcome::interrupted;
            result_.message = "stopped by a signal";
        }
        for (auto& [tag, item] : in_flight_) {
            http_.cancel(tag);
        }
        if (result_.outcome == VerifyOutcome::ok) {
            result_.outcome = outcome_of(result_.totals);
        }
        return result_;
    }

  private:
    bool stopped() const {
        return util::stop_signals > 0 || result_.outcome == VerifyOutcome::failed;
    }

    // Keeps a page or so of images queued: read from the store only when the queue runs low.
    void refill() {
        const auto low = static_cast<std::size_t>(std::max(16, o_.concurrency * 2));
        if (exhausted_ || queue_.size() >= low) {
            return;
        }
        constexpr int page = 500;
        if (o_.scope == VerifyScope::sample) {
            for (int n = 0; n < page && next_sample_ < sample_.size(); ++n) {
                auto image = store_.image(sample_[next_sample_++]);
                if (image && image->state == ImageState::uploaded) {
                    queue_.push_back({std::move(*image)});
                }
            }
            exhausted_ = next_sample_ >= sample_.size();
            return;
        }
        auto since = o_.scope == VerifyScope::since ? o_.since_epoch : std::nullopt;
        auto images = store_.uploaded_page(after_id_, since, page);
        for (auto& image : images) {
            after_id_ = image.id;
            queue_.push_back({std::move(image)});
        }
        exhausted_ = images.size() < static_cast<std::size_t>(page);
    }

    bool start_one(double now) {
        Item item;
        if (!retries_.empty() && retries_.begin()->first <= now) {
            if (!rate_.try_take(now)) {
                return false;
            }
            item = std::move(retries_.begin()->second);
            retries_.erase(retries_.begin());
        } else if (!queue_.empty()) {
            if (!rate_.try_take(now)) {
                return false;
            }
            item = std::move(queue_.front());
            queue_.pop_front();
        } else {
            return false;
        }
        auto req = s3_.head_object(item.image.key, s3::AmzDate::from_epoch(clock_.wall_epoch()));
        req.stall_seconds = o_.stall_seconds;
        req.connect_timeout_ms = o_.connect_timeout_ms;
        req.total_timeout_ms = 60000;
        std::uint64_t tag = next_tag_++;
        log_.debug("request", {{"key", item.image.key}, {"step", "head"}});
        http_.start(tag, std::move(req));
        in_flight_.emplace(tag, std::move(item));
        return true;
    }

    void on_done(std::uint64_t tag, const util::HttpResponse& r) {
        auto it = in_flight_.find(tag);
        if (it == in_flight_.end()) {
            return;
        }
        Item item = std::move(it->second);
        in_flight_.erase(it);
        ObjectVerdict verdict = judge_object(item.image, r);
        if (verdict.failure == FailureClass::pass) {
            result_.outcome = VerifyOutcome::failed;
            result_.message = fmt::format("{}: {}", item.image.key, verdict.reason);
            log_.error("verify_failed", {{"key", item.image.key}, {"reason", verdict.reason}});
            return;
        }
        if (verdict.failure == FailureClass::transient && ++item.attempts < o_.max_attempts) {
            double now = clock_.monotonic_seconds();
            std::uniform_real_distribution<double> uniform(0.0, 1.0);
            double delay = backoff_delay(item.attempts - 1, 0.5, 10, uniform(rng_));
            log_.debug("retry", {{"key", item.image.key}, {"reason", verdict.reason}});
            retries_.emplace(now + delay, std::move(item));
            return;
        }
        count(result_.totals, verdict.check);
        if (verdict.check == ObjectCheck::ok) {
            return;
        }
        VerifyFinding finding{item.image, verdict, false};
        if (o_.requeue && verdict.check != ObjectCheck::unverified && local_matches_(item.image)) {
            finding.requeued = store_.requeue_uploaded(
                item.image.id,
                fmt::format("verify: object {}: {}", to_string(verdict.check), verdict.reason));
            result_.totals.requeued += finding.requeued ? 1 : 0;
        }
        log_.warn(fmt::format("object_{}", to_string(verdict.check)),
                  {{"id", item.image.id},
                   {"key", item.image.key},
                   {"reason", verdict.reason},
                   {"requeued", finding.requeued}});
        on_finding_(finding);
    }

    void refresh_credentials() {
        if (!refresh_at_ || !o_.refresh_credentials || clock_.wall_epoch() < *refresh_at_) {
            return;
        }
        auto fresh = o_.refresh_credentials(clock_.wall_epoch());
        if (!fresh) {
            result_.outcome = VerifyOutcome::failed;
            result_.message = "cannot refresh the credentials: " + fresh.error();
            log_.error("verify_failed", {{"reason", result_.message}});
            return;
        }
        refresh_at_.reset();
        if (fresh->expires_at) {
            refresh_at_ = s3::refresh_time(clock_.wall_epoch(), *fresh->expires_at);
        }
        log_.info("credentials_refreshed", {{"credentials", fresh->source()}});
        s3_.set_credentials(std::move(*fresh));
    }

    const VerifyOptions& o_;
    storage::Store& store_;
    util::HttpTransport& http_;
    s3::Operations& s3_;
    util::Logger& log_;
    const std::function<bool(const storage::ImageRecord&)>& local_matches_;
    const std::function<void(const VerifyFinding&)>& on_finding_;
    const util::Clock& clock_;
    TokenBucket rate_;
    std::mt19937_64 rng_;
    std::optional<std::int64_t> refresh_at_;

    std::vector<std::int64_t> sample_;
    std::size_t next_sample_ = 0;
    std::int64_t after_id_ = 0;
    bool exhausted_ = false;
    std::deque<Item> queue_;
    std::multimap<double, Item> retries_;
    std::map<std::uint64_t, Item> in_flight_;
    std::uint64_t next_tag_ = 1;
    VerifyRun result_;
};

} // namespace

VerifyRun run_verify(const VerifyOptions& options, storage::Store& store, util::HttpTransport& http,
                     s3::Operations& s3, util::Logger& log,
                     const std::function<bool(const storage::ImageRecord&)>& local_matches,
                     const std::function<void(const VerifyFinding&)>& on_finding,
                     const util::Clock& clock) {
    return Verifier(options, store, http, s3, log, local_matches, on_finding, clock).run();
}

} // namespace imgsync::core
