// libFuzzer target: the JSON answers of the instance metadata service, the container endpoints
// and credential_process must never crash or read outside the buffer, and a refusal must never
// quote the input (it may hold a secret).
#include "s3/credential_json.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace imgsync::s3;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto members = parse_json_object(in);
    // A secret that no fixed part of a message contains ('+' is in none).
    std::string secret;
    if (members) {
        const auto it = members->find("SecretAccessKey");
        if (it != members->end() && it->second.size() >= 8 &&
            it->second.find('+') != std::string::npos) {
            secret = it->second;
        }
    }
    for (auto kind :
         {CredentialJson::instance_metadata, CredentialJson::container, CredentialJson::process}) {
        auto r = parse_credential_json(in, kind);
        if (r) {
            check(!r->access_key.empty() && !r->secret_key.empty());
        } else {
            check(r.error().size() < 200); // one line, whatever the input's size
            check(secret.empty() || r.error().find(secret) == std::string::npos);
        }
    }
    return 0;
}
