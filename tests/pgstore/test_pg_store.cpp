// PgStore on a real PostgreSQL: claims that exclude one another, fencing tokens, renewals, expired
// leases taken over, the record of claims, the counters, messages that name the server and never
// a password.
#include "storage/pg_schema.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

using imgsync::Error;
using imgsync::ExitCode;
using imgsync::core::ImageState;
using imgsync::storage::Claimant;
using imgsync::storage::ClaimScope;
using imgsync::storage::Lease;
using imgsync::storage::NewImage;
using imgsync::storage::PgConnection;
using imgsync::storage::PgStore;

namespace {

std::string base_uri() {
    const char* uri = std::getenv("IMGSYNC_TEST_PG");
    return uri ? uri : "";
}

// The URI with another database name: postgresql://AUTHORITY/DB?PARAMS.
std::string with_database(const std::string& uri, const std::string& db) {
    auto authority = uri.find("://") + 3;
    auto path = uri.find('/', authority);
    auto query = uri.find('?', authority);
    std::string params = query == std::string::npos ? "" : uri.substr(query);
    std::string head = uri.substr(0, std::min(path, query));
    return head + "/" + db + params;
}

// A database of the test's own, dropped at the end.
struct TestDb {
    std::string name;
    std::string uri;
    TestDb() {
        static std::atomic<int> n{0};
        name = fmt::format("imgsync_unit_{}_{}", ::getpid(), n++);
        PgConnection admin(base_uri());
        admin.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name).c_str());
        admin.exec(fmt::format("CREATE DATABASE {}", name).c_str());
        uri = with_database(base_uri(), name);
    }
    ~TestDb() {
        try {
            PgConnection admin(base_uri());
            admin.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name).c_str());
        } catch (...) {
        }
    }
};

NewImage image(const std::string& name, const std::string& host = "host-a") {
    NewImage i;
    i.path = "/images/" + name;
    i.key = name;
    i.size = 100;
    i.mtime_ns = 1;
    i.sha256 = std::string(64, 'a');
    i.md5 = std::string(32, 'b');
    i.content_type = "image/png";
    i.host_id = host;
    return i;
}

Claimant who(std::int64_t run, const std::string& host = "host-a",
             ClaimScope scope = ClaimScope::local, double lease = 60) {
    return Claimant{run, host, scope, lease};
}

Lease lease_of(std::int64_t run, const imgsync::storage::ImageRecord& r) {
    return {run, r.id, r.lease_token};
}

// Lets every lease of the database run out now (the test's stand-in for waiting a lease).
void expire_leases(PgStore& s) {
    s.connection().exec("UPDATE images SET lease_expires_at = now() - interval '1 second' "
                        "WHERE state = 'uploading'");
    s.connection().exec("UPDATE claims SET expires_at = now() - interval '1 second' "
                        "WHERE released_at IS NULL");
}

// Pairs of claims of one image whose live intervals overlap, from the database's record.
std::int64_t overlapping_claims(PgStore& s) {
    return s.connection()
        .exec("SELECT count(*) FROM claims a JOIN claims b ON a.image_id = b.image_id "
              "AND a.token < b.token "
              "AND b.claimed_at < coalesce(a.released_at, a.expires_at) "
              "AND a.claimed_at < coalesce(b.released_at, b.expires_at)")
        .int64(0, 0);
}

} // namespace

TEST_CASE("the schema is created once and opening again changes nothing") {
    TestDb db;
    { PgStore first(db.uri); }
    PgStore store(db.uri);
    CHECK(store.connection().exec("SELECT version FROM imgsync_schema").int64(0, 0) ==
          imgsync::storage::pg_schema_version);
    CHECK(store.describe().find("PostgreSQL at ") == 0);
    CHECK(store.describe().find(db.name) != std::string::npos);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("a database with somebody else's images table is refused") {
    TestDb db;
    {
        PgConnection c(db.uri);
        c.exec("CREATE TABLE images (x int)");
    }
    try {
        PgStore store(db.uri);
        FAIL("opened");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::state_error);
        CHECK(std::string(e.what()).find("not an imgsync backlog") != std::string::npos);
    }
}

