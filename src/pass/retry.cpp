#include "pass/retry.hpp"

#include "util/strings.hpp"
#include "util/timefmt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace imgsync::core {
namespace {

struct CodeClass {
    std::string_view code;
    FailureClass failure;
};

constexpr std::array<CodeClass, 41> code_table{{
    {"SlowDown", FailureClass::transient},
    {"ServiceUnavailable", FailureClass::transient},
    {"InternalError", FailureClass::transient},
    {"RequestTimeout", FailureClass::transient},
    {"RequestTimeTooSkewed", FailureClass::transient},
    {"OperationAborted", FailureClass::transient},
    {"TemporaryRedirect", FailureClass::transient},
    {"NoSuchUpload", FailureClass::transient},

    {"EntityTooLarge", FailureClass::image},
    {"EntityTooSmall", FailureClass::image},
    {"InvalidDigest", FailureClass::image},
    {"BadDigest", FailureClass::image},
    {"XAmzContentSHA256Mismatch", FailureClass::image},
    {"KeyTooLongError", FailureClass::image},
    {"InvalidObjectName", FailureClass::image},
    {"MetadataTooLarge", FailureClass::image},
    {"InvalidPart", FailureClass::image},
    {"InvalidPartOrder", FailureClass::image},

    {"InvalidAccessKeyId", FailureClass::pass},
    {"SignatureDoesNotMatch", FailureClass::refused},
    {"AccessDenied", FailureClass::refused},
    {"AllAccessDisabled", FailureClass::pass},
    {"AccountProblem", FailureClass::pass},
    {"NoSuchBucket", FailureClass::pass},
    {"InvalidBucketName", FailureClass::pass},
    {"PermanentRedirect", FailureClass::pass},
    {"AuthorizationHeaderMalformed", FailureClass::pass},
    {"ExpiredToken", FailureClass::pass},
    {"InvalidToken", FailureClass::pass},
    {"MissingSecurityHeader", FailureClass::pass},
    {"NotImplemented", FailureClass::refused},
    // The request's settings (upload --storage-class, --sse, ...): every image of the pass
    // would get the same answer, so they must not fail images before the pass proved itself.
    {"InvalidArgument", FailureClass::refused},
    {"InvalidRequest", FailureClass::refused},
    {"InvalidStorageClass", FailureClass::refused},
    {"InvalidEncryptionAlgorithmError", FailureClass::refused},
    {"KMS.NotFoundException", FailureClass::refused},

    // Spelled by some S3-compatible servers; same meaning as above.
    {"TooManyRequests", FailureClass::transient},
    {"Throttling", FailureClass::transient},
    {"ThrottlingException", FailureClass::transient},
    {"RequestTimeoutException", FailureClass::transient},
    {"ExpiredTokenException", FailureClass::pass},
}};

std::optional<FailureClass> from_code(std::string_view code) {
    for (const CodeClass& entry : code_table) {
        if (entry.code == code) {
            return entry.failure;
        }
    }
    return std::nullopt;
}

std::optional<FailureClass> from_status(int status, bool has_code) {
    if (status >= 200 && status < 300) {
        return has_code ? std::optional(FailureClass::transient) : std::nullopt;
    }
    switch (status) {
    case 0:
    case 307:
    case 408:
    case 409:
    case 429:
        return FailureClass::transient;
    case 403:
    case 405:
    case 501:
        return FailureClass::refused;
    case 401:
    case 404:
        return FailureClass::pass;
    case 413: // the body is too large
    case 414: // the key is too long
        return FailureClass::image;
    default:
        break;
    }
    if (status >= 300 && status < 400) {
        return FailureClass::pass;
    }
    if (status >= 400 && status < 500) {
        // An unknown 4xx: nothing says it is the image's, so it is not marked failed at once.
        return FailureClass::refused;
    }
    // 5xx, and nonsense such as 1xx or 600 from a broken proxy: worth another try.
    return FailureClass::transient;
}

} // namespace

std::string_view to_string(FailureClass failure) {
    switch (failure) {
    case FailureClass::transient:
        return "transient";
    case FailureClass::image:
        return "image";
    case FailureClass::refused:
        return "refused";
    case FailureClass::pass:
        return "pass";
    }
    return "unknown";
}

std::optional<FailureClass> classify(util::Transport transport, int http_status,
                                     std::string_view s3_code) {
    if (const auto known = from_code(s3_code)) {
        return known;
    }
    switch (transport) {
    case util::Transport::ok:
        break;
    case util::Transport::dns:
    case util::Transport::tls:
    case util::Transport::connect:
        return FailureClass::pass;
    case util::Transport::timeout:
    case util::Transport::dropped:
    case util::Transport::aborted:
    case util::Transport::other:
        return FailureClass::transient;
    }
    return from_status(http_status, !s3_code.empty());
}

bool is_throttling(util::Transport /*transport*/, int http_status, std::string_view s3_code) {
    return http_status == 503 || http_status == 429 || s3_code == "SlowDown" ||
           s3_code == "TooManyRequests" || s3_code == "Throttling" ||
           s3_code == "ThrottlingException";
}

double backoff_delay(int attempt, double base_seconds, double cap_seconds, double random01) {
    const double r = std::isnan(random01) ? 0.0 : std::clamp(random01, 0.0, 1.0);
    // ldexp saturates to infinity for large exponents, which min() then caps.
    const double ceiling = std::min(cap_seconds, std::ldexp(base_seconds, std::max(attempt, 0)));
    return std::max(0.0, r * ceiling);
}

std::optional<double> parse_retry_after(std::string_view header_value, std::int64_t now_epoch) {
    const std::string_view v = util::trim(header_value);
    if (v.empty()) {
        return std::nullopt;
    }
    if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        double seconds = 0;
        for (const char c : v) {
            seconds = seconds * 10 + (c - '0');
        }
        return std::isfinite(seconds) ? seconds : std::numeric_limits<double>::max();
    }
    const auto at = util::parse_http_date(v);
    if (!at) {
        return std::nullopt;
    }
    return std::max(0.0, static_cast<double>(*at - now_epoch));
}

double retry_delay(int attempt, double base_seconds, double cap_seconds, double random01,
                   std::optional<double> retry_after_seconds, double max_delay_seconds) {
    double delay = backoff_delay(attempt, base_seconds, cap_seconds, random01);
    if (retry_after_seconds && *retry_after_seconds > delay) {
        delay = *retry_after_seconds;
    }
    return std::min(delay, max_delay_seconds);
}

} // namespace imgsync::core
