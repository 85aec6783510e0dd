// The state file's guards, on a real SQLite file: outcomes only for the pass that holds a row, and
// add never replacing the content of a row a pass is uploading.
#include "storage/sqlite_store.hpp"

#include "sqlite_schema_undo.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

using imgsync::storage::Lease;
using imgsync::storage::NewImage;
using Store = imgsync::storage::SqliteStore;
using imgsync::storage::Claimant;

namespace {

struct TempDb {
    std::string path;
    TempDb() {
        char tmpl[] = "/tmp/imgsync-test-store-XXXXXX";
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

NewImage image(const std::string& name) {
    NewImage i;
    i.path = "/images/" + name;
    i.key = name;
    i.size = 100;
    i.mtime_ns = 1;
    i.sha256 = std::string(64, 'a');
    i.md5 = std::string(32, 'b');
    i.content_type = "image/png";
    return i;
}

// 12 MiB in three 5 MiB parts, with their digests as add records them.
NewImage big_image() {
    NewImage big = image("big.png");
    big.size = 12 << 20;
    big.digest_part_size = 5 << 20;
    big.part_digests = {{1, std::string(32, '1'), std::string(64, '1')},
                        {2, std::string(32, '2'), std::string(64, '2')},
                        {3, std::string(32, '3'), std::string(64, '3')}};
    return big;
}

} // namespace

TEST_CASE("a stale pass cannot overwrite the outcome of the pass that holds the row") {
    TempDb tmp;
    Store stale(tmp.path, Store::Access::read_write);
    stale.insert_image(image("a.png"), 1000);
    stale.insert_image(image("b.png"), 1000);
    std::int64_t run1 = stale.begin_run(1000, 1, "host-a", 60);
    auto first = stale.claim(Claimant{run1, "host-a"}, 1000, 2);
    REQUIRE(first.size() == 2);

    // A second pass (its own connection) takes over: recovery, then its own claim.
    Store current(tmp.path, Store::Access::read_write);
    CHECK(current.recover_orphans(1001, "host-a", [](std::int64_t) { return false; }) == 2);
    std::int64_t run2 = current.begin_run(1001, 2, "host-a", 60);
    auto second = current.claim(Claimant{run2, "host-a"}, 1001, 2);
    REQUIRE(second.size() == 2);

    CHECK_FALSE(stale.mark_uploaded(Lease{run1, first[0].id, 0}, "\"etag\"", 1002));
    CHECK_FALSE(stale.mark_failed(Lease{run1, first[1].id, 0}, 5, "stale"));
    CHECK_FALSE(stale.mark_pending(Lease{run1, first[1].id, 0}, 3, 0, std::string("stale")));
    CHECK(current.image(first[0].id)->state == imgsync::core::ImageState::uploading);
    CHECK(current.image(first[1].id)->attempts == 0);

    CHECK(current.mark_uploaded(Lease{run2, second[0].id, 0}, "\"etag\"", 1003));
    CHECK(current.mark_failed(Lease{run2, second[1].id, 0}, 1, "broken"));
    CHECK(current.image(second[0].id)->state == imgsync::core::ImageState::uploaded);
    CHECK(current.image(second[1].id)->state == imgsync::core::ImageState::failed);
    // Done is done: a second outcome for the same row changes nothing either.
    CHECK_FALSE(current.mark_pending(Lease{run2, second[0].id, 0}, 1, 0, std::nullopt));
    CHECK(current.counts().uploaded == 1);
    CHECK(current.counts().failed == 1);
}

TEST_CASE("mark_uploaded of a batch records each ETag and only the rows the pass holds") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    for (const char* name : {"a.png", "b.png", "c.png", "d.png"})
        store.insert_image(image(name), 1000);
    std::int64_t run = store.begin_run(1000, 1, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1000, 3);
    REQUIRE(claimed.size() == 3);
    std::int64_t a = claimed[0].id, b = claimed[1].id, c = claimed[2].id;
    std::int64_t d = store.find_by_path("/images/d.png")->id; // pending, not claimed

