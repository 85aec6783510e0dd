// The filesystem edge: atomic writes that follow nothing planted in the directory, and opening a
// file only if it is a regular file of its own.
#include "util/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

#include "temp_dir.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using imgsync::util::open_regular_file;
using imgsync::util::UniqueFd;
using imgsync::util::write_all;
using imgsync::util::write_file_atomic;

namespace {

using test_support::slurp;

struct TempDir : test_support::TempDir {
    TempDir() : test_support::TempDir("imgsync-test-fs") {}
};

void spit(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

// Sets the umask for one scope.
struct Umask {
    mode_t old;
    explicit Umask(mode_t mask) : old(::umask(mask)) {}
    ~Umask() { ::umask(old); }
};

std::size_t entries(const std::string& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

} // namespace

TEST_CASE("write_file_atomic writes the content with exactly the mode asked, whatever the umask") {
    TempDir dir;
    std::string path = dir / "imgsync.prom";
    Umask mask(077);
    REQUIRE(write_file_atomic(path, "a 1\n", 0644));
    CHECK(slurp(path) == "a 1\n");
    CHECK((mode_of(path) & 07777) == 0644);
    REQUIRE(write_file_atomic(path, "a 2\n", 0600));
    CHECK(slurp(path) == "a 2\n");
    CHECK((mode_of(path) & 07777) == 0600);
    CHECK(entries(dir.path) == 1); // no temporary file left behind
}

TEST_CASE("write_file_atomic follows no link planted at a predictable temporary name") {
    TempDir dir;
    std::string victim = dir / "state.db";
    spit(victim, "precious");
    std::string path = dir / "imgsync.prom";
    // Every name the old code could use (FILE.tmp.<pid>) and then some.
    std::vector<std::string> planted = {path + ".tmp", path + ".tmp.0",
                                        path + ".tmp." + std::to_string(::getpid())};
    for (int d = 1; d <= 16; ++d)
        planted.push_back(path + ".tmp." + std::to_string(::getpid() + d));
    for (const auto& link : planted)
        REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);
    REQUIRE(write_file_atomic(path, "metrics\n"));
    CHECK(slurp(victim) == "precious");
    CHECK(S_ISREG(mode_of(path)));
    CHECK(slurp(path) == "metrics\n");
    for (const auto& link : planted)
        CHECK(S_ISLNK(mode_of(link))); // left alone, not reused
    CHECK(entries(dir.path) == planted.size() + 2);
}

TEST_CASE("write_file_atomic replaces a symbolic link at the target, not the file behind it") {
    TempDir dir;
    std::string victim = dir / "elsewhere";
    spit(victim, "precious");
    std::string path = dir / "imgsync.prom";
    REQUIRE(::symlink(victim.c_str(), path.c_str()) == 0);
    REQUIRE(write_file_atomic(path, "metrics\n"));
    CHECK(S_ISREG(mode_of(path)));
    CHECK(slurp(path) == "metrics\n");
    CHECK(slurp(victim) == "precious");
}

TEST_CASE("write_file_atomic fails with one line naming the file and leaves nothing behind") {
    TempDir dir;
    std::string missing = dir / "no-such-dir/imgsync.prom";
    auto written = write_file_atomic(missing, "x\n");
    REQUIRE_FALSE(written);
    CHECK(written.error().find(missing) != std::string::npos);
    CHECK(written.error().find('\n') == std::string::npos);

    // The target is a directory: the rename fails, and the temporary file goes away.
    std::string target = dir / "a-directory";
    REQUIRE(::mkdir(target.c_str(), 0700) == 0);
    written = write_file_atomic(target, "x\n");
    REQUIRE_FALSE(written);
    CHECK(written.error().find(target) != std::string::npos);
    CHECK(entries(dir.path) == 1);
}

TEST_CASE("open_regular_file creates a missing file with the mode given") {
    TempDir dir;
    Umask mask(0);
    std::string path = dir / "x.lock";
    auto fd = open_regular_file(path, "lock file", "remove it", 0600);
    REQUIRE(fd);
    CHECK(*fd);
    CHECK((mode_of(path) & 07777) == 0600);
    auto again =
        open_regular_file(path, "lock file", "remove it", 0600); // and opens it when it exists
    REQUIRE(again);
    CHECK(*again);
}

TEST_CASE("open_regular_file refuses links, dangling links, FIFOs and directories") {
    TempDir dir;
    std::string victim = dir / "victim";
    spit(victim, "precious");
    struct Case {
        std::string name, kind;
    };
    std::string link = dir / "link", dangling = dir / "dangling", fifo = dir / "fifo",
                sub = dir / "sub";
    REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);
    REQUIRE(::symlink((dir / "not-there").c_str(), dangling.c_str()) == 0);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
    for (const Case& c : {Case{link, "a symbolic link"}, Case{dangling, "a symbolic link"},
                          Case{fifo, "a FIFO"}, Case{sub, "a directory"}}) {
        CAPTURE(c.name);
        auto fd = open_regular_file(c.name, "lock file", "remove it", 0600);
        REQUIRE_FALSE(fd);
        CHECK(fd.error().find("lock file " + c.name + " is " + c.kind) != std::string::npos);
        CHECK(fd.error().find("remove it") != std::string::npos);
    }
    CHECK(slurp(victim) == "precious");
    CHECK_FALSE(fs::exists(dir / "not-there"));
}

TEST_CASE("write_all writes everything, or says why not") {
    TempDir dir;
    const std::string path = dir / "out";
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd);
    const std::string big(3 << 20, 'b');
    CHECK(write_all(fd.get(), "") == 0);
    CHECK(write_all(fd.get(), big) == 0);
    CHECK(write_all(fd.get(), "end") == 0);
    CHECK(slurp(path) == big + "end");
    UniqueFd ro(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(ro);
    CHECK(write_all(ro.get(), "x") == EBADF);
#ifdef __linux__
    UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
    if (full)
        CHECK(write_all(full.get(), "x") == ENOSPC);
#endif
}
