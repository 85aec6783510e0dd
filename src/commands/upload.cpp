// imgsync upload: one pass, under the pass lock, recorded in the state file.
#include "commands/common.hpp"
#include "commands/prune.hpp"
#include "commands/register_files.hpp"
#include "commands/status_io.hpp"
#include "commands/target.hpp"
#include "model/fleet_bucket.hpp"
#include "pass/upload_pass.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"
#include "util/text.hpp"
#include "util/timefmt.hpp"
#include "util/units.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::core {

namespace {

PassOptions pass_options(const UploadSettings& s) {
    PassOptions o;
    o.object = s3::make_object_settings(s.object).or_throw(ExitCode::usage);
    o.if_none_match = s.if_none_match;
    o.concurrency = s.concurrency;
    o.max_images = s.max_images;
    if (!s.max_bytes.empty()) {
        o.max_bytes = require_size("--max-bytes", s.max_bytes);
        if (*o.max_bytes == 0) {
            throw Error(ExitCode::usage, "--max-bytes must be more than 0");
        }
    }
    if (!s.rate.empty()) {
        o.rate = require_rate("--rate", s.rate);
    }
    if (s.burst < 0) {
        throw Error(ExitCode::usage, "--burst must not be negative");
    }
    o.burst = s.burst;
    if (!s.bandwidth.empty()) {
        auto parsed = BandwidthSchedule::parse(s.bandwidth);
        if (!parsed) {
            throw Error(ExitCode::usage, "--bandwidth: " + parsed.error());
        }
        o.bandwidth = *parsed;
    }
    if (!s.max_duration.empty()) {
        o.max_duration = require_seconds("--max-duration", s.max_duration);
        if (*o.max_duration <= 0) {
            throw Error(ExitCode::usage, "--max-duration must be longer than 0s");
        }
    }
    o.grace = require_seconds("--grace", s.grace);
    o.retry.max_attempts = s.max_attempts;
    o.pass_attempts = s.pass_attempts;
    o.parts = require_part_plan(s.multipart);
    o.stall_seconds =
        std::max(1L, static_cast<long>(require_seconds("--stall-timeout", s.stall_timeout)));
    o.connect_timeout_ms = std::max(
        1L, static_cast<long>(1000 * require_seconds("--connect-timeout", s.connect_timeout)));
    o.claim_scope = s.claim;
    if (!s.fleet_rate.empty()) {
        o.fleet_rate = require_rate("--fleet-rate", s.fleet_rate);
    }
    if (s.fleet_burst < 0) {
        throw Error(ExitCode::usage, "--fleet-burst must not be negative");
    }
    o.fleet_burst = s.fleet_burst > 0 ? s.fleet_burst : fleet_default_burst(o.fleet_rate);
    o.lease_seconds = require_seconds("--lease", s.lease);
    if (o.lease_seconds < 1) {
        throw Error(ExitCode::usage, "--lease must be at least 1s");
    }
    o.progress = s.progress == ProgressMode::always ||
                 (s.progress == ProgressMode::automatic && ::isatty(2));
    return o;
}

// upload --source: what add DIR... would do, with upload's key and part settings.
AddSettings scan_settings(const UploadSettings& s) {
    AddSettings a;
    a.paths = s.sources;
    a.key_layout = s.scan_key_layout;
    a.key_template = s.scan_key_template;
    a.exclude = s.scan_exclude;
    a.multipart = s.multipart;
    return a;
}

// Every source must be a directory: one that is missing is a usage error that names it, before
// the state is opened and anything claimed.
void check_sources(const std::vector<std::string>& sources) {
    for (const auto& dir : sources) {
        if (dir.empty()) {
            throw Error(ExitCode::usage, "--source: an empty directory name");
        }
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) {
            throw Error(ExitCode::usage,
                        fmt::format("--source {}: {}", dir,
                                    errno == ENOENT ? "no such directory" : std::strerror(errno)));
        }
        if (!S_ISDIR(st.st_mode)) {
            throw Error(ExitCode::usage, fmt::format("--source {}: not a directory", dir));
        }
    }
}