    // An ETag is stored as the server sent it, whatever characters it holds.
    std::string odd = "\"q\\\"x\u00e9\"";
    auto held = store.mark_uploaded(
        {{{run, a, 0}, "\"e-a\""}, {{run, b, 0}, odd}, {{run, d, 0}, "\"e-d\""}}, 1002);
    std::sort(held.begin(), held.end());
    CHECK(held == std::vector<std::int64_t>{a, b});
    CHECK(store.image(a)->state == imgsync::core::ImageState::uploaded);
    CHECK(store.image(a)->etag == "\"e-a\"");
    CHECK(store.image(a)->uploaded_at == 1002);
    CHECK(store.image(b)->etag == odd);
    CHECK(store.image(c)->state == imgsync::core::ImageState::uploading);
    CHECK(store.image(d)->state == imgsync::core::ImageState::pending);
    CHECK_FALSE(store.image(d)->etag);
    CHECK(store.counts().uploaded == 2);
    CHECK(store.counts().uploading == 1);
    CHECK(store.counts().pending == 1);
    // Done is done: the same batch again changes nothing.
    CHECK(store.mark_uploaded({{{run, a, 0}, "\"other\""}}, 1003).empty());
    CHECK(store.image(a)->etag == "\"e-a\"");
    CHECK(store.mark_uploaded(std::vector<Store::Uploaded>{}, 1003).empty());
}

TEST_CASE("replace_content leaves a row alone while a pass uploads it") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    store.insert_image(image("a.png"), 1000);
    auto known = store.find_by_path("/images/a.png");
    REQUIRE(known);
    auto changed = image("a.png");
    changed.size = 200;
    std::int64_t run = store.begin_run(1000, 1, "host-a", 60);
    REQUIRE(store.claim(Claimant{run, "host-a"}, 1000, 1).size() == 1);
    CHECK_FALSE(store.replace_content(known->id, changed, 1001));
    CHECK(store.image(known->id)->size == 100);
    CHECK(store.mark_pending(Lease{run, known->id, 0}, 0, 0, std::nullopt));
    CHECK(store.replace_content(known->id, changed, 1002));
    CHECK(store.image(known->id)->size == 200);
    CHECK(store.counts().bytes_pending == 200);
}

TEST_CASE("integrity_check answers ok on one line") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("part digests: recorded with the image, read back for their part size only, replaced "
          "with new content and dropped once uploaded") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    NewImage big = big_image();
    store.insert_image(big, 1000);
    auto id = store.find_by_path("/images/big.png")->id;
    auto digests = store.part_digests(id, 5 << 20);
    REQUIRE(digests.size() == 3);
    CHECK(digests[1].part_number == 2);
    CHECK(digests[1].md5 == std::string(32, '2'));
    CHECK(digests[2].sha256 == std::string(64, '3'));
    CHECK(store.part_digests(id, 6 << 20).empty()); // another part size: hash at upload

    big.part_digests.resize(1);
    big.part_digests[0].md5 = std::string(32, 'f');
    CHECK(store.replace_content(id, big, 1001));
    digests = store.part_digests(id, 5 << 20);
    REQUIRE(digests.size() == 1);
    CHECK(digests[0].md5 == std::string(32, 'f'));

    std::int64_t run = store.begin_run(1002, 1, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1002, 1);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].has_part_digests); // so the pass asks mark_uploaded to forget them
    CHECK(store.mark_uploaded(Lease{run, id, 0}, "\"etag\"", 1003));
    CHECK(store.part_digests(id, 5 << 20).empty());
}

TEST_CASE("claim tells which images have part digests") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    NewImage small = image("small.png"), big = big_image();
    store.insert_image(small, 1000);
    store.insert_image(big, 1000);
    std::int64_t run = store.begin_run(1001, 1, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1001, 10);
    REQUIRE(claimed.size() == 2);
    for (const auto& r : claimed)
        CHECK(r.has_part_digests == (r.key == "big.png"));
}

// --- the state file's own permissions and type ---------------------------------------------------

namespace {

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The message of the imgsync::Error that f throws, with its exit status checked.
template <class F> std::string state_error_of(F f) {
    try {
        f();
    } catch (const imgsync::Error& e) {
        CHECK(e.code() == imgsync::ExitCode::state_error);
        return e.what();
    }
    FAIL("no imgsync::Error thrown");
    return {};
}

} // namespace

TEST_CASE("an empty state file open to others is made private, and the change reported") {
    TempDb tmp; // an empty file, as an admin may prepare one
    REQUIRE(::chmod(tmp.path.c_str(), 0644) == 0);
    Store store(tmp.path, Store::Access::read_write);
    CHECK(mode_of(tmp.path) == 0600);
    REQUIRE(store.mode_fixes().size() == 1);
    CHECK(store.mode_fixes()[0].path == tmp.path);
    CHECK(store.mode_fixes()[0].was == 0644);
    CHECK(store.mode_fixes()[0].now == 0600);
    store.insert_image(image("a.png"), 1000);
    CHECK(mode_of(tmp.path + "-wal") == 0600);
}

