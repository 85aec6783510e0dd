// The bash completion script, generated from the CLI11 app the parser uses (`imgsync completion
// bash`), so that it cannot drift from the options: commands, each command's options and the
// global ones, and the names an enumerated option accepts (from its one_of transformer). Values
// of other options and operands complete as file names. Pure: the app is a parameter.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace imgsync::cli {

// The script: a function _imgsync and `complete -F _imgsync imgsync`. Subcommands in the ""
// group (hidden ones, like `completion` itself) are left out.
std::string bash_completion(CLI::App& app);

} // namespace imgsync::cli
