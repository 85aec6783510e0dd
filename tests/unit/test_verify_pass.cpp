// imgsync verify without a network: images uploaded by a scripted pass, then HEADs answered as
// each test says, on the fixture's clock.
#include "pass_fixture.hpp"

#include "pass/verify_pass.hpp"
#include "util/signals.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace pass_test;
namespace core = imgsync::core;

namespace {

// HEAD answers as S3 gives them for the objects the scripted pass uploaded: their size and
// x-amz-meta-sha256 from the state file. `override` may answer instead for some keys.
struct Bucket {
    Fixture& f;
    std::function<std::optional<Reply>(const Seen&, int)> override;

    Reply operator()(const Seen& s, int nth) const {
        if (override) {
            if (auto r = override(s, nth)) {
                return *std::move(r);
            }
        }
        Reply r;
        r.response.status = 404;
        f.store->for_each_image(std::nullopt, -1, [&](const imgsync::storage::ImageRecord& i) {
            if (i.key == s.key()) {
                r.response.status = 200;
                r.response.content_length = std::to_string(i.size);
                r.response.meta_sha256 = i.sha256;
                r.response.etag = i.etag.value_or("");
            }
        });
        return r;
    }
};

struct Verify {
    explicit Verify(Fixture& fixture) : f(fixture) {}
    Fixture& f;
    core::VerifyOptions options;
    std::function<bool(const imgsync::storage::ImageRecord&)> local = [](const auto&) {
        return true;
    };
    std::vector<core::VerifyFinding> findings;
    std::optional<ScriptedTransport> transport;

    core::VerifyRun run(ScriptedTransport::Script script) {
        transport.emplace(f.clock, std::move(script));
        return core::run_verify(
            options, *f.store, *transport, *f.ops, *f.log, local,
            [this](const core::VerifyFinding& finding) { findings.push_back(finding); }, f.clock);
    }
};

// n images of a few KB, uploaded.
std::vector<std::int64_t> uploaded(Fixture& f, int n) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < n; ++i) {
        ids.push_back(f.add("k" + std::to_string(i), 1000 + static_cast<std::size_t>(i)));
    }
    auto result = f.run([](const Seen& s, int) { return s3_answer(s); });
    REQUIRE(result.run.uploaded == n);
    return ids;
}

} // namespace

