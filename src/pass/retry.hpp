// What to do about a failed upload attempt: classification, backoff within a pass, and the
// schedule of retries across passes (cron runs).
#pragma once

#include "util/http_client.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace imgsync::core {

enum class FailureClass {
    transient, // retry this image later in the pass, then in a later pass; dead-letter eventually
    image,     // this image can never succeed as it is: mark it failed, carry on with the others
    refused,   // the server refused this request for a reason that may hold for some keys only (a
               // bucket policy's AccessDenied, SignatureDoesNotMatch for one key's spelling,
               // NotImplemented for one kind of request), or because of how it was asked (a
               // storage class, encryption or argument the store does not take; any 4xx S3
               // code not known to be the image's): the pass's until a request of the pass
               // succeeds, the image's after that (see pass/verdict.hpp)
    pass,      // nothing will succeed (credentials, bucket, endpoint): stop the pass, keep images
};

std::string_view to_string(FailureClass failure);

// Classifies one finished request; nullopt means it succeeded (transport ok, 2xx, no error code).
// http_status is 0 when no response arrived; s3_code is the <Code> of the error body, if any.
//
// The first rule that applies wins:
//  1. A known S3 error code:
//       transient  SlowDown, ServiceUnavailable, InternalError, RequestTimeout,
//                  RequestTimeTooSkewed (re-sign with a fresh date and retry), OperationAborted
//                  (a conflicting bucket operation), TemporaryRedirect (new bucket, DNS not yet
//                  propagated), NoSuchUpload (the multipart upload was aborted under us: restart
//                  the image from scratch)
//       image      EntityTooLarge, EntityTooSmall, InvalidDigest, BadDigest,
//                  XAmzContentSHA256Mismatch (the file changed while we read it), KeyTooLongError,
//                  InvalidObjectName, MetadataTooLarge, InvalidPart, InvalidPartOrder
//       refused    AccessDenied, SignatureDoesNotMatch, NotImplemented (the endpoint lacks a
//                  feature one kind of request uses)
//       pass       InvalidAccessKeyId, AllAccessDisabled, AccountProblem, NoSuchBucket,
//                  InvalidBucketName, PermanentRedirect (wrong region/endpoint),
//                  AuthorizationHeaderMalformed, ExpiredToken, InvalidToken, MissingSecurityHeader
//     and the spellings of some S3-compatible servers: TooManyRequests, Throttling,
//     ThrottlingException, RequestTimeoutException (transient), ExpiredTokenException (pass).
//  2. A transport failure (util::Transport, as the HTTP client maps CURLcode onto it):
//       pass       dns, tls, connect (wrong or dead endpoint: every image would fail)
//       transient  timeout, dropped, aborted, other
//  3. The HTTP status:
//       none       2xx (with no code, or an unknown one: see below)
//       transient  0 (no response), 2xx with an unknown error code (S3 can answer 200 with an
//                  error body), 307, 408, 409, 429, 500, 502, 503, 504, other 5xx
//       refused    403, 405, 501
//       pass       301 and other 3xx, 401, 404 (a PUT can only miss the bucket)
//       image      400, 411, 412, 413, 414 and every other 4xx
// An unknown error code falls through to rules 2 and 3.
std::optional<FailureClass> classify(util::Transport transport, int http_status,
                                     std::string_view s3_code);

// The server asks us to slow down: HTTP 503 or 429, or the code SlowDown (or TooManyRequests,
// Throttling, ThrottlingException). Feeds AdaptiveLimiter. The transport outcome never counts: a
// timeout may mean congestion but also a dead network, and halving on it would hide the latter.
bool is_throttling(util::Transport transport, int http_status, std::string_view s3_code);

// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
//   random01 * min(cap, base * 2^attempt)
// attempt counts from 0 for the first retry; random01 is a uniform draw from [0, 1), clamped
// into [0, 1]. With base 0.5 s and cap 20 s the ceilings are 0.5, 1, 2, 4, 8, 16, 20, 20... s.
double backoff_delay(int attempt, double base_seconds, double cap_seconds, double random01);

// A Retry-After header (RFC 7231 section 7.1.3): delta-seconds ("120") or an HTTP-date, which
// becomes the seconds from now_epoch until it (0 if it is in the past). nullopt if malformed.
// Huge delta-seconds saturate rather than fail.
std::optional<double> parse_retry_after(std::string_view header_value, std::int64_t now_epoch);

// The pause before the next in-pass attempt: max(backoff_delay(...), retry_after), capped at
// max_delay_seconds so that a server's Retry-After cannot park a worker for an hour; when the
// server asks for more than the cap, the caller should rather end the image's attempt as a
// transient failure and let a later pass pick it up.
double retry_delay(int attempt, double base_seconds, double cap_seconds, double random01,
                   std::optional<double> retry_after_seconds, double max_delay_seconds);

} // namespace imgsync::core
