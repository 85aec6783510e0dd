#include "util/hash.hpp"

#include "util/strings.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace imgsync::util {

void Digest::Free::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

namespace {
// Fetched once: EVP_sha256() and EVP_md5() make every EVP_DigestInit_ex look the algorithm up
// in the provider again (a lock and a hash table), which cost as much as hashing a few hundred
// bytes, and a pass signs every request. Never freed: they live as long as the process.
const EVP_MD* fetched(Digest::Kind kind) {
    static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    static const EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    const EVP_MD* md = kind == Digest::Kind::sha256 ? sha256 : md5;
    if (!md) {
        throw std::runtime_error("OpenSSL has no SHA-256 or MD5 (EVP_MD_fetch failed)");
    }
    return md;
}
} // namespace

Digest::Digest(Kind kind) : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) {
        throw std::bad_alloc();
    }
    const EVP_MD* md = fetched(kind);
    if (EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex failed");
    }
}

Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

void Digest::update(const void* data, std::size_t size) {
    if (size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1) {
        throw std::runtime_error("EVP_DigestUpdate failed");
    }
}

std::size_t Digest::finish(std::uint8_t* out) {
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1) {
        throw std::runtime_error("EVP_DigestFinal_ex failed");
    }
    return len;
}

Sha256Digest Sha256::finish() {
    Sha256Digest out{};
    digest_.finish(out.data());
    return out;
}

Md5Digest Md5::finish() {
    std::array<std::uint8_t, 32> buf{};
    digest_.finish(buf.data());
    Md5Digest out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = buf[i];
    }
    return out;
}

Sha256Digest sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Md5Digest md5(std::string_view data) {
    Md5 h;
    h.update(data);
    return h.finish();
}

// RFC 2104 on the fetched SHA-256 above: OpenSSL 3's one-shot HMAC() sets up a MAC context
// through the provider on every call, twice the cost of the two digests themselves.
Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
    constexpr std::size_t block = 64;
    std::uint8_t k[block] = {};
    if (key.size() > block) {
        auto hashed = sha256(key);
        std::memcpy(k, hashed.data(), hashed.size());
    } else if (!key.empty()) {
        std::memcpy(k, key.data(), key.size());
    }
    std::uint8_t pad[block];
    for (std::size_t i = 0; i < block; ++i) {
        pad[i] = k[i] ^ 0x36;
    }
    Sha256 inner;
    inner.update(pad, block);
    inner.update(data);
    auto inner_digest = inner.finish();
    for (std::size_t i = 0; i < block; ++i) {
        pad[i] = k[i] ^ 0x5c;
    }
    Sha256 outer;
    outer.update(pad, block);
    outer.update(inner_digest.data(), inner_digest.size());
    OPENSSL_cleanse(k, sizeof k); // the key may be a secret's derivative
    OPENSSL_cleanse(pad, sizeof pad);
    return outer.finish();
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    return out;
}

bool from_hex(std::string_view hex, std::uint8_t* out, std::size_t size) {
    if (hex.size() != size * 2) {
        return false;
    }
    for (std::size_t i = 0; i < size; ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

std::string base64(const std::uint8_t* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3), '\0');
    int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string sha256_hex(std::string_view data) {
    return to_hex(sha256(data));
}

} // namespace imgsync::util
