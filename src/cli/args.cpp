#include "cli/args.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace imgsync::cli {

namespace {

// "--aws-secret-access-key=XYZ" -> "--aws-secret-access-key": an option's name without its value.
std::string_view option_name(std::string_view word) {
    return word.substr(0, word.find('='));
}

bool looks_like_option(std::string_view word) {
    return word.size() > 1 && word[0] == '-';
}

} // namespace

// The arguments before "--".
std::vector<std::string_view> option_words(int argc, char** argv) {
    std::vector<std::string_view> words;
    for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
        words.emplace_back(argv[i]);
    }
    return words;
}

// --secret-access-key, --aws_session_token, --password, --api-key: names no imgsync option has.
bool credential_like(std::string_view word) {
    std::string name;
    for (char c : option_name(word)) {
        name += c == '_' ? '-' : util::ascii_lower(c);
    }
    for (std::string_view w : {"secret", "password", "passwd", "passphrase", "token", "access-key",
                               "credential", "api-key", "apikey"}) {
        if (name.find(w) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// Credentials never come from the command line (they would show in ps and the shell history).
// An option that looks like one is refused by its name alone: its value, after '=' or as the
// next argument, is never repeated, because error lines end up in the journal.
void refuse_credential_options(const std::vector<std::string_view>& words) {
    for (std::string_view w : words) {
        if (looks_like_option(w) && credential_like(w)) {
            throw Error(ExitCode::usage,
                        fmt::format("{}: credentials are not accepted on the command line (the "
                                    "value is not shown); use AWS_ACCESS_KEY_ID / "
                                    "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or a profile in "
                                    "~/.aws/credentials",
                                    option_name(w)));
        }
    }
}

// CLI11 quotes unexpected arguments whole. That repeats whatever followed a mistyped option,
// which may be a secret, so this message names options without their values and leaves out every
// unexpected word that follows an option.
std::string unexpected_arguments(const std::vector<std::string>& extras,
                                 const std::vector<std::string_view>& words) {
    std::vector<std::string> shown;
    std::size_t hidden = 0;
    for (const std::string& e : extras) {
        if (looks_like_option(e)) {
            shown.emplace_back(option_name(e));
            hidden += e.find('=') != std::string::npos ? 1 : 0;
            continue;
        }
        bool after_option = false;
        for (std::size_t i = 1; i < words.size(); ++i) {
            after_option = after_option || (words[i] == e && looks_like_option(words[i - 1]));
        }
        if (after_option) {
            ++hidden;
        } else {
            shown.push_back(e);
        }
    }
    std::string out = extras.size() > 1 ? "unexpected arguments" : "unexpected argument";
    for (std::size_t i = 0; i < shown.size(); ++i) {
        out += (i == 0 ? ": " : ", ") + shown[i];
    }
    if (hidden > 0) {
        out += fmt::format("{}{} option value{} not shown{}", shown.empty() ? " (" : " (and ",
                           hidden, hidden == 1 ? "" : "s", ")");
    }
    return out;
}

// What may be the value of an option imgsync does not have: the word after it, or what follows
// its '='. CLI11 may take such a word for a positional argument and quote it in an error
// ("Could not convert: ids = ..."); those quotes are cut out.
std::string without_unknown_values(std::string message, const std::vector<std::string_view>& words,
                                   const std::set<std::string>& known) {
    std::vector<std::string_view> suspects;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view w = words[i];
        if (!looks_like_option(w) || known.count(std::string(option_name(w)))) {
            continue;
        }
        if (w.find('=') != std::string_view::npos) {
            suspects.push_back(w.substr(w.find('=') + 1));
        } else if (i + 1 < words.size()) {
            suspects.push_back(words[i + 1]);
        }
    }
    for (std::string_view v : suspects) {
        if (v.size() < 4) { // too short to be a secret, and would match inside other words
            continue;
        }
        constexpr std::string_view hidden = "(value not shown)";
        for (auto at = message.find(v); at != std::string::npos;
             at = message.find(v, at + hidden.size())) {
            message.replace(at, v.size(), hidden);
        }
    }
    return message;
}

// Before the parse has finished: --check among the arguments, unless they name another command
// first (`imgsync check` is a command; `upload --check` is an upload's usage error).
Reporting reporting_for(const std::vector<std::string_view>& words,
                        const std::set<std::string>& commands) {
    bool check = false;
    for (std::string_view w : words) {
        if (w == "--check") {
            check = true;
        } else if (w.rfind("--check=", 0) == 0) {
            auto v = w.substr(8);
            check = !(v == "false" || v == "0" || v == "no" || v == "off");
        }
    }
    if (!check) {
        return Reporting::command;
    }
    for (std::string_view w : words) {
        if (commands.count(std::string(w))) {
            return w == "status" ? Reporting::plugin : Reporting::command;
        }
    }
    return Reporting::plugin;
}

// The message CLI11's IsMember gave, so a bad name reads as it always has.
CLI::Validator one_of(NameTable names) {
    std::string listed = "{";
    for (const auto& [name, text] : names) {
        listed += (listed.size() > 1 ? "," : "") + name;
    }
    listed += "}";
    return CLI::Validator(
        [names = std::move(names), listed](std::string& input) -> std::string {
            for (const auto& [name, text] : names) {
                if (input == name) {
                    input = text;
                    return {};
                }
            }
            return input + " not in " + listed;
        },
        listed, one_of_validator_name);
}

} // namespace imgsync::cli
