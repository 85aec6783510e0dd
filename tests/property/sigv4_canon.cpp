// Signs requests described on stdin with imgsync's own code, for comparison against an
// independent signer (check_sigv4_botocore.py runs botocore on the same requests).
//
// One request per line, 12 TAB-separated fields. Fields marked (esc) are %XY-escaped bytes, so
// that any byte (TAB, newline, '&', '=') can travel; they are decoded before use.
//   1 method          2 endpoint URL ("" = AWS)  3 bucket        4 object key (esc)
//   5 query: name=value pairs joined by '&', each name and value (esc)
//   6 headers: name=value pairs joined by '&', each name and value (esc)
//   7 payload hash    8 access key               9 secret key (esc)
//  10 session token (esc, may be empty)          11 x-amz-date   12 region
//
// Output, one line per request:
//   OK <TAB> signature <TAB> URL <TAB> canonical request
//   ERR <TAB> message
// where the canonical request has '\' written as "\\" and newline as "\n".
#include "s3/endpoint.hpp"
#include "s3/sigv4.hpp"

#include "../support/uri_decode.hpp"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

using namespace imgsync::s3;
using test_support::uri_decode;

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        const auto pos = s.find(sep);
        out.push_back(s.substr(0, pos));
        if (pos == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(pos + 1);
    }
}

std::vector<std::pair<std::string, std::string>> pairs(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    if (s.empty()) {
        return out;
    }
    for (auto item : split(s, '&')) {
        const auto eq = item.find('=');
        out.emplace_back(uri_decode(item.substr(0, eq)), eq == std::string_view::npos
                                                             ? std::string{}
                                                             : uri_decode(item.substr(eq + 1)));
    }
    return out;
}

std::string escape_lines(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += c;
        }
    }
    return out;
}

std::string handle(std::string_view line) {
    const auto f = split(line, '\t');
    if (f.size() != 12) {
        return "ERR\texpected 12 fields, got " + std::to_string(f.size());
    }
    EndpointConfig config;
    config.endpoint_url = std::string(f[1]);
    config.bucket = std::string(f[2]);
    config.region = std::string(f[11]);
    const auto endpoint = resolve_endpoint(config);
    if (!endpoint) {
        return "ERR\t" + endpoint.error();
    }
    const std::string key = uri_decode(f[3]);
    if (auto checked = check_object_key(key); !checked) {
        return "ERR\t" + checked.error();
    }
    const auto date = AmzDate::parse(f[10]);
    if (!date) {
        return "ERR\tbad x-amz-date";
    }

    HttpRequest request;
    request.method = std::string(f[0]);
    request.host = endpoint->host();
    request.canonical_uri = endpoint->object_uri(key);
    for (auto& [name, value] : pairs(f[4])) {
        request.query.push_back({name, value});
    }
    for (auto& [name, value] : pairs(f[5])) {
        request.headers.push_back({name, value});
    }
    request.payload_hash = std::string(f[6]);

    Credentials credentials;
    credentials.access_key = std::string(f[7]);
    credentials.secret_key = Secret(uri_decode(f[8]));
    credentials.session_token = Secret(uri_decode(f[9]));

    SigningOptions options;
    options.region = endpoint->region();
    const auto signed_request = sign_request(request, credentials, options, *date);
    return "OK\t" + signed_request.signature + "\t" +
           endpoint->url(request.canonical_uri, request.query) + "\t" +
           escape_lines(signed_request.canonical_request);
}

} // namespace

int main() {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        std::cout << handle(line) << '\n';
    }
    std::cout.flush();
    return std::cout ? 0 : 1;
}
