// login_failures, source_sequence_gap, source_silent and
// verification_failed.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

// Two working weeks before kMonday: the source sends something every hour
// from 07:00 to 19:59 local on weekdays (the clinic's default hours), never
// on weekends. That is what it learns as its usual working hours.
void FeedUsualWeeks(Harness& clinic, const std::string& source_system = "opus-dental") {
  const absl::Time first_monday = At("2025-12-29T06:30:00Z");  // 07:30 local
  for (int day = 0; day < 14; ++day) {
    if (day % 7 >= 5) continue;
    for (int hour = 0; hour < 13; ++hour) {
      v1::AccessEvent event =
          Access("resepsjon", "receptionist", "p1", first_monday + absl::Hours(24 * day + hour),
                 v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
      event.mutable_source()->set_system(source_system);
      clinic.Feed(event);
    }
  }
}

v1::AccessEvent Numbered(uint64_t source_seq, absl::Time time) {
  v1::AccessEvent event =
      Access("resepsjon", "receptionist", "p1", time, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  event.set_source_seq(source_seq);
  return event;
}

TEST(LoginFailures, BurstOnOneAccountIsOneAlert) {
  Harness clinic;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 15; ++i) {
    seqs.push_back(clinic.Feed(FailedLogin("ola@example.no", "203.0.113." + std::to_string(i),
                                           kMonday + absl::Seconds(10 * i))));
  }
  std::vector<v1::Alert> alerts = clinic.Of("login_failures");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(),
            "login_failures/account/ola@example.no/" + std::to_string(seqs[0]));
  EXPECT_EQ(alerts[0].actor_id(), "ola@example.no");
  EXPECT_EQ(alerts[0].source_system(), "website");
  EXPECT_EQ(Evidence(alerts[0]), std::vector<uint64_t>(seqs.begin(), seqs.begin() + 11));
  EXPECT_EQ(alerts[0].summary(), "11 failed logins to the account ola@example.no within 5 minutes");
}

TEST(LoginFailures, BurstFromOneAddressIsOneAlert) {
  Harness clinic;
  uint64_t first = 0;
  for (int i = 0; i < 12; ++i) {
    uint64_t seq = clinic.Feed(
        FailedLogin("user" + std::to_string(i), "2001:db8::66", kMonday + absl::Seconds(i)));
    if (i == 0) first = seq;
  }
  EXPECT_THAT(Ids(clinic.Of("login_failures")),
              ElementsAre("login_failures/address/2001:db8::66/" + std::to_string(first)));
}

TEST(LoginFailures, SlowFailuresAndSuccessfulLoginsAreQuiet) {
  Harness clinic;
  for (int i = 0; i < 10; ++i) clinic.Feed(FailedLogin("ola", "203.0.113.1", kMonday));
  for (int i = 0; i < 20; ++i) {  // one a minute: at most 6 within 5 minutes
    clinic.Feed(FailedLogin("kari", "203.0.113.2", kMonday + absl::Minutes(10 + i)));
  }
  for (int i = 0; i < 20; ++i) {
    v1::AccessEvent login = FailedLogin("ola", "203.0.113.1", kMonday + absl::Hours(1));
    login.set_action_subtype(v1::ACTION_SUBTYPE_LOGIN);
    login.set_outcome(v1::OUTCOME_SUCCESS);
    clinic.Feed(login);
  }
  EXPECT_THAT(clinic.Of("login_failures"), IsEmpty());
}

TEST(SourceSequenceGap, MissingNumberNotArrivedWithinGraceRaises) {
  Harness clinic;
  clinic.Feed(Numbered(1, kMonday));
  clinic.Feed(Numbered(2, kMonday));
  uint64_t revealed = clinic.Feed(Numbered(4, kMonday + absl::Minutes(1)));
  clinic.Feed(Numbered(5, kMonday + absl::Minutes(5)));
  EXPECT_THAT(clinic.Of("source_sequence_gap"), IsEmpty()) << "still within grace";
  clinic.Feed(Numbered(6, kMonday + absl::Minutes(6)));
  std::vector<v1::Alert> alerts = clinic.Of("source_sequence_gap");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "source_sequence_gap/opus-dental/clinic-1/3");
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(revealed));
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_HIGH);
  EXPECT_EQ(alerts[0].summary(),
            "opus-dental (clinic-1) skipped 1 of its own sequence numbers from 3, and they have "
            "not arrived within 5 minutes");
}

