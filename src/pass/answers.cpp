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

void Pass::on_done(std::uint64_t tag, util::HttpResponse&& r) {
    auto it = requests_.find(tag);
    if (it == requests_.end()) {
        return;
    }
    Request req = it->second;
    requests_.erase(it);
    auto job_it = active_.find(req.image_id);
    if (job_it == active_.end()) {
        return;
    }
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
    if (o_.if_none_match && r.transport == util::Transport::ok) {
        if (r.status == 412 && (req.step == Step::put || req.step == Step::complete)) {
            // The key exists: whether it already holds this image decides (Step::existing).
            log_.info("key_exists", {{"key", job.image.key}, {"step", step_name(req.step)}});
            job.next = Step::existing;
            return;
        }
        if (r.status == 404 && req.step == Step::existing) {
            job.next = job.multipart ? Step::create : Step::put;
            return;
        }
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
    auto refuse = [&](const std::string& message) {
        on_failure(job, step, part, r, "InternalError", message);
    };
    auto accepted = [&] {
        adaptive_.on_success(clock_.monotonic_seconds());
        proved();
    };
    // A multipart object is complete; its tags are set again before it counts (see Step::tag).
    auto completed = [&](const std::string& etag) {
        if (o_.object.tags.empty()) {
            return succeed(job, etag);
        }
        job.completed_etag = etag;
        job.next = Step::tag;
    };
    switch (step) {
    case Step::put:
        // Confirmed only if the server's ETag is the MD5 we sent (and it checked as Content-MD5).
        // Under SSE-KMS the ETag is opaque: the server's check of Content-MD5 and of the signed
        // SHA-256 is what confirms the bytes.
        if (o_.object.etag_is_md5() && normalize_etag(r.etag) != job.image.md5) {
            return refuse(fmt::format("ETag {} does not match the MD5 sent", r.etag));
        }
        if (auto problem = echo_problem(o_.object, job.checksum, r.checksum)) {
            return refuse(*problem);
        }
        accepted();
        succeed(job, r.etag);
        return;
    case Step::create: {
        auto id = s3::parse_upload_id(r.body);
        if (!id) {
            return refuse("no UploadId in the answer");
        }
        accepted();
        job.upload_id = *id;
        write([&] {
            (void)store_.set_multipart(lease_of(job), job.upload_id,
                                       static_cast<std::int64_t>(job.part_size));
        });
        job.next = Step::part;
        log_.debug("multipart_started", {{"key", job.image.key}, {"parts", job.parts.size()}});
        return;
    }
    case Step::list_parts: {
        auto listed = s3::parse_list_parts(r.body);
        if (!listed) {
            return refuse("unreadable ListParts answer");
        }
        accepted();
        // A listed part counts as done only if its size and its ETag (the MD5 of its bytes) are
        // those of the part in the file; any other is sent again.
        for (const auto& lp : listed->parts) {
            auto index = static_cast<std::size_t>(lp.part_number - 1);
            if (lp.part_number < 1 || index >= job.parts.size()) {
                continue;
            }
            Part& p = job.parts[index];
            if (lp.size != p.length || !o_.object.etag_is_md5()) {
                continue; // under SSE-KMS a listed part cannot be checked: it is sent again
            }
            if (p.md5_hex.empty() &&
                !hash_range(job.fd.get(), p.offset, p.length, p.md5_hex, p.sha256_hex)) {
                return fail_image(job, fmt::format("cannot read part {} of the file", p.number));
            }
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
        if (o_.object.etag_is_md5() && normalize_etag(r.etag) != p.md5_hex) {
            return refuse(fmt::format("part ETag {} does not match the MD5 sent", r.etag));
        }
        if (auto problem = echo_problem(o_.object, p.checksum, r.checksum)) {
            return refuse(*problem);
        }
        accepted();
        p.done = true;
        p.etag = r.etag;
        write([&] { (void)store_.add_part(lease_of(job), {p.number, p.etag, p.length}); });
        if (std::all_of(job.parts.begin(), job.parts.end(), [](auto& x) { return x.done; })) {
            job.next = Step::complete;
        }
        return;
    }
    case Step::complete: {
        auto outcome = s3::parse_complete_multipart_upload(r.body);
        if (outcome.result->etag.empty() || !o_.object.etag_is_md5()) {
            accepted();
            job.next = Step::verify;
            log_.debug("complete_without_etag", {{"key", job.image.key}});
            return;
        }
        if (normalize_etag(outcome.result->etag) != expected_etag(job)) {
            return refuse(fmt::format("CompleteMultipartUpload ETag {} is not {}, the one of the "
                                      "parts sent",
                                      outcome.result->etag, expected_etag(job)));
        }
        accepted();
        completed(outcome.result->etag);
        return;
    }
    case Step::verify:
        if (!o_.object.etag_is_md5()) {
            // An opaque ETag: the object is the image if its size and the SHA-256 stored with it
            // are the image's.
            if (r.content_length != std::to_string(job.image.size) ||
                r.meta_sha256 != job.image.sha256) {
                return refuse(fmt::format("the completed object ({} bytes, sha256 {}) is not the "
                                          "image ({} bytes, sha256 {})",
                                          r.content_length.empty() ? "?" : r.content_length,
                                          r.meta_sha256.empty() ? "?" : r.meta_sha256,
                                          job.image.size, job.image.sha256));
            }
            accepted();
            completed(r.etag);
            return;
        }
        if (normalize_etag(r.etag) != expected_etag(job)) {
            return refuse(fmt::format("the completed object's ETag {} is not {}, the one of the "
                                      "parts sent",
                                      r.etag, expected_etag(job)));
        }
        accepted();
        completed(r.etag);
        return;
    case Step::tag:
        accepted();
        succeed(job, job.completed_etag);
        return;
    case Step::existing:
        accepted();
        return on_existing(job, r);
    }
}

// The key exists (upload --if-none-match). It is this image if the SHA-256 imgsync stored with it
// is the image's, or, for an object without one, if its size and its ETag (the MD5, for an object
// of one PUT) are; otherwise it is another file's, and it is left as it is.
void Pass::on_existing(Job& job, const util::HttpResponse& r) {
    const auto& img = job.image;
    const bool same_size = r.content_length == std::to_string(img.size);
    const bool same = !r.meta_sha256.empty()
                          ? r.meta_sha256 == img.sha256 && same_size
                          : same_size && !job.multipart && normalize_etag(r.etag) == img.md5;
    if (same) {
        log_.info("already_uploaded", {{"key", img.key}, {"etag", r.etag}});
        return succeed(job, r.etag);
    }
    fail_image(job, fmt::format("the key exists with other content ({} bytes, sha256 {}); "
                                "--if-none-match leaves it as it is",
                                r.content_length.empty() ? "?" : r.content_length,
                                r.meta_sha256.empty() ? "not recorded" : r.meta_sha256));
}

void Pass::on_failure(Job& job, Step step, std::size_t part, const util::HttpResponse& r,
                      const std::string& code, const std::string& message) {
    double now = clock_.monotonic_seconds();
    std::string reason =
        r.transport != util::Transport::ok
            ? fmt::format("{}: {}", util::transport_name(r.transport), r.transport_error)
            : fmt::format("HTTP {}{}{}{}{}", r.status, code.empty() ? "" : " ", code,
                          message.empty() ? "" : ": " + message,
                          code.empty() && r.status >= 400 && r.status < 500 &&
                                  s3::is_html_answer(r.content_type, r.body)
                              ? s3::not_s3_hint
                              : "");
    job.last_error = fmt::format("{}: {}", step_name(step), reason);
    last_failure_ = job.last_error;

    if (restart_multipart(job, step, code, static_cast<int>(r.status), reason)) {
        return;
    }
    if (code == "RequestTimeTooSkewed" && !r.date.empty()) {
        if (auto server = util::parse_http_date(r.date)) {
            clock_offset_ = *server - clock_.wall_epoch();
            log_.warn("clock_skew", {{"offset_seconds", clock_offset_}, {"key", job.image.key}});
        }
    }
    if (is_throttling(r.transport, static_cast<int>(r.status), code) &&
        adaptive_.on_throttled(now)) {
        log_.warn("slowing_down", {{"concurrency", adaptive_.concurrency()},
                                   {"rate_factor", adaptive_.rate_factor()}});
    }

    auto fclass =
        classify(r.transport, static_cast<int>(r.status), code).value_or(FailureClass::transient);
    log_.log(util::Level::warn, "request_failed",
             {{"key", job.image.key},
              {"step", step_name(step)},
              {"class", std::string(to_string(fclass))},
              {"error", reason}});
    if (fclass != FailureClass::transient) {
        return give_up(job, fclass);
    }
    // Transient: retry in this pass after a jittered backoff, then in a later pass.
    ++job.image.attempts;
    int& tries = step == Step::part ? job.parts[part].tries : job.tries;
    ++tries;
    // Out of tries for this pass, or out of attempts altogether (--max-attempts is a bound on the
    // total, so it is not exceeded by the tries left in this pass).
    if (tries >= o_.pass_attempts ||
        should_dead_letter(static_cast<int>(job.image.attempts), o_.retry.max_attempts)) {
        return give_up(job, FailureClass::transient);
    }
    ++run_.retried;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto retry_after = parse_retry_after(r.retry_after, clock_.wall_epoch());
    double delay = code == "RequestTimeTooSkewed"
                       ? 0
                       : retry_delay(tries - 1, 0.25, 20, unit(rng_), retry_after, 60);
    if (step == Step::part) {
        job.parts[part].ready_at = now + delay;
    } else {
        job.ready_at = now + delay;
    }
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
    if (!multipart_step || !lost || job.restarts >= 1) {
        return false;
    }
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
    write([&] { (void)store_.set_multipart(lease_of(job), std::nullopt, 0); });
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
        if (fatal_.empty()) {
            fatal_ = job.last_error;
        }
        cancel_requests(job);
        release(job, job.image.next_attempt_at);
        return;
    case Blame::hold:
        hold(job, failure);
        if (health_.exhausted() && fatal_.empty()) {
            fatal_ = job.last_error;
        }
        return;
    case Blame::image:
        break;
    }
    if (failure == FailureClass::image) {
        return fail_image(job, job.last_error);
    }
    if (failure == FailureClass::refused) {
        ++job.image.attempts; // transient failures count each try as they go
    }
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
    if (!health_.on_success()) {
        return;
    }
    auto held = std::move(held_);
    held_.clear();
    for (auto& job : held) {
        if (job->held_as == FailureClass::refused) {
            ++job->image.attempts;
        }
        defer(*job, job->last_error);
    }
}

} // namespace imgsync::core::pass
