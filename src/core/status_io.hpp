// Reading a status report from the state file and writing it as Prometheus metrics: shared by
// `status` and by `upload --metrics-file`.
#pragma once

#include "core/report.hpp"
#include "storage/store.hpp"

#include <string>

namespace imgsync::core {

StatusReport load_status(storage::Store& store, std::int64_t window_seconds = 24 * 3600);
// Atomically (temporary file, then rename), for node_exporter's textfile collector.
void write_metrics(const std::string& path, const StatusReport& report);

} // namespace imgsync::core