TEST(SourceSequenceGap, OutOfOrderArrivalWithinGraceIsQuiet) {
  Harness clinic;
  for (uint64_t n : {1, 2, 5, 3, 4, 6}) clinic.Feed(Numbered(n, kMonday));
  clinic.Feed(Numbered(7, kMonday + absl::Minutes(30)));
  clinic.Tick(kMonday + absl::Hours(1));
  // Sources without their own numbers are not checked.
  clinic.Feed(Numbered(0, kMonday + absl::Hours(1)));
  EXPECT_THAT(clinic.Of("source_sequence_gap"), IsEmpty());
}

TEST(SourceSequenceGap, TickRaisesGapPastGraceOncePartlyFilled) {
  Harness clinic;
  clinic.Feed(Numbered(1, kMonday));
  clinic.Feed(Numbered(6, kMonday));  // 2..5 missing
  clinic.Feed(Numbered(2, kMonday + absl::Minutes(1)));
  clinic.Tick(kMonday + absl::Minutes(4));
  EXPECT_THAT(clinic.Of("source_sequence_gap"), IsEmpty());
  clinic.Tick(kMonday + absl::Minutes(5));
  std::vector<v1::Alert> alerts = clinic.Of("source_sequence_gap");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "source_sequence_gap/opus-dental/clinic-1/3");
  EXPECT_EQ(alerts[0].summary(),
            "opus-dental (clinic-1) skipped 3 of its own sequence numbers from 3, and they have "
            "not arrived within 5 minutes");
  clinic.Feed(Numbered(3, kMonday + absl::Minutes(6)));
  clinic.Tick(kMonday + absl::Hours(1));
  EXPECT_EQ(clinic.Of("source_sequence_gap").size(), 1u);
}

TEST(SourceSilent, SilenceForMaxSilenceOfOpeningHoursRaisesOnce) {
  Harness clinic;
  FeedUsualWeeks(clinic);
  uint64_t last = clinic.Feed(
      Access("resepsjon", "receptionist", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Tick(kMonday + absl::Minutes(119));
  EXPECT_THAT(clinic.Of("source_silent"), IsEmpty());
  clinic.Tick(kMonday + absl::Minutes(120));
  clinic.Tick(kMonday + absl::Minutes(180));
  std::vector<v1::Alert> alerts = clinic.Of("source_silent");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(),
            "source_silent/opus-dental/clinic-1/" + std::to_string(absl::ToUnixSeconds(kMonday)));
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(last));
  EXPECT_EQ(alerts[0].summary(),
            "opus-dental (clinic-1) has sent nothing since 2026-01-12 10:00, for 120 minutes of "
            "the hours it usually works while the clinic was open");
}

