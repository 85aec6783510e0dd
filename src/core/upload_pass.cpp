#include "core/upload_pass.hpp"

#include "core/pass_verdict.hpp"
#include "core/retry.hpp"
#include "s3/xml.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <random>
#include <unistd.h>
#include <vector>

namespace imgsync::core {

volatile std::sig_atomic_t stop_signals = 0;

namespace {

constexpr std::uint64_t MiB = 1ULL << 20;
constexpr std::size_t no_part = static_cast<std::size_t>(-1);

enum class Step { put, create, list_parts, part, complete };

const char* step_name(Step s) {
    switch (s) {
    case Step::put:
        return "put";
    case Step::create:
        return "create_multipart";
    case Step::list_parts:
        return "list_parts";
    case Step::part:
        return "upload_part";
    case Step::complete:
        return "complete_multipart";
    }
    return "?";
}

struct Part {
    std::int64_t number = 0;
    std::uint64_t offset = 0, length = 0;
    std::string md5_hex, sha256_hex; // recorded by add, or computed when the part is first sent
    std::string etag;
    bool done = false, in_flight = false;
    int tries = 0;
    double ready_at = 0;
};

struct Job {
    storage::ImageRecord image;
    util::UniqueFd fd;
    int tries = 0;                      // failed tries of this image's own steps in this pass
    std::int64_t attempts_at_claim = 0; // what goes back to the state file if nothing is charged
    int restarts = 0;                   // multipart uploads started again in this pass
    FailureClass held_as = FailureClass::transient; // why the image is held (see PassHealth)
    double ready_at = 0;
    double started_at = 0;
    bool multipart = false;
    Step next = Step::put; // the next request that is not a part
    bool step_in_flight = false;
    std::string upload_id;
    std::uint64_t part_size = 0;
    std::vector<Part> parts;
    int parts_in_flight = 0;
    std::int64_t list_marker = 0;
    std::string last_error;

