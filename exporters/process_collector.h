// The standard Prometheus process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, ...), read from /proc at
// each scrape, as the official clients export them. prometheus-cpp has no
// such collector. Thread-safe: Collect keeps no state.
#ifndef INNSYN_EXPORTERS_PROCESS_COLLECTOR_H_
#define INNSYN_EXPORTERS_PROCESS_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace innsyn::exporters {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace innsyn::exporters

#endif  // INNSYN_EXPORTERS_PROCESS_COLLECTOR_H_