TEST_CASE("a wrong password: one line naming the server, never the password") {
    TestDb db;
    std::string uri = db.uri;
    auto at = uri.find('@');
    REQUIRE(at != std::string::npos);
    std::string bad = uri.substr(0, at) + ":not-the-password-xyz" + uri.substr(at);
    try {
        PgStore store(bad);
        FAIL("connected");
    } catch (const Error& e) {
        std::string m = e.what();
        CHECK(e.code() == ExitCode::state_error);
        CHECK(m.find("PostgreSQL at ") == 0);
        CHECK(m.find(db.name) != std::string::npos);
        CHECK(m.find("not-the-password-xyz") == std::string::npos);
        CHECK(m.find('\n') == std::string::npos);
    }
}

TEST_CASE("two passes claim disjoint images, oldest first, each with its own token") {
    TestDb db;
    PgStore a(db.uri), b(db.uri);
    for (int i = 0; i < 10; ++i) {
        a.insert_image(image(fmt::format("{}.png", i)), 1000 + i);
    }
    auto run_a = a.begin_run(2000, 1, "host-a", 60);
    auto run_b = b.begin_run(2000, 2, "host-a", 60);
    auto first = a.claim(who(run_a), 2000, 4);
    auto second = b.claim(who(run_b), 2000, 4);
    REQUIRE(first.size() == 4);
    REQUIRE(second.size() == 4);
    CHECK(first[0].key == "0.png");
    CHECK(first[3].key == "3.png");
    CHECK(second[0].key == "4.png");
    std::set<std::int64_t> ids, tokens;
    for (const auto& r : first) {
        ids.insert(r.id);
        tokens.insert(r.lease_token);
        CHECK(r.state == ImageState::uploading);
    }
    for (const auto& r : second) {
        ids.insert(r.id);
        tokens.insert(r.lease_token);
    }
    CHECK(ids.size() == 8);
    CHECK(tokens.size() == 8);
    CHECK(a.connection().exec("SELECT count(*) FROM claims").int64(0, 0) == 8);
    CHECK(a.counts().uploading == 8);
    CHECK(a.counts().pending == 2);
    // Not due yet: not claimed.
    a.connection().exec("UPDATE images SET next_attempt_at = 999999 WHERE state = 'pending'");
    CHECK(a.claim(who(run_a), 2000, 4).empty());
}

TEST_CASE("an expired lease is taken over; the stale pass's writes change nothing") {
    TestDb db;
    PgStore stale(db.uri), fresh(db.uri);
    stale.insert_image(image("a.png"), 1000);
    auto run1 = stale.begin_run(2000, 1, "host-a", 60);
    auto held = stale.claim(who(run1), 2000, 1);
    REQUIRE(held.size() == 1);
    // A live lease is nobody else's.
    auto run2 = fresh.begin_run(2001, 2, "host-b", 60);
    CHECK(fresh.claim(who(run2, "host-b", ClaimScope::any), 2001, 1).empty());

    expire_leases(stale);
    auto taken = fresh.claim(who(run2, "host-b", ClaimScope::any), 2001, 1);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].id == held[0].id);
    CHECK(taken[0].lease_token > held[0].lease_token);

    const Lease old_lease = lease_of(run1, held[0]);
    CHECK(stale.renew(who(run1), {old_lease}).empty());
    CHECK_FALSE(stale.mark_uploaded(old_lease, "\"stale\"", 2002));
    CHECK_FALSE(stale.mark_failed(old_lease, 3, "stale"));
    CHECK_FALSE(stale.mark_pending(old_lease, 3, 0, std::string("stale")));
    CHECK_FALSE(stale.set_multipart(old_lease, std::string("upload-stale"), 5 << 20));
    CHECK_FALSE(stale.add_part(old_lease, {1, "\"p\"", 5 << 20}));
    CHECK(stale.mark_uploaded({{old_lease, "\"stale\""}}, 2002).empty());
    auto now = fresh.image(held[0].id);
    CHECK(now->state == ImageState::uploading);
    CHECK_FALSE(now->upload_id);

    CHECK(fresh.mark_uploaded(lease_of(run2, taken[0]), "\"fresh\"", 2003));
    CHECK(fresh.image(held[0].id)->etag == "\"fresh\"");
    CHECK(fresh.counts().uploaded == 1);
    // The record of claims shows two, one after the other, never both live.
    CHECK(fresh.connection().exec("SELECT count(*) FROM claims").int64(0, 0) == 2);
    CHECK(overlapping_claims(fresh) == 0);
}

