// Prometheus metrics for innsynd, served on /metrics by prometheus-cpp's
// exposer. Metric names follow Prometheus conventions (innsyn_ prefix,
// _total counters, _seconds histograms). Thread-safe: every method may be
// called from any thread.
#ifndef INNSYN_EXPORTERS_METRICS_H_
#define INNSYN_EXPORTERS_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace innsyn::exporters {

class Metrics {
 public:
  // Serves /metrics on `listen` ("host:port"; port 0 picks one); an empty
  // `listen` keeps the metrics in memory only.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& listen);
  ~Metrics();

  void EventsAppended(std::string_view source, std::string_view action, uint64_t count);
  void EventsRejected(std::string_view reason, uint64_t count);
  void ObserveAppendLatency(absl::Duration latency);
  void ObserveQueryLatency(std::string_view method, absl::Duration latency);
  void SetLedgerSize(uint64_t entries);
  void SetLastCheckpointTime(absl::Time time);
  // The port /metrics listens on, or 0 without an endpoint.
  int port() const;
  // The exposition text, as a scrape would see it.
  std::string Scrape() const;

 private:
  struct State;
  explicit Metrics(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace innsyn::exporters

#endif  // INNSYN_EXPORTERS_METRICS_H_
