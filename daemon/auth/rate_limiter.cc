#include "daemon/auth/rate_limiter.h"

#include <algorithm>

namespace innsyn::daemon {
namespace {

constexpr size_t kMaxTrackedIdentities = 10000;

}  // namespace

RateLimiter::RateLimiter(double calls_per_second, double burst)
    : calls_per_second_(calls_per_second), burst_(std::max(burst, 1.0)) {}

bool RateLimiter::TryAcquire(std::string_view identity, absl::Time now) {
  if (calls_per_second_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(std::string(identity), Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.updated) {
    double refill = absl::ToDoubleSeconds(now - bucket.updated) * calls_per_second_;
    bucket.tokens = std::min(burst_, bucket.tokens + refill);
    bucket.updated = now;
  }
  bool allowed = bucket.tokens >= 1;
  if (allowed) bucket.tokens -= 1;
  if (inserted && buckets_.size() > kMaxTrackedIdentities) ForgetFullBuckets(now);
  return allowed;
}

void RateLimiter::ForgetFullBuckets(absl::Time now) {
  absl::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& bucket = entry.second;
    return bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * calls_per_second_ >=
           burst_;
  });
}

}  // namespace innsyn::daemon
