#include "s3/checksum.hpp"

#include "util/hash.hpp"

#include <doctest/doctest.h>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("checksum");

TEST_CASE("checksum: header values are base64 of the big-endian CRC and of the raw SHA-256") {
    CHECK(crc32c_value(0xE3069283U) == "4waSgw==");
    CHECK(crc32c_value(0) == "AAAAAA==");
    CHECK(sha256_value(imgsync::util::to_hex(imgsync::util::sha256(""))) ==
          "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    CHECK(sha256_value("abc").empty());
    CHECK(sha256_value(std::string(64, 'z')).empty());
}

TEST_CASE("checksum: the names S3 gives each algorithm") {
    CHECK(checksum_header(ChecksumAlgorithm::crc32c) == "x-amz-checksum-crc32c");
    CHECK(checksum_header(ChecksumAlgorithm::sha256) == "x-amz-checksum-sha256");
    CHECK(checksum_algorithm_value(ChecksumAlgorithm::crc32c) == "CRC32C");
    CHECK(checksum_algorithm_value(ChecksumAlgorithm::sha256) == "SHA256");
    CHECK(checksum_element(ChecksumAlgorithm::crc32c) == "ChecksumCRC32C");
    CHECK(checksum_element(ChecksumAlgorithm::sha256) == "ChecksumSHA256");
    CHECK(to_string(ChecksumAlgorithm::crc32c) == "crc32c");
}

TEST_CASE("checksum: an echo confirms, is absent, or names other bytes") {
    CHECK(check_echo("4waSgw==", "4waSgw==") == ChecksumEcho::confirmed);
    CHECK(check_echo("4waSgw==", "") == ChecksumEcho::absent);
    CHECK(check_echo("4waSgw==", "AAAAAA==") == ChecksumEcho::mismatch);
}

TEST_SUITE_END();
