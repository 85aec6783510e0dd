#include "temp_dir.hpp"
#include "util/walk_ahead.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace imgsync;
namespace fs = std::filesystem;
using Entry = util::WalkAhead::Entry;

namespace {

// A tree of `files` files in directories of 100, a link, and a directory "skip".
void make_tree(const std::string& root, int files) {
    for (int i = 0; i < files; ++i) {
        const std::string dir = root + "/d" + std::to_string(i / 100);
        fs::create_directories(dir);
        std::ofstream(dir + "/" + std::to_string(i))
            << std::string(static_cast<size_t>(i % 7), 'x');
    }
    fs::create_directories(root + "/skip/deep");
    std::ofstream(root + "/skip/deep/f") << "x";
    fs::create_symlink("d0", root + "/link");
}

} // namespace

TEST_CASE("WalkAhead: walk_tree's entries in its order, each file with its size and mtime") {
    test_support::TempDir dir("imgsync-walk-ahead");
    make_tree(dir.path, 1234); // more than a few chunks
    std::vector<std::string> expected;
    REQUIRE(util::walk_tree(dir.path,
                            [&](const util::WalkEntry& e) { expected.emplace_back(e.relative); }));
    std::vector<std::string> seen;
    std::size_t links = 0, sized = 0;
    util::WalkAhead walk(dir.path, {});
    std::vector<Entry> chunk;
    while (walk.next(chunk)) {
        CHECK(chunk.size() <= util::WalkAhead::chunk_entries);
        for (const auto& e : chunk) {
            seen.emplace_back(e.relative());
            if (e.kind == Entry::Kind::symlink) {
                ++links;
            }
            if (e.kind == Entry::Kind::regular) {
                REQUIRE(e.stat_ok);
                CHECK(e.size == fs::file_size(e.path));
                sized += e.size > 0 ? 1 : 0;
            }
        }
    }
    CHECK(walk.result());
    CHECK(seen == expected);
    CHECK(links == 1);
    CHECK(sized > 1000);
}

TEST_CASE("WalkAhead: a directory enter() refuses comes back as pruned, nothing below it") {
    test_support::TempDir dir("imgsync-walk-ahead-prune");
    make_tree(dir.path, 10);
    util::WalkAhead walk(dir.path, [](std::string_view relative) { return relative != "skip"; });
    std::vector<Entry> chunk;
    std::vector<std::string> pruned;
    bool below = false;
    while (walk.next(chunk)) {
        for (const auto& e : chunk) {
            if (e.kind == Entry::Kind::pruned) {
                pruned.emplace_back(e.relative());
                CHECK(e.path == dir.path + "/skip");
            }
            below = below || e.relative().rfind("skip/", 0) == 0;
        }
    }
    CHECK(pruned == std::vector<std::string>{"skip"});
    CHECK_FALSE(below);
}

TEST_CASE("WalkAhead: destroyed before the walk is over, it stops and joins") {
    test_support::TempDir dir("imgsync-walk-ahead-stop");
    make_tree(dir.path, 6000); // more than chunks_ahead chunks: the walker waits for room
    util::WalkAhead walk(dir.path, {});
    std::vector<Entry> chunk;
    REQUIRE(walk.next(chunk));
    CHECK_FALSE(chunk.empty());
    // ~WalkAhead at the end of the scope must not hang.
}

TEST_CASE("WalkAhead: a root that is not a directory ends with walk_tree's error") {
    test_support::TempDir dir("imgsync-walk-ahead-file");
    std::ofstream(dir.path + "/f") << "x";
    util::WalkAhead walk(dir.path + "/f", {});
    std::vector<Entry> chunk;
    CHECK_FALSE(walk.next(chunk));
    CHECK_FALSE(walk.result());
}
