#include "commands/credential_fetch.hpp"

#include "s3/credential_json.hpp"
#include "s3/sts.hpp"
#include "util/fs.hpp"
#include "util/http_client.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace imgsync::core {

namespace {

constexpr std::size_t kMaxProcessOutput = 64 * 1024;

// One request through a client of its own, waiting for its answer (bounded by its timeouts).
util::HttpResponse send_one(const std::string& ca_bundle, util::HttpRequest request) {
    util::HttpClient::Options options;
    options.ca_bundle = ca_bundle;
    options.max_host_connections = 1;
    util::HttpClient http(options);
    util::HttpResponse out;
    bool done = false;
    http.start(1, std::move(request));
    for (int i = 0; i < 6000 && !done; ++i) { // bounded; the request's own timeouts end it first
        http.poll(50, [&](std::uint64_t, util::HttpResponse&& r) {
            out = std::move(r);
            done = true;
        });
    }
    if (!done) {
        out.transport = util::Transport::timeout;
        out.transport_error = "no answer";
    }
    return out;
}

std::string failure_of(const util::HttpResponse& r) {
    if (r.transport != util::Transport::ok) {
        return fmt::format("{} ({})", util::printable(r.transport_error),
                           util::transport_name(r.transport));
    }
    return fmt::format("HTTP {}", r.status);
}

util::Result<std::string> read_token_file(const std::string& path, const char* what) {
    auto text = util::read_text_file(path);
    if (!text) {
        return util::fail(fmt::format("the {}: {}", what, text.error()));
    }
    if (!*text) {
        return util::fail(fmt::format("the {} {} does not exist", what, util::printable(path)));
    }
    std::string token(util::trim(**text));
    if (token.empty()) {
        return util::fail(fmt::format("the {} {} is empty", what, util::printable(path)));
    }
    return token;
}

} // namespace

CredentialProvider::CredentialProvider(s3::CredentialPlan plan, FetchOptions options)
    : plan_(std::move(plan)), options_(std::move(options)) {}

bool CredentialProvider::last_resort() const {
    return plan_.steps.size() == 1 && plan_.steps[0].kind == s3::StepKind::instance_metadata &&
           !plan_.none_found.empty();
}

util::Result<s3::Credentials> CredentialProvider::fetch(std::int64_t now) {
    std::optional<s3::Credentials> current;
    for (const auto& step : plan_.steps) {
        auto next = run_step(step, current ? &*current : nullptr, now);
        if (!next) {
            return util::fail(next.error());
        }
        current = std::move(*next);
    }
    if (!current) {
        return util::fail("no credentials");
    }
    if (!plan_.is_static()) {
        std::string provenance = plan_.describe();
        if (!instance_role_.empty()) {
            const std::string generic = "instance metadata";
            const auto at = provenance.find(generic);
            if (at != std::string::npos) {
                provenance.replace(at, generic.size(), "instance role " + instance_role_);
            }
        }
        current->provenance = std::move(provenance);
        const s3::CredentialSource from{s3::CredentialOrigin::environment, {}, {}};
        current->access_key_from = current->secret_key_from = current->session_token_from = from;
    }
    if (current->expires_at && *current->expires_at <= now) {
        return util::fail(fmt::format("the credentials from {} expired already ({} s ago)",
                                      current->provenance, now - *current->expires_at));
    }
    return std::move(*current);
}

util::Result<s3::Credentials> CredentialProvider::run_step(const s3::CredentialStep& step,
                                                           const s3::Credentials* source,
                                                           std::int64_t now) {
    switch (step.kind) {
    case s3::StepKind::static_keys:
        if (!step.keys) {
            return util::fail("no static keys");
        }
        return *step.keys;
    case s3::StepKind::process:
        return from_process(step);
    case s3::StepKind::container:
        return from_container(step);
    case s3::StepKind::instance_metadata:
        return from_instance(step);
    case s3::StepKind::assume_role:
    case s3::StepKind::web_identity:
        return from_sts(step, source, now);
    }
    return util::fail("unknown credential step");
}

util::Result<s3::Credentials> CredentialProvider::from_process(const s3::CredentialStep& step) {
    const std::string what =
        "credential_process of profile '" + util::printable(step.profile) + "'";
    auto ran = util::run_process(step.argv, options_.process_timeout_ms, kMaxProcessOutput);
    if (!ran) {
        return util::fail(
            fmt::format("{} ({}): {}", what, util::printable(step.argv[0]), ran.error()));
    }
    // Its stderr is never shown: a helper may print a token or a key there.
    const std::string err_note =
        ran->err_bytes > 0 ? fmt::format(" (it wrote {} bytes on stderr, not shown: they may "
                                         "hold secrets)",
                                         ran->err_bytes)
                           : "";
    if (ran->timed_out) {
        return util::fail(fmt::format("{} did not finish within {} s and was killed{}", what,
                                      options_.process_timeout_ms / 1000, err_note));
    }
    if (ran->signal != 0) {
        return util::fail(fmt::format("{} was killed by signal {}{}", what, ran->signal, err_note));
    }
    if (ran->exit_status != 0) {
        return util::fail(
            fmt::format("{} exited with status {}{}", what, ran->exit_status, err_note));
    }
    if (ran->out_truncated) {
        return util::fail(fmt::format("{} wrote more than {} KiB", what, kMaxProcessOutput / 1024));
    }
    auto creds = s3::parse_credential_json(ran->out, s3::CredentialJson::process);
    if (!creds) {
        return util::fail(what + ": " + creds.error());
    }
    return creds;
}

