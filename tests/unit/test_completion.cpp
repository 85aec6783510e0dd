#include "cli/args.hpp"
#include "cli/completion.hpp"

#include <CLI/CLI.hpp>

#include <string>

#include <doctest/doctest.h>

using namespace imgsync::cli;

namespace {

enum class Colour { red, green };
const char* to_string(Colour c) {
    return c == Colour::red ? "red" : "green";
}

} // namespace

TEST_CASE("the completion script is the app's own table") {
    CLI::App app{"test", "prog"};
    std::string db;
    bool verbose = false;
    Colour colour = Colour::red;
    std::vector<std::string> paths;
    app.add_option("--db", db, "state");
    app.add_flag("-v,--verbose", verbose, "more");
    auto* paint = app.add_subcommand("paint", "paint things");
    add_enum_option(*paint, "--colour", colour, {Colour::red, Colour::green}, "which");
    paint->add_option("paths", paths, "files");
    auto* hidden = app.add_subcommand("secret-cmd", "hidden");
    hidden->group("");

    const std::string script = bash_completion(app);
    CHECK(script.find("local commands=\" paint \"") != std::string::npos);
    CHECK(script.find("secret-cmd") == std::string::npos);
    CHECK(script.find("local valued=\" --colour --db \"") != std::string::npos);
    CHECK(script.find("paint:--colour) values=\"red green\"") != std::string::npos);
    CHECK(script.find("paint) opts=\"$opts --colour --help -h\"") != std::string::npos);
    CHECK(script.find("paint) _imgsync_files") != std::string::npos);
    CHECK(script.find("complete -F _imgsync imgsync") != std::string::npos);
}
