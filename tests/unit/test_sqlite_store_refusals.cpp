// The state file's remembered refusals (schema version 7): recorded, updated, listed, dropped,
// forgotten, and a version 4 file migrated.
#include "storage/sqlite_store.hpp"

#include "sqlite_schema_undo.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

using imgsync::storage::Refusal;
using Store = imgsync::storage::SqliteStore;

namespace {

struct TempDb {
    std::string path;
    TempDb() {
        char tmpl[] = "/tmp/imgsync-test-refusals-XXXXXX";
        int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = tmpl;
    }
    ~TempDb() {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::remove((path + suffix).c_str());
    }
};

Refusal refusal(const std::string& path, std::uint64_t size, const std::string& reason) {
    Refusal r;
    r.path = path;
    r.size = size;
    r.mtime_ns = 1700000000123456789;
    r.reason = reason;
    r.host_id = "h1";
    return r;
}

std::vector<std::string> paths(Store& store, std::int64_t limit = -1) {
    std::vector<std::string> out;
    store.for_each_refusal(limit, [&](const Refusal& r) { out.push_back(r.path); });
    return out;
}

} // namespace

TEST_CASE("refusals: remembered with size and mtime, updated in place, dropped, forgotten") {
    TempDb db;
    Store store(db.path, Store::Access::read_write);
    CHECK(store.count_refusals() == 0);
    CHECK_FALSE(store.find_refusal("/t/a.png"));
    store.remember_refusal(refusal("/t/b.png", 10, "not an image"), 100);
    store.remember_refusal(refusal("/t/a.png", 20, "zero-byte file"), 100);
    CHECK(store.count_refusals() == 2);
    auto a = store.find_refusal("/t/a.png");
    REQUIRE(a);
    CHECK(a->size == 20);
    CHECK(a->mtime_ns == 1700000000123456789);
    CHECK(a->reason == "zero-byte file");
    CHECK(a->first_seen == 100);
    CHECK(a->last_seen == 100);
    CHECK(a->host_id == "h1");
    // Seen again, changed: the new size and reason, the first sighting kept.
    store.remember_refusal(refusal("/t/a.png", 30, "truncated"), 200);
    a = store.find_refusal("/t/a.png");
    REQUIRE(a);
    CHECK(a->size == 30);
    CHECK(a->reason == "truncated");
    CHECK(a->first_seen == 100);
    CHECK(a->last_seen == 200);
    CHECK(store.count_refusals() == 2);
    CHECK(paths(store) == std::vector<std::string>{"/t/a.png", "/t/b.png"});
    CHECK(paths(store, 1) == std::vector<std::string>{"/t/a.png"});
    store.drop_refusal("/t/a.png");
    CHECK_FALSE(store.find_refusal("/t/a.png"));
    store.remember_refusal(refusal("/t/c.png", 1, "x"), 300);
    CHECK(store.forget_refusals() == 2);
    CHECK(store.count_refusals() == 0);
}

TEST_CASE("a version 6 state file gets the refusals table and the current version when opened") {
    TempDb db;
    {
        Store store(db.path, Store::Access::read_write);
        store.db().exec("DROP TABLE refusals");
        undo_sqlite_schema_v8(store.db());
        store.db().exec("PRAGMA user_version = 6");
    }
    Store store(db.path, Store::Access::read_write);
    auto v = store.db().prepare("PRAGMA user_version");
    REQUIRE(v.step());
    CHECK(v.int64(0) == Store::schema_version);
    v.reset();
    store.remember_refusal(refusal("/t/a.png", 1, "x"), 1);
    CHECK(store.count_refusals() == 1);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("import_refusal keeps both sightings and never overwrites a path already there") {
    TempDb db;
    Store store(db.path, Store::Access::read_write);
    Refusal r = refusal("/t/a.png", 5, "not an image");
    r.first_seen = 10;
    r.last_seen = 20;
    CHECK(store.import_refusal(r));
    r.reason = "other";
    CHECK_FALSE(store.import_refusal(r));
    auto a = store.find_refusal("/t/a.png");
    REQUIRE(a);
    CHECK(a->first_seen == 10);
    CHECK(a->last_seen == 20);
    CHECK(a->reason == "not an image");
}
