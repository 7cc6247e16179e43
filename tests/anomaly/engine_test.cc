// The engine as a whole: determinism, replay after a restart, settings it
// refuses, switches and roster reloads.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

// A day at a clinic with something for most rules to find.
void FeedEventfulDay(Harness& clinic) {
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T11:00:00+01:00", kMonday - absl::Hours(24)));
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Feed(JournalRead("dr.lie", "p2", kMonday + absl::Minutes(1)));  // no care link
  clinic.Feed(Access("night.owl", "dentist", "p3", At("2026-01-12T04:00:00Z")));
  v1::AccessEvent emergency = JournalRead("dr.berg", "p4", kMonday + absl::Minutes(2));
  emergency.set_purpose_of_use(v1::PURPOSE_OF_USE_EMERGENCY);
  clinic.Feed(emergency);
  clinic.Feed(Disclosure("dr.lie", "p5", "insurer-x", kMonday + absl::Minutes(3)));
  for (int i = 0; i < 12; ++i) {
    clinic.Feed(FailedLogin("ola", "203.0.113.7", kMonday + absl::Seconds(240 + i)));
  }
  for (int i = 0; i < 25; ++i) {
    v1::AccessEvent event =
        Access("resepsjon", "receptionist", "q" + std::to_string(i), kMonday + absl::Minutes(5),
               v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
    event.set_action_subtype(v1::ACTION_SUBTYPE_PRINT);
    clinic.Feed(event);
  }
  for (uint64_t n : {1, 2, 4}) {
    v1::AccessEvent event = Access("resepsjon", "receptionist", "p1", kMonday + absl::Minutes(6),
                                   v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
    event.mutable_source()->set_instance("clinic-2");
    event.set_source_seq(n);
    clinic.Feed(event);
  }
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday + absl::Hours(2)));
  clinic.Tick(kMonday + absl::Hours(5));
}

TEST(Engine, SameEntriesGiveSameAlerts) {
  Harness first;
  Harness second;
  FeedEventfulDay(first);
  FeedEventfulDay(second);
  EXPECT_THAT(first.ids(),
              ElementsAre("off_hours/resepsjon/2026-01-11",  // booked the visit on a Sunday
                          "off_hours/night.owl/2026-01-12", "break_glass/dr.berg/p4/2026-01-12",
                          "disclosure_without_consent/5", "login_failures/account/ola/6",
                          "login_failures/address/203.0.113.7/6", "bulk_export/resepsjon/18",
                          "no_care_relationship/dr.lie/p2/2026-01-12",
                          "no_care_relationship/night.owl/p3/2026-01-12",
                          "source_sequence_gap/opus-dental/clinic-2/3"));
  ASSERT_EQ(first.alerts().size(), second.alerts().size());
  for (size_t i = 0; i < first.alerts().size(); ++i) {
    EXPECT_EQ(first.alerts()[i].SerializeAsString(), second.alerts()[i].SerializeAsString()) << i;
  }
}

TEST(Engine, ReplayAfterMarkRaisedRaisesNothing) {
  Harness before_restart;
  FeedEventfulDay(before_restart);
  ASSERT_FALSE(before_restart.alerts().empty());
  Harness after_restart;
  for (const std::string& id : before_restart.ids()) after_restart.engine().MarkRaised(id);
  FeedEventfulDay(after_restart);
  EXPECT_THAT(after_restart.ids(), IsEmpty());
}

TEST(Engine, MarkedIdsOutlastALongReplay) {
  Harness clinic;
  clinic.engine().MarkRaised("off_hours/night.owl/2026-01-12");
  for (int day = 0; day < 60; ++day) {  // two months of replay before the incident
    clinic.Feed(
        Access("dr.lie", "system", "p1", At("2025-11-13T09:00:00Z") + absl::Hours(24 * day)));
  }
  clinic.Feed(Access("night.owl", "dentist", "p3", At("2026-01-12T04:00:00Z")));
  EXPECT_THAT(clinic.Of("off_hours"), IsEmpty());
}

