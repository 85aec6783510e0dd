#include "util/process.hpp"

#include "util/clock.hpp"
#include "util/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX

namespace imgsync::util {

namespace {

struct Pipe {
    UniqueFd read, write;
};

Result<Pipe> make_pipe() {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return fail(std::string("pipe: ") + std::strerror(errno));
    }
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

} // namespace

Result<ProcessOutput> run_process(const std::vector<std::string>& argv, int timeout_ms,
                                  std::size_t max_out) {
    if (argv.empty()) {
        return fail("no program to run");
    }
    auto out_pipe = make_pipe();
    auto err_pipe = make_pipe();
    if (!out_pipe || !err_pipe) {
        return fail(out_pipe ? err_pipe.error() : out_pipe.error());
    }
    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out_pipe->write.get(), 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err_pipe->write.get(), 2);
    posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&setup.attr, 0);

    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str())); // NOLINT: posix_spawn's signature
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
    if (rc != 0) {
        return fail(std::string("cannot run it: ") + std::strerror(rc));
    }
    out_pipe->write.reset();
    err_pipe->write.reset();

    ProcessOutput result;
    const double deadline = monotonic_seconds() + timeout_ms / 1000.0;
    bool out_open = true;
    bool err_open = true;
    char buffer[4096];
    while (out_open || err_open) {
        const double left = deadline - monotonic_seconds();
        if (left <= 0) {
            result.timed_out = true;
            break;
        }
        pollfd fds[2] = {{out_open ? out_pipe->read.get() : -1, POLLIN, 0},
                         {err_open ? err_pipe->read.get() : -1, POLLIN, 0}};
        const int n = ::poll(fds, 2, static_cast<int>(left * 1000) + 1);
        if (n < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got <= 0) {
                (i == 0 ? out_open : err_open) = false;
                continue;
            }
            const auto size = static_cast<std::size_t>(got);
            if (i == 1) {
                result.err_bytes += size;
            } else if (result.out.size() + size > max_out) {
                result.out.append(buffer, max_out - result.out.size());
                result.out_truncated = true;
            } else {
                result.out.append(buffer, size);
            }
        }
    }
    // Both pipes closed: it should be exiting, but wait no longer than the deadline for it.
    int status = 0;
    bool reaped = false;
    while (!result.timed_out && !reaped) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = true;
        } else if (w < 0 && errno != EINTR) {
            return fail(std::string("waitpid: ") + std::strerror(errno));
        } else if (monotonic_seconds() >= deadline) {
            result.timed_out = true;
        } else {
            ::usleep(2000);
        }
    }
    if (!reaped) {
        ::kill(-pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (WIFEXITED(status)) {
        result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    return result;
}

} // namespace imgsync::util