TEST_CASE("a multipart upload resumes from its recorded upload id whoever started it") {
    TestDb db;
    PgStore a(db.uri), b(db.uri);
    a.insert_image(image("big.png"), 1000);
    auto run1 = a.begin_run(2000, 1, "host-a", 60);
    auto held = a.claim(who(run1), 2000, 1);
    REQUIRE(held.size() == 1);
    CHECK(a.set_multipart(lease_of(run1, held[0]), std::string("upload-1"), 5 << 20));
    CHECK(a.add_part(lease_of(run1, held[0]), {1, "\"p1\"", 5 << 20}));
    expire_leases(a);
    auto run2 = b.begin_run(2001, 2, "host-b", 60);
    auto taken = b.claim(who(run2, "host-b", ClaimScope::any), 2001, 1);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].upload_id == "upload-1");
    CHECK(taken[0].part_size == 5 << 20);
    CHECK(b.add_part(lease_of(run2, taken[0]), {2, "\"p2\"", 5 << 20}));
    CHECK(b.connection().exec("SELECT count(*) FROM parts").int64(0, 0) == 2);
    CHECK(b.mark_uploaded(lease_of(run2, taken[0]), "\"whole\"", 2002));
    CHECK(b.connection().exec("SELECT count(*) FROM parts").int64(0, 0) == 0);
    CHECK_FALSE(b.image(taken[0].id)->upload_id);
}

TEST_CASE("--claim local takes only this host's images; any takes every image") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a1.png", "host-a"), 1000);
    store.insert_image(image("b1.png", "host-b"), 1001);
    store.insert_image(image("a2.png", "host-a"), 1002);
    auto run = store.begin_run(2000, 1, "host-a", 60);
    auto local = store.claim(who(run, "host-a"), 2000, 10);
    REQUIRE(local.size() == 2);
    CHECK(local[0].key == "a1.png");
    CHECK(local[1].key == "a2.png");
    CHECK(local[0].host_id == "host-a");
    auto any = store.claim(who(run, "host-c", ClaimScope::any), 2000, 10);
    REQUIRE(any.size() == 1);
    CHECK(any[0].key == "b1.png");
}

TEST_CASE("renewal extends the leases still held, from the database's clock") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a.png"), 1000);
    store.insert_image(image("b.png"), 1001);
    auto run = store.begin_run(2000, 1, "host-a", 60);
    auto held = store.claim(who(run, "host-a", ClaimScope::local, 2), 2000, 2);
    REQUIRE(held.size() == 2);
    auto renewed = store.renew(who(run, "host-a", ClaimScope::local, 600),
                               {lease_of(run, held[0]), lease_of(run, held[1])});
    std::sort(renewed.begin(), renewed.end());
    CHECK(renewed == std::vector<std::int64_t>{held[0].id, held[1].id});
    auto left = store.connection().exec(
        "SELECT min(extract(epoch FROM lease_expires_at - now())) FROM images");
    CHECK(std::stod(left.text(0, 0)) > 500);
    auto logged =
        store.connection().exec("SELECT min(extract(epoch FROM expires_at - now())) FROM claims");
    CHECK(std::stod(logged.text(0, 0)) > 500);
    // A wrong token renews nothing.
    CHECK(store.renew(who(run), {{run, held[0].id, held[0].lease_token + 1000}}).empty());
}

