// find_by_paths: add's batch look-up, one statement per 64 paths, against find_by_path.
#include "storage/sqlite_store.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

using imgsync::storage::NewImage;
using Store = imgsync::storage::SqliteStore;

TEST_CASE("find_by_paths answers each path as find_by_path does, in order, duplicates too") {
    char tmpl[] = "/tmp/imgsync-test-scan-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    const std::string db = tmpl;
    {
        Store store(db, Store::Access::read_write);
        std::vector<std::string> all;
        for (int i = 0; i < 150; ++i) {
            NewImage image;
            image.path = "/t/" + std::to_string(i) + ".png";
            image.key = std::to_string(i) + ".png";
            image.size = static_cast<std::uint64_t>(100 + i);
            image.mtime_ns = 1000 + i;
            image.sha256 = std::string(64, 'a');
            image.md5 = std::string(32, 'b');
            image.content_type = "image/png";
            if (i % 3 != 0) { // every third path is not registered
                store.insert_image(image, 1);
            }
            all.push_back(image.path);
        }
        all.push_back("/t/4.png"); // given twice, in another batch of 64 than the first
        all.push_back("/t/4.png"); // and twice in one batch
        std::vector<std::string_view> paths(all.begin(), all.end());
        const auto known = store.find_by_paths(paths);
        REQUIRE(known.size() == paths.size());
        for (std::size_t i = 0; i < paths.size(); ++i) {
            const auto one = store.find_by_path(all[i]);
            REQUIRE(known[i].has_value() == one.has_value());
            if (one) {
                CHECK(known[i]->id == one->id);
                CHECK(known[i]->size == one->size);
                CHECK(known[i]->mtime_ns == one->mtime_ns);
                CHECK(known[i]->state == one->state);
            }
        }
        CHECK(known[150]->size == 104);
        CHECK(known[151]->size == 104);
        CHECK(store.find_by_paths({}).empty());
    }
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::remove((db + suffix).c_str());
    }
}
