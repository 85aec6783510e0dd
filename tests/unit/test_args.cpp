#include "cli/args.hpp"
#include "util/error.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

using namespace imgsync::cli;

namespace {

using Words = std::vector<std::string_view>;

const std::set<std::string> commands{"seed",   "add",   "list",  "status",
                                     "upload", "retry", "check", "presign"};
const std::set<std::string> known{"--db", "--concurrency", "--check", "--json", "-v", "--help"};

std::string refusal(const Words& words) {
    try {
        refuse_credential_options(words);
    } catch (const imgsync::Error& e) {
        CHECK(e.code() == imgsync::ExitCode::usage);
        return e.what();
    }
    return "";
}

} // namespace

TEST_SUITE_BEGIN("args");

TEST_CASE("option words stop at --") {
    char a0[] = "imgsync", a1[] = "list", a2[] = "--", a3[] = "--secret";
    char* argv[] = {a0, a1, a2, a3};
    CHECK(option_words(4, argv) == Words{"list"});
}

TEST_CASE("credential options are refused by name, never with their value") {
    for (std::string_view w :
         {"--secret-access-key", "--aws-secret-access-key=XYZ", "--AWS_SECRET_ACCESS_KEY",
          "--password", "--session-token=XYZ", "--aws-access-key-id", "--api-key", "-secret",
          "--credentials-file"}) {
        CHECK(credential_like(w));
    }
    for (std::string_view w : {"--db", "--bucket", "--profile", "--prefix", "--concurrency",
                               "--ca-bundle", "--key-layout"}) {
        CHECK_FALSE(credential_like(w));
    }
    const std::string msg = refusal({"upload", "--aws-secret-access-key=XYZSECRET"});
    CHECK(msg.rfind("--aws-secret-access-key: credentials are not accepted", 0) == 0);
    CHECK(msg.find("XYZSECRET") == std::string::npos);
    CHECK(refusal({"upload", "--secret-access-key", "XYZSECRET"}).find("XYZSECRET") ==
          std::string::npos);
    // Values are not options: a path or a key with "token" in it is fine.
    CHECK(refusal({"add", "/srv/tokens/secret.png", "--db", "x.db"}).empty());
}

TEST_CASE("unexpected arguments never show what follows an option") {
    CHECK(unexpected_arguments({"foo"}, {"list", "foo"}) == "unexpected argument: foo");
    CHECK(unexpected_arguments({"--mystery"}, {"upload", "--mystery"}) ==
          "unexpected argument: --mystery");
    CHECK(unexpected_arguments({"--mystery=S3CR3T"}, {"upload", "--mystery=S3CR3T"}) ==
          "unexpected argument: --mystery (and 1 option value not shown)");
    // CLI11 lists them in its own order.
    CHECK(unexpected_arguments({"S3CR3T", "--mystery"}, {"upload", "--mystery", "S3CR3T"}) ==
          "unexpected arguments: --mystery (and 1 option value not shown)");
    CHECK(unexpected_arguments({"S3CR3T"}, {"list", "--json", "S3CR3T"}) ==
          "unexpected argument (1 option value not shown)");
    CHECK(unexpected_arguments({"a", "b"}, {"list", "a", "--x", "b"}) ==
          "unexpected arguments: a (and 1 option value not shown)");
}

TEST_CASE("parse errors lose the values of unknown options") {
    CHECK(without_unknown_values("Could not convert: ids = S3CR3T",
                                 {"retry", "--mystery", "S3CR3T"},
                                 known) == "Could not convert: ids = (value not shown)");
    CHECK(without_unknown_values("x S3CR3T y S3CR3T", {"retry", "--mystery=S3CR3T"}, known) ==
          "x (value not shown) y (value not shown)");
    // Values of known options stay: they are what the operator needs to see.
    CHECK(without_unknown_values("--concurrency: Value 9999 not in range",
                                 {"upload", "--concurrency", "9999"},
                                 known) == "--concurrency: Value 9999 not in range");
    // A value that occurs in the replacement text does not loop.
    CHECK(without_unknown_values("ids = value", {"retry", "--mystery", "value"}, known) ==
          "ids = (value not shown)");
}

TEST_CASE("--check makes a failure a plugin's answer, unless another command is named") {
    CHECK(reporting_for({"status", "--check", "--warn-pending", "abc"}, commands) ==
          Reporting::plugin);
    CHECK(reporting_for({"--check", "status"}, commands) == Reporting::plugin);
    CHECK(reporting_for({"--db", "x.db", "statsu", "--check"}, commands) == Reporting::plugin);
    CHECK(reporting_for({"status", "--check=true"}, commands) == Reporting::plugin);
    CHECK(reporting_for({"status", "--check=false"}, commands) == Reporting::command);
    CHECK(reporting_for({"status", "--json"}, commands) == Reporting::command);
    CHECK(reporting_for({"check"}, commands) == Reporting::command);
    CHECK(reporting_for({"upload", "--check"}, commands) == Reporting::command);
}

TEST_SUITE_END();
