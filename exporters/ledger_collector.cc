#include "exporters/ledger_collector.h"

namespace innsyn::exporters {
namespace {

using prometheus::MetricType;

prometheus::ClientMetric Sample(MetricType type, double value,
                                std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

prometheus::MetricFamily Family(const char* name, const char* help, MetricType type, double value) {
  return prometheus::MetricFamily{name, help, type, {Sample(type, value)}};
}

}  // namespace

void LedgerCollector::Watch(const storage::Ledger* ledger) {
  absl::MutexLock lock(&mu_);
  ledger_ = ledger;
}

std::vector<prometheus::MetricFamily> LedgerCollector::Collect() const {
  absl::MutexLock lock(&mu_);
  if (ledger_ == nullptr) return {};
  const storage::Ledger::StorageStats stats = ledger_->GetStorageStats();
  auto value = [](uint64_t v) { return static_cast<double>(v); };
  std::vector<prometheus::MetricFamily> families;
  families.push_back(
      Family("innsyn_ledger_disk_bytes",
             "Bytes the ledger's RocksDB files (tables, WAL, manifest) take on disk.",
             MetricType::Gauge, value(stats.disk_bytes)));
  families.push_back(Family("innsyn_data_filesystem_size_bytes",
                            "Size of the filesystem holding the data folder.", MetricType::Gauge,
                            value(stats.filesystem_bytes)));
  families.push_back(Family("innsyn_data_filesystem_avail_bytes",
                            "Bytes innsynd may still write on the data folder's filesystem.",
                            MetricType::Gauge, value(stats.filesystem_avail_bytes)));
  families.push_back(Family("innsyn_rocksdb_pending_compaction_bytes",
                            "RocksDB's estimate of the bytes compaction still has to rewrite.",
                            MetricType::Gauge, value(stats.pending_compaction_bytes)));
  families.push_back(Family("innsyn_rocksdb_running_compactions",
                            "RocksDB compactions running now.", MetricType::Gauge,
                            value(stats.running_compactions)));
  families.push_back(Family("innsyn_rocksdb_memtable_bytes",
                            "Bytes held in RocksDB memtables, not yet flushed to tables.",
                            MetricType::Gauge, value(stats.memtable_bytes)));
  families.push_back(Family("innsyn_rocksdb_block_cache_bytes",
                            "Bytes held in RocksDB's block cache: table blocks, indexes and "
                            "filters, and the memtables, which are charged to it.",
                            MetricType::Gauge, value(stats.block_cache_bytes)));
  families.push_back(Family("innsyn_rocksdb_block_cache_capacity_bytes",
                            "The size RocksDB's block cache is bounded to.", MetricType::Gauge,
                            value(stats.block_cache_capacity_bytes)));
  families.push_back(Family("innsyn_rocksdb_table_readers_bytes",
                            "Bytes of index and filter blocks RocksDB holds outside its block "
                            "cache (the top levels of partitioned ones).",
                            MetricType::Gauge, value(stats.table_readers_bytes)));
  families.push_back(Family("innsyn_key_store_memtable_bytes",
                            "Bytes held in the key store's memtables (wrapped data keys not yet "
                            "flushed).",
                            MetricType::Gauge, value(stats.key_store_memtable_bytes)));
  families.push_back(Family("innsyn_key_store_cached_keys",
                            "Unwrapped data keys held in memory, so that ingest need not read "
                            "and unwrap them.",
                            MetricType::Gauge, value(stats.cached_data_keys)));
  families.push_back(Family("innsyn_rocksdb_background_errors_total",
                            "RocksDB background (flush and compaction) errors since the ledger "
                            "was opened.",
                            MetricType::Counter, value(stats.background_errors)));
  families.push_back(prometheus::MetricFamily{
      "innsyn_rocksdb_write_stalls_total",
      "Times RocksDB stopped or slowed writes to let compaction catch up, since the ledger was "
      "opened, by kind.",
      MetricType::Counter,
      {Sample(MetricType::Counter, value(stats.write_stall_stops), {{"kind", "stop"}}),
       Sample(MetricType::Counter, value(stats.write_stall_slowdowns), {{"kind", "slowdown"}})}});
  families.push_back(Family("innsyn_rocksdb_write_stopped",
                            "1 while RocksDB has stopped writes, else 0.", MetricType::Gauge,
                            stats.write_stopped ? 1 : 0));
  const storage::Ledger::Integrity integrity = ledger_->GetIntegrity();
  families.push_back(Family("innsyn_ledger_read_only",
                            "1 once the ledger failed verification (or an entry failed its check "
                            "when read): innsynd takes no events and signs no checkpoint until "
                            "restarted on a repaired ledger; else 0.",
                            MetricType::Gauge, integrity.damaged ? 1 : 0));
  families.push_back(Family("innsyn_ledger_verified_at_start",
                            "1 once the full verification at start has passed (innsynd signs no "
                            "checkpoint over entries not yet verified); else 0.",
                            MetricType::Gauge, integrity.verified ? 1 : 0));
  families.push_back(Family("innsyn_rocksdb_delayed_write_rate_bytes_per_second",
                            "The write rate RocksDB allows while it slows writes down; 0 when "
                            "it does not.",
                            MetricType::Gauge, value(stats.delayed_write_rate)));
  return families;
}

}  // namespace innsyn::exporters
