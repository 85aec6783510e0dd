// The ASCII helpers every parser shares: case folding, white space, trimming, hex digits.
#include "util/strings.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::util;

TEST_SUITE("strings") {

    TEST_CASE("ascii_lower folds A-Z only, whatever the locale") {
        CHECK(ascii_lower('A') == 'a');
        CHECK(ascii_lower('z') == 'z');
        CHECK(ascii_lower('@') == '@');
        CHECK(ascii_lower('[') == '[');
        CHECK(ascii_lower(std::string_view("X-Amz-Date: ABC")) == "x-amz-date: abc");
        CHECK(ascii_lower(std::string_view("")).empty());
        // Bytes outside ASCII (here the UTF-8 of "É") are left as they are.
        CHECK(ascii_lower(std::string_view("\xC3\x89T\xC3\xA9")) == "\xC3\x89t\xC3\xA9");
        CHECK(iequals("GMT", "gmt"));
        CHECK_FALSE(iequals("GMT", "gm"));
        CHECK_FALSE(iequals("\xC3\x89", "\xC3\xA9"));
    }

    TEST_CASE("two sets of white space") {
        for (char c : std::string(" \t\r\n"))
            CHECK(ascii_space(c));
        CHECK_FALSE(ascii_space('\v'));
        CHECK_FALSE(ascii_space('\f'));
        CHECK_FALSE(ascii_space('\0'));
        for (char c : std::string(" \t\r\n\v\f"))
            CHECK(ascii_isspace(c));
        CHECK_FALSE(ascii_isspace('\0'));
        CHECK_FALSE(ascii_isspace('x'));
        CHECK_FALSE(ascii_isspace('\xA0'));
    }

    TEST_CASE("trim and trim_if") {
        CHECK(trim("  a b \r\n") == "a b");
        CHECK(trim("\t\r\n ") == "");
        CHECK(trim("") == "");
        CHECK(trim("x") == "x");
        CHECK(trim("\va\f") == "\va\f"); // VT and FF are not ascii_space
        CHECK(trim_if("\v a \f", ascii_isspace) == "a");
        CHECK(trim_if("--a-b--", [](char c) { return c == '-'; }) == "a-b");
        // The result is a view into the argument.
        const std::string s = "  abc  ";
        CHECK(trim(s).data() == s.data() + 2);
    }

    TEST_CASE("hex_value") {
        CHECK(hex_value('0') == 0);
        CHECK(hex_value('9') == 9);
        CHECK(hex_value('a') == 10);
        CHECK(hex_value('F') == 15);
        CHECK(hex_value('g') == -1);
        CHECK(hex_value('G') == -1);
        CHECK(hex_value('/') == -1);
        CHECK(hex_value(':') == -1);
        CHECK(hex_value('\0') == -1);
        CHECK(hex_value('\xFF') == -1);
    }

} // TEST_SUITE
