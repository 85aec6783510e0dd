#include "ingest/exclude.hpp"

#include <doctest/doctest.h>

using imgsync::core::ExcludeList;

TEST_CASE("ExcludeList: fnmatch without FNM_PATHNAME against the relative path") {
    auto list = ExcludeList::parse({"*.tmp", "*/cache", "raw/", "exact.jpg"});
    REQUIRE(list);
    CHECK(list->match("a.tmp", false) != nullptr);
    CHECK(*list->match("deep/down/b.tmp", false) == "*.tmp"); // '*' matches '/'
    CHECK(list->match(".hidden.tmp", false) != nullptr);      // and a leading '.'
    CHECK(list->match("a.jpg", false) == nullptr);
    CHECK(list->match("x/cache", true) != nullptr);
    CHECK(list->match("cache", true) == nullptr); // "*/" needs a parent
    CHECK(*list->match("raw", true) == "raw/");
    CHECK(list->match("raw", false) == nullptr); // a trailing '/' matches directories only
    CHECK(list->match("exact.jpg", false) != nullptr);
    CHECK(list->match("sub/exact.jpg", false) == nullptr); // the whole relative path
}

TEST_CASE("ExcludeList: brackets, and no pattern excludes nothing") {
    auto list = ExcludeList::parse({"img[0-9].png", "a[,]b"});
    REQUIRE(list);
    CHECK(list->match("img7.png", false) != nullptr);
    CHECK(list->match("imgx.png", false) == nullptr);
    CHECK(list->match("a,b", false) != nullptr);
    auto none = ExcludeList::parse({});
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(none->match("anything", false) == nullptr);
}

TEST_CASE("ExcludeList: an empty pattern is refused") {
    CHECK_FALSE(ExcludeList::parse({""}));
    CHECK(ExcludeList::parse({"/"}).error().find("'/'") != std::string::npos);
}