TEST_CASE("an existing state file loses the permissions of others, not its group's") {
    TempDb tmp;
    { Store store(tmp.path, Store::Access::read_write); }
    REQUIRE(::chmod(tmp.path.c_str(), 0664) == 0);
    Store store(tmp.path, Store::Access::read_write);
    CHECK(mode_of(tmp.path) == 0660);
    REQUIRE_FALSE(store.mode_fixes().empty());
    CHECK(store.mode_fixes()[0].path == tmp.path);
    CHECK(store.mode_fixes()[0].was == 0664);
    CHECK(store.mode_fixes()[0].now == 0660);
    // SQLite made -wal and -shm with the file's mode when it first read it: fixed as well.
    for (const char* suffix : {"-wal", "-shm"})
        CHECK(mode_of(tmp.path + suffix) == 0660);
}

TEST_CASE("a private state file is opened without a word") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    CHECK(store.mode_fixes().empty());
    CHECK(mode_of(tmp.path) == 0600);
}

TEST_CASE("a state file path that is a symbolic link is refused, its target untouched") {
    TempDb target; // empty 0644 file elsewhere: the old code adopted it
    REQUIRE(::chmod(target.path.c_str(), 0644) == 0);
    TempDb link;
    REQUIRE(std::remove(link.path.c_str()) == 0);
    REQUIRE(::symlink(target.path.c_str(), link.path.c_str()) == 0);
    std::string err = state_error_of([&] { Store store(link.path, Store::Access::read_write); });
    CHECK(err.find("state file " + link.path + " is a symbolic link") != std::string::npos);
    CHECK(mode_of(target.path) == 0644);
    struct stat st {};
    REQUIRE(::stat(target.path.c_str(), &st) == 0);
    CHECK(st.st_size == 0);
    // Read-only access refuses it too (SQLITE_OPEN_NOFOLLOW).
    state_error_of([&] { Store store(link.path, Store::Access::read_only); });
}

TEST_CASE("a -wal beside the state file that is a symbolic link is refused") {
    TempDb tmp;
    TempDb target;
    REQUIRE(::symlink(target.path.c_str(), (tmp.path + "-wal").c_str()) == 0);
    std::string err = state_error_of([&] { Store store(tmp.path, Store::Access::read_write); });
    CHECK(err.find(tmp.path + "-wal beside the state file is a symbolic link") !=
          std::string::npos);
}

TEST_CASE("last_success_at: the newest successful pass, however many failed since") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    CHECK_FALSE(store.last_success_at());
    auto finish = [&](std::int64_t at, imgsync::core::RunOutcome outcome) {
        imgsync::storage::RunRecord r;
        r.id = store.begin_run(at - 5, 1, "host-a", 60);
        r.outcome = outcome;
        store.finish_run(r, at);
    };
    finish(1000, imgsync::core::RunOutcome::ok);
    finish(2000, imgsync::core::RunOutcome::deadline);
    for (int i = 0; i < 30; ++i) // more than status reads as recent passes
        finish(3000 + i, imgsync::core::RunOutcome::failed);
    CHECK(store.last_success_at() == 2000);
    CHECK(store.recent_runs(20).back().outcome == imgsync::core::RunOutcome::failed);
}

// POSIX record locks belong to the process, and closing any descriptor of a file drops all of
// them: code that opened the state file (or its -shm) beside SQLite and closed it again would
// silently drop SQLite's locks, and another process could then reset the WAL index under a
// running pass (a SIGBUS, or worse). A second process must still see the lock every open
// connection holds on the -shm's "DMS" byte (offset 128) after the store has opened.
TEST_CASE("opening a store keeps SQLite's locks on the WAL index") {
    TempDb tmp;
    { Store first(tmp.path, Store::Access::read_write); } // an existing state file, in WAL mode
    Store store(tmp.path, Store::Access::read_write);
    store.insert_image(image("a.png"), 1000);
    REQUIRE(store.counts().pending == 1);
    std::string shm = tmp.path + "-shm";
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int fd = ::open(shm.c_str(), O_RDWR | O_CLOEXEC);
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        probe.l_start = 128;
        probe.l_len = 1;
        int rc = fd >= 0 ? ::fcntl(fd, F_GETLK, &probe) : -1;
        ::_exit(rc != 0 ? 2 : probe.l_type == F_UNLCK ? 1 : 0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, "the parent's lock on the -shm DMS byte is gone");
}

