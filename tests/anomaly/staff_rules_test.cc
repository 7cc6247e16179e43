// off_hours, volume_spike, self_or_related, bulk_export,
// unknown_or_dormant_actor and disallowed_network.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

v1::AccessEvent Export(const std::string& actor, const std::string& subject, absl::Time time) {
  v1::AccessEvent event =
      Access(actor, "receptionist", subject, time, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  event.set_action_subtype(v1::ACTION_SUBTYPE_EXPORT);
  return event;
}

TEST(OffHours, HalfPastSixIsClosedInWinterAndSummerHalfPastSevenIsOpen) {
  Harness clinic;
  // Winter, UTC+1: 05:30Z is 06:30 and 06:30Z is 07:30.
  clinic.Feed(Access("winter.early", "dentist", "p1", At("2026-01-12T05:30:00Z")));
  clinic.Feed(Access("winter.late", "dentist", "p1", At("2026-01-12T06:30:00Z")));
  // Summer, UTC+2 from 2026-03-29: 04:30Z is 06:30 and 05:30Z is 07:30.
  clinic.Feed(Access("summer.early", "dentist", "p1", At("2026-03-30T04:30:00Z")));
  clinic.Feed(Access("summer.late", "dentist", "p1", At("2026-03-30T05:30:00Z")));
  std::vector<v1::Alert> alerts = clinic.Of("off_hours");
  EXPECT_THAT(Ids(alerts), ElementsAre("off_hours/winter.early/2026-01-12",
                                       "off_hours/summer.early/2026-03-30"));
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].summary(),
            "winter.early used opus-dental at 2026-01-12 06:30, when the clinic is closed");
  EXPECT_EQ(alerts[1].summary(),
            "summer.early used opus-dental at 2026-03-30 06:30, when the clinic is closed");
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_MEDIUM);
}

TEST(OffHours, SundayAndClosedDateRaiseOncePerDaySaturdayMiddayDoesNot) {
  DetectionOptions options = TestOptions();
  options.closed_dates = {"2026-01-13"};
  Harness clinic(options);
  uint64_t first = clinic.Feed(Access("dr.lie", "dentist", "p1", At("2026-01-18T11:00:00Z")));
  clinic.Feed(Access("dr.lie", "dentist", "p2", At("2026-01-18T12:00:00Z")));
  clinic.Feed(Access("dr.lie", "dentist", "p1", At("2026-01-13T09:00:00Z")));  // Tuesday 10:00
  clinic.Feed(Access("dr.lie", "dentist", "p1", At("2026-01-17T11:00:00Z")));  // Saturday 12:00
  std::vector<v1::Alert> alerts = clinic.Of("off_hours");
  EXPECT_THAT(Ids(alerts),
              ElementsAre("off_hours/dr.lie/2026-01-18", "off_hours/dr.lie/2026-01-13"));
  ASSERT_FALSE(alerts.empty());
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(first));
}

TEST(OffHours, PatientsAndSystemsAtNightAreNotStaff) {
  Harness clinic;
  clinic.Feed(Access("p1", "", "p1", At("2026-01-12T02:00:00Z")));  // a patient on the portal
  clinic.Feed(Access("integration", "system", "p2", At("2026-01-12T02:00:00Z")));
  EXPECT_THAT(clinic.Of("off_hours"), IsEmpty());
}

TEST(VolumeSpike, MorePatientsThanTheFloorInOneHourIsOneAlert) {
  Harness clinic;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 35; ++i) {
    seqs.push_back(
        clinic.Feed(Access("resepsjon", "receptionist", "p" + std::to_string(i),
                           kMonday + absl::Minutes(i), v1::DATA_OBJECT_TYPE_CONTACT_DETAILS)));
  }
  std::vector<v1::Alert> alerts = clinic.Of("volume_spike");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "volume_spike/resepsjon/administrative/0");
  EXPECT_EQ(alerts[0].actor_id(), "resepsjon");
  EXPECT_EQ(Evidence(alerts[0]), std::vector<uint64_t>(seqs.begin(), seqs.begin() + 31));
  EXPECT_EQ(alerts[0].occurred_at().seconds(), absl::ToUnixSeconds(kMonday));
  EXPECT_EQ(alerts[0].summary(),
            "resepsjon (receptionist) opened the administrative data of 31 different patients "
            "within 60 minutes from 2026-01-12 10:00, more than their usual limit of 30");
}

