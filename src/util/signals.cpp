#include "util/signals.hpp"

namespace imgsync::util {

volatile std::sig_atomic_t stop_signals = 0;

namespace {

constexpr int signals[] = {SIGTERM, SIGINT, SIGHUP};

extern "C" void on_stop_signal(int) {
    stop_signals = stop_signals + 1;
}

} // namespace

StopSignals::StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) {
        sigaction(signals[i], &sa, &old_[i]);
    }
    stop_signals = 0;
}

StopSignals::~StopSignals() {
    for (int i = 0; i < 3; ++i) {
        sigaction(signals[i], &old_[i], nullptr);
    }
}

} // namespace imgsync::util
