// Which local files prune may delete or move, and where a moved one goes.
#include "model/prune.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace imgsync::core;

using imgsync::util::FileStat;

namespace {

constexpr std::int64_t now = 1800000000;

imgsync::storage::ImageRecord uploaded() {
    imgsync::storage::ImageRecord i;
    i.id = 7;
    i.path = "/srv/in/a.jpg";
    i.size = 1000;
    i.mtime_ns = 1700000000000000001;
    i.inode = 42;
    i.state = ImageState::uploaded;
    i.uploaded_at = now - 3600;
    return i;
}

FileStat same() {
    FileStat st;
    st.size = 1000;
    st.mtime_ns = 1700000000000000001;
    st.mode = S_IFREG | 0644;
    st.inode = 42;
    return st;
}

} // namespace

TEST_SUITE("prune") {
    TEST_CASE("the uploaded file, old enough: prune; younger than --keep-for: wait") {
        CHECK(judge_prune(uploaded(), same(), now, 0).step == PruneStep::prune);
        CHECK(judge_prune(uploaded(), same(), now, 3600).step == PruneStep::prune);
        CHECK(judge_prune(uploaded(), same(), now, 3601).step == PruneStep::wait);
    }

    TEST_CASE("no file at the path: gone") {
        CHECK(judge_prune(uploaded(), std::nullopt, now, 0).step == PruneStep::gone);
    }

    TEST_CASE("a file changed since the upload is refused, naming what changed") {
        auto bigger = same();
        bigger.size = 1001;
        auto d = judge_prune(uploaded(), bigger, now, 0);
        CHECK(d.step == PruneStep::refuse);
        CHECK(d.reason == "changed since it was uploaded (size 1000 -> 1001)");

        auto touched = same();
        touched.mtime_ns += 1;
        CHECK(judge_prune(uploaded(), touched, now, 0).reason.find("mtime ") != std::string::npos);

        auto replaced = same();
        replaced.inode = 43;
        CHECK(judge_prune(uploaded(), replaced, now, 0).reason ==
              "changed since it was uploaded (inode 42 -> 43)");
        // An older state file recorded no inode: size and mtime decide.
        auto old = uploaded();
        old.inode = 0;
        CHECK(judge_prune(old, replaced, now, 0).step == PruneStep::prune);
    }

    TEST_CASE("something other than a regular file is refused") {
        auto link = same();
        link.mode = S_IFLNK | 0777;
        auto d = judge_prune(uploaded(), link, now, 0);
        CHECK(d.step == PruneStep::refuse);
        CHECK(d.reason == "a symbolic link is there now");
    }

    TEST_CASE("only uploaded images not yet pruned") {
        auto pending = uploaded();
        pending.state = ImageState::pending;
        CHECK(judge_prune(pending, same(), now, 0).step == PruneStep::refuse);
        auto pruned = uploaded();
        pruned.pruned_at = now - 10;
        CHECK(judge_prune(pruned, same(), now, 0).step == PruneStep::refuse);
    }

    TEST_CASE("a moved file keeps its absolute path under --move-to") {
        CHECK(move_destination("/archive", "/srv/in/a.jpg") == "/archive/srv/in/a.jpg");
        CHECK(move_destination("/archive//", "/srv/in/a.jpg") == "/archive/srv/in/a.jpg");
        CHECK(move_destination("/", "/srv/a.jpg").empty());
        CHECK(move_destination("/archive", "relative/a.jpg").empty());
        CHECK(move_destination("/archive", "/srv/../etc/passwd").empty());
        CHECK(move_destination("/archive", "/srv/..a.jpg") == "/archive/srv/..a.jpg");
        CHECK(move_destination("", "/srv/a.jpg").empty());
        CHECK(to_string(AfterUpload::remove) == "delete");
    }
}