TEST_CASE("outcomes release the claim; pending again is claimable, failed is not") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a.png"), 1000);
    store.insert_image(image("b.png"), 1001);
    auto run = store.begin_run(2000, 1, "host-a", 60);
    auto held = store.claim(who(run), 2000, 2);
    REQUIRE(held.size() == 2);
    CHECK(store.mark_pending(lease_of(run, held[0]), 1, 0, std::string("503 SlowDown")));
    CHECK(store.mark_failed(lease_of(run, held[1]), 1, "403 AccessDenied"));
    CHECK(store.connection()
              .exec("SELECT count(*) FROM claims WHERE released_at IS NULL")
              .int64(0, 0) == 0);
    auto again = store.claim(who(run), 2000, 2);
    REQUIRE(again.size() == 1);
    CHECK(again[0].last_error == "503 SlowDown");
    CHECK(again[0].attempts == 1);
    CHECK(store.counts().failed == 1);
    CHECK(store.requeue_failed({held[1].id}, false) == 1);
    CHECK(store.counts().pending == 1);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("a pass of this host whose process is gone gives its images back at once") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a.png"), 1000);
    store.insert_image(image("b.png"), 1001);
    auto dead = store.begin_run(2000, 111, "host-a", 60);
    auto other = store.begin_run(2000, 222, "host-b", 60);
    REQUIRE(store.claim(who(dead), 2000, 1).size() == 1);
    REQUIRE(store.claim(who(other, "host-b", ClaimScope::any), 2000, 1).size() == 1);
    // Only host-a's runs are looked at, and only pid 111 is gone.
    int recovered = store.recover_orphans(2001, "host-a", [](std::int64_t pid) {
        CHECK(pid == 111);
        return false;
    });
    CHECK(recovered == 1);
    CHECK(store.counts().pending == 1);
    CHECK(store.counts().uploading == 1);
    auto runs = store.recent_runs(5);
    REQUIRE(runs.size() == 2);
    CHECK(runs[1].outcome == imgsync::core::RunOutcome::crashed);
    CHECK(runs[0].outcome == imgsync::core::RunOutcome::running);
    CHECK(overlapping_claims(store) == 0);
}

TEST_CASE("list streams every row in pages, and a read snapshot and a write transaction work") {
    TestDb db;
    PgStore store(db.uri);
    {
        imgsync::storage::WriteTransaction txn(store);
        for (int i = 0; i < 2100; ++i) {
            store.insert_image(image(fmt::format("{:05}.png", i)), 1000);
        }
        txn.commit();
    }
    {
        imgsync::storage::WriteTransaction rolled_back(store);
        store.insert_image(image("gone.png"), 1000);
    }
    CHECK_FALSE(store.find_by_path("/images/gone.png"));
    std::int64_t n = 0, last = 0;
    bool ordered = true;
    {
        imgsync::storage::ReadSnapshot snapshot(store);
        store.for_each_image(std::nullopt, -1, [&](const imgsync::storage::ImageRecord& r) {
            ordered = ordered && r.id > last;
            last = r.id;
            ++n;
        });
    }
    CHECK(n == 2100);
    CHECK(ordered);
    n = 0;
    store.for_each_image(ImageState::pending, 1500,
                         [&](const imgsync::storage::ImageRecord&) { ++n; });
    CHECK(n == 1500);
    CHECK(store.counts().pending == 2100);
    const auto w = store.window(1000 + 3600, 24 * 3600);
    CHECK(w.images_added == 2100);
    // status' chart: the hour's activity, summed over the deltas of every statement.
    REQUIRE(w.hours.size() == 1);
    CHECK(w.hours[0].hour == 0);
    CHECK(w.hours[0].added == 2100);
    CHECK(w.hours[0].uploaded == 0);
}

