// "Did you mean": the nearest known name to a mistyped command or option, and the messages that
// name the mistyped word. Pure: the words and the known names are parameters.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::cli {

// Levenshtein distance (insertions, deletions, substitutions; each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The known name nearest to word: the one word is a prefix of, if only one is; else the one at
// the smallest edit distance, if that is at most max(1, size/4) + 1 (2 for "statu", 3 for
// "--max-imagse"). Ties go to the first in the set's order.
std::optional<std::string> nearest(std::string_view word, const std::set<std::string>& known);

// The first word that is neither an option nor the value of one (value_options: the options that
// take a value, with their dashes; "--db x" skips x, "--db=x" is one word).
std::optional<std::string_view> first_operand(const std::vector<std::string_view>& words,
                                              const std::set<std::string>& value_options);

// When no command was recognised: `unknown command "statu"; did you mean "status"?`, or
// `unknown command "x"; commands: add, check, ...`, or with no operand at all
// `no command given; commands: add, check, ... (imgsync --help)`.
std::string command_problem(const std::vector<std::string_view>& words,
                            const std::set<std::string>& commands,
                            const std::set<std::string>& value_options);

// For an unknown option (its name only, never what follows '='):
// "unknown option --chek; did you mean --check?", or "unknown option --x (imgsync COMMAND --help
// lists the options)". known: the options of the command given and the global ones.
std::string option_problem(std::string_view option, const std::set<std::string>& known,
                           std::string_view command);

} // namespace imgsync::cli
