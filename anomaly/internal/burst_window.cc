#include "anomaly/internal/burst_window.h"

namespace innsyn::anomaly::internal {

void BurstWindow::ExpireBefore(absl::Time cutoff) {
  while (!items_.empty() && items_.front().time < cutoff) {
    auto it = distinct_.find(items_.front().key);
    if (it != distinct_.end() && --it->second == 0) distinct_.erase(it);
    items_.pop_front();
  }
}

void BurstWindow::Add(absl::Time time, uint64_t seq, const std::string& key) {
  items_.push_back({time, seq, key});
  ++distinct_[key];
}

std::vector<uint64_t> BurstWindow::Evidence() const {
  std::vector<uint64_t> seqs;
  for (const Item& item : items_) {
    if (seqs.size() == kMaxEvidence) break;
    seqs.push_back(item.seq);
  }
  return seqs;
}

}  // namespace innsyn::anomaly::internal
