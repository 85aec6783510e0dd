#include "model/image_state.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace imgsync::core {
namespace {

constexpr std::array<ImageState, 4> all_states{ImageState::pending, ImageState::uploading,
                                               ImageState::uploaded, ImageState::failed};
constexpr std::array<ImageEvent, 6> all_events{ImageEvent::claim,
                                               ImageEvent::succeed,
                                               ImageEvent::transient_failure,
                                               ImageEvent::permanent_failure,
                                               ImageEvent::interrupted,
                                               ImageEvent::requeue};

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) {
        return std::numeric_limits<std::int64_t>::max();
    }
    return a + b;
}

int saturating_increment(int n) {
    return n == std::numeric_limits<int>::max() ? n : n + 1;
}

} // namespace

std::string_view to_string(ImageState state) {
    switch (state) {
    case ImageState::pending:
        return "pending";
    case ImageState::uploading:
        return "uploading";
    case ImageState::uploaded:
        return "uploaded";
    case ImageState::failed:
        return "failed";
    }
    return "unknown";
}

std::string_view to_string(ImageEvent event) {
    switch (event) {
    case ImageEvent::claim:
        return "claim";
    case ImageEvent::succeed:
        return "succeed";
    case ImageEvent::transient_failure:
        return "transient_failure";
    case ImageEvent::permanent_failure:
        return "permanent_failure";
    case ImageEvent::interrupted:
        return "interrupted";
    case ImageEvent::requeue:
        return "requeue";
    }
    return "unknown";
}

std::optional<ImageState> parse_image_state(std::string_view text) {
    for (const ImageState s : all_states) {
        if (to_string(s) == text) {
            return s;
        }
    }
    return std::nullopt;
}

std::optional<ImageEvent> parse_image_event(std::string_view text) {
    for (const ImageEvent e : all_events) {
        if (to_string(e) == text) {
            return e;
        }
    }
    return std::nullopt;
}

std::optional<ImageState> transition(ImageState from, ImageEvent event) {
    switch (event) {
    case ImageEvent::claim:
        if (from == ImageState::pending) {
            return ImageState::uploading;
        }
        break;
    case ImageEvent::succeed:
        if (from == ImageState::uploading) {
            return ImageState::uploaded;
        }
        break;
    case ImageEvent::transient_failure:
    case ImageEvent::interrupted:
        if (from == ImageState::uploading) {
            return ImageState::pending;
        }
        break;
    case ImageEvent::permanent_failure:
        if (from == ImageState::uploading) {
            return ImageState::failed;
        }
        break;
    case ImageEvent::requeue:
        if (from == ImageState::failed) {
            return ImageState::pending;
        }
        break;
    }
    return std::nullopt;
}

std::optional<ImageRecord> apply(const ImageRecord& record, ImageEvent event, std::int64_t now,
                                 const RetryPolicy& policy) {
    const auto target = transition(record.state, event);
    if (!target) {
        return std::nullopt;
    }
    ImageRecord next = record;
    next.state = *target;
    switch (event) {
    case ImageEvent::claim:
    case ImageEvent::interrupted:
        break;
    case ImageEvent::succeed:
        next.next_attempt_at = 0;
        break;
    case ImageEvent::transient_failure:
        next.attempts = saturating_increment(record.attempts);
        if (should_dead_letter(next.attempts, policy.max_attempts)) {
            next.state = ImageState::failed;
            next.next_attempt_at = 0;
        } else {
            next.next_attempt_at = saturating_add(
                now,
                next_attempt_delay(next.attempts, policy.base_delay, policy.max_delay).count());
        }
        break;
    case ImageEvent::permanent_failure:
        next.attempts = saturating_increment(record.attempts);
        next.next_attempt_at = 0;
        break;
    case ImageEvent::requeue:
        next.attempts = 0;
        next.next_attempt_at = 0;
        break;
    }
    return next;
}

bool is_due(const ImageRecord& record, std::int64_t now) {
    return record.state == ImageState::pending && record.next_attempt_at <= now;
}

std::chrono::seconds next_attempt_delay(int total_attempts, std::chrono::seconds base,
                                        std::chrono::seconds cap) {
    if (total_attempts <= 0 || base.count() <= 0 || cap.count() <= 0) {
        return std::chrono::seconds(0);
    }
    // Double step by step and stop at the cap, so nothing overflows whatever the count.
    std::chrono::seconds delay = base;
    for (int i = 1; i < total_attempts && delay < cap; ++i) {
        if (delay > cap / 2) {
            return cap;
        }
        delay *= 2;
    }
    return std::min(delay, cap);
}

bool should_dead_letter(int total_attempts, int max_attempts) {
    return max_attempts > 0 && total_attempts >= max_attempts;
}

} // namespace imgsync::core
