#include "model/fleet_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace imgsync::core {

FleetGrant fleet_take(double tokens, double updated_at, double now, double rate, double burst,
                      double want) {
    double available = std::min(burst, tokens + std::max(0.0, now - updated_at) * rate);
    double granted = std::max(0.0, std::min(want, std::floor(available)));
    return {granted, available - granted};
}

double fleet_default_burst(double rate) {
    return std::max(1.0, rate);
}

} // namespace imgsync::core