TEST_CASE("migrate's export and import: SQLite to PostgreSQL to SQLite, every state, twice") {
    TestDb db;
    char tmpl[] = "/tmp/imgsync-test-migrate-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    {
        imgsync::storage::SqliteStore src(dir + "/a.db",
                                          imgsync::storage::Store::Access::read_write);
        for (const char* name : {"pending.png", "up.png", "failed.png", "multi.png", "held.png"}) {
            NewImage i = image(name);
            if (std::string(name) == "multi.png") {
                i.size = 12 << 20;
                i.digest_part_size = 5 << 20;
                i.part_digests = {{1, std::string(32, '1'), std::string(64, '1')},
                                  {2, std::string(32, '2'), std::string(64, '2')}};
            }
            src.insert_image(i, 1000);
        }
        auto run = src.begin_run(2000, 7, "host-a", 60);
        auto held = src.claim(who(run), 2000, 5);
        REQUIRE(held.size() == 5);
        auto by_key = [&](const std::string& key) {
            for (const auto& r : held) {
                if (r.key == key) {
                    return lease_of(run, r);
                }
            }
            FAIL("no " << key);
            return Lease{};
        };
        CHECK(src.mark_pending(by_key("pending.png"), 2, 5000, std::string("503 SlowDown")));
        CHECK(src.mark_uploaded(by_key("up.png"), "\"etag-up\"", 2001));
        CHECK(src.mark_failed(by_key("failed.png"), 3, "403 AccessDenied"));
        CHECK(src.set_multipart(by_key("multi.png"), std::string("upload-7"), 5 << 20));
        CHECK(src.add_part(by_key("multi.png"), {1, "\"p1\"", 5 << 20}));
        CHECK(src.mark_pending(by_key("multi.png"), 1, 0, std::nullopt));
        imgsync::storage::RunRecord done;
        done.id = run;
        done.uploaded = 1;
        done.outcome = imgsync::core::RunOutcome::partial;
        done.seconds = 0.009;
        src.finish_run(done, 2002);
        // held.png stays "uploading": it arrives pending.
    }
    auto copy = [](imgsync::storage::Store& from, imgsync::storage::Store& to) {
        std::int64_t copied = 0;
        imgsync::storage::WriteTransaction txn(to);
        from.for_each_image(std::nullopt, -1, [&](const imgsync::storage::ImageRecord& r) {
            copied += to.import_image(from.export_image(r)) ? 1 : 0;
        });
        auto runs = from.recent_runs(100);
        for (const auto& r : runs) {
            to.import_run(r);
        }
        txn.commit();
        return copied;
    };
    imgsync::storage::SqliteStore a(dir + "/a.db", imgsync::storage::Store::Access::read_write);
    PgStore pg(db.uri);
    CHECK(copy(a, pg) == 5);
    CHECK(copy(a, pg) == 0); // idempotent
    imgsync::storage::SqliteStore back(dir + "/b.db", imgsync::storage::Store::Access::read_write);
    CHECK(copy(pg, back) == 5);
    CHECK(copy(pg, back) == 0);
    CHECK(back.recent_runs(10).size() == 1);
    CHECK(pg.recent_runs(10).size() == 1);
    CHECK(back.recent_runs(10)[0].pid == 7);
    CHECK(back.recent_runs(10)[0].host_id == "host-a");
    CHECK(pg.recent_runs(10)[0].seconds == doctest::Approx(0.009));
    CHECK(back.recent_runs(10)[0].seconds == doctest::Approx(0.009));

    for (imgsync::storage::Store* s : {static_cast<imgsync::storage::Store*>(&pg),
                                       static_cast<imgsync::storage::Store*>(&back)}) {
        auto c = s->counts();
        CHECK(c.pending == 3); // pending, multi, held (uploading in the source)
        CHECK(c.uploaded == 1);
        CHECK(c.failed == 1);
        CHECK(c.uploading == 0);
        std::map<std::string, imgsync::storage::ImageRecord> rows;
        s->for_each_image(std::nullopt, -1,
                          [&](const imgsync::storage::ImageRecord& r) { rows[r.key] = r; });
        CHECK(rows["pending.png"].attempts == 2);
        CHECK(rows["pending.png"].next_attempt_at == 5000);
        CHECK(rows["pending.png"].last_error == "503 SlowDown");
        CHECK(rows["up.png"].etag == "\"etag-up\"");
        CHECK(rows["up.png"].uploaded_at == 2001);
        CHECK(rows["failed.png"].last_error == "403 AccessDenied");
        CHECK(rows["failed.png"].attempts == 3);
        CHECK(rows["multi.png"].upload_id == "upload-7");
        CHECK(rows["multi.png"].host_id == "host-a");
        auto e = s->export_image(rows["multi.png"]);
        REQUIRE(e.parts.size() == 1);
        CHECK(e.parts[0].etag == "\"p1\"");
        CHECK(e.digest_part_size == 5 << 20);
        CHECK(e.digests.size() == 2);
        CHECK(s->integrity_check() == "ok");
    }
    for (const char* f : {"/a.db", "/a.db-wal", "/a.db-shm", "/b.db", "/b.db-wal", "/b.db-shm"}) {
        std::remove((dir + f).c_str());
    }
    ::rmdir(dir.c_str());
}

