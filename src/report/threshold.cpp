#include "report/threshold.hpp"

#include <fmt/format.h>

#include <charconv>

namespace imgsync::core {

bool Threshold::alerts(std::int64_t value) const {
    const bool below = low && value < *low;
    const bool above = high && value > *high;
    switch (kind) {
    case Kind::at_least:
        return low && value >= *low;
    case Kind::outside:
        return below || above;
    case Kind::inside:
        return !below && !above;
    }
    return false;
}

namespace {

std::string bound(const std::optional<std::int64_t>& b, std::string (*show)(std::int64_t)) {
    return b ? show(*b) : std::string();
}

std::string plain_number(std::int64_t n) {
    return std::to_string(n);
}

std::string range_text(const Threshold& t, std::string (*show)(std::int64_t)) {
    std::string out = t.kind == Threshold::Kind::inside ? "@" : "";
    out += t.low ? show(*t.low) + ":" : std::string("~:");
    return out + bound(t.high, show);
}

} // namespace

std::string Threshold::perfdata() const {
    return kind == Kind::at_least ? bound(low, plain_number) : range_text(*this, plain_number);
}

std::string Threshold::describe(std::string (*show)(std::int64_t)) const {
    switch (kind) {
    case Kind::at_least:
        return ">= " + bound(low, show);
    case Kind::outside:
        if (low && !high) {
            return "< " + show(*low);
        }
        if (!low && high) {
            return "> " + show(*high);
        }
        return "outside " + range_text(*this, show);
    case Kind::inside:
        return "inside " + range_text(*this, show).substr(1);
    }
    return {};
}

util::Result<std::int64_t> parse_count(std::string_view text) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (text.empty() || ec != std::errc() || p != end) {
        return util::fail(fmt::format("'{}' is not a whole number", text));
    }
    return n;
}

util::Result<Threshold> parse_threshold(std::string_view text, const BoundParser& parse_bound) {
    const std::string quoted = fmt::format("threshold '{}'", text);
    Threshold t;
    std::string_view rest = text;
    if (!rest.empty() && rest.front() == '@') {
        t.kind = Threshold::Kind::inside;
        rest.remove_prefix(1);
    }
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
        if (t.kind == Threshold::Kind::inside || rest.empty()) {
            return util::fail(quoted + ": expected N, N:, ~:N, N:M or @N:M");
        }
        auto n = parse_bound(rest);
        if (!n) {
            return util::fail(quoted + ": " + n.error());
        }
        return Threshold(*n);
    }
    if (t.kind != Threshold::Kind::inside) {
        t.kind = Threshold::Kind::outside;
    }
    const std::string_view start = rest.substr(0, colon), end = rest.substr(colon + 1);
    if (start.empty() || end == "~") {
        return util::fail(quoted + ": expected N, N:, ~:N, N:M or @N:M");
    }
    if (start != "~") {
        auto n = parse_bound(start);
        if (!n) {
            return util::fail(quoted + ": " + n.error());
        }
        t.low = *n;
    }
    if (!end.empty()) {
        auto n = parse_bound(end);
        if (!n) {
            return util::fail(quoted + ": " + n.error());
        }
        t.high = *n;
    }
    if (t.low && t.high && *t.low > *t.high) {
        return util::fail(quoted + ": the start is above the end");
    }
    if (!t.low && !t.high) {
        return util::fail(quoted + ": a range needs a start or an end");
    }
    return t;
}

} // namespace imgsync::core
