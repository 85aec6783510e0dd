#include "util/hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace imgsync::util {

void Digest::Free::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

Digest::Digest(Kind kind) : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_)
        throw std::bad_alloc();
    const EVP_MD* md = kind == Kind::sha256 ? EVP_sha256() : EVP_md5();
    if (EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1)
        throw std::runtime_error("EVP_DigestInit_ex failed");
}

Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

void Digest::update(const void* data, std::size_t size) {
    if (size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1)
        throw std::runtime_error("EVP_DigestUpdate failed");
}

std::size_t Digest::finish(std::uint8_t* out) {
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1)
        throw std::runtime_error("EVP_DigestFinal_ex failed");
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
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = buf[i];
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

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
    Sha256Digest out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len))
        throw std::runtime_error("HMAC failed");
    return out;
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

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool from_hex(std::string_view hex, std::uint8_t* out, std::size_t size) {
    if (hex.size() != size * 2)
        return false;
    for (std::size_t i = 0; i < size; ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
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
