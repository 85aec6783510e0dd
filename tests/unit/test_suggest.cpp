#include "cli/suggest.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

using namespace imgsync::cli;

namespace {

const std::set<std::string> commands{"add",   "check", "list",   "presign",
                                     "retry", "seed",  "status", "upload"};

} // namespace

TEST_CASE("edit distance") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("statu", "status") == 1);
    CHECK(edit_distance("stauts", "status") == 2);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("nearest: a unique prefix, else the closest within the limit") {
    CHECK(nearest("statu", commands) == "status");
    CHECK(nearest("uplod", commands) == "upload");
    CHECK(nearest("pre", commands) == "presign");
    CHECK(nearest("s", commands) == std::nullopt); // seed and status: not unique; too far
    CHECK(nearest("frobnicate", commands) == std::nullopt);
    CHECK(nearest("", commands) == std::nullopt);
    const std::set<std::string> options{"--check", "--max-images", "--max-bytes", "--json"};
    CHECK(nearest("--chek", options) == "--check");
    CHECK(nearest("--max-imagse", options) == "--max-images");
    CHECK(nearest("--zzzzzz", options) == std::nullopt);
}

TEST_CASE("first operand skips options and their values") {
    const std::set<std::string> valued{"--db", "--bucket"};
    using W = std::vector<std::string_view>;
    CHECK(first_operand(W{"--db", "x", "statu"}, valued) == "statu");
    CHECK(first_operand(W{"--db=x", "statu"}, valued) == "statu");
    CHECK(first_operand(W{"-v", "statu"}, valued) == "statu");
    CHECK(first_operand(W{"--db", "x"}, valued) == std::nullopt);
}

TEST_CASE("command and option problems name the word and the nearest name") {
    using W = std::vector<std::string_view>;
    CHECK(command_problem(W{"statu"}, commands, {}) ==
          "unknown command \"statu\"; did you mean \"status\"?");
    CHECK(command_problem(W{"zzz"}, commands, {}) ==
          "unknown command \"zzz\"; commands: add, check, list, presign, retry, seed, status, "
          "upload");
    CHECK(command_problem(W{}, commands, {}).rfind("no command given; commands: add,", 0) == 0);
    const std::set<std::string> known{"--check", "--json"};
    CHECK(option_problem("--chek", known, "status") ==
          "unknown option --chek; did you mean --check?");
    // the value after '=' is never repeated
    CHECK(option_problem("--chek=s3cr3tvalue", known, "status") ==
          "unknown option --chek; did you mean --check?");
    CHECK(option_problem("--zzzzzzzz=s3cr3t", known, "status") ==
          "unknown option --zzzzzzzz (imgsync status --help lists the options)");
}
