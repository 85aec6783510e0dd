// Reads each file once: SHA-256 and MD5 in the same pass (hashed once per life of an image), the
// same digests of each multipart part, and the first and last bytes that judge whether it is a
// complete image. Files are read in batches so that sixteen of them share one MD5 computation
// (util/md5_lanes).
#pragma once

#include "model/multipart.hpp"
#include "model/records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::core {

// S3 refuses objects above 5 TiB.
constexpr std::uint64_t max_object_size = 5ULL * 1024 * 1024 * 1024 * 1024;

// How add names an object (add --key-layout): the prefix and the path relative to the argument,
// the prefix and the content hash, or the prefix, the file's date and its name.
enum class KeyLayout { path, sha256, date };
// "path", "sha256", "date".
std::string_view to_string(KeyLayout layout);

struct Ingested {
    std::optional<storage::NewImage> image; // path, size, mtime, hashes, content type; no key
    std::string refusal;                    // why it is not an image we can upload
};

// Opens each path without following a symlink at the last component and inspects it; the answer
// for paths[i] is element i. A file the plan sends as a multipart upload also gets the MD5 and
// SHA-256 of each part, from the same read.
std::vector<Ingested> ingest_files(const std::vector<std::string>& paths, const PartPlan& plan);

} // namespace imgsync::core
