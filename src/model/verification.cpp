#include "model/verification.hpp"

#include <algorithm>

namespace imgsync::core {

std::string_view to_string(VerifyScope scope) {
    switch (scope) {
    case VerifyScope::all:
        return "all";
    case VerifyScope::sample:
        return "sample";
    case VerifyScope::since:
        return "since";
    }
    return "all";
}

std::string_view to_string(ObjectCheck check) {
    switch (check) {
    case ObjectCheck::ok:
        return "ok";
    case ObjectCheck::missing:
        return "missing";
    case ObjectCheck::changed:
        return "changed";
    case ObjectCheck::unverified:
        return "unverified";
    }
    return "unverified";
}

std::string_view to_string(VerifyOutcome outcome) {
    switch (outcome) {
    case VerifyOutcome::ok:
        return "ok";
    case VerifyOutcome::problems:
        return "problems";
    case VerifyOutcome::interrupted:
        return "interrupted";
    case VerifyOutcome::failed:
        return "failed";
    }
    return "failed";
}

std::optional<VerifyOutcome> parse_verify_outcome(std::string_view text) {
    for (auto o : {VerifyOutcome::ok, VerifyOutcome::problems, VerifyOutcome::interrupted,
                   VerifyOutcome::failed}) {
        if (to_string(o) == text) {
            return o;
        }
    }
    return std::nullopt;
}

void count(VerifyTotals& t, ObjectCheck check) {
    ++t.checked;
    switch (check) {
    case ObjectCheck::ok:
        ++t.ok;
        break;
    case ObjectCheck::missing:
        ++t.missing;
        break;
    case ObjectCheck::changed:
        ++t.changed;
        break;
    case ObjectCheck::unverified:
        ++t.unverified;
        break;
    }
}

VerifyOutcome outcome_of(const VerifyTotals& t) {
    return t.missing + t.changed + t.unverified == 0 ? VerifyOutcome::ok : VerifyOutcome::problems;
}

std::int64_t unresolved(const VerifyTotals& t) {
    return std::max<std::int64_t>(0, t.missing + t.changed - t.requeued);
}

} // namespace imgsync::core
