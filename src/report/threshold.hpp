// A --warn-*/--crit-* threshold of `status --check`: imgsync's plain number (alert when the value
// is at least N, as always), or a range in the Monitoring Plugins syntax:
//   N       alert when value >= N          (imgsync's meaning; Monitoring Plugins read it as 0:N)
//   N:      alert when value <  N
//   ~:N     alert when value >  N
//   N:M     alert when value <  N or > M   (outside the range)
//   @N:M    alert when N <= value <= M     (inside the range)
// The bounds are counts or durations, as the option takes them (a bound parser says which).
// Pure: the text and the bound parser are parameters.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace imgsync::core {

struct Threshold {
    enum class Kind { at_least, outside, inside };
    Kind kind = Kind::at_least;
    std::optional<std::int64_t> low, high; // at_least: low is N; a missing bound is infinite

    Threshold() = default;
    Threshold(std::int64_t at_least) : low(at_least) {} // NOLINT: a plain number is a threshold

    bool alerts(std::int64_t value) const;
    // The range for perfdata, in base units: "1000", "10:", "~:10", "10:20", "@10:20".
    std::string perfdata() const;
    // For the status line, with show() for each bound: ">= 1000", "< 10", "> 10", "outside
    // 10:20", "inside 10:20".
    std::string describe(std::string (*show)(std::int64_t)) const;
    // A plain number, the only kind that has an order ("warning above critical").
    bool plain() const { return kind == Kind::at_least; }
};

using BoundParser = std::function<util::Result<std::int64_t>(std::string_view)>;

// "10", "10:", "~:10", "10:20", "@10:20" (bounds read by parse_bound); refuses a range whose
// start is above its end, an empty text, "@" alone, "~" as an end.
util::Result<Threshold> parse_threshold(std::string_view text, const BoundParser& parse_bound);

// Whole numbers, optionally signed: the bound parser of count thresholds.
util::Result<std::int64_t> parse_count(std::string_view text);

} // namespace imgsync::core
