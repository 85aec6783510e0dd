// Digests on OpenSSL's EVP interface: SHA-256, MD5, HMAC-SHA256, plus hex and base64.
// Generic helpers: nothing here knows about S3 or images.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace imgsync::util {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

// One streaming digest (RAII over EVP_MD_CTX). Feed it with update(), read it once with finish().
class Digest {
  public:
    enum class Kind { sha256, md5 };
    explicit Digest(Kind kind);
    Digest(Digest&&) noexcept;
    Digest& operator=(Digest&&) noexcept;
    ~Digest();
    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // Returns the digest length (32 or 16) written to out, which must hold 32 bytes.
    std::size_t finish(std::uint8_t* out);

  private:
    struct Free {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

class Sha256 {
  public:
    void update(const void* data, std::size_t size) { digest_.update(data, size); }
    void update(std::string_view data) { digest_.update(data); }
    Sha256Digest finish();

  private:
    Digest digest_{Digest::Kind::sha256};
};

class Md5 {
  public:
    void update(const void* data, std::size_t size) { digest_.update(data, size); }
    void update(std::string_view data) { digest_.update(data); }
    Md5Digest finish();

  private:
    Digest digest_{Digest::Kind::md5};
};

Sha256Digest sha256(std::string_view data);
Md5Digest md5(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

// Lower-case hex, as SigV4 and ETags use.
std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N> std::string to_hex(const std::array<std::uint8_t, N>& digest) {
    return to_hex(digest.data(), N);
}
// Parses lower- or upper-case hex; returns false on a wrong length or a non-hex character.
bool from_hex(std::string_view hex, std::uint8_t* out, std::size_t size);

std::string base64(const std::uint8_t* data, std::size_t size);
template <std::size_t N> std::string base64(const std::array<std::uint8_t, N>& digest) {
    return base64(digest.data(), N);
}

std::string sha256_hex(std::string_view data);

} // namespace imgsync::util
