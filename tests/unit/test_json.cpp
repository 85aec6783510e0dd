#include "util/json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using imgsync::util::append_json_string;
using imgsync::util::file_sink;
using imgsync::util::is_valid_utf8;
using imgsync::util::json_quote;
using imgsync::util::JsonWriter;

TEST_SUITE_BEGIN("report.json");

TEST_CASE("strings escape quotes, backslashes and control characters") {
    CHECK(json_quote("") == R"("")");
    CHECK(json_quote("plain") == R"("plain")");
    CHECK(json_quote("a\"b\\c/d") == R"("a\"b\\c/d")");
    CHECK(json_quote("\b\f\n\r\t") == R"("\b\f\n\r\t")");
    CHECK(json_quote(std::string("\x00\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST_CASE("valid UTF-8 passes through unchanged") {
    CHECK(json_quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB7") ==
          "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB7\"");
    CHECK(json_quote("\xEF\xBF\xBF\xF4\x8F\xBF\xBF") == "\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"");
    CHECK(is_valid_utf8("caf\xC3\xA9"));
}

TEST_CASE("each ill-formed UTF-8 subpart becomes one U+FFFD") {
    const std::string r = "\xEF\xBF\xBD";
    CHECK(json_quote("a\xFF"
                     "b") == "\"a" + r + "b\"");
    CHECK(json_quote("\xC0\xAF") == "\"" + r + r + "\""); // overlong '/'
    CHECK(json_quote("\xE0\x80\xAF") == "\"" + r + r + r + "\"");
    CHECK(json_quote("\xED\xA0\x80") == "\"" + r + r + r + "\"");         // surrogate D800
    CHECK(json_quote("\xF4\x90\x80\x80") == "\"" + r + r + r + r + "\""); // above U+10FFFF
    CHECK(json_quote("\xE2\x82") == "\"" + r + "\"");                     // truncated at the end
    CHECK(json_quote("\xE2\x82x") == "\"" + r + "x\"");                   // truncated mid-string
    CHECK(json_quote("\xF0\x9F\x93\"") == "\"" + r + "\\\"\"");
    CHECK(json_quote("\x80\x80") == "\"" + r + r + "\"");
    CHECK_FALSE(is_valid_utf8("\xC3"));
    CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));
}

TEST_CASE("append_json_string appends") {
    std::string out = "x=";
    append_json_string(out, "y");
    CHECK(out == "x=\"y\"");
}

TEST_CASE("compact document with every value type") {
    JsonWriter w;
    w.begin_object();
    w.field("s", "text");
    w.field("std", std::string("str"));
    w.field("i", -42);
    w.field("i64", std::numeric_limits<std::int64_t>::min());
    w.field("u64", std::numeric_limits<std::uint64_t>::max());
    w.field("d", 1.5);
    w.field("big", 1e21);
    w.field("nan", std::nan(""));
    w.field("inf", -std::numeric_limits<double>::infinity());
    w.field("t", true);
    w.field("f", false);
    w.key("n").null();
    w.field("some", std::optional<int>(7));
    w.field("none", std::optional<int>());
    w.key("a").begin_array().value(1).value("two").begin_array().end_array().end_array();
    w.key("o").begin_object().end_object();
    w.end_object();
    CHECK(w.complete());
    CHECK(w.str() ==
          R"({"s":"text","std":"str","i":-42,"i64":-9223372036854775808,)"
          R"("u64":18446744073709551615,"d":1.5,"big":1e+21,"nan":null,"inf":null,)"
          R"("t":true,"f":false,"n":null,"some":7,"none":null,"a":[1,"two",[]],"o":{}})");
}

TEST_CASE("pretty output indents by two spaces and keeps empty containers short") {
    JsonWriter w(JsonWriter::Style::pretty);
    w.begin_object();
    w.field("a", 1);
    w.key("list").begin_array().value(1).begin_object().field("k", "v").end_object().end_array();
    w.key("empty").begin_array().end_array();
    w.end_object();
    CHECK(w.str() == "{\n"
                     "  \"a\": 1,\n"
                     "  \"list\": [\n"
                     "    1,\n"
                     "    {\n"
                     "      \"k\": \"v\"\n"
                     "    }\n"
                     "  ],\n"
                     "  \"empty\": []\n"
                     "}");
}

TEST_CASE("scalar top-level value") {
    JsonWriter w;
    w.value("only");
    CHECK(w.complete());
    CHECK(w.take() == "\"only\"");
    CHECK(w.str().empty());
}

TEST_CASE("structural misuse throws") {
    JsonWriter w;
    w.begin_object();
    CHECK_THROWS_AS(w.value(1), std::logic_error);
    CHECK_THROWS_AS(w.end_array(), std::logic_error);
    w.key("k");
    CHECK_THROWS_AS(w.key("again"), std::logic_error);
    CHECK_THROWS_AS(w.end_object(), std::logic_error);
    w.value(1);
    CHECK_THROWS_AS(w.finish(), std::logic_error);
    w.end_object();
    CHECK_THROWS_AS(w.value(2), std::logic_error);
    CHECK_THROWS_AS(w.end_object(), std::logic_error);

    JsonWriter a;
    a.begin_array();
    CHECK_THROWS_AS(a.key("k"), std::logic_error);
}

TEST_CASE("reset allows the next document") {
    JsonWriter w;
    w.begin_object().field("a", 1).end_object();
    w.reset();
    CHECK_FALSE(w.complete());
    w.begin_array().end_array();
    CHECK(w.str() == "[]");
}

TEST_CASE("a sink receives the text in pieces and the buffer stays bounded") {
    std::string received;
    std::vector<std::size_t> pieces;
    std::size_t max_buffer = 0;
    JsonWriter w(
        JsonWriter::Style::compact,
        [&](std::string_view text) {
            received.append(text);
            pieces.push_back(text.size());
            return true;
        },
        64);
    w.begin_array();
    std::string expected = "[";
    for (int i = 0; i < 1000; ++i) {
        w.begin_object().field("id", i).field("key", "k").end_object();
        max_buffer = std::max(max_buffer, w.str().size());
        expected +=
            (i ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"key\":\"k\"}";
    }
    w.end_array();
    expected += "]";
    CHECK(w.finish());
    CHECK(w.str().empty());
    CHECK(received == expected);
    CHECK(pieces.size() > 100);
    CHECK(max_buffer < 64);
}

TEST_CASE("a failing sink stops output and is reported") {
    int calls = 0;
    JsonWriter w(
        JsonWriter::Style::compact,
        [&](std::string_view) {
            ++calls;
            return false;
        },
        0);
    w.begin_array().value(1);
    CHECK_FALSE(w.ok());
    w.value(2).end_array();
    CHECK_FALSE(w.finish());
    CHECK(calls == 1);
    CHECK(w.str().empty());
}

TEST_CASE("file_sink writes through fwrite") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    JsonWriter w(JsonWriter::Style::compact, file_sink(f), 4);
    w.begin_array().value("abc").value(12).end_array();
    CHECK(w.finish());
    std::rewind(f);
    char buf[64] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    CHECK(std::string(buf, n) == R"(["abc",12])");
}

TEST_SUITE_END();