TEST(VolumeSpike, FloorOrFewerDistinctPatientsIsQuiet) {
  Harness clinic;
  for (int i = 0; i < 60; ++i) {  // 30 patients, each twice
    clinic.Feed(Access("resepsjon", "receptionist", "p" + std::to_string(i % 30),
                       kMonday + absl::Seconds(50 * i), v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  }
  EXPECT_THAT(clinic.Of("volume_spike"), IsEmpty());
}

TEST(VolumeSpike, ThresholdFollowsTheActorsOwnBaseline) {
  DetectionOptions options = TestOptions();
  options.volume_spike.floor = 12;
  options.volume_spike.min_baseline_hours = 2;
  Harness clinic(options);
  auto hour_of_reads = [&](const std::string& actor, absl::Time start, int patients) {
    for (int i = 0; i < patients; ++i) {
      clinic.Feed(Access(actor, "receptionist", "p" + std::to_string(i), start + absl::Seconds(i),
                         v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
    }
  };
  for (const std::string actor : {"steady", "spiky"}) {
    hour_of_reads(actor, kMonday, 10);
    hour_of_reads(actor, kMonday + absl::Hours(24), 10);
  }
  EXPECT_THAT(clinic.Of("volume_spike"), IsEmpty()) << "10 is under the floor";
  // Baseline 10 patients an hour: the limit is 3 x 10 = 30.
  hour_of_reads("steady", kMonday + absl::Hours(48), 30);
  hour_of_reads("spiky", kMonday + absl::Hours(48), 31);
  EXPECT_THAT(Ids(clinic.Of("volume_spike")), ElementsAre("volume_spike/spiky/administrative/70"));
}

TEST(VolumeSpike, ColdStartUsesTheFloor) {
  DetectionOptions options = TestOptions();
  options.volume_spike.floor = 5;
  Harness clinic(options);
  for (int i = 0; i < 6; ++i) {
    clinic.Feed(Access("new.hire", "receptionist", "p" + std::to_string(i), kMonday,
                       v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  }
  EXPECT_THAT(Ids(clinic.Of("volume_spike")),
              ElementsAre("volume_spike/new.hire/administrative/0"));
}

Roster SelfTestRoster() {
  StaffMember kari = Staff("kari", "hygienist");
  kari.own_subject_ids = {"k-own"};
  kari.related_subject_ids = {"k-child"};
  kari.surname = "Hansen";
  kari.address = "Storgata 1, 0155 Oslo";
  StaffMember ola = Staff("ola", "receptionist");
  ola.own_subject_ids = {"o-own"};
  return Roster({kari, ola});
}

TEST(SelfOrRelated, OwnCoWorkersAndRelativesRecordsRaise) {
  Harness clinic(TestOptions(), SelfTestRoster());
  v1::AccessEvent contact = Access("ola", "receptionist", "p-spouse", kMonday,
                                   v1::DATA_OBJECT_TYPE_CONTACT_DETAILS, v1::ACTION_CODE_UPDATE);
  (*contact.mutable_attributes())[std::string(kContactSurname)] = "HANSEN";
  (*contact.mutable_attributes())[std::string(kContactAddress)] = "Storgata 1 ,0155  oslo";
  clinic.Feed(contact);
  for (const char* subject : {"k-own", "o-own", "k-child", "p-spouse", "p-stranger"}) {
    clinic.Feed(Access("kari", "", subject, kMonday + absl::Minutes(1)));
  }
  clinic.Feed(Access("kari", "", "k-own", kMonday + absl::Minutes(2)));  // the same day again
  std::vector<v1::Alert> alerts = clinic.Of("self_or_related");
  EXPECT_THAT(Ids(alerts), ElementsAre("self_or_related/kari/k-own/2026-01-12",
                                       "self_or_related/kari/o-own/2026-01-12",
                                       "self_or_related/kari/k-child/2026-01-12",
                                       "self_or_related/kari/p-spouse/2026-01-12"));
  ASSERT_EQ(alerts.size(), 4u);
  EXPECT_EQ(alerts[0].summary(), "kari opened their own record (journal)");
  EXPECT_EQ(alerts[1].summary(), "kari opened the record of their co-worker ola (journal)");
  EXPECT_EQ(alerts[2].summary(),
            "kari opened the record of a relative named in the staff roster (journal)");
  EXPECT_EQ(alerts[3].summary(),
            "kari opened the record of a patient with their surname and address (journal)");
  clinic.Tick(kMonday + absl::Hours(3));
  // No second alert for the same access: only the stranger needs a care link.
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/kari/p-stranger/2026-01-12"));
}

TEST(SelfOrRelated, BookingACoWorkersAppointmentOrNoRosterIsQuiet) {
  Harness with_roster(TestOptions(), SelfTestRoster());
  with_roster.Feed(Appointment("a1", "k-own", "dr.lie", "2026-01-14T08:00:00+01:00", kMonday));
  EXPECT_THAT(with_roster.Of("self_or_related"), IsEmpty());
  Harness without_roster;
  without_roster.Feed(Access("kari", "hygienist", "k-own", kMonday));
  EXPECT_THAT(without_roster.Of("self_or_related"), IsEmpty());
}

TEST(BulkExport, ExportingMoreThanMaxPatientsInWindowIsOneAlertPerBurst) {
  Harness clinic;
  std::vector<uint64_t> first_burst;
  for (int i = 0; i < 30; ++i) {
    first_burst.push_back(
        clinic.Feed(Export("resepsjon", "p" + std::to_string(i), kMonday + absl::Seconds(10 * i))));
  }
  std::vector<v1::Alert> alerts = clinic.Of("bulk_export");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "bulk_export/resepsjon/" + std::to_string(first_burst[0]));
  EXPECT_EQ(Evidence(alerts[0]),
            std::vector<uint64_t>(first_burst.begin(), first_burst.begin() + 21));
  EXPECT_EQ(alerts[0].summary(),
            "resepsjon printed or exported the data of 21 different patients within 10 minutes");
  absl::Time later = kMonday + absl::Hours(1);
  uint64_t second_start = clinic.Feed(Export("resepsjon", "q0", later));
  for (int i = 1; i < 21; ++i) {
    clinic.Feed(Export("resepsjon", "q" + std::to_string(i), later + absl::Seconds(i)));
  }
  EXPECT_THAT(Ids(clinic.Of("bulk_export")),
              ElementsAre("bulk_export/resepsjon/" + std::to_string(first_burst[0]),
                          "bulk_export/resepsjon/" + std::to_string(second_start)));
}

TEST(BulkExport, MaxPatientsOrSlowExportsAreQuiet) {
  Harness clinic;
  for (int i = 0; i < 40; ++i) {  // 20 patients, each twice
    clinic.Feed(Export("resepsjon", "p" + std::to_string(i % 20), kMonday + absl::Seconds(i)));
  }
  for (int i = 0; i < 40; ++i) {  // 40 patients, one a minute: at most 11 within 10 minutes
    clinic.Feed(Export("dr.lie", "p" + std::to_string(i), kMonday + absl::Minutes(i)));
  }
  EXPECT_THAT(clinic.Of("bulk_export"), IsEmpty());
}

TEST(UnknownOrDormantActor, AccountNotInRosterOrOutsideEmploymentRaises) {
  StaffMember lie = Staff("dr.lie", "dentist");
  lie.start = absl::CivilDay(2026, 1, 10);
  lie.end = absl::CivilDay(2026, 6, 30);
  Harness clinic(TestOptions(), Roster({lie}));
  clinic.Feed(Access("dr.lie", "", "p1", At("2026-01-09T09:00:00Z")));  // before start
  clinic.Feed(Access("dr.lie", "", "p1", kMonday));                     // employed
  clinic.Feed(Access("ghost", "dentist", "p1", kMonday));
  clinic.Feed(Access("dr.lie", "", "p1", At("2026-07-01T09:00:00Z")));  // after the last day
  clinic.Feed(Access("p7", "patient", "p7", kMonday));
  std::vector<v1::Alert> alerts = clinic.Of("unknown_or_dormant_actor");
  EXPECT_THAT(Ids(alerts), ElementsAre("unknown_or_dormant_actor/dr.lie/2026-01-09",
                                       "unknown_or_dormant_actor/ghost/2026-01-12",
                                       "unknown_or_dormant_actor/dr.lie/2026-07-01"));
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[1].summary(), "The account ghost is not in the staff roster, in opus-dental");
  EXPECT_EQ(alerts[2].summary(),
            "The account dr.lie was used after its holder's last working day 2026-06-30, in "
            "opus-dental");
}

TEST(UnknownOrDormantActor, AccountUnusedForDormantDaysRaisesWithoutRoster) {
  Harness clinic;
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday));
  clinic.Feed(Access("dr.berg", "dentist", "p1", kMonday));
  clinic.Feed(Access("ghost", "dentist", "p1", kMonday));  // first sighting: fine without roster
  clinic.Feed(Access("dr.berg", "dentist", "p1", kMonday + absl::Hours(24 * 89)));
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday + absl::Hours(24 * 91)));
  std::vector<v1::Alert> alerts = clinic.Of("unknown_or_dormant_actor");
  EXPECT_THAT(Ids(alerts), ElementsAre("unknown_or_dormant_actor/dr.lie/2026-04-13"));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary(),
            "The account dr.lie was used after 91 days unused, in opus-dental");
}

