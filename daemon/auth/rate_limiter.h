// Per-identity token buckets: each identity may make `calls_per_second`
// calls a second on average and `burst` in a row. Identities are the
// certificate names of innsyn's own CA, so they are few; buckets that have
// refilled completely are forgotten once too many are tracked.
// Thread-safe.
#ifndef INNSYN_DAEMON_AUTH_RATE_LIMITER_H_
#define INNSYN_DAEMON_AUTH_RATE_LIMITER_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace innsyn::daemon {

class RateLimiter {
 public:
  // `calls_per_second` 0 lets every call through.
  RateLimiter(double calls_per_second, double burst);

  // Takes a token from `identity`'s bucket at `now`; false if it is empty.
  bool TryAcquire(std::string_view identity, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  void ForgetFullBuckets(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double calls_per_second_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_AUTH_RATE_LIMITER_H_