    bool parts_phase() const { return multipart && next == Step::part; }
    int in_flight() const { return parts_in_flight + (step_in_flight ? 1 : 0); }
};

struct Request {
    std::int64_t image_id;
    Step step;
    std::size_t part;
};

CurlCategory category_of(util::Transport t) {
    switch (t) {
    case util::Transport::ok:
        return CurlCategory::ok;
    case util::Transport::dns:
        return CurlCategory::dns;
    case util::Transport::connect:
        return CurlCategory::connect_refused;
    case util::Transport::tls:
        return CurlCategory::tls;
    case util::Transport::timeout:
        return CurlCategory::timeout;
    case util::Transport::dropped:
        return CurlCategory::send_recv_error;
    default:
        return CurlCategory::other;
    }
}

// What changed in a file since add recorded it, both values of each field that differs; nullopt
// if neither size nor mtime did.
std::optional<std::string> describe_change(const storage::ImageRecord& image,
                                           const util::FileStat& now) {
    std::vector<std::string> what;
    if (now.size != image.size)
        what.push_back(fmt::format("size {} -> {}", image.size, now.size));
    if (now.mtime_ns != image.mtime_ns)
        what.push_back(fmt::format("mtime {} -> {}", util::iso8601_utc_ns(image.mtime_ns),
                                   util::iso8601_utc_ns(now.mtime_ns)));
    if (what.empty())
        return std::nullopt;
    return fmt::format("{}", fmt::join(what, ", "));
}

// Hashes one byte range of a file (MD5 for Content-MD5, SHA-256 for the signature).
bool hash_range(int fd, std::uint64_t offset, std::uint64_t length, std::string& md5_hex,
                std::string& sha256_hex) {
    std::vector<std::uint8_t> buf(1 << 20);
    util::Md5 md5;
    util::Sha256 sha;
    std::uint64_t done = 0;
    while (done < length) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
        long long n = util::read_at(fd, buf.data(), want, offset + done);
        if (n <= 0)
            return false;
        md5.update(buf.data(), static_cast<std::size_t>(n));
        sha.update(buf.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
    }
    md5_hex = util::to_hex(md5.finish());
    sha256_hex = util::to_hex(sha.finish());
    return true;
}

class Pass {
  public:
    Pass(const PassOptions& options, storage::Store& store, util::HttpTransport& http,
         s3::Operations& s3, util::Logger& log, std::int64_t run_id, const util::Clock& clock)
        : o_(options), store_(store), http_(http), s3_(s3), log_(log), clock_(clock),
          rate_(options.rate,
                options.burst > 0 ? options.burst : std::max(1.0, double(options.concurrency))),
          bandwidth_(0, 1), adaptive_(make_adaptive(options)), rng_(std::random_device{}()),
          health_(options.hold_limit) {
        run_.id = run_id;
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
    template <typename F> void write(F&& f) {
        if (!txn_) {
            txn_.emplace(store_.db());
            txn_opened_ = clock_.monotonic_seconds();
            txn_writes_ = 0;
        }
        f();
        ++txn_writes_;
    }
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
    void maybe_commit(double now) {
        if (txn_ && (txn_writes_ >= 64 || now - txn_opened_ >= 0.25))
            commit();
    }
    void commit() {
        if (txn_) {
            record_uploaded();
            txn_->commit();
            txn_.reset();
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

    // --- outcomes ------------------------------------------------------------------------------
    void on_done(std::uint64_t tag, util::HttpResponse&& response);
    void on_success(Job& job, Step step, std::size_t part, const util::HttpResponse& r);
    void on_failure(Job& job, Step step, std::size_t part, const util::HttpResponse& r,
                    std::string code, std::string message);
    void proved();
    void give_up(Job& job, FailureClass failure);
    bool restart_multipart(Job& job, Step step, const std::string& code, int status,
                           const std::string& reason);
    void succeed(Job& job, const std::string& etag);
    void fail_image(Job& job, const std::string& reason);
    void defer(Job& job, const std::string& reason);
    void hold(Job& job, FailureClass failure);
    void release(Job& job, std::int64_t next_attempt_at);
    void drop(std::int64_t id);
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

    std::optional<storage::Transaction> txn_;
    double txn_opened_ = 0;
    int txn_writes_ = 0;

    storage::RunRecord run_;
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
    std::int64_t clock_offset_ = 0;
    double started_ = 0;
    double last_progress_ = 0;
    double last_schedule_check_ = -1;
    std::int64_t planned_ = 0;
};

void Pass::refill(double now) {
    if (source_done_ || limit_reached_ || queue_.size() >= static_cast<std::size_t>(o_.concurrency))
        return;
    int want = std::max(16, o_.concurrency * 2);
    if (o_.max_images)
        want = static_cast<int>(std::min<std::int64_t>(
            want, *o_.max_images - images_started_ - static_cast<std::int64_t>(queue_.size())));
    if (want <= 0) {
        if (queue_.empty())
            limit_reached_ = true; // --max-images images claimed: nothing more this pass
        return;
    }
    commit(); // claim() runs its own transaction
    auto batch = store_.claim(run_.id, clock_.wall_epoch(), want);
    if (batch.size() < static_cast<std::size_t>(want))
        source_done_ = true;
    for (auto& image : batch) {
        auto job = std::make_unique<Job>();
        job->image = std::move(image);
        queue_.push_back(std::move(job));
    }
    (void)now;
}

void Pass::update_limits(double now) {
    if (o_.rate > 0)
        rate_.set_rate(now, o_.rate * adaptive_.rate_factor());
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
        if (job->step_in_flight || job->ready_at > now)
            continue;
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
    if (queue_.empty())
        return false;
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
    if (!health_.proven() && !last_failure_.empty() && !active_.empty())
        return false;
    if (!rate_.try_take(now, 1))
        return false;
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
        if (digests.size() != count)
            digests.clear();
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
            job.next = Step::create;
        }
    }
    start_step(job, job.next, no_part, now);
}

void Pass::start_step(Job& job, Step step, std::size_t part, double now) {
    const auto& img = job.image;
    util::HttpRequest req;
    auto date = sign_date();
    switch (step) {
    case Step::put:
        req = s3_.put_object(img.key, {job.fd.get(), 0, img.size, img.sha256, img.md5},
                             img.content_type, date);
        break;
    case Step::create:
        req = s3_.create_multipart(img.key, img.content_type, date);
        break;
    case Step::list_parts:
        req = s3_.list_parts(img.key, job.upload_id, job.list_marker, date);
        break;
    case Step::complete: {
        std::vector<std::pair<int, std::string>> parts;
        for (const auto& p : job.parts)
            parts.emplace_back(static_cast<int>(p.number), p.etag);
        req = s3_.complete_multipart(img.key, job.upload_id, parts, date);
        break;
    }
    case Step::part: {
        Part& p = job.parts[part];
        if (p.md5_hex.empty() &&
            !hash_range(job.fd.get(), p.offset, p.length, p.md5_hex, p.sha256_hex)) {
            fail_image(job, fmt::format("cannot read part {} of the file", p.number));
            return;
        }
        req = s3_.upload_part(img.key, job.upload_id, p.number,
                              {job.fd.get(), p.offset, p.length, p.sha256_hex, p.md5_hex}, date);
        p.in_flight = true;
        ++job.parts_in_flight;
        break;
    }
    }
    if (step != Step::part)
        job.step_in_flight = true;
    req.connect_timeout_ms = o_.connect_timeout_ms;
    req.stall_seconds = o_.stall_seconds;
    // Overall limit: generous for the body at the slowest pace the throttles allow.
    double pace = 1.0 * MiB;
    if (!bandwidth_.unlimited() && bandwidth_.rate() > 0)
        pace = std::min(pace, bandwidth_.rate() / o_.concurrency);
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

void Pass::on_done(std::uint64_t tag, util::HttpResponse&& r) {
    auto it = requests_.find(tag);
    if (it == requests_.end())
        return;
    Request req = it->second;
    requests_.erase(it);
    auto job_it = active_.find(req.image_id);
    if (job_it == active_.end())
        return;
    Job& job = *job_it->second;
    if (req.step == Step::part) {
        job.parts[req.part].in_flight = false;
        --job.parts_in_flight;
    } else {
        job.step_in_flight = false;
    }
    bool ok = r.transport == util::Transport::ok && r.status >= 200 && r.status < 300;
    std::string code, message;
    if (ok && req.step == Step::complete) {
        // S3 may answer 200 and still fail the completion in the body.
        auto outcome = s3::parse_complete_multipart_upload(r.body);
        if (outcome.error) {
            ok = false;
            code = outcome.error->code;
            message = outcome.error->message;
        } else if (!outcome.result) {
            ok = false;
            code = "InternalError";
            message = "unreadable CompleteMultipartUpload answer";
        }
    }
    if (ok) {
        on_success(job, req.step, req.part, r);
        return;
    }
    if (r.transport == util::Transport::ok && code.empty()) {
        if (auto err = s3::parse_error(r.body)) {
            code = err->code;
            message = err->message;
        }
    }
    on_failure(job, req.step, req.part, r, code, message);
}

// Every answer is checked before it counts: a 200 whose ETag, UploadId or part list does not hold
// up is a failure (InternalError, so retried), and only an answer that checks out proves the pass.
void Pass::on_success(Job& job, Step step, std::size_t part, const util::HttpResponse& r) {
    auto refuse = [&](std::string message) {
        on_failure(job, step, part, r, "InternalError", std::move(message));
    };
    auto accepted = [&] {
        adaptive_.on_success(clock_.monotonic_seconds());
        proved();
    };
    switch (step) {
    case Step::put:
        // Confirmed only if the server's ETag is the MD5 we sent (and it checked as Content-MD5).
        if (normalize_etag(r.etag) != job.image.md5)
            return refuse(fmt::format("ETag {} does not match the MD5 sent", r.etag));
        accepted();
        succeed(job, r.etag);
        return;
    case Step::create: {
        auto id = s3::parse_upload_id(r.body);
        if (!id)
            return refuse("no UploadId in the answer");
        accepted();
        job.upload_id = *id;
        write([&] {
            store_.set_multipart(job.image.id, job.upload_id,
                                 static_cast<std::int64_t>(job.part_size));
        });
        job.next = Step::part;
        log_.debug("multipart_started", {{"key", job.image.key}, {"parts", job.parts.size()}});
        return;
    }
    case Step::list_parts: {
        auto listed = s3::parse_list_parts(r.body);
        if (!listed)
            return refuse("unreadable ListParts answer");
        accepted();
        // A listed part counts as done only if its size and its ETag (the MD5 of its bytes) are
        // those of the part in the file; any other is sent again.
        for (const auto& lp : listed->parts) {
            auto index = static_cast<std::size_t>(lp.part_number - 1);
            if (lp.part_number < 1 || index >= job.parts.size())
                continue;
            Part& p = job.parts[index];
            if (lp.size != p.length)
                continue;
            if (p.md5_hex.empty() &&
                !hash_range(job.fd.get(), p.offset, p.length, p.md5_hex, p.sha256_hex))
                return fail_image(job, fmt::format("cannot read part {} of the file", p.number));
            if (normalize_etag(lp.etag) != p.md5_hex) {
                log_.warn("part_mismatch", {{"key", job.image.key},
                                            {"part", p.number},
                                            {"etag", lp.etag},
                                            {"reason", "listed ETag is not the part's MD5"}});
                continue;
            }
            p.done = true;
            p.etag = lp.etag;
        }
        if (listed->is_truncated && listed->next_part_number_marker) {
            job.list_marker = *listed->next_part_number_marker;
            return; // next == list_parts again
        }
        auto done =
            std::count_if(job.parts.begin(), job.parts.end(), [](auto& p) { return p.done; });
        log_.info("multipart_resumed", {{"key", job.image.key},
                                        {"parts_done", static_cast<std::int64_t>(done)},
                                        {"parts", job.parts.size()}});
        job.next = done == static_cast<long>(job.parts.size()) ? Step::complete : Step::part;
        return;
    }
    case Step::part: {
        Part& p = job.parts[part];
        if (normalize_etag(r.etag) != p.md5_hex)
            return refuse(fmt::format("part ETag {} does not match the MD5 sent", r.etag));
        accepted();
        p.done = true;
        p.etag = r.etag;
        write([&] { store_.add_part(job.image.id, {p.number, p.etag, p.length}); });
        if (std::all_of(job.parts.begin(), job.parts.end(), [](auto& x) { return x.done; }))
            job.next = Step::complete;
        return;
    }
    case Step::complete: {
        auto outcome = s3::parse_complete_multipart_upload(r.body);
        std::vector<std::string> md5s;
        for (const auto& p : job.parts)
            md5s.push_back(p.md5_hex);
        auto expected = multipart_etag(md5s);
        if (normalize_etag(outcome.result->etag) != expected)
            return refuse(fmt::format("CompleteMultipartUpload ETag {} is not {}, the one of the "
                                      "parts sent",
                                      outcome.result->etag, expected));
        accepted();
        succeed(job, outcome.result->etag);
        return;
    }
    }
}

void Pass::on_failure(Job& job, Step step, std::size_t part, const util::HttpResponse& r,
                      std::string code, std::string message) {
    double now = clock_.monotonic_seconds();
    CurlCategory cat = category_of(r.transport);
    std::string reason =
        r.transport != util::Transport::ok
            ? fmt::format("{}: {}", util::transport_name(r.transport), r.transport_error)
            : fmt::format("HTTP {}{}{}{}", r.status, code.empty() ? "" : " ", code,
                          message.empty() ? "" : ": " + message);
    job.last_error = fmt::format("{}: {}", step_name(step), reason);
    last_failure_ = job.last_error;

    if (restart_multipart(job, step, code, static_cast<int>(r.status), reason))
        return;
    if (code == "RequestTimeTooSkewed" && !r.date.empty()) {
        if (auto server = util::parse_http_date(r.date)) {
            clock_offset_ = *server - clock_.wall_epoch();
            log_.warn("clock_skew", {{"offset_seconds", clock_offset_}, {"key", job.image.key}});
        }
    }
    if (is_throttling(cat, static_cast<int>(r.status), code) && adaptive_.on_throttled(now))
        log_.warn("slowing_down", {{"concurrency", adaptive_.concurrency()},
                                   {"rate_factor", adaptive_.rate_factor()}});

    auto fclass = classify(cat, static_cast<int>(r.status), code).value_or(FailureClass::transient);
    log_.log(util::Level::warn, "request_failed",
             {{"key", job.image.key},
              {"step", step_name(step)},
              {"class", std::string(to_string(fclass))},
              {"error", reason}});
    if (fclass != FailureClass::transient)
        return give_up(job, fclass);
    // Transient: retry in this pass after a jittered backoff, then in a later pass.
    ++job.image.attempts;
    int& tries = step == Step::part ? job.parts[part].tries : job.tries;
    ++tries;
    // Out of tries for this pass, or out of attempts altogether (--max-attempts is a bound on the
    // total, so it is not exceeded by the tries left in this pass).
    if (tries >= o_.pass_attempts ||
        should_dead_letter(static_cast<int>(job.image.attempts), o_.retry.max_attempts))
        return give_up(job, FailureClass::transient);
    ++run_.retried;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto retry_after = parse_retry_after(r.retry_after, clock_.wall_epoch());
    double delay = code == "RequestTimeTooSkewed"
                       ? 0
                       : retry_delay(tries - 1, 0.25, 20, unit(rng_), retry_after, 60);
    if (step == Step::part)
        job.parts[part].ready_at = now + delay;
    else
        job.ready_at = now + delay;
    log_.debug("retry_scheduled",
               {{"key", job.image.key}, {"in_ms", static_cast<std::int64_t>(delay * 1000)}});
}

// A multipart upload the server lost (NoSuchUpload: expired or aborted) or cannot resume
// (ListParts, UploadPart or Complete answered 405, 501 or NotImplemented, as some S3-compatible
// stores do) is started again from scratch, once per image and pass; a second time, the failure
// takes its ordinary course.
bool Pass::restart_multipart(Job& job, Step step, const std::string& code, int status,
                             const std::string& reason) {
    bool multipart_step = step == Step::list_parts || step == Step::part || step == Step::complete;
    bool lost =
        code == "NoSuchUpload" || code == "NotImplemented" || status == 405 || status == 501;
    if (!multipart_step || !lost || job.restarts >= 1)
        return false;
    ++job.restarts;
    cancel_requests(job);
    log_.warn("multipart_restart", {{"key", job.image.key}, {"reason", reason}});
    if (!job.upload_id.empty() && step != Step::list_parts) {
        auto req = s3_.abort_multipart(job.image.key, job.upload_id, sign_date());
        req.stall_seconds = o_.stall_seconds;
        req.connect_timeout_ms = o_.connect_timeout_ms;
        http_.start(next_tag_++, std::move(req));
    }
    job.upload_id.clear();
    for (auto& p : job.parts) {
        p.done = false;
        p.etag.clear();
    }
    job.next = Step::create;
    job.list_marker = 0;
    write([&] { store_.set_multipart(job.image.id, std::nullopt, 0); });
    return true;
}

// A request failed for good: the pass's health says whose failure it is.
void Pass::give_up(Job& job, FailureClass failure) {
    // last_error is written only with the attempt it cost (see release()), so an equal one means
    // a pass that proved the endpoint already charged this very refusal to this image.
    bool refused_before = failure == FailureClass::refused && job.attempts_at_claim > 0 &&
                          job.image.last_error == job.last_error;
    switch (health_.on_failure(failure, refused_before)) {
    case Blame::pass:
        if (fatal_.empty())
            fatal_ = job.last_error;
        cancel_requests(job);
        release(job, job.image.next_attempt_at);
        return;
    case Blame::hold:
        hold(job, failure);
        if (health_.exhausted() && fatal_.empty())
            fatal_ = job.last_error;
        return;
    case Blame::image:
        break;
    }
    if (failure == FailureClass::image)
        return fail_image(job, job.last_error);
    if (failure == FailureClass::refused)
        ++job.image.attempts; // transient failures count each try as they go
    defer(job, job.last_error);
}

// Out of the pass, uncharged, its multipart upload kept for a later pass: until a request of this
// pass succeeds, nobody knows whether the failure was the image's.
void Pass::hold(Job& job, FailureClass failure) {
    cancel_requests(job);
    job.held_as = failure;
    job.fd.reset();
    log_.warn("upload_held", {{"key", job.image.key}, {"reason", job.last_error}});
    auto it = active_.find(job.image.id);
    held_.push_back(std::move(it->second));
    active_.erase(it);
}

// The first answer that checked out: the endpoint works, so the held images failed on their own.
void Pass::proved() {
    if (!health_.on_success())
        return;
    auto held = std::move(held_);
    held_.clear();
    for (auto& job : held) {
        if (job->held_as == FailureClass::refused)
            ++job->image.attempts;
        defer(*job, job->last_error);
    }
}

void Pass::succeed(Job& job, const std::string& etag) {
    auto ms = static_cast<std::int64_t>((clock_.monotonic_seconds() - job.started_at) * 1000);
    std::int64_t id = job.image.id;
    bool part_rows = !job.upload_id.empty() || !job.parts.empty() || job.image.has_part_digests;
    if (!part_rows) {
        write([&] { confirmed_.emplace(id, Confirmed{etag, job.image.key, job.image.size, ms}); });
        drop(id);
        return;
    }
    if (!record_outcome(job, [&] { return store_.mark_uploaded(id, etag, clock_.wall_epoch()); }))
        return;
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
    if (confirmed_.empty())
        return;
    std::vector<storage::Store::Uploaded> images;
    for (const auto& [id, c] : confirmed_)
        images.push_back({id, c.etag});
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
    for (const auto& [id, c] : confirmed_)
        log_.warn("outcome_not_recorded",
                  {{"key", c.key},
                   {"reason", "the state file no longer shows this image claimed by this pass"}});
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
        write([&] { store_.set_multipart(id, std::nullopt, 0); });
    }
    if (!record_outcome(job, [&] { return store_.mark_failed(id, attempts, reason); }))
        return;
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
        if (!record_outcome(job, [&] { return store_.mark_failed(id, next->attempts, reason); }))
            return;
        ++run_.failed;
        log_.error("upload_failed", {{"key", job.image.key},
                                     {"attempts", next->attempts},
                                     {"reason", "gave up after max attempts: " + reason}});
    } else {
        std::int64_t at = next ? next->next_attempt_at : clock_.wall_epoch();
        if (!record_outcome(
                job, [&] { return store_.mark_pending(id, job.image.attempts, at, reason); }))
            return;
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
        store_.mark_pending(id, charged ? job.image.attempts : job.attempts_at_claim,
                            next_attempt_at,
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
    for (auto& p : job.parts)
        p.in_flight = false;
}

void Pass::drop(std::int64_t id) {
    active_.erase(id);
}

double Pass::next_wakeup(double now) const {
    double wake = now + 0.1;
    for (const auto& [id, job] : active_) {
        if (job->in_flight() == 0 && job->ready_at > now)
            wake = std::min(wake, job->ready_at);
    }
    if (!queue_.empty() && o_.rate > 0)
        wake = std::min(wake, now + rate_.wait_seconds(now, 1));
    return std::max(wake, now + 0.001);
}

void Pass::progress(double now, bool final) {
    if (!o_.progress)
        return;
    if (final) {
        std::fputs("\r\033[K", stderr);
        return;
    }
    if (now - last_progress_ < 0.5)
        return;
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

PassResult Pass::run() {
    started_ = clock_.monotonic_seconds();
    auto counts = store_.counts();
    planned_ = o_.max_images ? std::min(*o_.max_images, counts.pending) : counts.pending;
    if (o_.bandwidth)
        update_limits(started_);
    http_.set_send_gate([this](std::size_t wanted) -> std::size_t {
        if (bandwidth_.unlimited() || bandwidth_.rate() <= 0)
            return wanted;
        double now = clock_.monotonic_seconds();
        double avail = bandwidth_.available(now);
        if (avail < 1)
            return 0;
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
            if (stop_signals > 0)
                stop = StopReason::interrupted;
            else if (!fatal_.empty())
                stop = StopReason::failed;
            else if (o_.max_duration && now - started_ >= *o_.max_duration)
                stop = StopReason::deadline;
            if (stop != StopReason::none) {
                drain_until = now + (stop == StopReason::failed ? 0 : o_.grace);
                log_.info("pass_stopping", {{"reason", std::string(to_string(stop))},
                                            {"in_flight", requests_.size()},
                                            {"grace_s", drain_until - now}});
            }
        }
        if (stop != StopReason::none) {
            if (requests_.empty())
                break;
            if (now >= drain_until || stop_signals > 1) {
                aborted = true;
                break;
            }
        } else {
            update_limits(now);
            refill(now);
            int allowed = adaptive_.concurrency();
            while (static_cast<int>(requests_.size()) < allowed && start_one(now)) {
            }
            if (requests_.empty() && queue_.empty() && active_.empty() &&
                (source_done_ || limit_reached_))
                break;
            if (requests_.empty() && limit_reached_ && active_.empty())
                break;
        }
        double wake = next_wakeup(now);
        http_.poll(
            static_cast<int>((wake - now) * 1000) + 1,
            [this](std::uint64_t tag, util::HttpResponse&& r) { on_done(tag, std::move(r)); });
        double after = clock_.monotonic_seconds();
        maybe_commit(after);
        progress(after, false);
    }
    commit(); // the final figures count the uploads it records
    progress(0, true);

    // Whatever is still claimed goes back to pending: queued, waiting to retry, or in flight.
    if (aborted)
        log_.warn("pass_aborted", {{"in_flight", requests_.size()}});
    for (auto& [tag, req] : requests_)
        http_.cancel(tag);
    requests_.clear();
    // What is left are AbortMultipartUpload requests: let them reach the server (bounded).
    for (int i = 0; i < 100 && http_.in_flight() > 0; ++i)
        http_.poll(100, [](std::uint64_t, util::HttpResponse&&) {});
    std::vector<std::int64_t> ids;
    for (auto& [id, job] : active_)
        ids.push_back(id);
    for (auto id : ids)
        release(*active_[id], active_[id]->image.next_attempt_at);
    // Held images failed before anything succeeded: uncharged, and a little later, so that other
    // images lead the next pass (a policy that refuses the oldest keys cannot stall the rest).
    for (auto& job : held_)
        release(*job, clock_.wall_epoch() + o_.retry.base_delay.count());
    for (auto& job : queue_) {
        auto id = job->image.id;
        write([&] {
            store_.mark_pending(id, job->image.attempts, job->image.next_attempt_at, std::nullopt);
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

} // namespace

PassResult run_upload_pass(const PassOptions& options, storage::Store& store,
                           util::HttpTransport& http, s3::Operations& s3, util::Logger& log,
                           std::int64_t run_id, const util::Clock& clock) {
    Pass pass(options, store, http, s3, log, run_id, clock);
    return pass.run();
}

} // namespace imgsync::core