TEST(SourceSilent, ClosedHoursDoNotCountAndLongGoneSourcesAreForgotten) {
  Harness clinic;
  FeedUsualWeeks(clinic);
  // An ordinary Monday until 19:00 local; Tuesday opens at 07:00: 60 + 59
  // open minutes by 07:59.
  for (int hour = 0; hour < 12; ++hour) {
    clinic.Feed(Access("resepsjon", "receptionist", "p1",
                       At("2026-01-12T06:30:00Z") + absl::Hours(hour),
                       v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  }
  absl::Time evening = At("2026-01-12T18:00:00Z");
  clinic.Feed(
      Access("resepsjon", "receptionist", "p1", evening, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Tick(At("2026-01-13T06:59:00Z"));
  EXPECT_THAT(clinic.Of("source_silent"), IsEmpty());
  clinic.Tick(At("2026-01-13T07:00:00Z"));
  EXPECT_EQ(clinic.Of("source_silent").size(), 1u);

  Harness old;
  FeedUsualWeeks(old);
  old.Feed(
      Access("resepsjon", "receptionist", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  old.Tick(kMonday + absl::Hours(24 * 15));  // beyond known_days
  EXPECT_THAT(old.Of("source_silent"), IsEmpty());
}

TEST(SourceSilent, HoursTheSourceDoesNotUsuallyWorkDoNotCount) {
  Harness clinic;
  // An X-ray sensor: used 09:00 to 14:59 local on weekdays.
  const absl::Time first_monday = At("2025-12-29T08:10:00Z");
  for (int day = 0; day < 14; ++day) {
    if (day % 7 >= 5) continue;
    for (int hour = 0; hour < 6; ++hour) {
      v1::AccessEvent event =
          Access("dr.lie", "dentist", "p1", first_monday + absl::Hours(24 * day + hour));
      event.mutable_source()->set_system("xray");
      clinic.Feed(event);
    }
  }
  // Its last image on Friday at 14:10; the clinic is open until 20:00 and on
  // Saturday, but the sensor is never used then. Its own working time:
  // Friday 14:10-14:59 (50 minutes), then Monday from 09:00.
  v1::AccessEvent friday = Access("dr.lie", "dentist", "p1", At("2026-01-09T13:10:00Z"));
  friday.mutable_source()->set_system("xray");
  clinic.Feed(friday);
  clinic.Tick(At("2026-01-12T09:09:00Z"));  // Monday 10:09: 50 + 69 minutes
  EXPECT_THAT(clinic.Of("source_silent"), IsEmpty());
  clinic.Tick(At("2026-01-12T09:10:00Z"));  // 10:10: 120 minutes
  ASSERT_EQ(clinic.Of("source_silent").size(), 1u);
  EXPECT_EQ(clinic.Of("source_silent")[0].source_system(), "xray");
}

// A staff event of `system` at `time`.
v1::AccessEvent From(const std::string& system, absl::Time time) {
  v1::AccessEvent event =
      Access("resepsjon", "receptionist", "p1", time, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  event.mutable_source()->set_system(system);
  return event;
}

// The two working weeks of FeedUsualWeeks for several sources, in time
// order, leaving out `system`'s events on `quiet_day` (days from
// 2025-12-29) in local hours [quiet_from, quiet_to); with a Tick at `tick`.
void FeedUsualWeeksOf(Harness& clinic, const std::vector<std::string>& systems,
                      const std::string& quiet_system = "", int quiet_day = -1, int quiet_from = 0,
                      int quiet_to = 0, absl::Time tick = absl::InfinitePast()) {
  const absl::Time first_monday = At("2025-12-29T06:30:00Z");  // 07:30 local
  for (int day = 0; day < 14; ++day) {
    if (day % 7 >= 5) continue;
    for (int hour = 0; hour < 13; ++hour) {
      const absl::Time at = first_monday + absl::Hours(24 * day + hour);
      if (tick > at - absl::Hours(1) && tick <= at) clinic.Tick(tick);
      for (const std::string& system : systems) {
        const int local_hour = 7 + hour;
        if (system == quiet_system && day == quiet_day && local_hour >= quiet_from &&
            local_hour < quiet_to) {
          continue;
        }
        clinic.Feed(From(system, at));
      }
    }
  }
}

TEST(SourceSilent, NotSilentWhileTheRestOfTheClinicIsQuietToo) {
  // Both systems fall quiet at 10:00: everyone has gone home early.
  Harness home;
  FeedUsualWeeksOf(home, {"opus-dental", "billing"});
  home.Feed(From("opus-dental", kMonday));
  home.Feed(From("billing", kMonday));
  home.Tick(kMonday + absl::Hours(8));
  EXPECT_THAT(home.Of("source_silent"), IsEmpty());

  // The billing system goes on working while the journal is quiet.
  Harness lost;
  FeedUsualWeeksOf(lost, {"opus-dental", "billing"});
  lost.Feed(From("opus-dental", kMonday));
  for (int minute = 10; minute < 120; minute += 10) {
    lost.Feed(From("billing", kMonday + absl::Minutes(minute)));
  }
  lost.Tick(kMonday + absl::Minutes(119));
  EXPECT_THAT(lost.Of("source_silent"), IsEmpty());
  lost.Feed(From("billing", kMonday + absl::Minutes(120)));
  lost.Tick(kMonday + absl::Minutes(120));
  ASSERT_EQ(lost.Of("source_silent").size(), 1u);
  EXPECT_EQ(lost.Of("source_silent")[0].source_system(), "opus-dental");
}

// Monday kMonday: the X-ray system's last image at 09:45, the journal busy
// every ten minutes until `until` (local hour).
void QuietXrayMonday(Harness& clinic, int until) {
  clinic.Feed(From("xray", kMonday - absl::Minutes(15)));
  for (absl::Time t = kMonday; t < kMonday + absl::Hours(until - 10); t += absl::Minutes(10)) {
    clinic.Feed(From("opus-dental", t));
    clinic.Tick(t);
  }
}

TEST(SourceSilent, AsQuietAsOnARecentDayOfTheSameKindIsNotSilent) {
  // On Wednesday 2026-01-07 (day 9) the X-ray system sent nothing from
  // 10:00 to 13:59 while the journal worked: an ordinary quiet spell.
  Harness clinic;
  FeedUsualWeeksOf(clinic, {"opus-dental", "xray"}, "xray", 9, 10, 14);
  // Today it has been as quiet through 13:59 ...
  QuietXrayMonday(clinic, 15);
  EXPECT_THAT(clinic.Of("source_silent"), IsEmpty());
  // ... but not through 14:59: quieter than on any recent weekday.
  clinic.Feed(From("opus-dental", kMonday + absl::Hours(5)));
  clinic.Tick(kMonday + absl::Hours(5));
  ASSERT_EQ(clinic.Of("source_silent").size(), 1u);
  EXPECT_EQ(clinic.Of("source_silent")[0].source_system(), "xray");
}

TEST(SourceSilent, ARaisedSilenceIsNoQuietDayToCompareWith) {
  // A quiet Thursday (2026-01-08, day 10) like that Wednesday, but judged
  // on the day: at 12:00 it was a silence, and raised.
  Harness clinic;
  FeedUsualWeeksOf(clinic, {"opus-dental", "xray"}, "xray", 10, 10, 14, At("2026-01-08T11:00:00Z"));
  ASSERT_EQ(clinic.Of("source_silent").size(), 1u);
  // So Monday's silence is judged without it: raised by 12:00.
  QuietXrayMonday(clinic, 12);
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_EQ(clinic.Of("source_silent").size(), 2u);
}

TEST(SourceSilent, ANewSourceIsNotJudgedBeforeItHasAUsualDay) {
  Harness clinic;
  clinic.Feed(
      Access("resepsjon", "receptionist", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Tick(kMonday + absl::Hours(6));
  EXPECT_THAT(clinic.Of("source_silent"), IsEmpty());
}

TEST(VerificationFailed, RaisesOncePerFinding) {
  Harness clinic;
  std::vector<v1::Alert> alerts =
      clinic.engine().VerificationFailed("full", 42, "chain hash mismatch", kMonday);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "verification_failed/full/42");
  EXPECT_EQ(alerts[0].rule(), "verification_failed");
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(42u));
  EXPECT_EQ(alerts[0].occurred_at().seconds(), absl::ToUnixSeconds(kMonday));
  EXPECT_EQ(alerts[0].summary(),
            "innsynd's full verification found the ledger damaged from entry 42: chain hash "
            "mismatch");
  EXPECT_THAT(clinic.engine().VerificationFailed("full", 42, "again", kMonday), IsEmpty());
  EXPECT_EQ(clinic.engine().VerificationFailed("incremental", 42, "x", kMonday).size(), 1u);
}

TEST(VerificationFailed, DisabledRuleRaisesNothing) {
  DetectionOptions options = TestOptions();
  options.verification_failed.enabled = false;
  Harness clinic(options);
  EXPECT_THAT(clinic.engine().VerificationFailed("full", 1, "bad", kMonday), IsEmpty());
}

}  // namespace
}  // namespace innsyn::anomaly::testing
