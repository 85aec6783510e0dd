// The one INI reader, in both dialects: imgsync's config file and the AWS shared files.
#include "util/ini.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace imgsync::util;
using Kind = IniEntry::Kind;

namespace {

// "kind line name=value" per entry, for compact expectations.
std::vector<std::string> dump(std::string_view text, const IniSyntax& syntax) {
    std::vector<std::string> out;
    for (const auto& e : parse_ini(text, syntax)) {
        const char* kind = e.kind == Kind::section       ? "section"
                           : e.kind == Kind::bad_section ? "bad_section"
                           : e.kind == Kind::option      ? "option"
                                                         : "bad_line";
        out.push_back(std::string(kind) + " " + std::to_string(e.line) + " " + e.name + "=" +
                      e.value);
    }
    return out;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_SUITE("ini") {

    TEST_CASE("imgsync's syntax: options, sections, comments and bad lines, with line numbers") {
        const auto got = dump("# comment\n"
                              "  ; another\n"
                              "\n"
                              "Bucket = photos \r\n"
                              "[upload]\n"
                              "  max-images=5\n"
                              "endpoint = http://host:9000/a=b\n"
                              "no delimiter here\n"
                              "= empty key\n"
                              "[broken\n"
                              "key: value\n"
                              "tag = a # not a comment\n"
                              "last = 1",
                              imgsync_ini_syntax);
        CHECK(got == Lines{"option 4 Bucket=photos", "section 5 upload=", "option 6 max-images=5",
                           "option 7 endpoint=http://host:9000/a=b",
                           "bad_line 8 =", "option 9 =empty key", "bad_section 10 =",
                           "bad_line 11 =", "option 12 tag=a # not a comment", "option 13 last=1"});
    }

    TEST_CASE("imgsync's syntax: indentation means nothing, VT and FF are not trimmed") {
        CHECK(dump("[s]\na =\n  b = 1\n  more\n", imgsync_ini_syntax) ==
              Lines{"section 1 s=", "option 2 a=", "option 3 b=1", "bad_line 4 ="});
        CHECK(dump("k = v\f\n", imgsync_ini_syntax) == Lines{"option 1 k=v\f"});
        CHECK(parse_ini("", imgsync_ini_syntax).empty());
        CHECK(parse_ini("\n\n# x\n", imgsync_ini_syntax).empty());
    }

    TEST_CASE("AWS syntax: ':' splits too, whichever delimiter comes first") {
        CHECK(dump("[default]\nregion: eu-west-1\nurl = http://h:1\nx: a=b\n", aws_ini_syntax) ==
              Lines{"section 1 default=", "option 2 region=eu-west-1", "option 3 url=http://h:1",
                    "option 4 x=a=b"});
        CHECK(dump("[ profile  work ] trailing\nk = v\v\n", aws_ini_syntax) ==
              Lines{"section 1 profile  work=", "option 2 k=v"});
    }

    TEST_CASE("AWS syntax: continuation lines and nested blocks") {
        const auto got = dump("[profile p]\n"
                              "s3 =\n"
                              "  addressing_style = path\n"
                              "  # a comment does not end the block\n"
                              "  not an option\n"
                              "\tmax_concurrent_requests: 4\n"
                              "note = first\n"
                              "  second\n"
                              "  third = 3\n"
                              "\n"
                              "  after a blank line = 1\n",
                              aws_ini_syntax);
        CHECK(got ==
              Lines{"section 1 profile p=", "option 2 s3=", "option 3 s3.addressing_style=path",
                    "option 6 s3.max_concurrent_requests=4",
                    "option 7 note=first\nsecond\nthird = 3", "option 11 after a blank line=1"});
    }

    TEST_CASE("AWS syntax: no continuation outside a well-formed section or after a bad line") {
        // Before any section, and after a broken header, an indented line stands on its own.
        CHECK(dump("a = 1\n  b = 2\n[x\nc =\n  [d]\n", aws_ini_syntax) ==
              Lines{"option 1 a=1", "option 2 b=2",
                    "bad_section 3 =", "option 4 c=", "section 5 d="});
        // A line that is no option, or an option without a key, ends the block.
        CHECK(dump("[s]\na = 1\nnothing\n  b\n= 2\n  c\n", aws_ini_syntax) ==
              Lines{"section 1 s=", "option 2 a=1", "bad_line 3 =", "bad_line 4 =", "option 5 =2",
                    "bad_line 6 ="});
        // An indented header inside a block continues the value, as configparser reads it.
        CHECK(dump("[s]\na = 1\n  [t]\n", aws_ini_syntax) ==
              Lines{"section 1 s=", "option 2 a=1\n[t]"});
    }

} // TEST_SUITE
