#include "model/prune.hpp"

#include "util/timefmt.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <vector>

namespace imgsync::core {

std::string_view to_string(AfterUpload action) {
    switch (action) {
    case AfterUpload::keep:
        return "keep";
    case AfterUpload::remove:
        return "delete";
    case AfterUpload::move:
        return "move";
    }
    return "keep";
}

PruneDecision judge_prune(const storage::ImageRecord& image,
                          const std::optional<util::FileStat>& local, std::int64_t now,
                          double keep_for_seconds) {
    if (image.state != ImageState::uploaded || image.pruned_at) {
        return {PruneStep::refuse, "not an uploaded image with a local file"};
    }
    const auto uploaded_at = image.uploaded_at.value_or(now);
    if (static_cast<double>(now - uploaded_at) < keep_for_seconds) {
        return {PruneStep::wait, ""};
    }
    if (!local) {
        return {PruneStep::gone, ""};
    }
    if (!S_ISREG(local->mode)) {
        return {PruneStep::refuse, fmt::format("{} is there now", util::file_kind(local->mode))};
    }
    std::vector<std::string> what;
    if (local->size != image.size) {
        what.push_back(fmt::format("size {} -> {}", image.size, local->size));
    }
    if (local->mtime_ns != image.mtime_ns) {
        what.push_back(fmt::format("mtime {} -> {}", util::iso8601_utc_ns(image.mtime_ns),
                                   util::iso8601_utc_ns(local->mtime_ns)));
    }
    if (image.inode != 0 && local->inode != image.inode) {
        what.push_back(fmt::format("inode {} -> {}", image.inode, local->inode));
    }
    if (!what.empty()) {
        std::string reason = "changed since it was uploaded (";
        for (std::size_t i = 0; i < what.size(); ++i) {
            reason += (i ? ", " : "") + what[i];
        }
        return {PruneStep::refuse, reason + ")"};
    }
    return {PruneStep::prune, ""};
}

std::string move_destination(std::string_view move_to, std::string_view path) {
    if (path.empty() || path.front() != '/' || move_to.empty()) {
        return {};
    }
    for (std::size_t pos = 0; pos < path.size();) {
        auto next = path.find('/', pos + 1);
        auto part =
            path.substr(pos + 1, next == std::string_view::npos ? path.npos : next - pos - 1);
        if (part == "..") {
            return {};
        }
        pos = next == std::string_view::npos ? path.size() : next;
    }
    std::string dest(move_to);
    while (dest.size() > 1 && dest.back() == '/') {
        dest.pop_back();
    }
    if (dest == "/") {
        return {}; // the file itself
    }
    return dest + std::string(path);
}

} // namespace imgsync::core
