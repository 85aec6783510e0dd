#include "model/run_outcome.hpp"

#include <array>
#include <utility>

namespace imgsync::core {
namespace {

constexpr std::array<std::pair<RunOutcome, std::string_view>, 8> names{{
    {RunOutcome::running, "running"},
    {RunOutcome::ok, "ok"},
    {RunOutcome::limit, "limit"},
    {RunOutcome::deadline, "deadline"},
    {RunOutcome::partial, "partial"},
    {RunOutcome::interrupted, "interrupted"},
    {RunOutcome::failed, "failed"},
    {RunOutcome::crashed, "crashed"},
}};

} // namespace

std::string_view to_string(RunOutcome outcome) {
    for (const auto& [value, name] : names) {
        if (value == outcome) {
            return name;
        }
    }
    return "unknown";
}

std::optional<RunOutcome> parse_run_outcome(std::string_view text) {
    for (const auto& [value, name] : names) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

bool is_success(RunOutcome outcome) {
    return outcome == RunOutcome::ok || outcome == RunOutcome::limit ||
           outcome == RunOutcome::deadline;
}

} // namespace imgsync::core
