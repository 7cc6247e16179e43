// Reads the ledger's footprint and RocksDB's health at each scrape:
// innsyn_ledger_disk_bytes and the innsyn_rocksdb_* metrics. Watches one
// ledger at a time; Watch(nullptr) before the ledger is closed, after which
// scrapes simply omit these metrics. Thread-safe.
#ifndef INNSYN_EXPORTERS_LEDGER_COLLECTOR_H_
#define INNSYN_EXPORTERS_LEDGER_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/ledger.h"

namespace innsyn::exporters {

class LedgerCollector : public prometheus::Collectable {
 public:
  // Not owned; must stay open until Watch(nullptr) has returned.
  void Watch(const storage::Ledger* ledger);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable absl::Mutex mu_;
  const storage::Ledger* ledger_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace innsyn::exporters

#endif  // INNSYN_EXPORTERS_LEDGER_COLLECTOR_H_
