#include "cli/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace imgsync::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::optional<std::string> nearest(std::string_view word, const std::set<std::string>& known) {
    if (word.empty()) {
        return std::nullopt;
    }
    std::optional<std::string> prefixed;
    std::size_t prefixes = 0;
    for (const std::string& k : known) {
        if (k.size() > word.size() && k.compare(0, word.size(), word) == 0) {
            prefixed = k;
            ++prefixes;
        }
    }
    if (prefixes == 1) {
        return prefixed;
    }
    const std::size_t limit = std::max<std::size_t>(1, word.size() / 4) + 1;
    std::optional<std::string> best;
    std::size_t best_distance = limit + 1;
    for (const std::string& k : known) {
        const std::size_t d = edit_distance(word, k);
        if (d < best_distance) {
            best = k;
            best_distance = d;
        }
    }
    return best;
}

std::optional<std::string_view> first_operand(const std::vector<std::string_view>& words,
                                              const std::set<std::string>& value_options) {
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view w = words[i];
        if (w.size() > 1 && w[0] == '-') {
            if (w.find('=') == std::string_view::npos && value_options.count(std::string(w))) {
                ++i; // its value
            }
            continue;
        }
        return w;
    }
    return std::nullopt;
}

namespace {

std::string listed(const std::set<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

} // namespace

std::string command_problem(const std::vector<std::string_view>& words,
                            const std::set<std::string>& commands,
                            const std::set<std::string>& value_options) {
    const auto operand = first_operand(words, value_options);
    if (!operand) {
        return fmt::format("no command given; commands: {} (imgsync --help)", listed(commands));
    }
    if (auto near = nearest(*operand, commands)) {
        return fmt::format("unknown command \"{}\"; did you mean \"{}\"?", *operand, *near);
    }
    return fmt::format("unknown command \"{}\"; commands: {}", *operand, listed(commands));
}

std::string option_problem(std::string_view option, const std::set<std::string>& known,
                           std::string_view command) {
    const std::string_view name = option.substr(0, option.find('='));
    if (auto near = nearest(name, known)) {
        return fmt::format("unknown option {}; did you mean {}?", name, *near);
    }
    return fmt::format("unknown option {} (imgsync {}--help lists the options)", name,
                       command.empty() ? std::string() : std::string(command) + " ");
}

} // namespace imgsync::cli
