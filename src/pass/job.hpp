// One image's part of a pass: the requests it takes (a PUT, or a multipart upload's create or
// ListParts, parts and completion), what is known of each part, and the helpers that describe
// its file. Plain data and small functions; the pass (pass/upload_pass.cpp) drives them.
#pragma once

#include "model/records.hpp"
#include "pass/retry.hpp"
#include "s3/checksum.hpp"
#include "s3/object_settings.hpp"
#include "s3/operations.hpp"
#include "util/fs.hpp"
#include "util/http_client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imgsync::core::pass {

constexpr std::uint64_t MiB = 1ULL << 20;
constexpr std::size_t no_part = static_cast<std::size_t>(-1);

// verify: a HEAD of the object, when CompleteMultipartUpload answered without an ETag (radosgw
// before Quincy does on the first answer), so that the ETag is still checked.
// tag: PutObjectTagging of a completed multipart object, when tags are set: some stores ignore
// them on CreateMultipartUpload.
// existing: with --if-none-match, a HEAD of the key: before a multipart upload starts, or after a
// conditional write was refused (412) because the key exists.
enum class Step { put, create, list_parts, part, complete, verify, tag, existing };

const char* step_name(Step s);

struct Part {
    std::int64_t number = 0;
    std::uint64_t offset = 0, length = 0;
    std::string md5_hex, sha256_hex; // recorded by add, or computed when the part is first sent
    std::string etag;
    std::string checksum; // --checksum-algorithm: the value sent with the part
    bool done = false, in_flight = false;
    int tries = 0;
    double ready_at = 0;
};

struct Job {
    storage::ImageRecord image;
    util::UniqueFd fd;
    int tries = 0;                      // failed tries of this image's own steps in this pass
    std::int64_t attempts_at_claim = 0; // what goes back to the state file if nothing is charged
    int restarts = 0;                   // multipart uploads started again in this pass
    FailureClass held_as = FailureClass::transient; // why the image is held (see PassHealth)
    double ready_at = 0;
    double started_at = 0;
    bool multipart = false;
    Step next = Step::put; // the next request that is not a part
    bool step_in_flight = false;
    std::string upload_id;
    std::uint64_t part_size = 0;
    std::vector<Part> parts;
    int parts_in_flight = 0;
    std::int64_t list_marker = 0;
    std::string last_error;
    std::string completed_etag; // the multipart object's, kept while its tags are set
    std::string checksum;       // --checksum-algorithm: the value sent with the single PUT

    bool parts_phase() const { return multipart && next == Step::part; }
    int in_flight() const { return parts_in_flight + (step_in_flight ? 1 : 0); }
};

struct Request {
    std::int64_t image_id;
    Step step;
    std::size_t part;
};

// The ETag S3 gives the completed multipart upload of the job's parts (their MD5s must be known).
std::string expected_etag(const Job& job);

// What changed in a file since add recorded it, both values of each field that differs; nullopt
// if neither size nor mtime did.
std::optional<std::string> describe_change(const storage::ImageRecord& image,
                                           const util::FileStat& now);

// The --checksum-algorithm value of one byte range of a file whose hex SHA-256 is known (crc32c
// reads the range); empty if it cannot be read.
std::string checksum_of_range(s3::ChecksumAlgorithm algorithm, int fd, std::uint64_t offset,
                              std::uint64_t length, const std::string& sha256_hex);

// What is wrong with the store's echo of a checksum sent (nullopt: confirmed, or not echoed).
std::optional<std::string> echo_problem(const s3::ObjectSettings& object, const std::string& sent,
                                        const std::string& echoed);

// Hashes one byte range of a file (MD5 for Content-MD5, SHA-256 for the signature).
bool hash_range(int fd, std::uint64_t offset, std::uint64_t length, std::string& md5_hex,
                std::string& sha256_hex);

} // namespace imgsync::core::pass
