// model/key_template: add --key-template's fields, and every refusal.
#include "model/key_template.hpp"

#include <doctest/doctest.h>

#include <string>

using imgsync::model::CalendarTime;
using imgsync::model::KeyFields;
using imgsync::model::KeyTemplate;

namespace {

const std::string sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

std::string render(const std::string& tmpl, std::string_view relative = "trip/IMG_0001.JPG") {
    auto t = KeyTemplate::parse(tmpl);
    REQUIRE_MESSAGE(t, t.error());
    KeyFields f;
    f.prefix = "photos/";
    f.relative = relative;
    f.sha256 = sha;
    f.ext = "jpg";
    f.taken = CalendarTime{2019, 7, 4, 9, 5, 3};
    return t->render(f);
}

std::string refusal(const std::string& tmpl) {
    auto t = KeyTemplate::parse(tmpl);
    REQUIRE_FALSE(t);
    CHECK(t.error().find('\n') == std::string::npos);
    CHECK(t.error().find("--key-template") != std::string::npos);
    return t.error();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("key_template") {

    TEST_CASE("every field") {
        CHECK(render("{prefix}{path}") == "photos/trip/IMG_0001.JPG");
        CHECK(render("{dir}|{name}|{stem}|{ext}") == "trip|IMG_0001.JPG|IMG_0001|jpg");
        CHECK(render("{sha256}") == sha);
        CHECK(render("{sha256:2}/{sha256:8}") == "9f/9f86d081");
        CHECK(render("{year}-{month}-{day}T{hour}:{minute}:{second}") == "2019-07-04T09:05:03");
        CHECK(render("{prefix}{date}/{name}") == "photos/2019/07/04/IMG_0001.JPG");
        CHECK(render("{{literal}}-{stem}") == "{literal}-IMG_0001");
    }

    TEST_CASE("names at the top, without an extension, or starting with a dot") {
        CHECK(render("[{dir}]{stem}", "top.png") == "[]top");
        CHECK(render("{stem}.{ext}", "README") == "README.jpg");
        CHECK(render("{stem}", ".hidden") == ".hidden");
        CHECK(render("{stem}", "a/b/c.tar.gz") == "c.tar");
    }

    TEST_CASE("uses_date says whether the EXIF date is needed") {
        CHECK_FALSE(KeyTemplate::parse("{prefix}{sha256:2}/{sha256}.{ext}")->uses_date());
        CHECK(KeyTemplate::parse("{date}/{name}")->uses_date());
        CHECK(KeyTemplate::parse("{second}")->uses_date());
    }

    TEST_CASE("refusals name the problem") {
        CHECK(contains(refusal("{nope}"), "unknown field {nope}"));
        CHECK(contains(refusal("{name"), "without '}'"));
        CHECK(contains(refusal("a}b"), "without '{'"));
        CHECK(contains(refusal("{sha256:0}"), "1 to 64"));
        CHECK(contains(refusal("{sha256:65}"), "1 to 64"));
        CHECK(contains(refusal("{sha256:x}"), "takes a width"));
        CHECK(contains(refusal("{name:3}"), "takes a width"));
        CHECK(contains(refusal(""), "empty"));
        CHECK(contains(refusal("{bad\n}"), "\\n"));
    }

    TEST_CASE("utc_time of an mtime") {
        const auto t = imgsync::model::utc_time(1562231103000000000LL); // 2019-07-04T09:05:03Z
        CHECK(t.year == 2019);
        CHECK(t.month == 7);
        CHECK(t.day == 4);
        CHECK(t.hour == 9);
        CHECK(t.minute == 5);
        CHECK(t.second == 3);
        CHECK(imgsync::model::utc_time(-1).year == 1969);
    }
}
