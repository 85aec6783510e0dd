#include "cli/args.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <optional>
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

namespace shade {

enum class Shade { light, dark, dim };

std::string_view to_string(Shade s) {
    switch (s) {
    case Shade::light:
        return "light";
    case Shade::dark:
        return "dark";
    case Shade::dim:
        return "dim";
    }
    return "?";
}

} // namespace shade

namespace {

using shade::Shade;

// argv for CLI11, which wants char**.
template <typename... Args> void parse(CLI::App& app, Args... args) {
    std::vector<std::string> words{"imgsync", args...};
    std::vector<char*> argv;
    for (auto& w : words)
        argv.push_back(w.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
}

std::string refusal_of(CLI::App& app, const std::string& value) {
    try {
        parse(app, "--shade", value);
    } catch (const CLI::ValidationError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_SUITE_BEGIN("args");

TEST_CASE("enum options: names map to values; anything else, a number too, is refused") {
    Shade shade = Shade::dark;
    CLI::App app;
    add_enum_option(app, "--shade", shade, {Shade::light, Shade::dark}, "how dark");
    parse(app, "--shade", "light");
    CHECK(shade == Shade::light);
    parse(app, "--shade=dark");
    CHECK(shade == Shade::dark);
    // The names offered, not every name the enum has; exact, as IsMember was.
    CHECK(refusal_of(app, "dim") == "--shade: dim not in {light,dark}");
    CHECK(refusal_of(app, "Light") == "--shade: Light not in {light,dark}");
    CHECK(refusal_of(app, "0") == "--shade: 0 not in {light,dark}");
    CHECK(refusal_of(app, "") == "--shade:  not in {light,dark}");
    CHECK(app.help().find("--shade TEXT:{light,dark}=dark") != std::string::npos);
}

TEST_CASE("enum options: the environment goes through the same mapping") {
    Shade shade = Shade::light;
    CLI::App app;
    add_enum_option(app, "--shade", shade, {Shade::light, Shade::dark, Shade::dim}, "how dark")
        ->envname("IMGSYNC_TEST_SHADE");
    ::setenv("IMGSYNC_TEST_SHADE", "dim", 1);
    parse(app);
    CHECK(shade == Shade::dim);
    ::setenv("IMGSYNC_TEST_SHADE", "3", 1);
    std::string error;
    try {
        parse(app);
    } catch (const CLI::ValidationError& e) {
        error = e.what();
    }
    ::unsetenv("IMGSYNC_TEST_SHADE");
    CHECK(error == "--shade: 3 not in {light,dark,dim}");
}

TEST_CASE("enum options: an optional enum, with a name for none") {
    std::optional<Shade> shade;
    CLI::App app;
    add_enum_option(app, "--shade", shade, {Shade::light, Shade::dark}, "all", "which");
    CHECK(app.help().find("--shade TEXT:{light,dark,all}=all") != std::string::npos);
    parse(app);
    CHECK_FALSE(shade.has_value());
    parse(app, "--shade", "dark");
    CHECK(shade == Shade::dark);
    parse(app, "--shade", "all");
    CHECK_FALSE(shade.has_value());
    CHECK(refusal_of(app, "none") == "--shade: none not in {light,dark,all}");
}

TEST_CASE("one_of: the table itself") {
    CLI::Validator v = one_of({{"a", "1"}, {"b", ""}});
    std::string in = "a";
    CHECK(v(in).empty());
    CHECK(in == "1");
    in = "b";
    CHECK(v(in).empty());
    CHECK(in.empty());
    in = "c";
    CHECK(v(in) == "c not in {a,b}");
    CHECK(v.get_description() == "{a,b}");
}

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
