// Events of one kind in a sliding window of event time (an actor's
// exports, an account's failed logins), with how many distinct keys
// (patients) they touch, for the burst rules. Each burst is one alert:
// `in_burst` stays set from the alert until the window drops back under the
// rule's limit.
//
// Memory: the events inside the window; an idle window is dropped by the
// engine's sweep.
#ifndef INNSYN_ANOMALY_INTERNAL_BURST_WINDOW_H_
#define INNSYN_ANOMALY_INTERNAL_BURST_WINDOW_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace innsyn::anomaly::internal {

// Evidence kept for one alert at most; the ledger holds the rest.
inline constexpr size_t kMaxEvidence = 50;

class BurstWindow {
 public:
  void ExpireBefore(absl::Time cutoff);
  void Add(absl::Time time, uint64_t seq, const std::string& key);
  size_t size() const { return items_.size(); }
  size_t distinct() const { return distinct_.size(); }
  bool empty() const { return items_.empty(); }
  uint64_t first_seq() const { return items_.front().seq; }
  absl::Time first_time() const { return items_.front().time; }
  absl::Time last_time() const { return items_.back().time; }
  std::vector<uint64_t> Evidence() const;

  // Raised for the burst now in the window; cleared once the window no
  // longer exceeds the limit, so one burst is one alert.
  bool in_burst = false;

 private:
  struct Item {
    absl::Time time;
    uint64_t seq;
    std::string key;
  };
  std::deque<Item> items_;
  absl::flat_hash_map<std::string, int> distinct_;
};

}  // namespace innsyn::anomaly::internal

#endif  // INNSYN_ANOMALY_INTERNAL_BURST_WINDOW_H_
