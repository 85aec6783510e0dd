// The command line: options, their environment variables and config-file keys, and dispatch.
#pragma once

namespace imgsync::cli {

// Parses argv, runs the subcommand and returns the exit status. Never throws.
int run(int argc, char** argv);

} // namespace imgsync::cli
