// libFuzzer target for the signing inputs that come from outside: object keys (file names),
// endpoint URLs, bucket names, query values, header values, credentials files, dates. Nothing may
// crash, and the encoding invariants must hold for arbitrary bytes.
#include "s3/credentials.hpp"
#include "s3/endpoint.hpp"
#include "s3/sigv4.hpp"

#include "../support/uri_decode.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace imgsync::s3;
using test_support::uri_decode;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

bool is_hex_upper(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

// uri_encode output: unreserved bytes, '/' when allowed, and %XY with upper-case hex only.
void check_encoded(const std::string& e, bool slash_allowed) {
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i] == '%') {
            check(i + 2 < e.size() && is_hex_upper(e[i + 1]) && is_hex_upper(e[i + 2]));
            i += 2;
        } else {
            check(is_unreserved(e[i]) || (slash_allowed && e[i] == '/'));
        }
    }
}

// Splits the input at 0xFF bytes into up to n fields.
std::vector<std::string_view> fields(std::string_view in, std::size_t n) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < n) {
        const auto pos = in.find('\xFF');
        if (pos == std::string_view::npos) {
            break;
        }
        out.push_back(in.substr(0, pos));
        in.remove_prefix(pos + 1);
    }
    out.push_back(in);
    out.resize(n);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto f = fields(in, 6);
    const std::string_view key = f[0];
    const std::string_view url = f[1];
    const std::string_view bucket = f[2];
    const std::string_view query_value = f[3];
    const std::string_view header_value = f[4];
    const std::string_view text = f[5];

    for (bool slash : {false, true}) {
        const std::string e = uri_encode(key, slash);
        check_encoded(e, !slash);
        check(uri_decode(e) == key);
    }
    (void)check_object_key(key);
    (void)check_bucket_name(bucket);
    (void)AmzDate::parse(text);

    EndpointConfig config;
    config.endpoint_url = std::string(url);
    config.bucket = std::string(bucket);
    config.region = "us-east-1";
    for (Addressing a : {Addressing::automatic, Addressing::path, Addressing::virtual_hosted}) {
        config.addressing = a;
        const auto r = resolve_endpoint(config);
        check(r.ok() == r.error().empty());
        if (r) {
            const std::string& host = r->host();
            check(!host.empty());
            check(host.find_first_of("/?#@ \r\n") == std::string::npos);
            check_encoded(r->object_uri(key), true);
        }
    }

    HttpRequest req;
    req.method = "PUT";
    req.host = "127.0.0.1:7480";
    req.canonical_uri = encode_path(key);
    req.query = {{std::string(query_value), std::string(header_value)}, {"uploadId", "x"}};
    req.headers = {{"x-amz-meta-note", std::string(header_value)}, {std::string(query_value), "v"}};
    req.payload_hash = std::string(kUnsignedPayload);
    Credentials creds;
    creds.access_key = "AK";
    creds.secret_key = Secret(std::string(text));
    creds.session_token = Secret(std::string(query_value));
    const auto date = AmzDate::parse("20240101T000000Z");
    check(date.has_value());
    const auto signed_request = sign_request(req, creds, SigningOptions{}, *date);
    check(signed_request.signature.size() == 64);
    const std::string canonical_query = canonical_query_string(req.query);
    std::string_view cq = canonical_query;
    while (!cq.empty()) {
        const auto amp = cq.find('&');
        const auto pair = cq.substr(0, amp);
        const auto eq = pair.find('=');
        check(eq != std::string_view::npos);
        check_encoded(std::string(pair.substr(0, eq)), false);
        check_encoded(std::string(pair.substr(eq + 1)), false);
        cq.remove_prefix(amp == std::string_view::npos ? cq.size() : amp + 1);
    }

    PresignRequest p;
    p.host = req.host;
    p.canonical_uri = req.canonical_uri;
    p.query = req.query;
    const auto presigned = presign_url(p, creds, "us-east-1", *date);
    check(presigned.has_value());

    CredentialSources sources;
    sources.env = env_from_map({{"AWS_PROFILE", std::string(bucket)}});
    sources.credentials_text = std::string(text);
    sources.config_text = std::string(url);
    const auto resolved = resolve_credentials(sources);
    check(resolved.credentials.has_value() != !resolved.error.empty());
    (void)resolve_region(sources);
    return 0;
}
