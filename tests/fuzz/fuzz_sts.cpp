// libFuzzer target: STS answers (AssumeRole, AssumeRoleWithWebIdentity, ErrorResponse), the
// credential_process command line and the container URL rules must never crash or read outside
// the buffer.
#include "s3/credential_chain.hpp"
#include "s3/sts.hpp"

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
    for (const char* action : {"AssumeRole", "AssumeRoleWithWebIdentity"}) {
        for (long status : {200L, 403L}) {
            auto r = parse_sts_response(action, status, in);
            if (r) {
                check(status == 200 && r->expires_at.has_value() && !r->session_token.empty());
            }
        }
    }
    if (auto words = split_command(in)) {
        check(!words->empty());
    }
    const std::string text(in);
    (void)container_url(env_from_map({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", text}}));
    (void)container_url(env_from_map({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", text}}));
    (void)sts_endpoint("", "", in);
    return 0;
}