TEST(Engine, AlertEntryInTheLedgerCountsAsRaised) {
  Harness clinic;
  v1::LedgerEntry entry;
  entry.mutable_alert()->set_alert_id("off_hours/night.owl/2026-01-12");
  clinic.FeedEntry(entry);
  clinic.Feed(Access("night.owl", "dentist", "p3", At("2026-01-12T04:00:00Z")));
  clinic.Feed(Access("night.owl", "dentist", "p3", At("2026-01-13T04:00:00Z")));
  EXPECT_THAT(Ids(clinic.Of("off_hours")), ElementsAre("off_hours/night.owl/2026-01-13"));
}

TEST(Engine, CreateRefusesBadTimeZoneDateOrNetwork) {
  auto create_error = [](DetectionOptions options) {
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(options, Roster());
    EXPECT_FALSE(engine.ok());
    return std::string(engine.status().message());
  };
  DetectionOptions zone = TestOptions();
  zone.time_zone = "Europe/Atlantis";
  EXPECT_THAT(create_error(zone), HasSubstr("detection.time_zone"));
  DetectionOptions date = TestOptions();
  date.closed_dates = {"2026-12-25", "2026-02-30"};
  EXPECT_THAT(create_error(date), HasSubstr("detection.closed_dates: \"2026-02-30\""));
  for (const char* bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "example.org", "::1/"}) {
    DetectionOptions network = TestOptions();
    network.disallowed_network.networks_by_source["opus-dental"] = {"10.0.0.0/8", bad};
    EXPECT_THAT(create_error(network),
                HasSubstr(std::string("detection.disallowed_network.networks.opus-dental: \"") +
                          bad + "\""));
  }
}

TEST(Engine, DisabledEngineOrRuleRaisesNothing) {
  DetectionOptions off = TestOptions();
  off.enabled = false;
  Harness disabled(off);
  FeedEventfulDay(disabled);
  EXPECT_THAT(disabled.ids(), IsEmpty());

  DetectionOptions no_off_hours = TestOptions();
  no_off_hours.off_hours.enabled = false;
  no_off_hours.off_hours.severity = v1::ALERT_SEVERITY_LOW;
  no_off_hours.break_glass.severity = v1::ALERT_SEVERITY_LOW;
  Harness partial(no_off_hours);
  FeedEventfulDay(partial);
  EXPECT_THAT(partial.Of("off_hours"), IsEmpty());
  ASSERT_EQ(partial.Of("break_glass").size(), 1u);
  EXPECT_EQ(partial.Of("break_glass")[0].severity(), v1::ALERT_SEVERITY_LOW);
}

TEST(Engine, NewRosterAppliesToLaterEventsAndKeepsState) {
  Harness clinic(TestOptions(), Roster({Staff("dr.lie", "dentist")}));
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday));
  clinic.Feed(Access("dr.berg", "dentist", "p1", kMonday));
  clinic.engine().SetRoster(Roster({Staff("dr.lie", "dentist"), Staff("dr.berg", "dentist")}));
  clinic.Feed(Access("dr.berg", "dentist", "p1", kMonday + absl::Hours(24)));
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday + absl::Hours(24 * 100)));
  EXPECT_THAT(Ids(clinic.Of("unknown_or_dormant_actor")),
              ElementsAre("unknown_or_dormant_actor/dr.berg/2026-01-12",
                          "unknown_or_dormant_actor/dr.lie/2026-04-22"));
  EXPECT_EQ(clinic.engine().options().time_zone, "Europe/Oslo");
}

TEST(Engine, NonAccessEntriesAreIgnored) {
  Harness clinic;
  v1::LedgerEntry query;
  query.mutable_query_record()->set_method("ListSubjectAccess");
  clinic.FeedEntry(query);
  v1::LedgerEntry decision;
  decision.mutable_alert_decision()->set_alert_id("off_hours/x/2026-01-12");
  clinic.FeedEntry(decision);
  clinic.Feed(Access("x", "dentist", "p1", At("2026-01-12T02:00:00Z")));
  EXPECT_THAT(clinic.ids(), ElementsAre("off_hours/x/2026-01-12"));
}

}  // namespace
}  // namespace innsyn::anomaly::testing
