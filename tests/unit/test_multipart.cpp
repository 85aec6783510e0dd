// How files are cut into parts: S3's limits (5 MiB to 5 GiB per part, 10,000 parts) and the
// threshold that add and upload share.
#include "model/multipart.hpp"

#include <doctest/doctest.h>

using namespace imgsync::core;

namespace {
constexpr std::uint64_t MiB = 1ULL << 20;
constexpr std::uint64_t GiB = 1ULL << 30;
} // namespace

TEST_CASE("choose_part_size: the wanted size when S3's limits allow it") {
    CHECK(choose_part_size(1 * GiB, 16 * MiB) == 16 * MiB);
    CHECK(choose_part_size(100 * MiB, 8 * MiB) == 8 * MiB);
}

TEST_CASE("choose_part_size: never below 5 MiB") {
    CHECK(choose_part_size(100 * MiB, 1 * MiB) == 5 * MiB);
}

TEST_CASE("choose_part_size: grown to stay within 10,000 parts, rounded up to a MiB") {
    // 200 GiB / 10,000 = 20.48 MiB -> 21 MiB; 10,000 parts of 21 MiB hold it.
    std::uint64_t size = 200 * GiB;
    std::uint64_t part = choose_part_size(size, 16 * MiB);
    CHECK(part == 21 * MiB);
    CHECK((size + part - 1) / part <= max_part_count);
    // Exactly 10,000 parts of the wanted size: not grown.
    CHECK(choose_part_size(10000 * 16 * MiB, 16 * MiB) == 16 * MiB);
    CHECK(choose_part_size(10000 * 16 * MiB + 1, 16 * MiB) == 17 * MiB);
}

TEST_CASE("choose_part_size: at most 5 GiB, even for S3's largest object") {
    std::uint64_t five_tib = 5 * 1024 * GiB;
    std::uint64_t part = choose_part_size(five_tib, 6 * GiB);
    CHECK(part == max_part_size);
    CHECK(choose_part_size(five_tib, 16 * MiB) == 525 * MiB); // 5 TiB / 10,000 = 524.288 MiB
}

TEST_CASE("PartPlan: multipart from the threshold up; no part size below it") {
    PartPlan plan{64 * MiB, 16 * MiB};
    CHECK_FALSE(plan.multipart(64 * MiB - 1));
    CHECK(plan.part_size(64 * MiB - 1) == 0);
    CHECK(plan.multipart(64 * MiB));
    CHECK(plan.part_size(64 * MiB) == 16 * MiB);
}

TEST_CASE("normalize_etag: quotes dropped, hex lower-cased") {
    CHECK(normalize_etag("\"E09C80C42FDA55F9D992E59CA6B3307D\"") ==
          "e09c80c42fda55f9d992e59ca6b3307d");
    CHECK(normalize_etag("abc-2") == "abc-2");
    CHECK(normalize_etag("\"") == "\"");
    CHECK(normalize_etag("") == "");
}

TEST_CASE("multipart_etag: MD5 of the parts' binary MD5s, then the part count") {
    // md5("aaaaaaaaaa") and md5("b"); the expected values were computed independently (Python's
    // hashlib over the concatenated raw digests).
    const std::string a = "e09c80c42fda55f9d992e59ca6b3307d";
    const std::string b = "92eb5ffee6ae2fec3ad71c777531578f";
    CHECK(multipart_etag({a, b}) == "3192ca8a7eba2efb8c52f8e48729e5f1-2");
    CHECK(multipart_etag({a}) == "ac1f8aff40d191e27d29b7848a8d9abd-1");
    // Order matters, as it does for S3.
    CHECK(multipart_etag({b, a}) != multipart_etag({a, b}));
    // An unknown or malformed part digest gives no ETag to compare with.
    CHECK(multipart_etag({a, ""}).empty());
    CHECK(multipart_etag({a, "zz" + b.substr(2)}).empty());
}