TEST_CASE("forget removes rows by id or by state, never a held one") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a.png"), 1000);
    store.insert_image(image("b.png"), 1001);
    store.insert_image(image("c.png"), 1002);
    auto run = store.begin_run(2000, 111, "host-a", 60);
    auto held = store.claim(who(run), 2000, 1);
    REQUIRE(held.size() == 1);
    CHECK(store.forget({held[0].id}, std::nullopt) == 0);
    CHECK(store.forget({}, imgsync::core::ImageState::uploading) == 0);
    CHECK(store.counts().uploading == 1);
    CHECK(store.forget({}, imgsync::core::ImageState::pending) == 2);
    CHECK(store.counts().pending == 0);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("the fleet's bucket: passes on two connections share one budget") {
    TestDb db;
    PgStore a(db.uri), b(db.uri);
    // A burst of 5 at 0.001/s: the two passes together get 5, whatever they ask.
    std::int64_t got = 0;
    for (int i = 0; i < 4; ++i) {
        got += a.take_fleet_tokens(0.001, 5, 2, 0);
        got += b.take_fleet_tokens(0.001, 5, 2, 0);
    }
    CHECK(got == 5);
    CHECK(a.take_fleet_tokens(0.001, 5, 2, 0) == 0);
    // It refills from the database's clock.
    a.connection().exec("UPDATE fleet_bucket SET updated_at = updated_at - interval '3000 s'");
    CHECK(b.take_fleet_tokens(0.001, 5, 10, 0) == 3);
}

TEST_CASE("the fleet view: running passes with their images in flight, expired leases") {
    TestDb db;
    PgStore store(db.uri);
    for (int i = 0; i < 3; ++i) {
        store.insert_image(image(fmt::format("{}.png", i)), 1000 + i);
    }
    auto old_run = store.begin_run(1900, 5, "host-a", 60);
    imgsync::storage::RunRecord done;
    done.id = old_run;
    done.outcome = imgsync::core::RunOutcome::ok;
    store.finish_run(done, 1950);
    auto run = store.begin_run(2000, 6, "host-b", 60);
    REQUIRE(store.claim(who(run, "host-b", ClaimScope::any), 2000, 2).size() == 2);
    auto f = store.fleet(10);
    REQUIRE(f.passes.size() == 2);
    CHECK(f.passes[0].run_id == run);
    CHECK(f.passes[0].host_id == "host-b");
    CHECK(f.passes[0].in_flight == 2);
    CHECK(f.passes[0].lease_expires_at.has_value());
    CHECK(f.passes[0].outcome == imgsync::core::RunOutcome::running);
    CHECK(f.passes[0].requests == 0);
    CHECK(f.passes[1].run_id == old_run);
    CHECK_FALSE(f.passes[1].lease_expires_at.has_value());
    CHECK(f.expired_leases == 0);
    // The backlog by host id: image() registers with host-a.
    REQUIRE(f.hosts.size() == 1);
    CHECK(f.hosts[0].host_id == "host-a");
    CHECK(f.hosts[0].pending == 1);
    CHECK(f.hosts[0].uploading == 2);
    store.set_run_requests(run, 3);
    CHECK(store.fleet(10).passes[0].requests == 3);
    expire_leases(store);
    CHECK(store.fleet(10).expired_leases == 2);
    done.id = run;
    done.seconds = 1.25;
    store.finish_run(done, 2001);
    CHECK(store.fleet(10).passes[0].requests == 0);
    CHECK(store.recent_runs(1)[0].seconds == doctest::Approx(1.25));
}

