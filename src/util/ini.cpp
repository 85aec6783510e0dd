#include "util/ini.hpp"

namespace imgsync::util {

std::vector<IniEntry> parse_ini(std::string_view text, const IniSyntax& syntax) {
    using Kind = IniEntry::Kind;
    const auto trim_ = [&](std::string_view s) { return trim_if(s, syntax.is_space); };
    std::vector<IniEntry> out;
    // Continuations: a well-formed section is open, the entry an indented line continues (an
    // index into out, or none), and whether that entry opened a nested block.
    bool in_section = false;
    std::size_t last = SIZE_MAX;
    bool nested = false;
    std::size_t line_no = 0;

    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view raw = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++line_no;

        const auto line = trim_(raw);
        if (line.empty()) {
            last = SIZE_MAX;
            nested = false;
            continue;
        }
        if (line.front() == '#' || line.front() == ';') {
            continue;
        }

        IniEntry e;
        e.line = line_no;
        const auto pos = line.find_first_of(syntax.delimiters);
        if (pos != std::string_view::npos) {
            e.kind = Kind::option;
            e.name = std::string(trim_(line.substr(0, pos)));
            e.value = std::string(trim_(line.substr(pos + 1)));
        }

        if (syntax.continuations && syntax.is_space(raw.front()) && in_section &&
            last != SIZE_MAX) {
            if (nested && e.kind == Kind::option && !e.name.empty()) {
                e.name = out[last].name + "." + e.name;
                out.push_back(std::move(e));
            } else if (!nested) {
                out[last].value += '\n';
                out[last].value += line;
            }
            continue;
        }
        last = SIZE_MAX;
        nested = false;
        if (line.front() == '[') {
            const auto close = line.find(']');
            in_section = close != std::string_view::npos;
            e.kind = in_section ? Kind::section : Kind::bad_section;
            e.name = in_section ? std::string(trim_(line.substr(1, close - 1))) : std::string();
            e.value.clear();
        } else if (e.kind == Kind::option && !e.name.empty() && in_section) {
            last = out.size();
            nested = e.value.empty();
        }
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace imgsync::util
