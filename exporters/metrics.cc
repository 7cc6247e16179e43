#include "exporters/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>

#include "absl/strings/str_cat.h"

namespace innsyn::exporters {
namespace {

// Append latency is dominated by the WAL fsync: buckets from 100 us to 10 s.
const prometheus::Histogram::BucketBoundaries kLatencyBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

}  // namespace

struct Metrics::State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  prometheus::Family<prometheus::Counter>& appended =
      prometheus::BuildCounter()
          .Name("innsyn_events_appended_total")
          .Help("Access events durably appended to the ledger, by source and action.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& rejected =
      prometheus::BuildCounter()
          .Name("innsyn_events_rejected_total")
          .Help("Access events refused and not recorded, by reason.")
          .Register(*registry);
  prometheus::Histogram& append_latency =
      prometheus::BuildHistogram()
          .Name("innsyn_append_duration_seconds")
          .Help("Time from receiving an append request to its durable acknowledgement.")
          .Register(*registry)
          .Add({}, kLatencyBucketsSeconds);
  prometheus::Family<prometheus::Histogram>& query_latency =
      prometheus::BuildHistogram()
          .Name("innsyn_query_duration_seconds")
          .Help("Time to answer a query of the ledger, by method.")
          .Register(*registry);
  prometheus::Gauge& ledger_size = prometheus::BuildGauge()
                                       .Name("innsyn_ledger_entries")
                                       .Help("Entries in the ledger (the Merkle tree size).")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Gauge& last_checkpoint =
      prometheus::BuildGauge()
          .Name("innsyn_last_checkpoint_timestamp_seconds")
          .Help("Unix time at which the latest checkpoint was signed.")
          .Register(*registry)
          .Add({});
};

Metrics::Metrics(std::unique_ptr<State> state) : state_(std::move(state)) {}
Metrics::~Metrics() = default;

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& listen) {
  auto state = std::make_unique<State>();
  if (!listen.empty()) {
    try {
      state->exposer = std::make_unique<prometheus::Exposer>(listen);
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("metrics listener ", listen, ": ", e.what()));
    }
    state->exposer->RegisterCollectable(state->registry);
  }
  return std::unique_ptr<Metrics>(new Metrics(std::move(state)));
}

void Metrics::EventsAppended(std::string_view source, std::string_view action, uint64_t count) {
  state_->appended.Add({{"source", std::string(source)}, {"action", std::string(action)}})
      .Increment(static_cast<double>(count));
}

void Metrics::EventsRejected(std::string_view reason, uint64_t count) {
  state_->rejected.Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(count));
}

void Metrics::ObserveAppendLatency(absl::Duration latency) {
  state_->append_latency.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::ObserveQueryLatency(std::string_view method, absl::Duration latency) {
  state_->query_latency.Add({{"method", std::string(method)}}, kLatencyBucketsSeconds)
      .Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::SetLedgerSize(uint64_t entries) {
  state_->ledger_size.Set(static_cast<double>(entries));
}

void Metrics::SetLastCheckpointTime(absl::Time time) {
  state_->last_checkpoint.Set(absl::ToDoubleSeconds(time - absl::UnixEpoch()));
}

int Metrics::port() const {
  if (!state_->exposer) return 0;
  std::vector<int> ports = state_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::string Metrics::Scrape() const {
  return prometheus::TextSerializer().Serialize(state_->registry->Collect());
}

}  // namespace innsyn::exporters
