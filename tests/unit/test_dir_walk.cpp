#include "temp_dir.hpp"
#include "util/dir_walk.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace imgsync;
namespace fs = std::filesystem;

namespace {

using Seen = std::vector<std::pair<std::string, std::string>>; // kind, relative path

std::string kind_name(util::EntryKind k) {
    switch (k) {
    case util::EntryKind::regular:
        return "file";
    case util::EntryKind::symlink:
        return "link";
    case util::EntryKind::other:
        return "other";
    }
    return "?";
}

// What std::filesystem::recursive_directory_iterator reports, the walk add made before.
Seen by_filesystem(const std::string& root) {
    Seen out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        auto st = it->symlink_status();
        if (fs::is_directory(st)) {
            continue;
        }
        std::string kind = fs::is_symlink(st) ? "link" : fs::is_regular_file(st) ? "file" : "other";
        out.emplace_back(kind, it->path().lexically_relative(root).string());
    }
    return out;
}

} // namespace

TEST_CASE(
    "walk_tree: the entries and the order of recursive_directory_iterator, links unfollowed") {
    test_support::TempDir dir("imgsync-walk");
    const std::string root = dir.path;
    for (const char* d : {"a", "a/b", "a/b/c", "empty", "z", "z/deep", "z/deep/er"}) {
        REQUIRE(fs::create_directory(root + "/" + d));
    }
    for (int i = 0; i < 300; ++i) {
        std::ofstream(root + "/" +
                      (i % 3 == 0   ? "a/b/"
                       : i % 3 == 1 ? "z/deep/er/"
                                    : "") +
                      "f" + std::to_string(i) + ".png")
            << i;
    }
    std::ofstream(root + "/a/b/c/with\nnewline") << "x";
    std::ofstream(root + "/a/b/c/\xff\xfe")
        << "x";                                 // not UTF-8: add refuses it, the walk reports it
    fs::create_symlink("a", root + "/dirlink"); // a link to a directory: not descended
    fs::create_symlink("/nonexistent", root + "/z/broken.png");
    fs::create_symlink(".", root + "/z/loop");
    REQUIRE(::mkfifo((root + "/z/fifo").c_str(), 0600) == 0);

    Seen seen;
    std::size_t wrong_prefix = 0;
    auto walked = util::walk_tree(root, [&](const util::WalkEntry& e) {
        if (e.path != root + "/" + std::string(e.relative)) {
            ++wrong_prefix;
        }
        seen.emplace_back(kind_name(e.kind), std::string(e.relative));
    });
    REQUIRE(walked);
    CHECK(wrong_prefix == 0);
    CHECK(seen.size() == 300 + 2 + 3 + 1);
    CHECK(seen == by_filesystem(root));

    // A trailing slash on the root changes no path.
    Seen again;
    REQUIRE(util::walk_tree(root + "/", [&](const util::WalkEntry& e) {
        CHECK(e.path == root + "/" + std::string(e.relative));
        again.emplace_back(kind_name(e.kind), std::string(e.relative));
    }));
    CHECK(again == seen);
}

TEST_CASE("walk_tree: a root that is no directory, or missing, is an error with its reason") {
    test_support::TempDir dir("imgsync-walk");
    std::ofstream(dir / "file") << "x";
    int calls = 0;
    auto count = [&](const util::WalkEntry&) { ++calls; };
    auto missing = util::walk_tree(dir / "missing", count);
    CHECK_FALSE(missing);
    CHECK(missing.error() == "No such file or directory");
    auto file = util::walk_tree(dir / "file", count);
    CHECK_FALSE(file);
    CHECK(file.error() == "Not a directory");
    CHECK(calls == 0);
    REQUIRE(util::walk_tree(dir.path, count));
    CHECK(calls == 1);
}

TEST_CASE("walk_tree: a directory the enter predicate refuses is pruned with all below it") {
    test_support::TempDir dir("imgsync-walk-prune");
    const std::string root = dir.path;
    for (const char* d : {"keep", "keep/cache", "cache", "cache/deep"}) {
        REQUIRE(fs::create_directory(root + "/" + d));
    }
    for (const char* f : {"keep/a", "keep/cache/b", "cache/c", "cache/deep/d", "top"}) {
        std::ofstream(root + "/" + f) << "x";
    }
    std::vector<std::string> asked, seen;
    auto walked = util::walk_tree(
        root, [&](const util::WalkEntry& e) { seen.emplace_back(e.relative); },
        [&](std::string_view relative) {
            asked.emplace_back(relative);
            return relative != "cache" && relative != "keep/cache";
        });
    REQUIRE(walked);
    std::sort(asked.begin(), asked.end());
    std::sort(seen.begin(), seen.end());
    CHECK(asked == std::vector<std::string>{"cache", "keep", "keep/cache"});
    CHECK(seen == std::vector<std::string>{"keep/a", "top"});
}

TEST_CASE("walk_tree: each entry's directory descriptor and name reach the file (fstatat)") {
    test_support::TempDir dir("imgsync-walk-fd");
    REQUIRE(fs::create_directory(dir.path + "/d"));
    std::ofstream(dir.path + "/d/f") << "12345";
    std::vector<long long> sizes;
    auto walked = util::walk_tree(dir.path, [&](const util::WalkEntry& e) {
        struct stat st {};
        REQUIRE(::fstatat(e.dir_fd, e.name, &st, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(std::string(e.name) == "f");
        sizes.push_back(static_cast<long long>(st.st_size));
    });
    REQUIRE(walked);
    CHECK(sizes == std::vector<long long>{5});
}
