// What reading a file gives add: each file is read once, for its SHA-256 (its identity), the MD5
// a single PUT sends (for a multipart file: the SHA-256 and MD5 of each part instead), and the
// bytes that judge whether it is a complete image. The reading itself is ingest/pipeline.
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
// date: YYYY/MM/DD/ from the mtime; exif_date: from the EXIF DateTimeOriginal, else the mtime.
enum class KeyLayout { path, sha256, date, exif_date };
// "path", "sha256", "date".
std::string_view to_string(KeyLayout layout);

struct Ingested {
    std::optional<storage::NewImage> image; // path, size, mtime, hashes, content type; no key
    std::string refusal;                    // why it is not an image we can upload
};

// Opens each path without following a symlink at the last component and inspects it; the answer
// for paths[i] is element i. A file the plan sends as a multipart upload gets the MD5 and SHA-256
// of each part, from the same read, and no whole-file MD5. One batch through an IngestPipeline
// of `jobs` hashing threads.
std::vector<Ingested> ingest_files(const std::vector<std::string>& paths, const PartPlan& plan,
                                   unsigned jobs = 1);

} // namespace imgsync::core