// Registers what is new or changed under the sources, as add would. Refusals are logged and
// remembered but do not fail the pass.
void scan_sources(const Context& ctx, const AddSettings& scan, storage::Store& store) {
    const double t0 = util::monotonic_seconds();
    const RegisterTotals t = register_files(ctx, scan, store);
    for (const auto& gone : t.missing) {
        ctx.log->warn("source_missing", {{"path", gone}, {"reason", "removed during the scan"}});
    }
    ctx.log->info("sources_scanned", {{"sources", static_cast<std::int64_t>(scan.paths.size())},
                                      {"added", t.added},
                                      {"updated", t.updated},
                                      {"unchanged", t.unchanged},
                                      {"skipped", t.skipped},
                                      {"refused", t.refused},
                                      {"excluded", t.excluded},
                                      {"remembered_refusals", t.remembered},
                                      {"seconds", util::monotonic_seconds() - t0}});
}

} // namespace

// upload --dry-run: the images a pass would take now, in its order, within --max-images and
// --max-bytes (the rate, bandwidth and deadline decide how far a real pass gets). No network, no
// lock, no write.
int dry_run(const Context& ctx, const PassOptions& o) {
    auto store = open_existing_store(ctx);
    const storage::Claimant who{0, ctx.global.host_id, o.claim_scope, o.lease_seconds};
    std::int64_t n = 0;
    std::uint64_t bytes = 0;
    std::string limit;
    store->for_each_claimable(who, util::wall_epoch(), [&](const storage::ImageRecord& image) {
        if (o.max_images && n >= *o.max_images) {
            limit = "--max-images";
            return false;
        }
        if (o.max_bytes && n > 0 && bytes + image.size > *o.max_bytes) {
            limit = "--max-bytes";
            return false;
        }
        ++n;
        bytes += image.size;
        std::printf("%lld\t%s\t%s\n", static_cast<long long>(image.id),
                    util::format_bytes(image.size).c_str(), util::printable(image.key).c_str());
        return true;
    });
    std::printf("would upload %lld image%s, %s%s\n", static_cast<long long>(n), n == 1 ? "" : "s",
                util::format_bytes(bytes).c_str(),
                limit.empty() ? "" : fmt::format(" (then {} stops the pass)", limit).c_str());
    return 0;
}

