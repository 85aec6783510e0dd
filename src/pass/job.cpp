#include "pass/job.hpp"

#include "model/multipart.hpp"

#include "util/hash.hpp"
#include "util/timefmt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace imgsync::core::pass {

const char* step_name(Step s) {
    switch (s) {
    case Step::put:
        return "put";
    case Step::create:
        return "create_multipart";
    case Step::list_parts:
        return "list_parts";
    case Step::part:
        return "upload_part";
    case Step::complete:
        return "complete_multipart";
    case Step::verify:
        return "verify";
    case Step::tag:
        return "put_tagging";
    case Step::existing:
        return "head_existing";
    }
    return "?";
}

std::string expected_etag(const Job& job) {
    std::vector<std::string> md5s;
    md5s.reserve(job.parts.size());
    for (const auto& p : job.parts) {
        md5s.push_back(p.md5_hex);
    }
    return multipart_etag(md5s);
}

std::optional<std::string> describe_change(const storage::ImageRecord& image,
                                           const util::FileStat& now) {
    std::vector<std::string> what;
    if (now.size != image.size) {
        what.push_back(fmt::format("size {} -> {}", image.size, now.size));
    }
    if (now.mtime_ns != image.mtime_ns) {
        what.push_back(fmt::format("mtime {} -> {}", util::iso8601_utc_ns(image.mtime_ns),
                                   util::iso8601_utc_ns(now.mtime_ns)));
    }
    if (what.empty()) {
        return std::nullopt;
    }
    return fmt::format("{}", fmt::join(what, ", "));
}

bool hash_range(int fd, std::uint64_t offset, std::uint64_t length, std::string& md5_hex,
                std::string& sha256_hex) {
    std::vector<std::uint8_t> buf(1 << 20);
    util::Md5 md5;
    util::Sha256 sha;
    std::uint64_t done = 0;
    while (done < length) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
        long long n = util::read_at(fd, buf.data(), want, offset + done);
        if (n <= 0) {
            return false;
        }
        md5.update(buf.data(), static_cast<std::size_t>(n));
        sha.update(buf.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
    }
    md5_hex = util::to_hex(md5.finish());
    sha256_hex = util::to_hex(sha.finish());
    return true;
}

} // namespace imgsync::core::pass
