#include "model/key_template.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <array>
#include <ctime>
#include <utility>

namespace imgsync::model {

CalendarTime utc_time(std::int64_t epoch_ns) {
    std::time_t t = static_cast<std::time_t>(epoch_ns / 1000000000);
    if (epoch_ns < 0 && epoch_ns % 1000000000 != 0) {
        --t;
    }
    std::tm tm{};
    gmtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

util::Result<KeyTemplate> KeyTemplate::parse(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, Field>, 14> names{{
        {"prefix", Field::prefix},
        {"path", Field::path},
        {"dir", Field::dir},
        {"name", Field::name},
        {"stem", Field::stem},
        {"ext", Field::ext},
        {"sha256", Field::sha256},
        {"year", Field::year},
        {"month", Field::month},
        {"day", Field::day},
        {"hour", Field::hour},
        {"minute", Field::minute},
        {"second", Field::second},
        {"date", Field::date},
    }};
    const auto what = [&](std::string_view why) {
        return util::fail(fmt::format("--key-template \"{}\": {}", util::printable(text), why));
    };
    KeyTemplate t;
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '}') {
            if (i + 1 < text.size() && text[i + 1] == '}') {
                literal += '}';
                ++i;
                continue;
            }
            return what("a '}' without '{' (write \"}}\" for a brace)");
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{') {
            literal += '{';
            ++i;
            continue;
        }
        const auto close = text.find('}', i);
        if (close == std::string_view::npos) {
            return what("a '{' without '}'");
        }
        std::string_view spec = text.substr(i + 1, close - i - 1);
        std::size_t width = 0;
        if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
            const std::string_view n = spec.substr(colon + 1);
            spec = spec.substr(0, colon);
            if (spec != "sha256" || n.empty() || n.size() > 2 ||
                n.find_first_not_of("0123456789") != std::string_view::npos) {
                return what(fmt::format("\"{{{}:{}}}\": only {{sha256:N}} takes a width",
                                        util::printable(spec), util::printable(n)));
            }
            width = static_cast<std::size_t>(std::stoi(std::string(n)));
            if (width < 1 || width > 64) {
                return what("{sha256:N} needs N from 1 to 64");
            }
        }
        Field field = Field::literal;
        for (const auto& [name, f] : names) {
            if (name == spec) {
                field = f;
            }
        }
        if (field == Field::literal) {
            return what(fmt::format("unknown field {{{}}} (known: prefix, path, dir, name, stem, "
                                    "ext, sha256, sha256:N, year, month, day, hour, minute, "
                                    "second, date)",
                                    util::printable(spec)));
        }
        if (!literal.empty()) {
            t.pieces_.push_back({Field::literal, std::move(literal), 0});
            literal.clear();
        }
        t.pieces_.push_back({field, {}, width});
        t.uses_date_ = t.uses_date_ || field == Field::year || field == Field::month ||
                       field == Field::day || field == Field::hour || field == Field::minute ||
                       field == Field::second || field == Field::date;
        i = close;
    }
    if (!literal.empty()) {
        t.pieces_.push_back({Field::literal, std::move(literal), 0});
    }
    if (t.pieces_.empty()) {
        return what("empty");
    }
    return t;
}

std::string KeyTemplate::render(const KeyFields& f) const {
    const std::string_view rel = f.relative;
    const auto slash = rel.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
    const std::string_view dir = slash == std::string_view::npos ? "" : rel.substr(0, slash);
    const auto dot = name.rfind('.');
    const std::string_view stem =
        dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
    const CalendarTime& d = f.taken;
    std::string out;
    for (const Piece& p : pieces_) {
        switch (p.field) {
        case Field::literal:
            out += p.text;
            break;
        case Field::prefix:
            out += f.prefix;
            break;
        case Field::path:
            out += rel;
            break;
        case Field::dir:
            out += dir;
            break;
        case Field::name:
            out += name;
            break;
        case Field::stem:
            out += stem;
            break;
        case Field::ext:
            out += f.ext;
            break;
        case Field::sha256:
            out += p.width ? f.sha256.substr(0, p.width) : f.sha256;
            break;
        case Field::year:
            out += fmt::format("{:04}", d.year);
            break;
        case Field::month:
            out += fmt::format("{:02}", d.month);
            break;
        case Field::day:
            out += fmt::format("{:02}", d.day);
            break;
        case Field::hour:
            out += fmt::format("{:02}", d.hour);
            break;
        case Field::minute:
            out += fmt::format("{:02}", d.minute);
            break;
        case Field::second:
            out += fmt::format("{:02}", d.second);
            break;
        case Field::date:
            out += fmt::format("{:04}/{:02}/{:02}", d.year, d.month, d.day);
            break;
        }
    }
    return out;
}

} // namespace imgsync::model