TEST_CASE("migrate's export and import between state files: every field, idempotent") {
    TempDb from_file, to_file;
    Store from(from_file.path, Store::Access::read_write);
    from.insert_image(big_image(), 1000);
    from.insert_image(image("small.png"), 1001);
    std::int64_t run = from.begin_run(1002, 9, "host-a", 60);
    auto claimed = from.claim(Claimant{run, "host-a"}, 1002, 2);
    REQUIRE(claimed.size() == 2);
    const auto& big = claimed[0].key == "big.png" ? claimed[0] : claimed[1];
    const auto& small = claimed[0].key == "big.png" ? claimed[1] : claimed[0];
    CHECK(from.set_multipart(Lease{run, big.id, 0}, std::string("upload-9"), 5 << 20));
    CHECK(from.add_part(Lease{run, big.id, 0}, {1, "\"p1\"", 5 << 20}));
    CHECK(from.mark_failed(Lease{run, small.id, 0}, 4, "broken"));
    imgsync::storage::RunRecord done;
    done.id = run;
    done.outcome = imgsync::core::RunOutcome::partial;
    done.seconds = 0.25;
    from.finish_run(done, 1003);

    Store to(to_file.path, Store::Access::read_write);
    auto copy = [&] {
        int n = 0;
        from.for_each_image(std::nullopt, -1, [&](const imgsync::storage::ImageRecord& r) {
            n += to.import_image(from.export_image(r)) ? 1 : 0;
        });
        for (const auto& r : from.recent_runs(10)) {
            to.import_run(r);
        }
        return n;
    };
    CHECK(copy() == 2);
    CHECK(copy() == 0);
    CHECK(to.recent_runs(10).size() == 1);
    CHECK(to.recent_runs(10)[0].seconds == doctest::Approx(0.25));
    auto moved = to.find_by_path(big_image().path);
    REQUIRE(moved);
    auto record = *to.image(moved->id);
    CHECK(record.state == imgsync::core::ImageState::pending); // uploading arrives pending
    CHECK(record.upload_id == "upload-9");
    auto e = to.export_image(record);
    REQUIRE(e.parts.size() == 1);
    CHECK(e.parts[0].etag == "\"p1\"");
    CHECK(e.digests.size() == 3);
    CHECK(e.digest_part_size == 5 << 20);
    auto failed = *to.image(to.find_by_path("/images/small.png")->id);
    CHECK(failed.state == imgsync::core::ImageState::failed);
    CHECK(failed.attempts == 4);
    CHECK(failed.last_error == "broken");
    CHECK(to.counts().failed == 1);
    CHECK(to.counts().pending == 1);
}

