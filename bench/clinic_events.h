// The clinic-like event mix shared by innsyn's benchmarks: journal reads and
// updates by clinicians, invoices, website logins and bookings.
#ifndef INNSYN_BENCH_CLINIC_EVENTS_H_
#define INNSYN_BENCH_CLINIC_EVENTS_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "innsyn/v1/event.pb.h"

namespace innsyn::bench {

struct ClinicMix {
  int patients = 20'000;
  int staff = 40;
};

// The systems one client of the benchmark plays (instance "bench-<client>"
// of the journal, billing and website), each numbering its own events
// 1, 2, 3, ... without gaps, as a real source does, so that the anomaly
// detectors see no sequence gaps. One per client; not thread-safe.
struct MixSources {
  explicit MixSources(int client) : instance("bench-" + std::to_string(client)) {}
  std::string instance;
  uint64_t journal_seq = 0;
  uint64_t billing_seq = 0;
  uint64_t website_seq = 0;
};

// An 11-digit id like a national identity number.
std::string PatientId(uint64_t patient);
// Event number `n` (event_id "bench-<n>"), drawn from `random`, sent by one
// of `sources`' systems with that system's next sequence number.
v1::AccessEvent MakeEvent(uint64_t n, std::mt19937_64& random, const ClinicMix& mix,
                          MixSources& sources);
// The value at fraction `p` (0..1) of `values`, sorted.
double Percentile(std::vector<double> values, double p);

}  // namespace innsyn::bench

#endif  // INNSYN_BENCH_CLINIC_EVENTS_H_