TEST_CASE("verify's side: uploaded rows in pages, a sample, requeue, the verifications") {
    TestDb db;
    PgStore store(db.uri);
    for (const char* name : {"a.png", "b.png", "c.png", "d.png", "e.png"})
        store.insert_image(image(name), 1000);
    auto run = store.begin_run(1000, 111, "host-a", 60);
    auto claimed = store.claim(who(run), 1000, 4);
    REQUIRE(claimed.size() == 4);
    for (std::size_t i = 0; i < claimed.size(); ++i)
        REQUIRE(store.mark_uploaded(lease_of(run, claimed[i]), "\"e\"",
                                    1000 + static_cast<std::int64_t>(i)));
    auto first = store.uploaded_page(0, std::nullopt, 3);
    REQUIRE(first.size() == 3);
    CHECK(first[0].id < first[1].id);
    CHECK(store.uploaded_page(first.back().id, std::nullopt, 3).size() == 1);
    CHECK(store.uploaded_page(0, 1002, 10).size() == 2);
    auto sample = store.sample_uploaded(2);
    CHECK(sample.size() == 2);
    CHECK(std::is_sorted(sample.begin(), sample.end()));

    CHECK(store.requeue_uploaded(first[0].id, "verify: object missing"));
    CHECK_FALSE(store.requeue_uploaded(first[0].id, "again"));
    auto back = *store.image(first[0].id);
    CHECK(back.state == ImageState::pending);
    CHECK(back.last_error == "verify: object missing");
    CHECK_FALSE(back.etag);
    CHECK(store.counts().pending == 2);
    // The requeued image is claimable again.
    auto again = store.claim(who(run), 3000, 10);
    CHECK(again.size() == 2);

    CHECK_FALSE(store.last_verification());
    imgsync::storage::VerificationRecord v;
    v.started_at = 2000;
    v.finished_at = 2010;
    v.host_id = "host-b";
    v.scope = "since 1d";
    v.outcome = imgsync::core::VerifyOutcome::interrupted;
    v.totals = {3, 2, 1, 0, 0, 1};
    v.message = "stopped by a signal";
    store.record_verification(v);
    auto last = store.last_verification();
    REQUIRE(last);
    CHECK(last->host_id == "host-b");
    CHECK(last->scope == "since 1d");
    CHECK(last->outcome == imgsync::core::VerifyOutcome::interrupted);
    CHECK(last->totals.checked == 3);
    CHECK(last->message == "stopped by a signal");
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("prune's side: prunable images in upload order, the record, the pruned totals") {
    TestDb db;
    PgStore store(db.uri);
    for (const char* name : {"a.png", "b.png", "c.png"}) {
        auto i = image(name);
        i.inode = 77;
        store.insert_image(i, 1000);
    }
    auto run = store.begin_run(1000, 111, "host-a", 60);
    auto claimed = store.claim(who(run), 1000, 3);
    REQUIRE(claimed.size() == 3);
    CHECK(claimed[0].inode == 77);
    REQUIRE(store.mark_uploaded(lease_of(run, claimed[0]), "\"e\"", 2002));
    REQUIRE(store.mark_uploaded(lease_of(run, claimed[1]), "\"e\"", 2001));

    imgsync::storage::Store::PruneCursor start;
    auto page = store.prunable_page(3000, start, std::nullopt, 10);
    REQUIRE(page.size() == 2);
    CHECK(page[0].id == claimed[1].id);
    CHECK(store.prunable_page(3000, start, std::string("host-a"), 10).size() == 2);
    CHECK(store.prunable_page(3000, start, std::string("host-b"), 10).empty());
    CHECK(store.prunable_page(3000, {2001, claimed[1].id}, std::nullopt, 10).size() == 1);

    CHECK_FALSE(store.mark_pruned(claimed[1].id, 99, 1, 3000, std::nullopt));
    CHECK(store.mark_pruned(claimed[1].id, 100, 1, 3000, std::string("/archive/x")));
    CHECK_FALSE(store.mark_pruned(claimed[1].id, 100, 1, 3001, std::nullopt));
    CHECK(store.image(claimed[1].id)->pruned_to == "/archive/x");
    CHECK(store.counts().pruned == 1);
    CHECK(store.counts().bytes_pruned == 100);
    CHECK(store.integrity_check() == "ok");
    CHECK(store.forget({claimed[1].id}, std::nullopt) == 1);
    CHECK(store.counts().pruned == 0);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("remembered refusals: recorded, updated in place, listed in path order, forgotten") {
    TestDb db;
    PgStore store(db.uri);
    imgsync::storage::Refusal r;
    r.path = "/t/b.png";
    r.size = 10;
    r.mtime_ns = 1700000000123456789;
    r.reason = "not an image";
    r.host_id = "host-a";
    CHECK(store.count_refusals() == 0);
    store.remember_refusal(r, 100);
    r.path = "/t/a.png";
    store.remember_refusal(r, 100);
    r.size = 30;
    r.reason = "truncated";
    store.remember_refusal(r, 200);
    auto a = store.find_refusal("/t/a.png");
    REQUIRE(a);
    CHECK(a->size == 30);
    CHECK(a->mtime_ns == 1700000000123456789);
    CHECK(a->reason == "truncated");
    CHECK(a->first_seen == 100);
    CHECK(a->last_seen == 200);
    CHECK(a->host_id == "host-a");
    std::vector<std::string> paths;
    store.for_each_refusal(-1,
                           [&](const imgsync::storage::Refusal& x) { paths.push_back(x.path); });
    CHECK(paths == std::vector<std::string>{"/t/a.png", "/t/b.png"});
    store.drop_refusal("/t/a.png");
    CHECK_FALSE(store.find_refusal("/t/a.png"));
    CHECK(store.count_refusals() == 1);
    CHECK(store.forget_refusals() == 1);
    CHECK(store.count_refusals() == 0);
}

TEST_CASE("a version 3 backlog gets the refusals table and the current version when opened") {
    TestDb db;
    {
        PgStore first(db.uri);
        first.connection().exec("DROP TABLE refusals");
        first.connection().exec("ALTER TABLE runs DROP COLUMN seconds, DROP COLUMN requests");
        first.connection().exec("DROP TABLE host_deltas; DROP FUNCTION imgsync_hosts_inserted, "
                                "imgsync_hosts_updated, imgsync_hosts_deleted CASCADE");
        first.connection().exec("UPDATE imgsync_schema SET version = 3");
    }
    PgStore store(db.uri);
    CHECK(store.connection().exec("SELECT version FROM imgsync_schema").int64(0, 0) ==
          imgsync::storage::pg_schema_version);
    CHECK(store.count_refusals() == 0);
}

TEST_CASE("a version 4 backlog gets the runs' seconds and requests and version 5 when opened") {
    TestDb db;
    {
        PgStore first(db.uri);
        first.connection().exec("ALTER TABLE runs DROP COLUMN seconds, DROP COLUMN requests");
        first.connection().exec("DROP TABLE host_deltas; DROP FUNCTION imgsync_hosts_inserted, "
                                "imgsync_hosts_updated, imgsync_hosts_deleted CASCADE");
        first.insert_image(image("old.png"), 5); // counted by the migration
        first.connection().exec("UPDATE imgsync_schema SET version = 4");
    }
    PgStore store(db.uri);
    CHECK(store.connection().exec("SELECT version FROM imgsync_schema").int64(0, 0) == 5);
    auto run = store.begin_run(100, 1, "h", 60);
    store.set_run_requests(run, 2);
    auto f = store.fleet(1);
    CHECK(f.passes[0].requests == 2);
    REQUIRE(f.hosts.size() == 1);
    CHECK(f.hosts[0].host_id == "host-a");
    CHECK(f.hosts[0].pending == 1);
}

TEST_CASE("a pass's start forgets the claims that ended more than 30 days ago, oldest first") {
    TestDb db;
    PgStore store(db.uri);
    auto& c = store.connection();
    // 12,000 claims released 31 days ago (more than one batch), one expired 40 days ago and
    // never released, and a recent one in between: only the old ones go.
    c.exec(
        "INSERT INTO claims (token, image_id, run_id, host_id, claimed_at, expires_at, "
        "released_at) SELECT t, t, 1, 'h', now() - interval '31 days', "
        "now() - interval '31 days', now() - interval '31 days' FROM generate_series(1, 12000) t");
    c.exec("INSERT INTO claims VALUES (12001, 1, 1, 'h', now() - interval '1 hour', "
           "now() - interval '1 hour', now() - interval '1 hour')");
    c.exec("INSERT INTO claims VALUES (12002, 2, 1, 'h', now() - interval '41 days', "
           "now() - interval '40 days', NULL)");
    c.exec("INSERT INTO claims VALUES (12003, 3, 1, 'h', now(), now() + interval '1 minute', "
           "NULL)");
    store.begin_run(100, 1, "h", 60);
    auto left = c.exec("SELECT token FROM claims ORDER BY token");
    REQUIRE(left.rows() == 2);
    CHECK(left.int64(0, 0) == 12001);
    CHECK(left.int64(1, 0) == 12003);
}

TEST_CASE("find_by_paths answers each path in order, a path given twice too") {
    TestDb db;
    PgStore store(db.uri);
    store.insert_image(image("a.png"), 1);
    store.insert_image(image("b.png"), 1);
    const auto known = store.find_by_paths(
        {"/images/b.png", "/images/none.png", "/images/a.png", "/images/b.png"});
    REQUIRE(known.size() == 4);
    CHECK(known[0]->id == store.find_by_path("/images/b.png")->id);
    CHECK_FALSE(known[1]);
    CHECK(known[2]->id == store.find_by_path("/images/a.png")->id);
    CHECK(known[3]->id == known[0]->id);
    CHECK(known[2]->state == ImageState::pending);
}
