// The one INI reader: imgsync's config file and the AWS shared files (~/.aws/credentials,
// ~/.aws/config) are both read with it. It splits the text into entries, in file order, each with
// its line number; what a section means, how keys are folded and what a bad line costs stay with
// the caller (cli/app for the config file, s3/credentials for the AWS files).
#pragma once

#include "util/strings.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::util {

// What differs between the dialects.
struct IniSyntax {
    // An option line is split at the first of these ("key = value", or "key: value" too).
    std::string_view delimiters = "=";
    // The white space trimmed from lines, keys, values and section names.
    bool (*is_space)(char) = ascii_space;
    // configparser's continuation lines (botocore): inside a section, an indented line continues
    // the option above it, appended to its value after a '\n'; after an option with an empty value
    // ("s3 ="), its indented `key = value` lines are nested options named "s3.key" instead. A blank
    // line ends either. Without this, indentation means nothing.
    bool continuations = false;
};

// imgsync's config file: `key = value`, no continuations.
inline constexpr IniSyntax imgsync_ini_syntax{};
// The AWS shared files, as botocore's configparser reads them.
inline constexpr IniSyntax aws_ini_syntax{"=:", ascii_isspace, true};

struct IniEntry {
    enum class Kind {
        section,     // "[name]": name between the brackets, trimmed; anything after ']' ignored
        bad_section, // a line starting with '[' that has no ']'
        option,      // "key = value": name is the key, trimmed, possibly empty; value trimmed
        bad_line,    // none of the above (no delimiter)
    };
    Kind kind = Kind::bad_line;
    std::size_t line = 0; // 1-based; for an option, the line it starts on
    std::string name;     // as written (case kept)
    std::string value;
};

// Every line but blank lines, comments (whole lines whose first non-blank character is '#' or
// ';'; a '#' later in a line is part of the value) and continuation lines (folded into the entry
// they continue). Never fails.
std::vector<IniEntry> parse_ini(std::string_view text, const IniSyntax& syntax);

} // namespace imgsync::util
