// The clinic's local clock and its networks: the pieces the rules' time and
// address checks stand on.
#include "anomaly/internal/local_clock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "anomaly/internal/networks.h"
#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::internal {
namespace {

using ::innsyn::anomaly::testing::At;

LocalClock OsloClock() {
  absl::StatusOr<LocalClock> clock = LocalClock::Create(DetectionOptions());
  EXPECT_TRUE(clock.ok());
  return *clock;
}

TEST(LocalClock, ConvertsAcrossBothOffsets) {
  LocalClock clock = OsloClock();
  LocalTime winter = clock.At(At("2026-01-12T05:30:00Z"));
  EXPECT_EQ(FormatLocalDate(winter.day), "2026-01-12");
  EXPECT_EQ(winter.minute_of_day, 6 * 60 + 30);
  EXPECT_EQ(winter.weekday, 0);  // Monday
  LocalTime summer = clock.At(At("2026-03-30T04:30:00Z"));
  EXPECT_EQ(summer.minute_of_day, 6 * 60 + 30);
  // 23:30Z on Sunday is already Monday in Oslo.
  LocalTime midnight = clock.At(At("2026-01-18T23:30:00Z"));
  EXPECT_EQ(FormatLocalDate(midnight.day), "2026-01-19");
  EXPECT_EQ(midnight.weekday, 0);
  EXPECT_EQ(clock.FormatMinute(At("2026-07-01T22:15:00Z")), "2026-07-02 00:15");
}

TEST(LocalClock, OpenMinutesCountOnlyOpeningHours) {
  LocalClock clock = OsloClock();
  // Friday 19:00 to Monday 08:00 local: 60 + 300 (Saturday) + 0 + 60.
  EXPECT_EQ(clock.OpenMinutesBetween(At("2026-01-16T18:00:00Z"), At("2026-01-19T07:00:00Z")), 420);
  // Across the spring change: Saturday 2026-03-28 14:00 to Monday 07:30 (UTC+2).
  EXPECT_EQ(clock.OpenMinutesBetween(At("2026-03-28T13:00:00Z"), At("2026-03-30T05:30:00Z")), 90);
  EXPECT_EQ(clock.OpenMinutesBetween(At("2026-03-30T05:30:00Z"), At("2026-03-28T13:00:00Z")), 0);
}

TEST(LocalClock, ParsesDatesAndIntervalsStrictly) {
  EXPECT_EQ(ParseLocalDate("1970-01-02"), 1);
  EXPECT_FALSE(ParseLocalDate("2026-02-29").has_value());
  EXPECT_FALSE(ParseLocalDate("2026-1-01").has_value());
  EXPECT_EQ(ParseOpeningInterval("07:00-24:00"), std::make_pair(420, 1440));
  EXPECT_FALSE(ParseOpeningInterval("07:00-07:00").has_value());
  EXPECT_FALSE(ParseOpeningInterval("7:00-12:00").has_value());
  EXPECT_FALSE(ParseOpeningInterval("07:60-12:00").has_value());
}

TEST(NetworkList, MatchesIpv4AndIpv6Prefixes) {
  absl::StatusOr<NetworkList> list =
      NetworkList::Parse({"10.20.0.0/16", "192.0.2.7", "2001:db8:1::/48", "fe80::/10"});
  ASSERT_TRUE(list.ok()) << list.status();
  auto contains = [&](const char* text) {
    std::optional<IpAddress> address = ParseIpAddress(text);
    return address.has_value() && list->Contains(*address);
  };
  EXPECT_TRUE(contains("10.20.255.1"));
  EXPECT_FALSE(contains("10.21.0.1"));
  EXPECT_TRUE(contains("192.0.2.7"));
  EXPECT_FALSE(contains("192.0.2.8"));
  EXPECT_TRUE(contains("::ffff:10.20.0.1"));
  EXPECT_TRUE(contains("2001:db8:1:abcd::1"));
  EXPECT_FALSE(contains("2001:db8:2::1"));
  EXPECT_TRUE(contains("febf::1"));  // inside fe80::/10
  EXPECT_FALSE(contains("fec0::1"));
  EXPECT_FALSE(contains("10.20.0.1:443"));
  EXPECT_TRUE(NetworkList::Parse({"0.0.0.0/0", "::/0"}).ok());
  EXPECT_FALSE(NetworkList::Parse({"10.0.0.0/-1"}).ok());
}

}  // namespace
}  // namespace innsyn::anomaly::internal