TEST_SUITE("verify_pass") {
    TEST_CASE("every uploaded object as recorded: all ok, one HEAD each") {
        Fixture f;
        uploaded(f, 5);
        Verify v{f};
        auto run = v.run(Bucket{f, {}});
        CHECK(run.outcome == core::VerifyOutcome::ok);
        CHECK(run.totals.checked == 5);
        CHECK(run.totals.ok == 5);
        CHECK(v.findings.empty());
        CHECK(v.transport->seen.size() == 5);
        for (const auto& s : v.transport->seen) {
            CHECK(s.method == "HEAD");
        }
    }

    TEST_CASE("missing and changed objects are reported by key; nothing is requeued unasked") {
        Fixture f;
        auto ids = uploaded(f, 4);
        Verify v{f};
        auto run = v.run(Bucket{f, [](const Seen& s, int) -> std::optional<Reply> {
                                    if (s.key() == "k1") {
                                        return status(404);
                                    }
                                    if (s.key() == "k2") {
                                        Reply r = status(200);
                                        r.response.content_length = "7";
                                        return r;
                                    }
                                    return std::nullopt;
                                }});
        CHECK(run.outcome == core::VerifyOutcome::problems);
        CHECK(run.totals.ok == 2);
        CHECK(run.totals.missing == 1);
        CHECK(run.totals.changed == 1);
        REQUIRE(v.findings.size() == 2);
        std::set<std::string> keys{v.findings[0].image.key, v.findings[1].image.key};
        CHECK(keys == std::set<std::string>{"k1", "k2"});
        CHECK(f.image(ids[1]).state == core::ImageState::uploaded);
        CHECK(f.log_text().find("object_missing") != std::string::npos);
    }

    TEST_CASE("--requeue puts back to pending only the images whose file still matches") {
        Fixture f;
        auto ids = uploaded(f, 3);
        Verify v{f};
        v.options.requeue = true;
        v.local = [&](const imgsync::storage::ImageRecord& i) { return i.id != ids[2]; };
        auto run = v.run(Bucket{f, [](const Seen& s, int) -> std::optional<Reply> {
                                    if (s.key() != "k0") {
                                        return status(404);
                                    }
                                    return std::nullopt;
                                }});
        CHECK(run.totals.missing == 2);
        CHECK(run.totals.requeued == 1);
        CHECK(core::unresolved(run.totals) == 1);
        auto requeued = f.image(ids[1]);
        CHECK(requeued.state == core::ImageState::pending);
        CHECK(requeued.attempts == 0);
        CHECK_FALSE(requeued.etag);
        REQUIRE(requeued.last_error);
        CHECK(requeued.last_error->find("verify: object missing") == 0);
        CHECK(f.image(ids[2]).state == core::ImageState::uploaded);
        CHECK(f.image(ids[0]).state == core::ImageState::uploaded);
    }

    TEST_CASE("a transient failure is asked again; one that persists leaves it unverified") {
        Fixture f;
        uploaded(f, 2);
        Verify v{f};
        v.options.max_attempts = 3;
        auto run = v.run(Bucket{f, [](const Seen& s, int nth) -> std::optional<Reply> {
                                    if (s.key() == "k0") {
                                        return status(503, "SlowDown");
                                    }
                                    if (s.key() == "k1" && nth < 3) {
                                        return status(500);
                                    }
                                    return std::nullopt;
                                }});
        CHECK(run.totals.unverified == 1);
        CHECK(run.totals.ok == 1);
        CHECK(run.outcome == core::VerifyOutcome::problems);
        int k0 = 0;
        for (const auto& s : v.transport->seen) {
            k0 += s.key() == "k0" ? 1 : 0;
        }
        CHECK(k0 == 3);
        REQUIRE(v.findings.size() == 1);
        CHECK(v.findings[0].verdict.reason.find("SlowDown") != std::string::npos);
    }

    TEST_CASE("an endpoint that cannot be reached stops the verification as failed") {
        Fixture f;
        uploaded(f, 20);
        Verify v{f};
        v.options.concurrency = 2;
        auto run =
            v.run([](const Seen&, int) { return transport_failure(util::Transport::connect); });
        CHECK(run.outcome == core::VerifyOutcome::failed);
        CHECK(run.message.find("connect") != std::string::npos);
        CHECK(v.transport->seen.size() <= 2);
        CHECK(run.totals.checked == 0);
    }

    TEST_CASE("--since checks only the images uploaded since then; --sample N draws N") {
        Fixture f;
        uploaded(f, 6);
        Verify late{f};
        late.options.scope = core::VerifyScope::since;
        late.options.since_epoch = f.clock.wall_epoch() + 10;
        CHECK(late.run(Bucket{f, {}}).totals.checked == 0);

        Verify recent{f};
        recent.options.scope = core::VerifyScope::since;
        recent.options.since_epoch = f.clock.wall_epoch() - 10;
        CHECK(recent.run(Bucket{f, {}}).totals.checked == 6);

        Verify sample{f};
        sample.options.scope = core::VerifyScope::sample;
        sample.options.sample = 4;
        auto run = sample.run(Bucket{f, {}});
        CHECK(run.totals.checked == 4);
        std::set<std::string> keys;
        for (const auto& s : sample.transport->seen) {
            keys.insert(s.key());
        }
        CHECK(keys.size() == 4);
    }

    TEST_CASE("--rate paces the HEADs on the clock") {
        Fixture f;
        uploaded(f, 5);
        Verify v{f};
        v.options.rate = 2;
        v.options.burst = 1;
        double t0 = f.clock.monotonic_seconds();
        auto run = v.run(Bucket{f, {}});
        CHECK(run.totals.ok == 5);
        // Five requests at 2/s with a bucket of one: the last starts 2 s after the first.
        const auto& seen = v.transport->seen;
        CHECK(seen.back().at - seen.front().at == doctest::Approx(2.0).epsilon(0.01));
        CHECK(seen.front().at - t0 < 0.01);
    }

    TEST_CASE("a stop signal ends the verification as interrupted, its totals so far kept") {
        Fixture f;
        uploaded(f, 3);
        Verify v{f};
        v.options.concurrency = 1;
        auto run = v.run([&](const Seen& s, int nth) {
            if (nth == 1) {
                imgsync::util::stop_signals = 1; // arrives while the second HEAD is in flight
            }
            return Bucket{f, {}}(s, nth);
        });
        imgsync::util::stop_signals = 0;
        CHECK(run.outcome == core::VerifyOutcome::interrupted);
        CHECK(run.totals.checked == 1);
        CHECK(v.transport->seen.size() == 2);
        CHECK(v.transport->cancelled == 1);
    }
}
