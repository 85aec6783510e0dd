// Argument hygiene before and around CLI11: credential options refused by name, error messages
// that never repeat what may be a secret, and whether a failure must be answered as a monitoring
// plugin. Pure: the words and the option and command names are parameters.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::cli {

// argv[1..] up to "--".
std::vector<std::string_view> option_words(int argc, char** argv);

// An option whose name looks like a credential (secret, password, token, access-key,
// credential, api-key), e.g. "--aws-secret-access-key=..." or "--password".
bool credential_like(std::string_view word);

// Throws Error(usage) naming the first credential-like option, never its value.
void refuse_credential_options(const std::vector<std::string_view>& words);

// In place of CLI11's "The following arguments were not expected: ...", which quotes each word:
// options are named without "=value", and words that follow an option are counted, not shown.
std::string unexpected_arguments(const std::vector<std::string>& extras,
                                 const std::vector<std::string_view>& words);

// message with every quote of a possible value of an unknown option (the word after it, or what
// follows its '=') replaced by "(value not shown)". known: option names with their dashes.
std::string without_unknown_values(std::string message, const std::vector<std::string_view>& words,
                                   const std::set<std::string>& known);

// How a failure reaches the operator: one line on stderr and the command's status, or, for a
// monitoring plugin (status --check), one "IMGSYNC UNKNOWN - ..." line on stdout and status 3.
enum class Reporting { command, plugin };

// Before the parse has finished: plugin when --check is among the words, unless the first
// command they name (one of commands) is not status (`imgsync check`, `upload --check`).
Reporting reporting_for(const std::vector<std::string_view>& words,
                        const std::set<std::string>& commands);

} // namespace imgsync::cli
