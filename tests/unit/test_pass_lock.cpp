// The pass lock writes its holder's line into <db>.lock, so it must only ever write its own
// regular file: links, dangling links, FIFOs and hard links are refused, their targets untouched.
#include "storage/pass_lock.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "temp_dir.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using imgsync::storage::PassLock;

namespace {

using test_support::slurp;

struct TempDir : test_support::TempDir {
    TempDir() : test_support::TempDir("imgsync-test-lock") {}
};

// The one-line message of the state_error that acquiring `lock` throws.
std::string refusal(const std::string& lock) {
    try {
        auto taken = PassLock::acquire(lock, false, 0, "2026-01-01T00:00:00Z");
        FAIL("the lock was taken: " << lock);
    } catch (const imgsync::Error& e) {
        CHECK(e.code() == imgsync::ExitCode::state_error);
        std::string what = e.what();
        CHECK(what.find('\n') == std::string::npos);
        CHECK(what.find(lock) != std::string::npos);
        return what;
    }
    return {};
}

} // namespace

TEST_CASE("the pass lock writes its holder's line into a lock file of its own") {
    TempDir dir;
    std::string lock = dir / "state.db.lock";
    auto taken = PassLock::acquire(lock, false, 0, "2026-01-01T00:00:00Z");
    REQUIRE(taken);
    CHECK(slurp(lock) == std::to_string(::getpid()) + " 2026-01-01T00:00:00Z\n");
    struct stat st {};
    REQUIRE(::lstat(lock.c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("a symbolic link at the lock path is refused and its target left as it was") {
    TempDir dir;
    std::string victim = dir / "precious", lock = dir / "state.db.lock";
    std::ofstream(victim) << "precious\n";
    REQUIRE(::symlink(victim.c_str(), lock.c_str()) == 0);
    CHECK(refusal(lock).find("is a symbolic link") != std::string::npos);
    CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("a dangling link at the lock path creates nothing") {
    TempDir dir;
    std::string target = dir / "created-by-imgsync", lock = dir / "state.db.lock";
    REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
    CHECK(refusal(lock).find("is a symbolic link") != std::string::npos);
    CHECK_FALSE(fs::exists(target));
}

TEST_CASE("a FIFO or a directory at the lock path is refused") {
    TempDir dir;
    std::string fifo = dir / "fifo.lock", sub = dir / "dir.lock";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
    CHECK(refusal(fifo).find("is a FIFO, not a regular file") != std::string::npos);
    CHECK(refusal(sub).find("is a directory, not a regular file") != std::string::npos);
}

TEST_CASE("a lock file with a second hard link is refused, the other name's content kept") {
    TempDir dir;
    std::string victim = dir / "precious", lock = dir / "state.db.lock";
    std::ofstream(victim) << "precious\n";
    REQUIRE(::link(victim.c_str(), lock.c_str()) == 0);
    CHECK(refusal(lock).find("hard links") != std::string::npos);
    CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("a held lock is refused with its holder's pid and start") {
    TempDir dir;
    std::string lock = dir / "state.db.lock";
    auto first = PassLock::acquire(lock, false, 0, "2026-01-01T00:00:00Z");
    REQUIRE(first);
    auto second = PassLock::acquire(lock, false, 0, "2026-01-02T00:00:00Z");
    REQUIRE_FALSE(second);
    CHECK(second.error() == "another pass holds the lock (pid " + std::to_string(::getpid()) +
                                ", started 2026-01-01T00:00:00Z); use --wait to wait for it");
    const auto h = PassLock::parse_holder("4242 2026-03-04T05:06:07Z\n");
    CHECK(h.pid == 4242);
    CHECK(h.started_at == "2026-03-04T05:06:07Z");
    CHECK(PassLock::parse_holder("").started_at.empty());
}