TEST_CASE("forget removes rows by id or by state, with their digests, never a held one") {
    TempDb db;
    Store store(db.path, Store::Access::read_write);
    store.insert_image(image("a.png"), 1000);
    store.insert_image(image("b.png"), 1000);
    store.insert_image(big_image(), 1000);
    auto run = store.begin_run(1000, 1, "host-a", 60);
    auto held = store.claim(Claimant{run, "host-a"}, 1000, 1);
    REQUIRE(held.size() == 1);
    // The held row stays, asked by id or by its state.
    CHECK(store.forget({held[0].id}, std::nullopt) == 0);
    CHECK(store.forget({}, imgsync::core::ImageState::uploading) == 0);
    CHECK(store.counts().uploading == 1);
    // The others go, digests included (the big image's part digests cascade).
    CHECK(store.forget({}, imgsync::core::ImageState::pending) == 2);
    CHECK(store.counts().pending == 0);
    CHECK(store.forget({12345}, std::nullopt) == 0);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("the fleet's bucket in the state file persists across passes") {
    TempDb tmp;
    {
        Store store(tmp.path, Store::Access::read_write);
        CHECK(store.take_fleet_tokens(1, 3, 2, 1000) == 2);
        CHECK(store.take_fleet_tokens(1, 3, 2, 1000) == 1);
        CHECK(store.take_fleet_tokens(1, 3, 2, 1000) == 0);
    }
    Store again(tmp.path, Store::Access::read_write);
    CHECK(again.take_fleet_tokens(1, 3, 5, 1000.5) == 0);
    CHECK(again.take_fleet_tokens(1, 3, 5, 1002) == 2);
    CHECK(again.take_fleet_tokens(1, 3, 5, 990) == 0); // a clock that went back refills nothing
}

TEST_CASE("verify's side: uploaded rows in pages, a sample, requeue, the verifications") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    for (const char* name : {"a.png", "b.png", "c.png", "d.png", "e.png"})
        store.insert_image(image(name), 1000);
    std::int64_t run = store.begin_run(1000, 1, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1000, 4);
    REQUIRE(claimed.size() == 4);
    for (std::size_t i = 0; i < claimed.size(); ++i)
        REQUIRE(store.mark_uploaded({run, claimed[i].id, 0}, "\"e\"",
                                    1000 + static_cast<std::int64_t>(i)));
    // Pages in id order from after_id; the pending one is never among them.
    auto first = store.uploaded_page(0, std::nullopt, 3);
    REQUIRE(first.size() == 3);
    CHECK(first[0].id < first[1].id);
    auto rest = store.uploaded_page(first.back().id, std::nullopt, 3);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].state == imgsync::core::ImageState::uploaded);
    CHECK(store.uploaded_page(0, 1002, 10).size() == 2);
    auto sample = store.sample_uploaded(2);
    CHECK(sample.size() == 2);
    CHECK(std::is_sorted(sample.begin(), sample.end()));
    CHECK(store.sample_uploaded(10).size() == 4);

    // Requeue: uploaded only, back to pending with the reason and nothing of the old object.
    CHECK(store.requeue_uploaded(first[0].id, "verify: object missing"));
    auto back = *store.image(first[0].id);
    CHECK(back.state == imgsync::core::ImageState::pending);
    CHECK(back.last_error == "verify: object missing");
    CHECK_FALSE(back.etag);
    CHECK_FALSE(back.uploaded_at);
    CHECK_FALSE(store.requeue_uploaded(first[0].id, "again"));
    CHECK(store.counts().uploaded == 3);
    CHECK(store.counts().pending == 2);

    CHECK_FALSE(store.last_verification());
    imgsync::storage::VerificationRecord v;
    v.started_at = 2000;
    v.finished_at = 2010;
    v.host_id = "host-a";
    v.scope = "sample 2";
    v.outcome = imgsync::core::VerifyOutcome::problems;
    v.totals = {2, 1, 1, 0, 0, 1};
    store.record_verification(v);
    v.finished_at = 2020;
    v.scope = "all";
    v.outcome = imgsync::core::VerifyOutcome::ok;
    store.record_verification(v);
    auto last = store.last_verification();
    REQUIRE(last);
    CHECK(last->scope == "all");
    CHECK(last->finished_at == 2020);
    CHECK(last->outcome == imgsync::core::VerifyOutcome::ok);
    CHECK(last->totals.missing == 1);
    CHECK(last->totals.requeued == 1);
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("prune's side: prunable images in upload order, the record, the pruned totals") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    for (const char* name : {"a.png", "b.png", "c.png"}) {
        auto i = image(name);
        i.inode = 77;
        store.insert_image(i, 1000);
    }
    std::int64_t run = store.begin_run(1000, 1, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1000, 3);
    REQUIRE(claimed.size() == 3);
    REQUIRE(store.mark_uploaded({run, claimed[0].id, 0}, "\"e\"", 2002));
    REQUIRE(store.mark_uploaded({run, claimed[1].id, 0}, "\"e\"", 2001));
    CHECK(store.image(claimed[0].id)->inode == 77);

    Store::PruneCursor start;
    auto page = store.prunable_page(3000, start, std::nullopt, 10);
    REQUIRE(page.size() == 2);
    CHECK(page[0].id == claimed[1].id); // uploaded first
    CHECK(store.prunable_page(2001, start, std::nullopt, 10).size() == 1);
    CHECK(store.prunable_page(3000, {2001, claimed[1].id}, std::nullopt, 10).size() == 1);
    CHECK(store.prunable_page(3000, start, std::string("host-b"), 10).empty());

    // Recorded only for the size and mtime it had; then no longer prunable, and counted.
    CHECK_FALSE(store.mark_pruned(claimed[1].id, 99, 1, 3000, std::nullopt));
    CHECK(store.mark_pruned(claimed[1].id, 100, 1, 3000, std::string("/archive/x")));
    CHECK_FALSE(store.mark_pruned(claimed[1].id, 100, 1, 3001, std::nullopt));
    CHECK(store.image(claimed[1].id)->pruned_to == "/archive/x");
    CHECK(store.prunable_page(3000, start, std::nullopt, 10).size() == 1);
    CHECK(store.counts().pruned == 1);
    CHECK(store.counts().bytes_pruned == 100);
    // The file at the path is registered anew (new content): no longer pruned.
    auto fresh = image("b.png");
    fresh.size = 150;
    REQUIRE(store.replace_content(claimed[1].id, fresh, 4000));
    CHECK_FALSE(store.image(claimed[1].id)->pruned_at);
    CHECK(store.counts().pruned == 0);
    CHECK(store.counts().bytes_pruned == 0);
    // Forgetting a pruned image takes it out of the count.
    REQUIRE(store.mark_pruned(claimed[0].id, 100, 1, 3000, std::nullopt));
    CHECK(store.counts().pruned == 1);
    CHECK(store.forget({claimed[0].id}, std::nullopt) == 1);
    CHECK(store.counts().pruned == 0);
}

