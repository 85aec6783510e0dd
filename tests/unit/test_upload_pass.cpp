// The pass as a whole, with no network: a scripted transport answers each request, a manual clock
// makes deadlines, backoffs and commit timing exact, and a real state file records the outcome.
#include "pass_fixture.hpp"

#include <doctest/doctest.h>

using namespace pass_test;
using imgsync::ExitCode;
using imgsync::core::RunOutcome;

namespace {
bool is_put(const Seen& s) {
    return s.method == "PUT" && !s.has_query("partNumber=");
}
bool is_part(const Seen& s) {
    return s.method == "PUT" && s.has_query("partNumber=");
}
constexpr std::size_t MiB = 1 << 20;
} // namespace

TEST_SUITE("upload_pass") {

    TEST_CASE("a clean pass uploads every image with one PUT each and ends ok") {
        Fixture f;
        auto a = f.add("a.png", 1000), b = f.add("b.png", 2000), c = f.add("c.png", 3000);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(r.run.outcome == RunOutcome::ok);
        CHECK(r.run.uploaded == 3);
        CHECK(r.run.bytes == 6000);
        CHECK(f.count(is_put) == 3);
        for (auto id : {a, b, c})
            CHECK(f.image(id).state == imgsync::core::ImageState::uploaded);
    }

    TEST_CASE("one image and a wrong secret: the pass fails, exit 3, no attempt charged") {
        Fixture f;
        auto a = f.add("a.png", 1000);
        auto r = f.run([](const Seen&, int) { return status(403, "SignatureDoesNotMatch"); });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.outcome == RunOutcome::failed);
        CHECK(r.run.message.find("SignatureDoesNotMatch") != std::string::npos);
        CHECK(f.transport->seen.size() == 1);
        auto img = f.image(a);
        CHECK(img.state == imgsync::core::ImageState::pending);
        CHECK(img.attempts == 0);
        CHECK_FALSE(img.last_error); // only a charged failure is recorded on the image
    }

    TEST_CASE("a web page instead of an S3 answer: the pass's error says so") {
        Fixture f;
        f.add("a.png", 1000);
        auto r = f.run([](const Seen&, int) {
            Reply page = status(404);
            page.response.content_type = "text/html; charset=utf-8";
            page.response.body = "<html><body>Not Found</body></html>";
            return page;
        });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.message.find("HTTP 404; the answer is not S3's: the endpoint is probably not "
                                 "an S3 API") != std::string::npos);
    }

    TEST_CASE("a pass-wide failure stops the pass at once, even after successes") {
        Fixture f;
        f.options.concurrency = 1;
        for (int i = 0; i < 10; ++i)
            f.add("k" + std::to_string(i) + ".png", 500);
        auto r = f.run([](const Seen& s, int nth) {
            return nth < 2 ? s3_answer(s) : status(404, "NoSuchBucket");
        });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.outcome == RunOutcome::failed);
        CHECK(r.run.uploaded == 2);
        CHECK(f.transport->seen.size() == 3); // no request after the failure
        CHECK(f.store->counts().pending == 8);
        CHECK(f.store->counts().failed == 0);
    }

    TEST_CASE("refusals of some keys while others succeed are those images': charged, exit 1") {
        Fixture f;
        auto p1 = f.add("private/1.png", 100);
        f.add("public/1.png", 100);
        auto p2 = f.add("private/2.png", 100);
        f.add("public/2.png", 100);
        auto r = f.run([](const Seen& s, int) {
            return s.key().rfind("private/", 0) == 0 ? status(403, "AccessDenied") : s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::images_failed);
        CHECK(r.run.outcome == RunOutcome::partial);
        CHECK(r.run.uploaded == 2);
        CHECK(r.deferred == 2);
        for (auto id : {p1, p2}) {
            auto img = f.image(id);
            CHECK(img.state == imgsync::core::ImageState::pending);
            CHECK(img.attempts == 1);
            REQUIRE(img.last_error);
            CHECK(img.last_error->find("AccessDenied") != std::string::npos);
        }
    }

    TEST_CASE("a refusal already charged to the image is charged again in a pass of refusals") {
        Fixture f;
        f.options.retry.max_attempts = 2;
        auto p = f.add("private/1.png", 100);
        auto deny = [](const Seen&, int) { return status(403, "AccessDenied"); };
        // First pass: nothing else to prove the endpoint, so nothing is charged.
        CHECK(f.run(deny).exit_code == ExitCode::pass_failed);
        CHECK(f.image(p).attempts == 0);
        // Charge it once by hand, as a pass with successes would have.
        {
            imgsync::storage::Transaction txn(f.store->db());
            f.store->db().exec("UPDATE images SET attempts = 1, next_attempt_at = 0, last_error = "
                               "'put: HTTP 403 AccessDenied'");
            txn.commit();
        }
        auto r = f.run(deny);
        CHECK(r.exit_code == ExitCode::images_failed);
        CHECK(f.image(p).state ==
              imgsync::core::ImageState::failed); // the dead letter, with its reason
        CHECK(f.image(p).attempts == 2);
    }

    TEST_CASE("every connection reset: a few tries, then the pass fails and charges nothing") {
        Fixture f;
        f.options.pass_attempts = 2;
        for (int i = 0; i < 20; ++i)
            f.add("k" + std::to_string(i) + ".png", 100);
        auto r = f.run(
            [](const Seen&, int) { return transport_failure(imgsync::util::Transport::dropped); });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.outcome == RunOutcome::failed);
        CHECK(r.run.message.find("none succeeded") != std::string::npos);
        // Once a request failed and none succeeded, no new image starts until the started ones
        // are decided: three images held, two tries each.
        CHECK(f.transport->seen.size() == 3 * 2);
        CHECK(f.store->counts().pending == 20);
        CHECK(f.store->counts().failed == 0);
        int charged = 0;
        for (int id = 1; id <= 20; ++id)
            charged += static_cast<int>(f.image(id).attempts);
        CHECK(charged == 0);
        // The held images come back a little later, so the others lead the next pass.
        int later = 0;
        for (int id = 1; id <= 20; ++id)
            later += f.image(id).next_attempt_at > f.clock.wall_epoch() ? 1 : 0;
        CHECK(later >= 3);
    }

    TEST_CASE("Retry-After is honoured, and throttling halves the concurrency") {
        Fixture f;
        f.options.concurrency = 4;
        f.add("a.png", 100);
        auto r = f.run([](const Seen& s, int nth) {
            if (nth == 0) {
                Reply slow = status(503, "SlowDown");
                slow.response.retry_after = "3";
                return slow;
            }
            return s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::ok);
        REQUIRE(f.transport->seen.size() == 2);
        CHECK(f.transport->seen[1].at - f.transport->seen[0].at >= 3.0);
        CHECK(f.transport->seen[1].at - f.transport->seen[0].at < 3.5);
        CHECK(f.log_text().find("event=slowing_down concurrency=2") != std::string::npos);
        CHECK(r.run.retried == 1);
    }

    TEST_CASE("RequestTimeTooSkewed: re-signed at once with the server's clock") {
        Fixture f;
        f.add("a.png", 100);
        auto r = f.run([](const Seen& s, int nth) {
            if (nth == 0) {
                Reply skew = status(403, "RequestTimeTooSkewed");
                skew.response.date = "Tue, 14 Nov 2023 22:28:20 GMT"; // 900 s ahead
                return skew;
            }
            return s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::ok);
        REQUIRE(f.transport->seen.size() == 2);
        CHECK(f.transport->seen[0].header("x-amz-date") == "20231114T221320Z");
        CHECK(f.transport->seen[1].header("x-amz-date") == "20231114T222820Z");
        CHECK(f.transport->seen[1].at - f.transport->seen[0].at < 0.1); // no backoff
    }

    TEST_CASE("deadline and grace: stalled requests are cancelled, the pass failed, nothing lost") {
        Fixture f;
        f.options.max_duration = 5;
        f.options.grace = 2;
        for (int i = 0; i < 4; ++i)
            f.add("k" + std::to_string(i) + ".png", 100);
        auto r = f.run([](const Seen&, int) {
            Reply stalled;
            stalled.hang = true;
            return stalled;
        });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.message.find("no request succeeded before --max-duration") !=
              std::string::npos);
        CHECK(f.clock.monotonic_seconds() >= 1000 + 5 + 2);
        CHECK(f.clock.monotonic_seconds() < 1000 + 5 + 2 + 1);
        CHECK(f.transport->cancelled == 2); // the two in flight
        CHECK(f.store->counts().pending == 4);
    }

    TEST_CASE(
        "deadline after progress: in-flight requests get the grace, the outcome is deadline") {
        Fixture f;
        f.options.max_duration = 5;
        f.options.grace = 2;
        f.options.concurrency = 1;
        for (int i = 0; i < 3; ++i)
            f.add("k" + std::to_string(i) + ".png", 100);
        auto r = f.run([](const Seen& s, int nth) {
            Reply reply = s3_answer(s);
            reply.after = nth == 0 ? 1 : 5.5; // the second ends at 6.5 s, within the grace
            return reply;
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(r.run.outcome == RunOutcome::deadline);
        CHECK(r.run.uploaded == 2);
        CHECK(f.store->counts().pending == 1);
    }

    TEST_CASE("an image-level error fails that image at once; the others go on") {
        Fixture f;
        auto a = f.add("a.png", 100);
        f.add("b.png", 100);
        auto r = f.run([](const Seen& s, int) {
            return s.key() == "a.png" ? status(400, "EntityTooLarge") : s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::images_failed);
        CHECK(f.image(a).state == imgsync::core::ImageState::failed);
        CHECK(f.image(a).attempts == 1);
        CHECK(r.run.uploaded == 1);
    }

    TEST_CASE("--max-images: exact, outcome limit") {
        Fixture f;
        f.options.max_images = 2;
        for (int i = 0; i < 5; ++i)
            f.add("k" + std::to_string(i) + ".png", 100);
        auto r = f.run([](const Seen& s, int) { return s3_answer(s); });
        CHECK(r.run.outcome == RunOutcome::limit);
        CHECK(r.run.uploaded == 2);
        CHECK(f.count(is_put) == 2);
    }

    TEST_CASE("writes are batched: an upload is committed within 250 ms, not per request") {
        Fixture f;
        f.options.concurrency = 1;
        auto a = f.add("a.png", 100);
        f.add("b.png", 100);
        f.add("c.png", 100);
        std::vector<imgsync::core::ImageState> seen_state;
        auto r = f.run([&](const Seen& s, int nth) {
            // What another process reading the state file sees of image a when each request
            // starts: a finished at +0.01 s; b starts then (not committed yet); c starts after
            // b's answer at +0.4 s, past the 250 ms commit interval.
            imgsync::storage::SqliteStore reader(f.dir + "/state.db",
                                                 imgsync::storage::SqliteStore::Access::read_only);
            seen_state.push_back(reader.image(a)->state);
            Reply reply = s3_answer(s);
            reply.after = nth == 1 ? 0.4 : 0.01;
            return reply;
        });
        CHECK(r.run.uploaded == 3);
        REQUIRE(seen_state.size() == 3);
        CHECK(seen_state[0] == imgsync::core::ImageState::uploading);
        CHECK(seen_state[1] == imgsync::core::ImageState::uploading);
        CHECK(seen_state[2] == imgsync::core::ImageState::uploaded);
    }

    TEST_CASE("multipart: resumed with ListParts, only the parts that check out are kept") {
        Fixture f;
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        auto id = f.add("big.png", 12 * MiB); // parts of 5, 5 and 2 MiB
        {
            imgsync::storage::Transaction txn(f.store->db());
            f.store->db().exec("UPDATE images SET upload_id = 'upload-0', part_size = " +
                               std::to_string(5 * MiB));
            txn.commit();
        }
        // Part 1 listed with its real MD5, part 2 with a wrong one, part 3 not at all.
        std::string part1_md5;
        {
            std::string bytes(5 * MiB, '\0');
            std::FILE* file = std::fopen(f.image(id).path.c_str(), "rb");
            REQUIRE(std::fread(bytes.data(), 1, bytes.size(), file) == bytes.size());
            std::fclose(file);
            part1_md5 = imgsync::util::to_hex(imgsync::util::md5(bytes));
        }
        auto r = f.run([&](const Seen& s, int) {
            if (s.method == "GET") {
                Reply list = s3_answer(s);
                list.response.body =
                    "<ListPartsResult><IsTruncated>false</IsTruncated>"
                    "<Part><PartNumber>1</PartNumber><ETag>\"" +
                    part1_md5 +
                    "\"</ETag><Size>5242880</Size></Part>"
                    "<Part><PartNumber>2</PartNumber><ETag>\"00000000000000000000000000000000\""
                    "</ETag><Size>5242880</Size></Part></ListPartsResult>";
                return list;
            }
            return s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == imgsync::core::ImageState::uploaded);
        CHECK(f.count([](const Seen& s) { return s.method == "GET"; }) == 1);
        CHECK(f.count([](const Seen& s) { return s.has_query("uploads"); }) == 0);
        CHECK(f.count(is_part) == 2);
        CHECK(f.count([](const Seen& s) { return is_part(s) && s.has_query("partNumber=1&"); }) ==
              0);
        CHECK(f.log_text().find("event=part_mismatch") != std::string::npos);
    }

    TEST_CASE("multipart: ListParts answered 405 starts the upload again, once") {
        Fixture f;
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        auto id = f.add("big.png", 11 * MiB);
        {
            imgsync::storage::Transaction txn(f.store->db());
            f.store->db().exec("UPDATE images SET upload_id = 'upload-0', part_size = " +
                               std::to_string(5 * MiB));
            txn.commit();
        }
        auto r = f.run([](const Seen& s, int) {
            return s.method == "GET" ? status(405, "MethodNotAllowed") : s3_answer(s);
        });
        CHECK(r.exit_code == ExitCode::ok);
        CHECK(f.image(id).state == imgsync::core::ImageState::uploaded);
        CHECK(f.count([](const Seen& s) { return s.has_query("uploads"); }) == 1);
        CHECK(f.count(is_part) == 3);
        CHECK(f.log_text().find("event=multipart_restart") != std::string::npos);
    }

    TEST_CASE("multipart: a completion whose ETag is not the parts' is no upload") {
        Fixture f;
        f.options.parts.threshold = 8 * MiB;
        f.options.parts.wanted_part_size = 5 * MiB;
        f.options.pass_attempts = 2;
        auto id = f.add("big.png", 11 * MiB);
        f.add("small.png", 100); // succeeds, so the failure is the image's
        auto r = f.run([](const Seen& s, int) {
            Reply reply = s3_answer(s);
            if (s.method == "POST" && s.has_query("uploadId="))
                reply.response.body = "<CompleteMultipartUploadResult><ETag>\"0123456789abcdef"
                                      "0123456789abcdef-3\"</ETag></CompleteMultipartUploadResult>";
            return reply;
        });
        CHECK(r.exit_code == ExitCode::images_failed);
        auto img = f.image(id);
        CHECK(img.state == imgsync::core::ImageState::pending);
        REQUIRE(img.last_error);
        CHECK(img.last_error->find("CompleteMultipartUpload ETag") != std::string::npos);
    }
}

TEST_SUITE("upload_pass") {
    TEST_CASE("multipart: a completion without an ETag is checked with a HEAD of the object") {
        // radosgw (Pacific) answers the first CompleteMultipartUpload with <ETag></ETag>.
        for (bool right : {true, false}) {
            Fixture f;
            f.options.parts.threshold = 8 * MiB;
            f.options.parts.wanted_part_size = 5 * MiB;
            f.options.pass_attempts = 2;
            auto id = f.add("big.png", 11 * MiB);
            f.add("small.png", 100);
            std::string completed_etag;
            auto r = f.run([&](const Seen& s, int) {
                Reply reply = s3_answer(s);
                if (s.method == "POST" && s.has_query("uploadId=")) {
                    auto& b = reply.response.body;
                    auto at = b.find("<ETag>");
                    completed_etag = b.substr(at + 6, b.find("</ETag>") - at - 6);
                    b = "<CompleteMultipartUploadResult><ETag></ETag>"
                        "</CompleteMultipartUploadResult>";
                } else if (s.method == "HEAD") {
                    reply.response.etag = right ? completed_etag : "\"0123-3\"";
                }
                return reply;
            });
            INFO("HEAD answers the right ETag: ", right);
            CHECK(f.count([](const Seen& s) { return s.method == "HEAD"; }) >= 1);
            CHECK(f.image(id).state == (right ? imgsync::core::ImageState::uploaded
                                              : imgsync::core::ImageState::pending));
            CHECK(r.run.retried == (right ? 0 : 1));
        }
    }

    TEST_CASE("--pass-attempts 1: the only image refused still fails the pass") {
        Fixture f;
        f.options.pass_attempts = 1;
        auto a = f.add("a.png", 100);
        auto r = f.run([](const Seen&, int) { return status(403, "AccessDenied"); });
        CHECK(r.exit_code == ExitCode::pass_failed);
        CHECK(r.run.outcome == RunOutcome::failed);
        CHECK(f.image(a).attempts == 0);
    }
}

TEST_CASE("upload_pass: progress modes, named as upload --progress takes them") {
    using imgsync::core::ProgressMode;
    CHECK(to_string(ProgressMode::automatic) == "auto");
    CHECK(to_string(ProgressMode::always) == "always");
    CHECK(to_string(ProgressMode::never) == "never");
}