int cmd_upload(const Context& ctx, const UploadSettings& s) {
    PassOptions options = pass_options(s);
    // A bad --after-upload, --move-to, --keep-for or --delete-empty-dirs: before any request.
    (void)prune_plan(s.local, s.sources);
    const AddSettings scan = scan_settings(s);
    if (!s.sources.empty()) {
        check_sources(s.sources);
        check_register_settings(scan);
    }
    if (s.dry_run) {
        return dry_run(ctx, options); // registers nothing: what is registered already
    }
    double wait_timeout =
        s.wait_timeout.empty() ? 0 : require_seconds("--wait-timeout", s.wait_timeout);
    Target target = resolve_target(ctx);
    util::Logger& log = *ctx.log;

    std::string started_at = util::iso8601_utc(util::wall_epoch());
    // SQLite: one pass at a time (the flock). PostgreSQL: passes share the backlog under leases.
    auto store = open_store_for_pass(ctx, s.wait, wait_timeout, started_at);
    options.host_id = ctx.global.host_id;
    // The lock is ours, so any image still "uploading" belongs to a pass that died (SQLite); or
    // the passes whose leases expired are recorded as crashed (PostgreSQL).
    auto pid_alive = [](std::int64_t pid) {
        return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    };
    if (int recovered = store->recover_orphans(util::wall_epoch(), ctx.global.host_id, pid_alive)) {
        log.warn("recovered", {{"images", recovered},
                               {"reason", "left uploading by a pass that did not finish"}});
    }
    if (!s.sources.empty()) {
        scan_sources(ctx, scan, *store); // before the pass claims anything
    }

    util::StopSignals signals;
    util::HttpClient http(http_options(ctx, options.concurrency));
    warn_if_tls_keylog_ignored(log);
    s3::Operations ops(target.endpoint, target.credentials);
    plan_credential_refresh(target, options);

    std::int64_t run_id =
        store->begin_run(util::wall_epoch(), ::getpid(), ctx.global.host_id, options.lease_seconds);
    // The proxy, as libcurl will choose it: "proxy=none", or the proxy and the variable that
    // named it (never its user name or password); proxy_from=NO_PROXY when that excluded it.
    const util::ProxyChoice& proxy = target.proxy;
    const std::string endpoint = target.endpoint.scheme() + "://" + target.endpoint.host();
    const std::string credentials = target.credentials.source();
    const std::string credentials_expire = target.credentials.expires_at
                                               ? util::iso8601_utc(*target.credentials.expires_at)
                                               : std::string("never");
    const std::string proxy_shown = proxy.route == util::ProxyRoute::proxied ? proxy.proxy : "none";
    std::vector<util::Field> started{{"run", run_id},
                                     {"host_id", ctx.global.host_id},
                                     {"bucket", target.endpoint.bucket()},
                                     {"endpoint", endpoint},
                                     {"concurrency", options.concurrency},
                                     {"credentials", credentials},
                                     {"credentials_expire", credentials_expire},
                                     {"proxy", proxy_shown}};
    if (proxy.route != util::ProxyRoute::direct) {
        started.emplace_back("proxy_from", proxy.variable);
    }
    log.log(util::Level::info, "pass_started", started);
    double t0 = util::monotonic_seconds();
    PassResult result = run_upload_pass(options, *store, http, ops, log, run_id);
    double seconds = util::monotonic_seconds() - t0;
    result.run.seconds = std::round(seconds * 1000) / 1000; // as the logs show it
    store->finish_run(result.run, util::wall_epoch());

    auto level = result.exit_code == ExitCode::ok ? util::Level::info : util::Level::warn;
    log.log(level, "pass_done",
            {{"run", run_id},
             {"outcome", std::string(to_string(result.run.outcome))},
             {"uploaded", result.run.uploaded},
             {"failed", result.run.failed},
             {"deferred", result.deferred},
             {"retried", result.run.retried},
             {"bytes", result.run.bytes},
             {"seconds", seconds},
             {"images_per_second",
              seconds > 0 ? static_cast<double>(result.run.uploaded) / seconds : 0.0},
             {"message", result.run.message}});
    // What is uploaded may leave the local disk (--after-upload), unless a signal stopped us.
    if (s.local.after_upload != AfterUpload::keep && result.exit_code != ExitCode::interrupted) {
        PrunePlan plan = prune_plan(s.local, s.sources);
        if (store->leases() && options.claim_scope == storage::ClaimScope::local) {
            plan.host_id = ctx.global.host_id;
        }
        auto pruned = prune_files(plan, *store, log, util::wall_epoch());
        log.log(pruned.refused ? util::Level::warn : util::Level::info, "prune_done",
                {{"deleted", pruned.deleted},
                 {"moved", pruned.moved},
                 {"gone", pruned.gone},
                 {"refused", pruned.refused},
                 {"dirs", pruned.dirs},
                 {"bytes", pruned.bytes}});
    }
    // The exit status reports the pass: a metrics file that cannot be written is logged as the
    // error event metrics_failed and changes nothing else.
    if (!s.metrics_file.empty()) {
        write_metrics(s.metrics_file, load_status(*store), log);
    }
    if (result.exit_code == ExitCode::pass_failed) {
        std::fprintf(stderr, "imgsync: pass failed: %s\n",
                     util::printable(result.run.message).c_str());
    }
    return static_cast<int>(result.exit_code);
}

} // namespace imgsync::core
