#include "storage/pass_lock.hpp"

#include "util/clock.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace imgsync::storage {

PassLock::Holder PassLock::parse_holder(std::string_view line) {
    Holder holder;
    const std::string text(line);
    std::sscanf(text.c_str(), "%ld", &holder.pid);
    const auto space = text.find(' ');
    holder.started_at =
        space == std::string::npos ? "" : text.substr(space + 1, text.find('\n') - space - 1);
    return holder;
}

util::Result<PassLock> PassLock::acquire(const std::string& lock_path, bool wait,
                                         double wait_seconds, const std::string& started_at) {
    // The holder's line is written into this file, so it must be our own regular file: a link
    // planted at <db>.lock would otherwise have its target truncated (or, dangling, created).
    util::UniqueFd fd = util::open_regular_file(lock_path, "lock file", "remove it", 0600)
                            .or_throw(ExitCode::state_error);
    if (auto st = util::stat_fd(fd.get()); st && st->links > 1) {
        throw Error(ExitCode::state_error,
                    fmt::format("lock file {} has {} hard links, so it is shared with another "
                                "file; imgsync does not write to it (remove it)",
                                lock_path, st->links));
    }
    double deadline = util::monotonic_seconds() + wait_seconds;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            throw Error(ExitCode::state_error,
                        fmt::format("cannot lock {}: {}", lock_path, std::strerror(errno)));
        }
        bool waiting = wait && (wait_seconds <= 0 || util::monotonic_seconds() < deadline);
        if (!waiting) {
            char buf[256] = {};
            const long long n = util::read_at(fd.get(), buf, sizeof buf - 1, 0);
            const Holder holder =
                parse_holder(std::string_view(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
            return util::fail(fmt::format("another pass holds the lock (pid {}, started {}); use "
                                          "--wait to wait for it",
                                          holder.pid,
                                          holder.started_at.empty() ? "?" : holder.started_at));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::string info = fmt::format("{} {}\n", ::getpid(), started_at);
    if (::ftruncate(fd.get(), 0) == 0) {
        (void)::pwrite(fd.get(), info.data(), info.size(), 0);
    }
    return PassLock(std::move(fd));
}

} // namespace imgsync::storage
