#include "pass/writes.hpp"

namespace imgsync::core::pass {

bool commit_due(int writes, double opened_at, double now) {
    constexpr int max_writes = 64;
    constexpr double max_seconds = 0.25;
    return writes >= max_writes || now - opened_at >= max_seconds;
}

} // namespace imgsync::core::pass