TEST_CASE("a pass's seconds and requests in flight, and the backlog by host id") {
    TempDb tmp;
    Store store(tmp.path, Store::Access::read_write);
    for (const char* name : {"a1.png", "a2.png", "b1.png"}) {
        NewImage im = image(name);
        im.host_id = name[0] == 'a' ? "host-a" : "host-b";
        store.insert_image(im, 1000);
    }
    std::int64_t run = store.begin_run(1001, 9, "host-a", 60);
    auto claimed = store.claim(Claimant{run, "host-a"}, 1001, 1);
    REQUIRE(claimed.size() == 1);
    store.set_run_requests(run, 4);
    auto f = store.fleet(5);
    REQUIRE(f.passes.size() == 1);
    CHECK(f.passes[0].in_flight == 1);
    CHECK(f.passes[0].requests == 4);
    REQUIRE(f.hosts.size() == 2);
    CHECK(f.hosts[0].host_id == "host-a");
    CHECK(f.hosts[0].pending == 1);
    CHECK(f.hosts[0].uploading == 1);
    CHECK(f.hosts[0].bytes_uploading == image("a1.png").size);
    CHECK(f.hosts[1].host_id == "host-b");
    CHECK(f.hosts[1].pending == 1);
    CHECK(f.hosts[1].failed == 0);
    // Kept by triggers: uploaded images leave the backlog, and a host id with none left goes.
    CHECK(store.mark_uploaded(Lease{run, claimed[0].id, 0}, "\"e\"", 1001));
    auto b1 = store.find_by_path("/images/b1.png");
    REQUIRE(b1);
    CHECK(store.forget({b1->id}, std::nullopt) == 1);
    f = store.fleet(5);
    REQUIRE(f.hosts.size() == 1);
    CHECK(f.hosts[0].host_id == "host-a");
    CHECK(f.hosts[0].pending == 1);
    CHECK(f.hosts[0].uploading == 0);

    imgsync::storage::RunRecord done;
    done.id = run;
    done.outcome = imgsync::core::RunOutcome::ok;
    done.seconds = 0.009;
    store.finish_run(done, 1001);
    CHECK(store.fleet(5).passes[0].requests == 0);
    CHECK(store.recent_runs(1)[0].seconds == doctest::Approx(0.009));
}

TEST_CASE("a version 7 state file gets the runs' seconds and requests when opened") {
    TempDb tmp;
    {
        Store store(tmp.path, Store::Access::read_write);
        undo_sqlite_schema_v8(store.db());
        store.db().exec("INSERT INTO runs (started_at, finished_at, pid) VALUES (10, 12, 1)");
        NewImage im = image("old.png");
        im.host_id = "host-a";
        store.insert_image(im, 5); // registered before version 8: counted by the migration
        store.db().exec("PRAGMA user_version = 7");
    }
    Store store(tmp.path, Store::Access::read_write);
    auto v = store.db().prepare("PRAGMA user_version");
    REQUIRE(v.step());
    CHECK(v.int64(0) == 8);
    v.reset();
    auto runs = store.recent_runs(1);
    REQUIRE(runs.size() == 1);
    CHECK_FALSE(runs[0].seconds); // unknown: status falls back to the whole seconds
    auto hosts = store.fleet(1).hosts;
    REQUIRE(hosts.size() == 1);
    CHECK(hosts[0].host_id == "host-a");
    CHECK(hosts[0].pending == 1);
    CHECK(hosts[0].bytes_pending == 100);
    CHECK(store.integrity_check() == "ok");
}
