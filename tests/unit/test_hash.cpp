#include "util/hash.hpp"

#include <doctest/doctest.h>

using namespace imgsync::util;

TEST_CASE("sha256 and md5 match published vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(to_hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
}

TEST_CASE("streaming digest equals one-shot digest") {
    Sha256 h;
    h.update("a");
    h.update("bc");
    CHECK(to_hex(h.finish()) == sha256_hex("abc"));
}

TEST_CASE("hmac-sha256 RFC 4231 test case 2") {
    CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hmac-sha256 RFC 4231 test cases 1, 6 and 7 (keys longer than a block), empty key") {
    CHECK(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const std::string long_key(131, '\xaa');
    CHECK(to_hex(hmac_sha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(to_hex(hmac_sha256(long_key,
                             "This is a test using a larger than block-size key and a larger than "
                             "block-size data. The key needs to be hashed before being used by the "
                             "HMAC algorithm.")) ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    CHECK(to_hex(hmac_sha256("", "")) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    CHECK(to_hex(hmac_sha256(std::string(64, 'k'), "block-sized key")) ==
          to_hex(hmac_sha256(std::string(64, 'k'), "block-sized key")));
}

TEST_CASE("base64 and hex round trips") {
    CHECK(base64(md5("")) == "1B2M2Y8AsgTpgAmY7PhCfg==");
    std::uint8_t out[2];
    CHECK(from_hex("aBff", out, 2));
    CHECK(out[0] == 0xab);
    CHECK(out[1] == 0xff);
    CHECK_FALSE(from_hex("zz00", out, 2));
    CHECK_FALSE(from_hex("abc", out, 2));
}
