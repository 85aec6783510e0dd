// imgsync check and imgsync presign: the operator's tools around the pass.
#include "commands/common.hpp"
#include "commands/target.hpp"
#include "s3/operations.hpp"
#include "s3/xml.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <chrono>
#include <sys/stat.h>
#include <unistd.h>

namespace imgsync::core {

namespace {

// The nearest existing directory above path, when this user may not create entries in it (so
// neither the missing directories nor the state file can be made); empty when it may.
std::string uncreatable_by_this_user(const std::string& path) {
    std::string dir = path;
    for (int depth = 0; depth < 256; ++depth) { // bounded: each step drops one component
        const auto slash = dir.find_last_of('/');
        dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0) {
            return ::access(dir.c_str(), W_OK | X_OK) == 0 ? std::string() : dir;
        }
        if (dir == "/" || dir == ".") {
            return {};
        }
    }
    return {};
}

// An answer that no S3 API gives: an HTML page, or a success that is not a bucket listing.
bool looks_like_s3(const util::HttpResponse& r) {
    if (s3::is_html_answer(r.content_type, r.body)) {
        return false;
    }
    if (r.status >= 200 && r.status < 300) {
        return r.body.find("ListBucketResult") != std::string::npos;
    }
    return s3::parse_error(r.body).has_value();
}

} // namespace

int cmd_check(const Context& ctx) {
    const auto& g = ctx.global;
    // The state file: usable, or creatable.
    if (state_file_exists(ctx)) {
        auto store = open_existing_store(ctx);
        std::string integrity = store->integrity_check();
        if (integrity != "ok") {
            throw Error(ExitCode::state_error,
                        fmt::format("state file {} fails its integrity check: {}",
                                    store->describe(), integrity));
        }
        auto counts = store->counts();
        std::printf("ok: state file %s (%lld pending, %lld failed)\n",
                    util::printable(store->describe()).c_str(),
                    static_cast<long long>(counts.pending), static_cast<long long>(counts.failed));
    } else {
        const std::string blocker = uncreatable_by_this_user(g.db_target.value);
        if (blocker.empty()) {
            std::printf("ok: state file %s does not exist yet; it is created on first use\n",
                        util::printable(g.db_target.value).c_str());
        } else {
            std::printf("warning: state file %s does not exist yet, and this user cannot create "
                        "it: %s is not writable (run check as the user that runs upload, e.g. "
                        "sudo -u imgsync, or set --db)\n",
                        util::printable(g.db_target.value).c_str(),
                        util::printable(blocker).c_str());
        }
    }

    Target target = resolve_target(ctx);
    std::printf("ok: credentials from %s (access key %s...), expire %s\n",
                util::printable(target.credentials.source()).c_str(),
                util::printable(target.credentials.access_key.substr(0, 4)).c_str(),
                describe_expiry(target.credentials, util::wall_epoch()).c_str());
    std::printf("ok: endpoint %s://%s, bucket %s, %s addressing, region %s\n",
                target.endpoint.scheme().c_str(), target.endpoint.host().c_str(),
                target.endpoint.bucket().c_str(),
                target.endpoint.path_style() ? "path-style" : "virtual-hosted",
                target.endpoint.region().c_str());

    util::HttpClient http(http_options(ctx, 1));
    warn_if_tls_keylog_ignored(*ctx.log);
    std::printf("ok: %s\n", util::printable(describe_proxy(target)).c_str());
    s3::Operations ops(target.endpoint, target.credentials);
    auto req = ops.list_objects(1, s3::AmzDate::from_epoch(util::wall_epoch()));
    req.total_timeout_ms = 30000;
    auto r = send_one(http, std::move(req));
    if (r.transport != util::Transport::ok) {
        // An http:// request to a TLS port gets a TLS alert back, which curl reports as a broken
        // or unintelligible answer.
        const bool maybe_tls_port =
            target.endpoint.scheme() == "http" &&
            (r.transport == util::Transport::other || r.transport == util::Transport::dropped);
        throw Error(ExitCode::pass_failed,
                    fmt::format("cannot reach {}: {} ({}){}", target.endpoint.host(),
                                r.transport_error, util::transport_name(r.transport),
                                maybe_tls_port ? "; if this port speaks TLS, use https:// in "
                                                 "--endpoint"
                                               : ""));
    }
    if (!looks_like_s3(r)) {
        throw Error(ExitCode::pass_failed,
                    fmt::format("signed request to bucket {}: HTTP {}{}{}",
                                target.endpoint.bucket(), r.status,
                                r.content_type.empty() ? "" : " (" + r.content_type + ")",
                                target.endpoint.scheme() == "http" && r.status == 400
                                    ? std::string(s3::not_s3_hint) +
                                          "; if this port speaks TLS, use https://"
                                    : s3::not_s3_hint));
    }
    if (r.status < 200 || r.status >= 300) {
        auto err = s3::parse_error(r.body);
        std::string code = err ? err->code : "";
        std::string hint;
        if (code == "SignatureDoesNotMatch") {
            hint = ": the secret key does not match the access key (or the clock is wrong)";
        } else if (code == "InvalidAccessKeyId") {
            hint = ": the server does not know this access key";
        } else if (code == "NoSuchBucket") {
            hint = fmt::format(": bucket {} does not exist", target.endpoint.bucket());
        } else if (code == "AccessDenied") {
            hint = ": the credentials may not list the bucket (uploads need s3:PutObject)";
        }
        throw Error(ExitCode::pass_failed,
                    fmt::format("signed request to bucket {} refused: HTTP {} {}{}{}",
                                target.endpoint.bucket(), r.status, code,
                                err && !err->message.empty() ? " (" + err->message + ")" : "",
                                hint));
    }
    std::printf("ok: signed request to bucket %s accepted (HTTP %ld)\n",
                target.endpoint.bucket().c_str(), r.status);
    return 0;
}

int cmd_presign(const Context& ctx, const PresignSettings& s) {
    Target target = resolve_target(ctx);
    s3::check_object_key(s.key).or_throw(ExitCode::usage, "key: ");
    s3::PresignRequest req;
    req.scheme = target.endpoint.scheme();
    req.host = target.endpoint.host();
    req.canonical_uri = target.endpoint.object_uri(s.key);
    req.expires = std::chrono::seconds(s.expires);
    auto url = s3::presign_url(req, target.credentials, target.endpoint.region(),
                               s3::AmzDate::from_epoch(util::wall_epoch()));
    if (!url) {
        throw Error(ExitCode::usage, "--expires must be between 1 and 604800 seconds");
    }
    std::puts(url->url.c_str());
    return 0;
}

} // namespace imgsync::core
