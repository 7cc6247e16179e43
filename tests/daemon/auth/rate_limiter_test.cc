#include "daemon/auth/rate_limiter.h"

#include <gtest/gtest.h>

namespace innsyn::daemon {
namespace {

TEST(RateLimiter, BurstThenSteadyRatePerIdentity) {
  RateLimiter limiter(/*calls_per_second=*/2, /*burst=*/3);
  absl::Time t = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("a", t));
  EXPECT_FALSE(limiter.TryAcquire("a", t));
  EXPECT_TRUE(limiter.TryAcquire("b", t));  // its own bucket
  EXPECT_TRUE(limiter.TryAcquire("a", t + absl::Milliseconds(500)));
  EXPECT_FALSE(limiter.TryAcquire("a", t + absl::Milliseconds(600)));
  // Refills to the burst, no further.
  t += absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("a", t));
  EXPECT_FALSE(limiter.TryAcquire("a", t));
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.TryAcquire("a", absl::UnixEpoch()));
}

}  // namespace
}  // namespace innsyn::daemon
