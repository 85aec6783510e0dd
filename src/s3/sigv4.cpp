#include "s3/sigv4.hpp"

#include "util/hash.hpp"
#include "util/strings.hpp"
#include "util/timefmt.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace imgsync::s3 {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

// Trimall from the SigV4 rules: strip the ends, fold every inner run of white space to one
// space. Folding line breaks too matches botocore and makes an obs-folded value sign as one line.
std::string trim_all(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    bool pending_space = false;
    for (char c : v) {
        if (util::ascii_isspace(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out += ' ';
            pending_space = false;
        }
        out += c;
    }
    return out;
}

bool is_signer_owned(std::string_view lower_name) {
    return lower_name == "host" || lower_name == "x-amz-date" ||
           lower_name == "x-amz-content-sha256" || lower_name == "x-amz-security-token" ||
           lower_name == "authorization";
}

std::vector<std::pair<std::string, std::string>>
encoded_sorted_pairs(const std::vector<QueryParam>& query) {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(query.size());
    for (const auto& p : query) {
        pairs.emplace_back(uri_encode(p.name, true), uri_encode(p.value, true));
    }
    std::sort(pairs.begin(), pairs.end());
    return pairs;
}

} // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
    std::string out;
    out.reserve(s.size() * 3);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (c == '/' && !encode_slash)) {
            out += ch;
        } else {
            out += '%';
            out += kHexUpper[c >> 4];
            out += kHexUpper[c & 0x0F];
        }
    }
    return out;
}

// ---- AmzDate -----------------------------------------------------------------------------------

AmzDate AmzDate::from_epoch(std::int64_t epoch) {
    return AmzDate(util::amz_date(epoch));
}

std::optional<AmzDate> AmzDate::parse(std::string_view s) {
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
        return std::nullopt;
    }
    auto num = [&](std::size_t pos, std::size_t len, unsigned& out) {
        out = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
            out = out * 10 + static_cast<unsigned>(s[i] - '0');
        }
        return true;
    };
    unsigned y = 0;
    unsigned mo = 0;
    unsigned d = 0;
    unsigned h = 0;
    unsigned mi = 0;
    unsigned sec = 0;
    if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) ||
        !num(13, 2, sec)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > util::days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59) {
        return std::nullopt;
    }
    return AmzDate(std::string(s));
}

// ---- canonical pieces --------------------------------------------------------------------------

std::string encode_path(std::string_view raw_path) {
    if (raw_path.empty()) {
        return "/";
    }
    std::string out = uri_encode(raw_path, false);
    if (out.front() != '/') {
        out.insert(out.begin(), '/');
    }
    return out;
}

std::string canonical_query_string(const std::vector<QueryParam>& query) {
    std::string out;
    for (const auto& [name, value] : encoded_sorted_pairs(query)) {
        if (!out.empty()) {
            out += '&';
        }
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

std::string url_query_string(const std::vector<QueryParam>& query) {
    std::string out;
    for (const auto& [name, value] : encoded_sorted_pairs(query)) {
        if (!out.empty()) {
            out += '&';
        }
        out += name;
        if (!value.empty()) {
            out += '=';
            out += value;
        }
    }
    return out;
}

CanonicalHeaders canonicalize_headers(const std::vector<Header>& headers) {
    // Stable sort keeps repeated names in the order given, which is the order their values join.
    std::vector<std::pair<std::string, std::string>> lowered;
    lowered.reserve(headers.size());
    for (const auto& h : headers) {
        lowered.emplace_back(util::ascii_lower(trim_all(h.name)), trim_all(h.value));
    }
    std::stable_sort(lowered.begin(), lowered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    CanonicalHeaders out;
    for (std::size_t i = 0; i < lowered.size(); ++i) {
        const bool continues = i > 0 && lowered[i].first == lowered[i - 1].first;
        if (continues) {
            out.block.back() = ','; // replace the '\n' of the previous value of the same name
        } else {
            if (!out.signed_headers.empty()) {
                out.signed_headers += ';';
            }
            out.signed_headers += lowered[i].first;
            out.block += lowered[i].first;
            out.block += ':';
        }
        out.block += lowered[i].second;
        out.block += '\n';
    }
    return out;
}

std::string canonical_request(std::string_view method, std::string_view canonical_uri,
                              std::string_view canonical_query, const CanonicalHeaders& headers,
                              std::string_view payload_hash) {
    std::string out;
    out.reserve(method.size() + canonical_uri.size() + canonical_query.size() +
                headers.block.size() + headers.signed_headers.size() + payload_hash.size() + 8);
    out += method;
    out += '\n';
    out += canonical_uri.empty() ? std::string_view("/") : canonical_uri;
    out += '\n';
    out += canonical_query;
    out += '\n';
    out += headers.block;
    out += '\n';
    out += headers.signed_headers;
    out += '\n';
    out += payload_hash;
    return out;
}

std::string credential_scope(const AmzDate& date, std::string_view region,
                             std::string_view service) {
    std::string out(date.date());
    out += '/';
    out += region;
    out += '/';
    out += service;
    out += "/aws4_request";
    return out;
}

std::string string_to_sign(const AmzDate& date, std::string_view scope,
                           std::string_view canonical_request) {
    std::string out(kSigV4Algorithm);
    out += '\n';
    out += date.timestamp();
    out += '\n';
    out += scope;
    out += '\n';
    out += util::sha256_hex(canonical_request);
    return out;
}

SigningKey derive_signing_key(const Secret& secret_key, std::string_view yyyymmdd,
                              std::string_view region, std::string_view service) {
    std::string seed = "AWS4";
    seed += secret_key.reveal();
    auto k = util::hmac_sha256(seed, yyyymmdd);
    OPENSSL_cleanse(seed.data(), seed.size());
    auto view = [](const SigningKey& key) {
        return std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
    };
    k = util::hmac_sha256(view(k), region);
    k = util::hmac_sha256(view(k), service);
    return util::hmac_sha256(view(k), "aws4_request");
}

std::string signature(const SigningKey& key, std::string_view string_to_sign) {
    const std::string_view k(reinterpret_cast<const char*>(key.data()), key.size());
    return util::to_hex(util::hmac_sha256(k, string_to_sign));
}

std::string authorization_header(std::string_view access_key, std::string_view scope,
                                 std::string_view signed_headers, std::string_view signature) {
    std::string out(kSigV4Algorithm);
    out += " Credential=";
    out += access_key;
    out += '/';
    out += scope;
    out += ", SignedHeaders=";
    out += signed_headers;
    out += ", Signature=";
    out += signature;
    return out;
}

// ---- SigningKeyCache ---------------------------------------------------------------------------

SigningKey SigningKeyCache::get(const Secret& secret_key, std::string_view yyyymmdd,
                                std::string_view region, std::string_view service) {
    const auto fingerprint = util::sha256(secret_key.reveal());
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& e : entries_) {
        if (e.date == yyyymmdd && e.region == region && e.service == service &&
            e.secret_fingerprint == fingerprint) {
            return e.key;
        }
    }
    Entry e{std::string(yyyymmdd), std::string(region), std::string(service), fingerprint,
            derive_signing_key(secret_key, yyyymmdd, region, service)};
    ++derivations_;
    // Keys of other days are dead weight once the date has moved on.
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& old) { return old.date != e.date; }),
                   entries_.end());
    if (entries_.size() >= kMaxEntries) {
        entries_.erase(entries_.begin());
    }
    entries_.push_back(e);
    return e.key;
}

