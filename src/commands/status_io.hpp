// Reading a status report from the state file and writing it as Prometheus metrics: shared by
// `status` and by `upload --metrics-file`.
#pragma once

#include "report/report.hpp"
#include "storage/store.hpp"
#include "util/log.hpp"

#include <string>

namespace imgsync::core {

StatusReport load_status(storage::Store& store, std::int64_t window_seconds = 24 * 3600);
// Atomically (util::write_file_atomic: a fresh temporary file, then rename), mode 0644, for
// node_exporter's textfile collector. A failure is logged as the error event `metrics_failed`
// and returned as false: the metrics are a by-product, not the state file.
bool write_metrics(const std::string& path, const StatusReport& report, util::Logger& log);

} // namespace imgsync::core
