// Temporary credentials replaced in the middle of a pass: the scripted transport and the manual
// clock of pass_fixture.hpp, so the refresh time is exact.
#include "pass_fixture.hpp"

#include <doctest/doctest.h>

using namespace pass_test;
using imgsync::ExitCode;

namespace {

bool signed_by(const Seen& s, const std::string& key) {
    return s.header("Authorization").find("Credential=" + key + "/") != std::string::npos;
}

s3::Credentials temporary(const std::string& key, std::int64_t expires_at) {
    s3::Credentials c;
    c.access_key = key;
    c.secret_key = s3::Secret("secret-of-" + key);
    c.session_token = s3::Secret("token-of-" + key);
    c.expires_at = expires_at;
    c.provenance = "instance role test";
    return c;
}

} // namespace

TEST_SUITE("credentials") {
    TEST_CASE("refresh: new requests are signed with the new credentials, none is dropped") {
        Fixture f;
        for (int i = 0; i < 6; ++i) {
            f.add("k" + std::to_string(i) + ".png", 1000);
        }
        f.options.rate = 1; // one image a second: the pass lasts about five seconds
        f.options.burst = 1;
        const std::int64_t t0 = f.clock.wall_epoch();
        f.options.credentials_refresh_at = t0 + 2;
        std::vector<std::int64_t> asked;
        f.options.refresh_credentials = [&](std::int64_t now) -> util::Result<s3::Credentials> {
            asked.push_back(now);
            return temporary("ASIANEW" + std::to_string(asked.size()), now + 100);
        };
        // Every answer takes 1.5 s, so a request is in flight when the refresh comes.
        auto r = f.run([](const Seen& s, int) {
            auto reply = s3_answer(s);
            reply.after = 1.5;
            return reply;
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(r.run.uploaded == 6);
        CHECK(f.transport->cancelled == 0);
        // Once, at the refresh time; the new ones last 100 s, so they are not replaced again.
        REQUIRE(asked.size() == 1);
        CHECK(asked[0] == t0 + 2);
        const int old_key = f.count([](const Seen& s) { return signed_by(s, "AKIDEXAMPLE"); });
        const int new_key = f.count([](const Seen& s) { return signed_by(s, "ASIANEW1"); });
        CHECK(old_key >= 2);
        CHECK(new_key >= 3);
        CHECK(old_key + new_key == 6);
        for (const auto& s : f.transport->seen) {
            if (signed_by(s, "ASIANEW1")) {
                CHECK(s.header("x-amz-security-token") == "token-of-ASIANEW1");
                CHECK(s.at >= 1002);
            }
        }
        const std::string log = f.log_text();
        CHECK(log.find("event=credentials_refreshed") != std::string::npos);
        CHECK(log.find("credentials=\"instance role test\"") != std::string::npos);
        CHECK(log.find("secret-of-") == std::string::npos);
        CHECK(log.find("token-of-") == std::string::npos);
    }

    TEST_CASE("refresh: a failure ends the pass as failed, exit 3, the rest pending") {
        Fixture f;
        for (int i = 0; i < 6; ++i) {
            f.add("k" + std::to_string(i) + ".png", 1000);
        }
        f.options.rate = 1;
        f.options.burst = 1;
        f.options.credentials_refresh_at = f.clock.wall_epoch() + 2;
        f.options.refresh_credentials = [](std::int64_t) -> util::Result<s3::Credentials> {
            return util::fail("the instance metadata service at http://127.0.0.1:9 gave no "
                              "IMDSv2 session token: HTTP 500");
        };
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.message.find("credentials could not be refreshed: the instance metadata") !=
              std::string::npos);
        CHECK(r.run.uploaded >= 2);
        CHECK(r.run.uploaded <= 3);
        CHECK(f.store->counts().pending == 6 - r.run.uploaded);
        CHECK(f.log_text().find("event=credentials_refresh_failed") != std::string::npos);
    }
}
