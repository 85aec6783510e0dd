// imgsync verify: are the uploaded images still in the bucket as they were uploaded?
#include "commands/common.hpp"
#include "commands/target.hpp"
#include "pass/job.hpp"
#include "pass/verify_pass.hpp"
#include "s3/credential_rules.hpp"
#include "s3/xml.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/signals.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace imgsync::core {

namespace {

VerifyOptions verify_options(const VerifySettings& s, std::int64_t now) {
    VerifyOptions o;
    if (s.sample) {
        o.scope = VerifyScope::sample;
        o.sample = *s.sample;
    } else if (!s.since.empty()) {
        o.scope = VerifyScope::since;
        o.since_epoch = now - static_cast<std::int64_t>(require_seconds("--since", s.since));
    }
    o.requeue = s.requeue;
    o.concurrency = s.concurrency;
    if (!s.rate.empty()) {
        o.rate = require_rate("--rate", s.rate);
    }
    if (s.burst < 0) {
        throw Error(ExitCode::usage, "--burst must not be negative");
    }
    o.burst = s.burst;
    o.stall_seconds =
        std::max(1L, static_cast<long>(require_seconds("--stall-timeout", s.stall_timeout)));
    o.connect_timeout_ms = std::max(
        1L, static_cast<long>(1000 * require_seconds("--connect-timeout", s.connect_timeout)));
    return o;
}

std::string scope_text(const VerifySettings& s) {
    if (s.sample) {
        return fmt::format("sample {}", *s.sample);
    }
    if (!s.since.empty()) {
        return "since " + s.since;
    }
    return "all";
}

// Whether the file is still the image: its size and mtime, then its SHA-256 (read in full:
// only images whose object is missing or changed get here).
bool local_file_matches_image(const storage::ImageRecord& image) {
    util::UniqueFd fd(::open(image.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        return false;
    }
    auto st = util::stat_fd(fd.get());
    if (!st || !local_file_matches(image, st->size, st->mtime_ns, "")) {
        return false;
    }
    std::string md5, sha256;
    return pass::hash_range(fd.get(), 0, st->size, md5, sha256) &&
           local_file_matches(image, st->size, st->mtime_ns, sha256);
}

// A missing bucket answers every HEAD with 404, which would pass for missing objects (and
// --requeue would put the whole backlog back): the bucket is asked first.
void preflight(util::HttpClient& http, s3::Operations& ops, const Target& target,
               util::Logger& log) {
    auto req = ops.head_bucket(s3::AmzDate::from_epoch(util::wall_epoch()));
    req.total_timeout_ms = 30000;
    auto r = send_one(http, std::move(req));
    if (r.transport != util::Transport::ok) {
        throw Error(ExitCode::pass_failed,
                    fmt::format("cannot reach {}: {} ({})", target.endpoint.host(),
                                r.transport_error, util::transport_name(r.transport)));
    }
    // A web server's page (a 404, or a 200 for any path) is no bucket's answer.
    if (s3::is_html_answer(r.content_type, r.body)) {
        throw Error(ExitCode::pass_failed,
                    fmt::format("bucket {}: HTTP {} ({}){}", target.endpoint.bucket(), r.status,
                                util::printable(r.content_type), s3::not_s3_hint));
    }
    if (r.status == 403) {
        log.warn("bucket_not_listable",
                 {{"bucket", target.endpoint.bucket()},
                  {"reason", "HEAD bucket answered 403: without s3:ListBucket, S3 answers 403 "
                             "for a missing object too, which verify reports as unverified"}});
        return;
    }
    if (r.status < 200 || r.status >= 300) {
        throw Error(ExitCode::pass_failed,
                    fmt::format("bucket {}: HTTP {}{}", target.endpoint.bucket(), r.status,
                                r.status == 404   ? " (no such bucket)"
                                : r.status == 301 ? " (another region: check --region)"
                                                  : ""));
    }
}

ExitCode exit_code_of(VerifyOutcome outcome) {
    switch (outcome) {
    case VerifyOutcome::ok:
        return ExitCode::ok;
    case VerifyOutcome::problems:
        return ExitCode::images_failed;
    case VerifyOutcome::interrupted:
        return ExitCode::interrupted;
    case VerifyOutcome::failed:
        return ExitCode::pass_failed;
    }
    return ExitCode::internal;
}

} // namespace

int cmd_verify(const Context& ctx, const VerifySettings& s) {
    const std::int64_t started_at = util::wall_epoch();
    VerifyOptions options = verify_options(s, started_at);
    Target target = resolve_target(ctx);
    auto store = open_existing_store(ctx);
    util::Logger& log = *ctx.log;

    util::StopSignals signals;
    util::HttpClient http(http_options(ctx, options.concurrency));
    warn_if_tls_keylog_ignored(log);
    s3::Operations ops(target.endpoint, target.credentials);
    plan_credential_refresh(target, options);
    preflight(http, ops, target, log);

    const std::string scope = scope_text(s);
    log.info("verify_started", {{"scope", scope},
                                {"bucket", target.endpoint.bucket()},
                                {"requeue", s.requeue},
                                {"concurrency", options.concurrency}});
    double t0 = util::monotonic_seconds();
    auto on_finding = [](const VerifyFinding& f) {
        std::printf("%s\t%lld\t%s\t%s%s\n", std::string(to_string(f.verdict.check)).c_str(),
                    static_cast<long long>(f.image.id), util::printable(f.image.key).c_str(),
                    util::printable(f.verdict.reason).c_str(), f.requeued ? " (requeued)" : "");
    };
    VerifyRun run =
        run_verify(options, *store, http, ops, log, local_file_matches_image, on_finding);
    double seconds = util::monotonic_seconds() - t0;

    storage::VerificationRecord record;
    record.started_at = started_at;
    record.finished_at = util::wall_epoch();
    record.host_id = ctx.global.host_id;
    record.scope = scope;
    record.outcome = run.outcome;
    record.totals = run.totals;
    record.message = run.message;
    store->record_verification(record);

    const auto& t = run.totals;
    log.log(run.outcome == VerifyOutcome::ok ? util::Level::info : util::Level::warn, "verify_done",
            {{"outcome", std::string(to_string(run.outcome))},
             {"checked", t.checked},
             {"ok", t.ok},
             {"missing", t.missing},
             {"changed", t.changed},
             {"unverified", t.unverified},
             {"requeued", t.requeued},
             {"seconds", seconds},
             {"message", run.message}});
    std::printf("verified %lld object%s: %lld ok, %lld missing, %lld changed, %lld unverified; "
                "%lld requeued%s\n",
                static_cast<long long>(t.checked), t.checked == 1 ? "" : "s",
                static_cast<long long>(t.ok), static_cast<long long>(t.missing),
                static_cast<long long>(t.changed), static_cast<long long>(t.unverified),
                static_cast<long long>(t.requeued),
                run.message.empty() ? "" : fmt::format(" ({})", run.message).c_str());
    std::fflush(stdout);
    if (run.outcome == VerifyOutcome::failed) {
        std::fprintf(stderr, "imgsync: verify failed: %s\n", util::printable(run.message).c_str());
    }
    return static_cast<int>(exit_code_of(run.outcome));
}

} // namespace imgsync::core
