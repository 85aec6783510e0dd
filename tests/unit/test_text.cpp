#include "util/text.hpp"

#include <string>

#include <doctest/doctest.h>

using imgsync::util::is_printable;
using imgsync::util::printable;

TEST_SUITE_BEGIN("text");

TEST_CASE("printable text passes unchanged") {
    CHECK(printable("") == "");
    CHECK(printable("photos/2026/a b.jpg") == "photos/2026/a b.jpg");
    CHECK(printable("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB7") ==
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB7");
    CHECK(printable("\xC2\xA0nbsp") == "\xC2\xA0nbsp"); // U+00A0 is not a control
    CHECK(is_printable("IMGSYNC OK - 0 pending"));
}

TEST_CASE("C0 controls, DEL and backslash are escaped") {
    CHECK(printable("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
    CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(printable("\x07\x08\x7f") == "\\x07\\x08\\x7f");
    CHECK(printable("C:\\dir") == "C:\\\\dir");
    CHECK_FALSE(is_printable("a\nb"));
    CHECK_FALSE(is_printable("\\"));
}

TEST_CASE("C1 controls are escaped as code points") {
    CHECK(printable("\xC2\x9B"
                    "31m") == "\\u009b31m"); // CSI
    CHECK(printable("\xC2\x80\xC2\x9F") == "\\u0080\\u009f");
    CHECK(printable("\xC2\x85next line") == "\\u0085next line");
    CHECK_FALSE(is_printable("\xC2\x9D"));
}

TEST_CASE("ill-formed UTF-8 is escaped byte by byte") {
    CHECK(printable("bad\xFF") == "bad\\xff");
    CHECK(printable("\x9B"
                    "31m") == "\\x9b31m");                          // a lone C1 byte (Latin-1 CSI)
    CHECK(printable("\xC3") == "\\xc3");                            // truncated
    CHECK(printable("\xC3(") == "\\xc3(");                          // bad continuation
    CHECK(printable("\xC0\xAF") == "\\xc0\\xaf");                   // overlong '/'
    CHECK(printable("\xED\xA0\x80") == "\\xed\\xa0\\x80");          // surrogate
    CHECK(printable("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // above U+10FFFF
    CHECK(printable("\xE2\x82") == "\\xe2\\x82");
    CHECK_FALSE(is_printable("\xFF"));
}

TEST_CASE("the output is one line of printable UTF-8") {
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all.push_back(static_cast<char>(c));
    }
    const std::string out = printable(all);
    bool ascii = true;
    for (const char c : out) {
        ascii = ascii && c >= 0x20 && c < 0x7F;
    }
    CHECK(ascii); // each byte >= 0x80 stands alone here, so none is well-formed UTF-8
    CHECK(out.find("\\x1b") != std::string::npos);
    CHECK(out.find("\\n") != std::string::npos);
}

TEST_SUITE_END();
