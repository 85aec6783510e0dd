// Argument hygiene before and around CLI11: credential options refused by name, error messages
// that never repeat what may be a secret, whether a failure must be answered as a monitoring
// plugin, and options whose value is one of a closed set of names. Pure: the words and the option
// and command names are parameters.
#pragma once

#include <CLI/CLI.hpp>

#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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

// Options whose value is one of a closed set of names (--addressing, --log-format, seed --format,
// add --key-layout, list --state, upload --progress) store the enum value the name stands for.
// The names are the to_string() of the values offered, from the enum's own module. CLI11 maps
// them, with the same transformer for the command line, IMGSYNC_* and the config file (which
// reaches the options as IMGSYNC_* defaults); anything else, a number included, is refused as
// "--option: X not in {a,b,c}" (exit 2). --help shows "TEXT:{a,b,c}=default".

// (name, the text CLI11 then converts into the option's variable), in the order --help lists them.
using NameTable = std::vector<std::pair<std::string, std::string>>;

// A transformer from each name (exact, case-sensitive) to its text; refuses anything else. It is
// named one_of_validator_name, and its description is "{a,b,c}" (the completion reads both).
CLI::Validator one_of(NameTable names);
inline constexpr const char* one_of_validator_name = "one_of";

// Each value's name, and its number, which is what CLI11 converts into an enum.
template <typename E> NameTable names_of(std::initializer_list<E> values) {
    static_assert(std::is_enum_v<E>);
    NameTable names;
    for (E v : values) {
        names.emplace_back(std::string(to_string(v)),
                           std::to_string(static_cast<std::underlying_type_t<E>>(v)));
    }
    return names;
}

// An option storing one of values into variable, named by to_string(); the default shown by
// --help is the variable's value at declaration. (Through a callback on the number: CLI11's own
// add_option(name, variable) would call the module's to_string() for its default and want a
// std::string back.)
template <typename E>
CLI::Option* add_enum_option(CLI::App& app, const std::string& name, E& variable,
                             std::initializer_list<E> values, const std::string& description) {
    using Number = std::underlying_type_t<E>;
    return app
        .add_option_function<Number>(
            name, [&variable](const Number& n) { variable = static_cast<E>(n); }, description)
        ->transform(one_of(names_of(values)))
        ->type_name("TEXT")
        ->default_str(std::string(to_string(variable)));
}

// The same for an optional enum: none_name (e.g. "all") stands for std::nullopt, which an empty
// text becomes.
template <typename E>
CLI::Option* add_enum_option(CLI::App& app, const std::string& name, std::optional<E>& variable,
                             std::initializer_list<E> values, const std::string& none_name,
                             const std::string& description) {
    using Number = std::underlying_type_t<E>;
    NameTable names = names_of(values);
    names.emplace_back(none_name, "");
    return app
        .add_option_function<std::optional<Number>>(
            name,
            [&variable](const std::optional<Number>& n) {
                variable = n ? std::optional<E>(static_cast<E>(*n)) : std::nullopt;
            },
            description)
        ->transform(one_of(std::move(names)))
        ->type_name("TEXT")
        ->default_str(variable ? std::string(to_string(*variable)) : none_name);
}

} // namespace imgsync::cli
