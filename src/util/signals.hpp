// The stop signals (SIGTERM, SIGINT, SIGHUP) of the long commands (upload, verify): the handler
// only counts them, and the loops act on the count.
#pragma once

#include <csignal>

namespace imgsync::util {

// Signals seen while a StopSignals scope is alive.
extern volatile std::sig_atomic_t stop_signals;

// Installs the counting handler for SIGTERM, SIGINT and SIGHUP (SA_RESTART off, so that a
// blocking wait returns early), resets the count, and restores the previous handlers at the end.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

  private:
    struct sigaction old_[3]{};
};

} // namespace imgsync::util