TEST(DisallowedNetwork, AddressesOutsideTheSourcesNetworksRaise) {
  DetectionOptions options = TestOptions();
  options.disallowed_network.networks_by_source["opus-dental"] = {"10.20.0.0/16",
                                                                  "2001:db8:1::/48"};
  Harness clinic(options);
  auto from = [&](const std::string& actor, const std::string& address, const char* system) {
    v1::AccessEvent event = Access(actor, "dentist", "p1", kMonday);
    event.mutable_source()->set_system(system);
    event.set_network_address(address);
    return clinic.Feed(event);
  };
  from("in.v4", "10.20.3.4", "opus-dental");
  from("in.v6", "2001:db8:1:ff::5", "opus-dental");
  from("in.mapped", "::ffff:10.20.1.1", "opus-dental");
  from("elsewhere", "192.168.1.5", "website");  // no networks configured for it
  uint64_t seq = from("out.v4", "10.21.0.1", "opus-dental");
  from("out.v6", "2001:db8:2::5", "opus-dental");
  from("garbage", "not-an-address", "opus-dental");
  std::vector<v1::Alert> alerts = clinic.Of("disallowed_network");
  EXPECT_THAT(Ids(alerts), ElementsAre("disallowed_network/opus-dental/out.v4/2026-01-12",
                                       "disallowed_network/opus-dental/out.v6/2026-01-12",
                                       "disallowed_network/opus-dental/garbage/2026-01-12"));
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(seq));
  EXPECT_EQ(alerts[0].summary(),
            "out.v4 used opus-dental from 10.21.0.1, outside the networks allowed for it");
}

}  // namespace
}  // namespace innsyn::anomaly::testing