std::size_t SigningKeyCache::derivations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return derivations_;
}

// ---- signing -----------------------------------------------------------------------------------

SignedRequest sign_request(const HttpRequest& request, const Credentials& credentials,
                           const SigningOptions& options, const AmzDate& date,
                           SigningKeyCache* cache) {
    std::vector<Header> added;
    added.push_back({"x-amz-date", date.timestamp()});
    if (options.content_sha256_header) {
        added.push_back({"x-amz-content-sha256", request.payload_hash});
    }
    if (!credentials.session_token.empty()) {
        added.push_back({"x-amz-security-token", std::string(credentials.session_token.reveal())});
    }

    std::vector<Header> to_sign;
    to_sign.reserve(request.headers.size() + added.size() + 1);
    to_sign.push_back({"host", request.host});
    for (const auto& h : request.headers) {
        if (!is_signer_owned(util::ascii_lower(trim_all(h.name)))) {
            to_sign.push_back(h);
        }
    }
    to_sign.insert(to_sign.end(), added.begin(), added.end());

    const CanonicalHeaders canonical_headers = canonicalize_headers(to_sign);
    SignedRequest out;
    out.signed_headers = canonical_headers.signed_headers;
    out.canonical_request = canonical_request(request.method, request.canonical_uri,
                                              canonical_query_string(request.query),
                                              canonical_headers, request.payload_hash);
    const std::string scope = credential_scope(date, options.region, options.service);
    out.string_to_sign = string_to_sign(date, scope, out.canonical_request);
    const SigningKey key =
        cache != nullptr
            ? cache->get(credentials.secret_key, date.date(), options.region, options.service)
            : derive_signing_key(credentials.secret_key, date.date(), options.region,
                                 options.service);
    out.signature = signature(key, out.string_to_sign);
    out.authorization =
        authorization_header(credentials.access_key, scope, out.signed_headers, out.signature);
    out.headers = std::move(added);
    out.headers.push_back({"Authorization", out.authorization});
    return out;
}

std::optional<PresignedUrl> presign_url(const PresignRequest& request,
                                        const Credentials& credentials, std::string_view region,
                                        const AmzDate& date, std::string_view service) {
    const auto expires = request.expires.count();
    if (expires < 1 || expires > 7 * 24 * 3600) {
        return std::nullopt;
    }
    const std::string scope = credential_scope(date, region, service);
    std::vector<QueryParam> query = request.query;
    query.push_back({"X-Amz-Algorithm", std::string(kSigV4Algorithm)});
    query.push_back({"X-Amz-Credential", credentials.access_key + "/" + scope});
    query.push_back({"X-Amz-Date", date.timestamp()});
    query.push_back({"X-Amz-Expires", std::to_string(expires)});
    query.push_back({"X-Amz-SignedHeaders", "host"});
    if (!credentials.session_token.empty()) {
        query.push_back({"X-Amz-Security-Token", std::string(credentials.session_token.reveal())});
    }
    const std::string canonical_query = canonical_query_string(query);
    const CanonicalHeaders headers = canonicalize_headers({{"host", request.host}});

    PresignedUrl out;
    out.canonical_request = canonical_request(request.method, request.canonical_uri,
                                              canonical_query, headers, kUnsignedPayload);
    out.string_to_sign = string_to_sign(date, scope, out.canonical_request);
    out.signature =
        signature(derive_signing_key(credentials.secret_key, date.date(), region, service),
                  out.string_to_sign);
    // The canonical query is already a valid, encoded query string, so the URL carries exactly
    // the bytes that were signed.
    out.url = request.scheme + "://" + request.host +
              (request.canonical_uri.empty() ? std::string("/") : request.canonical_uri) + "?" +
              canonical_query + "&X-Amz-Signature=" + out.signature;
    return out;
}

} // namespace imgsync::s3
