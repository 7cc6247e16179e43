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

// An 11-digit id like a national identity number.
std::string PatientId(uint64_t patient);
// Event number `n` (event_id "bench-<n>"), drawn from `random`.
v1::AccessEvent MakeEvent(uint64_t n, std::mt19937_64& random, const ClinicMix& mix);
// The value at fraction `p` (0..1) of `values`, sorted.
double Percentile(std::vector<double> values, double p);

}  // namespace innsyn::bench

#endif  // INNSYN_BENCH_CLINIC_EVENTS_H_