util::Result<s3::Credentials> CredentialProvider::from_container(const s3::CredentialStep& step) {
    util::HttpRequest req;
    req.method = "GET";
    req.url = step.url;
    req.connect_timeout_ms = options_.container_timeout_ms;
    req.total_timeout_ms = options_.container_timeout_ms;
    if (!step.auth_token_file.empty()) {
        auto token = read_token_file(step.auth_token_file, "container authorization token file");
        if (!token) {
            return util::fail(token.error());
        }
        if (token->find_first_of("\r\n") != std::string::npos) {
            return util::fail("the container authorization token file " +
                              util::printable(step.auth_token_file) + " holds a line break");
        }
        req.headers.push_back("Authorization: " + *token);
    } else if (!step.auth_token.empty()) {
        req.headers.push_back("Authorization: " + std::string(step.auth_token.reveal()));
    }
    const std::string what = s3::CredentialPlan{{step}, {}}.describe();
    auto r = send_one(options_.ca_bundle, std::move(req));
    if (r.transport != util::Transport::ok || r.status != 200) {
        return util::fail(fmt::format("{}: no credentials: {}", what, failure_of(r)));
    }
    auto creds = s3::parse_credential_json(r.body, s3::CredentialJson::container);
    if (!creds) {
        return util::fail(what + ": " + creds.error());
    }
    return creds;
}

util::Result<s3::Credentials> CredentialProvider::from_instance(const s3::CredentialStep& step) {
    const std::string what = "the instance metadata service at " + step.url;
    auto request = [&](const char* method, const std::string& path) {
        util::HttpRequest req;
        req.method = method;
        req.url = step.url + path;
        req.connect_timeout_ms = options_.metadata_timeout_ms;
        req.total_timeout_ms = options_.metadata_timeout_ms;
        return req;
    };
    // IMDSv2: a session token first. No fallback to IMDSv1.
    auto token_req = request("PUT", "/latest/api/token");
    token_req.headers.push_back("X-aws-ec2-metadata-token-ttl-seconds: 21600");
    auto token = send_one(options_.ca_bundle, std::move(token_req));
    if (token.transport != util::Transport::ok || token.status != 200 || token.body.empty()) {
        return util::fail(
            fmt::format("{} gave no IMDSv2 session token: {}", what, failure_of(token)));
    }
    const std::string token_header =
        "X-aws-ec2-metadata-token: " + std::string(util::trim(token.body));
    auto role_req = request("GET", "/latest/meta-data/iam/security-credentials/");
    role_req.headers.push_back(token_header);
    auto role = send_one(options_.ca_bundle, std::move(role_req));
    if (role.transport != util::Transport::ok || role.status != 200) {
        return util::fail(fmt::format("{} names no instance role: {}", what, failure_of(role)));
    }
    std::string name(util::trim(std::string_view(role.body).substr(0, role.body.find('\n'))));
    if (name.empty() || name.find_first_of("/?#% ") != std::string::npos || name.size() > 128) {
        return util::fail(what + " names no usable instance role");
    }
    auto creds_req = request("GET", "/latest/meta-data/iam/security-credentials/" + name);
    creds_req.headers.push_back(token_header);
    auto answer = send_one(options_.ca_bundle, std::move(creds_req));
    if (answer.transport != util::Transport::ok || answer.status != 200) {
        return util::fail(fmt::format("{} gave no credentials for instance role {}: {}", what,
                                      util::printable(name), failure_of(answer)));
    }
    auto creds = s3::parse_credential_json(answer.body, s3::CredentialJson::instance_metadata);
    if (!creds) {
        return util::fail(what + ": " + creds.error());
    }
    instance_role_ = util::printable(name);
    if (!instance_region_) {
        auto region_req = request("GET", "/latest/meta-data/placement/region");
        region_req.headers.push_back(token_header);
        auto region = send_one(options_.ca_bundle, std::move(region_req));
        const std::string_view text = util::trim(region.body);
        if (region.transport == util::Transport::ok && region.status == 200 && !text.empty() &&
            text.size() < 64 &&
            text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") ==
                std::string_view::npos) {
            instance_region_ = std::string(text);
        }
    }
    return creds;
}

util::Result<s3::Credentials> CredentialProvider::from_sts(const s3::CredentialStep& step,
                                                           const s3::Credentials* source,
                                                           std::int64_t now) {
    s3::AssumeRoleParams params = step.role;
    if (params.session_name.empty()) {
        params.session_name = fmt::format("imgsync-{}", now);
    }
    util::HttpRequest req;
    std::string action;
    if (step.kind == s3::StepKind::web_identity) {
        action = "AssumeRoleWithWebIdentity";
        auto token = read_token_file(step.token_file, "web identity token file");
        if (!token) {
            return util::fail(token.error());
        }
        req = s3::web_identity_request(step.sts, params, s3::Secret(std::move(*token)));
    } else {
        action = "AssumeRole";
        if (source == nullptr) {
            return util::fail("AssumeRole without source credentials");
        }
        req = s3::assume_role_request(step.sts, params, *source, s3::AmzDate::from_epoch(now));
    }
    const std::string what =
        fmt::format("{} {} at {}", action, util::printable(params.role_arn), step.sts.url());
    auto r = send_one(options_.ca_bundle, std::move(req));
    if (r.transport != util::Transport::ok) {
        return util::fail(fmt::format("{}: {}", what, failure_of(r)));
    }
    auto creds = s3::parse_sts_response(action, r.status, r.body);
    if (!creds) {
        return util::fail(fmt::format("{}: {}", what, creds.error()));
    }
    return creds;
}

} // namespace imgsync::core
