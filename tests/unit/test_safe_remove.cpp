// Deleting and moving a file only if it is still the file checked, on real files.
#include "util/safe_remove.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

using namespace imgsync::util;
using test_support::slurp;
using test_support::TempDir;

namespace {

void write(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
}

FileStat look(const std::string& path) {
    auto st = lstat_path(path);
    REQUIRE(st);
    REQUIRE(*st);
    return **st;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

} // namespace

TEST_SUITE("safe_remove") {
    TEST_CASE("lstat_path: a file, nothing, and a symbolic link as itself") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto a = look(tmp / "a");
        CHECK(a.size == 3);
        CHECK(a.inode != 0);
        CHECK(S_ISREG(a.mode));
        auto none = lstat_path(tmp / "none");
        REQUIRE(none);
        CHECK_FALSE(*none);
        REQUIRE(::symlink("a", (tmp / "l").c_str()) == 0);
        CHECK(S_ISLNK(look(tmp / "l").mode));
    }

    TEST_CASE("the file checked is removed, and nothing is left beside it") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto r = remove_if_same(tmp / "a", look(tmp / "a"));
        REQUIRE(r);
        CHECK(*r == Removal::done);
        CHECK_FALSE(exists(tmp / "a"));
        CHECK(std::distance(std::filesystem::directory_iterator(tmp.path),
                            std::filesystem::directory_iterator()) == 0);
    }

    TEST_CASE("another file at the path is put back, untouched") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto before = look(tmp / "a");
        REQUIRE(::unlink((tmp / "a").c_str()) == 0);
        write(tmp / "a", "another file");
        auto r = remove_if_same(tmp / "a", before);
        REQUIRE(r);
        CHECK(*r == Removal::changed);
        CHECK(slurp(tmp / "a") == "another file");
        CHECK(std::distance(std::filesystem::directory_iterator(tmp.path),
                            std::filesystem::directory_iterator()) == 1);
    }

    TEST_CASE("a leftover of a removal cut short is finished; another file there is not") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto st = look(tmp / "a");
        const std::string hidden = tmp / (".imgsync-removing-" + std::to_string(st.inode));
        REQUIRE(::rename((tmp / "a").c_str(), hidden.c_str()) == 0); // as if killed here
        auto r = remove_leftover(tmp / "a", st);
        REQUIRE(r);
        CHECK(*r);
        CHECK_FALSE(exists(hidden));
        auto again = remove_leftover(tmp / "a", st);
        REQUIRE(again);
        CHECK_FALSE(*again);
    }

    TEST_CASE("move: into new directories, never over an existing file, checked") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto st = look(tmp / "a");
        auto r = move_if_same(tmp / "a", tmp / "archive/x/a", st);
        REQUIRE(r);
        CHECK(*r == Removal::done);
        CHECK(slurp(tmp / "archive/x/a") == "abc");
        CHECK(look(tmp / "archive/x/a").mtime_ns == st.mtime_ns);
        CHECK_FALSE(exists(tmp / "a"));

        write(tmp / "b", "new");
        write(tmp / "taken", "keep me");
        auto refused = move_if_same(tmp / "b", tmp / "taken", look(tmp / "b"));
        CHECK_FALSE(refused);
        CHECK(refused.error().find("File exists") != std::string::npos);
        CHECK(slurp(tmp / "taken") == "keep me");
        CHECK(slurp(tmp / "b") == "new");
    }

    TEST_CASE("move of a file that is not the one checked puts it back") {
        TempDir tmp;
        write(tmp / "a", "abc");
        auto before = look(tmp / "a");
        REQUIRE(::unlink((tmp / "a").c_str()) == 0);
        write(tmp / "a", "another");
        auto r = move_if_same(tmp / "a", tmp / "out/a", before);
        REQUIRE(r);
        CHECK(*r == Removal::changed);
        CHECK(slurp(tmp / "a") == "another");
        CHECK_FALSE(exists(tmp / "out/a"));
    }

    TEST_CASE("move across file systems: a synced copy linked into place, a stale copy replaced") {
        TempDir tmp;
        TempDir other("../dev/shm/imgsync-test"); // tmpfs: another file system than /tmp
        struct stat a {};
        struct stat b {};
        REQUIRE(::stat(tmp.path.c_str(), &a) == 0);
        REQUIRE(::stat(other.path.c_str(), &b) == 0);
        if (a.st_dev == b.st_dev) {
            MESSAGE("/dev/shm is on the file system of /tmp here: the copy path is not reached");
            return;
        }
        write(tmp / "a", "abc");
        auto st = look(tmp / "a");
        REQUIRE(::mkdir((other / "x").c_str(), 0755) == 0);
        write(other / ("x/.imgsync-moving-" + std::to_string(st.inode)), "a killed move's copy");
        auto r = move_if_same(tmp / "a", other / "x/a", st);
        REQUIRE(r);
        CHECK(*r == Removal::done);
        CHECK(slurp(other / "x/a") == "abc");
        CHECK(look(other / "x/a").mtime_ns == st.mtime_ns);
        CHECK_FALSE(exists(tmp / "a"));
        CHECK_FALSE(exists(other / ("x/.imgsync-moving-" + std::to_string(st.inode))));
        CHECK_FALSE(exists(tmp / (".imgsync-removing-" + std::to_string(st.inode))));
    }
}
