#include "pass/verdict.hpp"

#include <fmt/format.h>

namespace imgsync::core {

std::string_view to_string(Blame blame) {
    switch (blame) {
    case Blame::image:
        return "image";
    case Blame::hold:
        return "hold";
    case Blame::pass:
        return "pass";
    }
    return "unknown";
}

std::string_view to_string(StopReason reason) {
    switch (reason) {
    case StopReason::none:
        return "none";
    case StopReason::deadline:
        return "deadline";
    case StopReason::interrupted:
        return "interrupted";
    case StopReason::failed:
        return "failed";
    }
    return "unknown";
}

bool PassHealth::on_success() {
    if (proven_) {
        return false;
    }
    proven_ = true;
    held_ = 0;
    return true;
}

Blame PassHealth::on_failure(FailureClass failure, bool refused_before) {
    switch (failure) {
    case FailureClass::image:
        return Blame::image;
    case FailureClass::pass:
        return Blame::pass;
    case FailureClass::refused:
        if (refused_before) {
            return Blame::image;
        }
        break;
    case FailureClass::transient:
        break;
    }
    if (proven_) {
        return Blame::image;
    }
    ++held_;
    return Blame::hold;
}

PassVerdict decide_verdict(const PassTally& t) {
    auto with_last = [&](std::string text) {
        return t.last_failure.empty() ? text
                                      : fmt::format("{}; last error: {}", text, t.last_failure);
    };
    if (t.stop == StopReason::interrupted) {
        return {RunOutcome::interrupted, "stopped by a signal", ExitCode::interrupted};
    }
    if (t.stop == StopReason::failed) {
        return {RunOutcome::failed,
                t.proven || t.held == 0
                    ? t.last_failure
                    : with_last(fmt::format("{} image(s) failed and none succeeded", t.held)),
                ExitCode::pass_failed};
    }
    if (!t.proven && t.held > 0) {
        return {RunOutcome::failed,
                with_last(fmt::format("{} image(s) failed and none succeeded", t.held)),
                ExitCode::pass_failed};
    }
    if (!t.proven && t.stop == StopReason::deadline && t.requests > 0) {
        return {RunOutcome::failed, with_last("no request succeeded before --max-duration"),
                ExitCode::pass_failed};
    }
    if (t.failed > 0 || t.deferred > 0) {
        return {RunOutcome::partial,
                fmt::format("{} failed, {} deferred to a later pass", t.failed, t.deferred),
                ExitCode::images_failed};
    }
    if (t.stop == StopReason::deadline) {
        return {RunOutcome::deadline, "stopped at --max-duration", ExitCode::ok};
    }
    if (t.limit_reached) {
        return {RunOutcome::limit, "stopped at --max-images or --max-bytes", ExitCode::ok};
    }
    return {RunOutcome::ok, "", ExitCode::ok};
}

} // namespace imgsync::core
