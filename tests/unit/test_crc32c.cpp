#include "util/crc32c.hpp"
#include "util/fs.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <string>

using imgsync::util::crc32c;
using imgsync::util::crc32c_of_range;

TEST_SUITE_BEGIN("crc32c");

TEST_CASE("crc32c: the check value and RFC 3720's test vectors") {
    CHECK(crc32c(0, "123456789", 9) == 0xE3069283U);
    CHECK(crc32c(0, "", 0) == 0U);
    std::string zeros(32, '\0'), ones(32, '\xff'), up(32, '\0'), down(32, '\0');
    for (int i = 0; i < 32; ++i) {
        up[i] = static_cast<char>(i);
        down[i] = static_cast<char>(31 - i);
    }
    CHECK(crc32c(0, zeros.data(), zeros.size()) == 0x8A9136AAU);
    CHECK(crc32c(0, ones.data(), ones.size()) == 0x62A8AB43U);
    CHECK(crc32c(0, up.data(), up.size()) == 0x46DD794EU);
    CHECK(crc32c(0, down.data(), down.size()) == 0x113FDB5CU);
}

TEST_CASE("crc32c: continued over pieces, at any alignment, equals the whole") {
    std::string data;
    for (int i = 0; i < 1000; ++i) {
        data.push_back(static_cast<char>((i * 131) ^ (i >> 3)));
    }
    const auto whole = crc32c(0, data.data(), data.size());
    for (std::size_t cut : {0UL, 1UL, 3UL, 7UL, 8UL, 9UL, 500UL, 999UL, 1000UL}) {
        auto c = crc32c(0, data.data(), cut);
        c = crc32c(c, data.data() + cut, data.size() - cut);
        CHECK(c == whole);
    }
}

TEST_CASE("crc32c: of a file's range, and nullopt past its end") {
    test_support::TempDir dir;
    const std::string path = dir.path + "/f";
    REQUIRE(imgsync::util::write_file_atomic(path, "xx123456789yy", 0600));
    imgsync::util::UniqueFd fd(::open(path.c_str(), O_RDONLY));
    REQUIRE(fd.get() >= 0);
    CHECK(crc32c_of_range(fd.get(), 2, 9) == 0xE3069283U);
    CHECK_FALSE(crc32c_of_range(fd.get(), 10, 9).has_value());
}

TEST_SUITE_END();
