#include "model/lease.hpp"

#include <algorithm>

namespace imgsync::core {

double renewal_interval(double lease_seconds) {
    return std::max(0.05, lease_seconds / 3);
}

bool renewal_due(double last_sent, double now, double lease_seconds) {
    return now - last_sent >= renewal_interval(lease_seconds);
}

bool lease_lost(double confirmed_sent, double now, double lease_seconds) {
    return now - confirmed_sent >= lease_seconds * 0.9;
}

bool claimable(ImageState state, std::int64_t next_attempt_at,
               std::optional<double> lease_expires_at, double now) {
    switch (state) {
    case ImageState::pending:
        return static_cast<double>(next_attempt_at) <= now;
    case ImageState::uploading:
        return lease_expires_at.has_value() && *lease_expires_at < now;
    case ImageState::uploaded:
    case ImageState::failed:
        return false;
    }
    return false;
}

} // namespace imgsync::core
