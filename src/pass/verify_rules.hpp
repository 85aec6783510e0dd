// imgsync verify's decisions, pure: what a HEAD answer says about an uploaded image's object,
// and whether a local file is still the image. No I/O; pass/verify_pass does that.
#pragma once

#include "model/records.hpp"
#include "model/verification.hpp"
#include "pass/retry.hpp"
#include "util/http_client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::core {

struct ObjectVerdict {
    ObjectCheck check = ObjectCheck::ok;
    std::string reason; // for missing, changed and unverified: one line naming what differs
    // unverified only: how the request failed (pass/retry's classes): transient is worth asking
    // again; pass means nothing will answer (credentials, bucket, endpoint) and the
    // verification stops.
    std::optional<FailureClass> failure;
};

// Judges a HEAD answer against the image as the state file recorded it:
//  - 404 (HEAD has no error body): missing.
//  - 2xx: changed if Content-Length is not the image's size; else, if the object carries
//    x-amz-meta-sha256 (every object imgsync uploads does), changed unless it is the image's
//    SHA-256; else (an object uploaded before imgsync stored it) changed if the state file
//    recorded an ETag at upload and the object's is another. ok otherwise.
//  - anything else: unverified, with the class pass/retry's classify() gives (403 refused, 5xx
//    and timeouts transient, DNS or connect failures pass). A 403 says that S3 answers so for a
//    missing key when the credentials lack s3:ListBucket.
ObjectVerdict judge_object(const storage::ImageRecord& image, const util::HttpResponse& answer);

// Whether a local file still is the image the state file recorded: same size and mtime, and the
// same SHA-256 when one was computed (sha256 not empty). verify --requeue puts an image back to
// pending only then, so that the pass uploads exactly what was registered.
bool local_file_matches(const storage::ImageRecord& image, std::uint64_t size,
                        std::int64_t mtime_ns, std::string_view sha256);

} // namespace imgsync::core
