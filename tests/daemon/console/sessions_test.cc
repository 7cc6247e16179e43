#include "daemon/console/internal/sessions.h"

#include <gtest/gtest.h>

namespace innsyn::daemon::console {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

Account Kari(std::string role = "controller") {
  return Account{.name = "kari",
                 .display_name = "Kari Nordmann",
                 .role = std::move(role),
                 .password_hash = "",
                 .totp_secret = ""};
}

TEST(Sessions, AreFoundUntilIdleOrTooOld) {
  SessionStore store(absl::Minutes(15), absl::Hours(10));
  const Session session = store.Create(Kari(), kStart);
  EXPECT_EQ(session.id.size(), 43u);  // 32 bytes, base64url
  EXPECT_NE(session.id, session.csrf);
  absl::Time t = kStart;
  // Kept alive by use, every 14 minutes, until the day's limit.
  while (t + absl::Minutes(14) - kStart <= absl::Hours(10)) {
    t += absl::Minutes(14);
    ASSERT_TRUE(store.Find(session.id, t)) << t - kStart;
  }
  EXPECT_FALSE(store.Find(session.id, t + absl::Minutes(14)));
  const Session idle = store.Create(Kari(), kStart);
  EXPECT_FALSE(store.Find(idle.id, kStart + absl::Minutes(16)));
  EXPECT_FALSE(store.Find("no such id", kStart));
}

TEST(Sessions, EndOnSignOutAndWhenTheAccountGoesOrChangesRole) {
  SessionStore store(absl::Minutes(15), absl::Hours(10));
  const Session signed_out = store.Create(Kari(), kStart);
  store.Remove(signed_out.id);
  EXPECT_FALSE(store.Find(signed_out.id, kStart));
  const Session session = store.Create(Kari(), kStart);
  store.Retain({{"kari", Kari()}});
  EXPECT_TRUE(store.Find(session.id, kStart));
  store.Retain({{"kari", Kari("admin")}});
  EXPECT_FALSE(store.Find(session.id, kStart));
}

TEST(Sessions, RememberTheReason) {
  SessionStore store(absl::Minutes(15), absl::Hours(10));
  const Session session = store.Create(Kari(), kStart);
  store.SetReason(session.id, "monthly review");
  EXPECT_EQ(store.Find(session.id, kStart)->reason, "monthly review");
}

TEST(SignInThrottle, LocksAfterFiveFailuresForFiveMinutes) {
  SessionStore store(absl::Minutes(15), absl::Hours(10));
  for (int i = 0; i < SessionStore::kMaxFailures - 1; ++i) store.Failed("kari", kStart);
  EXPECT_FALSE(store.Locked("kari", kStart));
  store.Failed("kari", kStart);
  EXPECT_TRUE(store.Locked("kari", kStart + absl::Minutes(4)));
  EXPECT_FALSE(store.Locked("kari", kStart + absl::Minutes(5)));
  EXPECT_FALSE(store.Locked("ole", kStart));
}

TEST(SignInThrottle, TakesEachOneTimeCodeOnce) {
  SessionStore store(absl::Minutes(15), absl::Hours(10));
  EXPECT_TRUE(store.TakeStep("kari", 100));
  EXPECT_FALSE(store.TakeStep("kari", 100));
  EXPECT_FALSE(store.TakeStep("kari", 99));
  EXPECT_TRUE(store.TakeStep("kari", 101));
  EXPECT_TRUE(store.TakeStep("ole", 100));
}

}  // namespace
}  // namespace innsyn::daemon::console
