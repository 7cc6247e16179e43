// How clinics actually work, and the rules that must live with it:
// call-ins, internal referrals, covering for a sick colleague, month-end
// invoicing, role_data_access, role_purpose, unknown roles, per-source schedules, and
// the explanations for the same.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

v1::AccessEvent Note(const std::string& actor, const std::string& role, const std::string& subject,
                     absl::Time time) {
  return Access(actor, role, subject, time, v1::DATA_OBJECT_TYPE_JOURNAL_NOTE,
                v1::ACTION_CODE_CREATE);
}

v1::AccessEvent Referral(const std::string& from, const std::string& to, const std::string& subject,
                         absl::Time time) {
  v1::AccessEvent event =
      Access(from, "dentist", subject, time, v1::DATA_OBJECT_TYPE_REFERRAL, v1::ACTION_CODE_CREATE);
  (*event.mutable_attributes())[std::string(kReferralAddressee)] = to;
  return event;
}

// kari (hygienist) has p1 at 10:00; dr.berg is at work that day.
void HygienistDay(Harness& clinic) {
  clinic.Feed(
      Appointment("a1", "p1", "kari", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(Access("dr.berg", "dentist", "p9", kMonday - absl::Hours(1),
                     v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Feed(Access("kari", "hygienist", "p1", kMonday + absl::Minutes(1)));
}

TEST(CallIn, ColleaguesOwnNoteDuringTheAppointmentIsACareLink) {
  Harness clinic;
  HygienistDay(clinic);
  clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Minutes(20)));
  clinic.Feed(Note("dr.berg", "dentist", "p1", kMonday + absl::Minutes(26)));
  clinic.Tick(kMonday + absl::Hours(3));
  EXPECT_THAT(clinic.ids(), IsEmpty());
  // The note links dr.berg to p1 from then on, as a treatment does.
  clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Hours(24 * 5)));
  clinic.Tick(kMonday + absl::Hours(24 * 5 + 2));
  EXPECT_THAT(clinic.ids(), IsEmpty());
}

TEST(CallIn, ReadingAColleaguesPatientWithoutANoteIsStillAnAlert) {
  Harness clinic;
  HygienistDay(clinic);
  clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Minutes(20)));
  clinic.Tick(kMonday + absl::Hours(3));
  EXPECT_THAT(clinic.ids(), ElementsAre("no_care_relationship/dr.berg/p1/2026-01-12"));
}

TEST(CallIn, ANoteLongAfterTheColleaguesAppointmentIsNoCallIn) {
  Harness clinic;
  HygienistDay(clinic);
  clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Hours(4)));
  clinic.Feed(Note("dr.berg", "dentist", "p1", kMonday + absl::Hours(4)));
  clinic.Tick(kMonday + absl::Hours(6));
  EXPECT_THAT(clinic.ids(), ElementsAre("no_care_relationship/dr.berg/p1/2026-01-12"));
}

TEST(Referral, TheAddresseeMayTriageBeforeAnyBooking) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(Referral("dr.lie", "dr.kirurg", "p1", kMonday + absl::Minutes(40)));
  clinic.Feed(Access("dr.kirurg", "oral_surgeon", "p1", kMonday + absl::Hours(26),
                     v1::DATA_OBJECT_TYPE_REFERRAL));
  clinic.Feed(Access("dr.kirurg", "oral_surgeon", "p1", kMonday + absl::Hours(26)));
  // Someone the referral does not name.
  clinic.Feed(Access("dr.other", "oral_surgeon", "p1", kMonday + absl::Hours(26)));
  clinic.Tick(kMonday + absl::Hours(30));
  EXPECT_THAT(clinic.ids(), ElementsAre("no_care_relationship/dr.other/p1/2026-01-13"));
}

TEST(Referral, AReferralToOneselfLinksNoOne) {
  Harness clinic;
  clinic.Feed(Referral("dr.lie", "dr.lie", "p1", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(clinic.ids(), ElementsAre("no_care_relationship/dr.lie/p1/2026-01-12"));
}

TEST(Covering, PatientsOfAnAbsentColleagueAreOneLowNoticeADay) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(
      Appointment("a2", "p2", "dr.lie", "2026-01-12T11:00:00+01:00", kMonday - absl::Hours(72)));
  // dr.lie worked last Friday, but is off sick today.
  clinic.Feed(Access("dr.lie", "dentist", "p9", kMonday - absl::Hours(72),
                     v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  uint64_t first = clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Minutes(1)));
  clinic.Feed(Note("dr.berg", "dentist", "p1", kMonday + absl::Minutes(40)));
  clinic.Feed(JournalRead("dr.berg", "p2", kMonday + absl::Minutes(61)));
  clinic.Tick(kMonday + absl::Hours(4));
  std::vector<v1::Alert> alerts = clinic.alerts();
  ASSERT_EQ(alerts.size(), 1u) << alerts.size();
  EXPECT_EQ(alerts[0].alert_id(), "covering/dr.berg/2026-01-12");
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_LOW);
  EXPECT_EQ(alerts[0].actor_id(), "dr.berg");
  EXPECT_EQ(Evidence(alerts[0]).front(), first);
  EXPECT_EQ(alerts[0].summary(),
            "dr.berg saw patients booked with dr.lie, who has not been at work on 2026-01-12 "
            "(covering; this first patient at 2026-01-12 10:00)");
}

TEST(Covering, AColleagueAtWorkIsNoCover) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(Access("dr.lie", "dentist", "p9", kMonday - absl::Minutes(30),
                     v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Feed(JournalRead("dr.berg", "p1", kMonday + absl::Minutes(1)));
  clinic.Tick(kMonday + absl::Hours(4));
  EXPECT_THAT(clinic.ids(), ElementsAre("no_care_relationship/dr.berg/p1/2026-01-12"));
}

TEST(VolumeSpike, TheSlidingWindowSpansClockHoursAndABurstIsOneAlert) {
  Harness clinic;
  // 70 patients from 10:40 to 11:49: 20 in the first clock hour, 50 in the
  // second; one burst.
  for (int i = 0; i < 70; ++i) {
    clinic.Feed(
        Access("dr.lie", "dentist", "p" + std::to_string(i), kMonday + absl::Minutes(40 + i)));
  }
  EXPECT_THAT(Ids(clinic.Of("volume_spike")), ElementsAre("volume_spike/dr.lie/health/0"));
}

TEST(VolumeSpike, IssuingInvoicesIsBillingWorkNotReading) {
  Harness clinic;
  for (int i = 0; i < 58; ++i) {
    v1::AccessEvent invoice = Access("resepsjon", "receptionist", "p" + std::to_string(i),
                                     kMonday + absl::Seconds(60 * i), v1::DATA_OBJECT_TYPE_INVOICE,
                                     v1::ACTION_CODE_UPDATE);
    invoice.set_purpose_of_use(v1::PURPOSE_OF_USE_BILLING);
    clinic.Feed(invoice);
  }
  EXPECT_THAT(clinic.Of("volume_spike"), IsEmpty());
  // Reading as many invoices is counted.
  for (int i = 0; i < 58; ++i) {
    clinic.Feed(Access("resepsjon", "receptionist", "q" + std::to_string(i),
                       kMonday + absl::Hours(3) + absl::Seconds(60 * i),
                       v1::DATA_OBJECT_TYPE_INVOICE));
  }
  EXPECT_EQ(clinic.Of("volume_spike").size(), 1u);
}

TEST(RoleDataAccess, AReceptionistReadingAJournalIsAnAlert) {
  Harness clinic;
  uint64_t seq = clinic.Feed(Access("resepsjon", "receptionist", "p1", kMonday));
  clinic.Feed(Access("resepsjon", "receptionist", "p1", kMonday + absl::Minutes(2),
                     v1::DATA_OBJECT_TYPE_TREATMENT_PLAN));
  clinic.Feed(
      Access("resepsjon", "receptionist", "p2", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Feed(Access("resepsjon", "receptionist", "p2", kMonday, v1::DATA_OBJECT_TYPE_INVOICE));
  clinic.Tick(kMonday + absl::Hours(3));
  std::vector<v1::Alert> alerts = clinic.alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "role_data_access/resepsjon/p1/2026-01-12");
  EXPECT_EQ(alerts[0].subject_id(), "p1");
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(seq));
  EXPECT_EQ(alerts[0].summary(),
            "resepsjon, a receptionist, opened a patient's journal, which the role does not "
            "work with");
}

TEST(RoleDataAccess, TheRolesKindsOfDataAreConfiguration) {
  DetectionOptions options = TestOptions();
  options.role_data["receptionist"] = {"contact_details"};
  Harness clinic(options);
  clinic.Feed(Access("resepsjon", "receptionist", "p1", kMonday, v1::DATA_OBJECT_TYPE_INVOICE));
  EXPECT_THAT(clinic.ids(), ElementsAre("role_data_access/resepsjon/p1/2026-01-12"));
}

v1::AccessEvent WithPurpose(v1::AccessEvent event, v1::PurposeOfUse purpose) {
  event.set_purpose_of_use(purpose);
  return event;
}

TEST(RolePurpose, APurposeTheRoleDoesNotHaveIsAnAlertEvenOnDataItMayTouch) {
  Harness clinic;
  // dr.lie has p1 at 10:00, and reads p1's journal "for research": the
  // care link holds, the purpose does not.
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  uint64_t research =
      clinic.Feed(WithPurpose(JournalRead("dr.lie", "p1", kMonday), v1::PURPOSE_OF_USE_RESEARCH));
  clinic.Feed(WithPurpose(JournalRead("dr.lie", "p1", kMonday + absl::Minutes(5)),
                          v1::PURPOSE_OF_USE_QUALITY));
  // Contact details are reception's data, but a legal request is not its
  // purpose.
  uint64_t legal = clinic.Feed(WithPurpose(
      Access("resepsjon", "receptionist", "p2", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS),
      v1::PURPOSE_OF_USE_LEGAL));
  clinic.Feed(WithPurpose(Access("leder", "manager", "p2", kMonday + absl::Minutes(10),
                                 v1::DATA_OBJECT_TYPE_CONTACT_DETAILS),
                          v1::PURPOSE_OF_USE_LEGAL));
  clinic.Feed(WithPurpose(
      Access("resepsjon", "receptionist", "p3", kMonday, v1::DATA_OBJECT_TYPE_APPOINTMENT),
      v1::PURPOSE_OF_USE_ADMINISTRATION));
  // An event that gives no purpose is not judged by it.
  clinic.Feed(WithPurpose(
      Access("resepsjon", "receptionist", "p4", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS),
      v1::PURPOSE_OF_USE_UNSPECIFIED));
  clinic.Tick(kMonday + absl::Hours(3));
  std::vector<v1::Alert> alerts = clinic.Of("role_purpose");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].alert_id(), "role_purpose/dr.lie/p1/2026-01-12");
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(research));
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_MEDIUM);
  EXPECT_EQ(alerts[0].summary(),
            "dr.lie, a dentist, opened a patient's journal for research, which is not a purpose "
            "the role has");
  EXPECT_EQ(alerts[1].alert_id(), "role_purpose/resepsjon/p2/2026-01-12");
  EXPECT_THAT(Evidence(alerts[1]), ElementsAre(legal));
  EXPECT_THAT(clinic.ids(), ElementsAre("role_purpose/dr.lie/p1/2026-01-12",
                                        "role_purpose/resepsjon/p2/2026-01-12"));
}

TEST(RolePurpose, TheRolesPurposesAreConfigurationAndUnknownRolesTakeTheClinicalOnes) {
  DetectionOptions options = TestOptions();
  options.clinical_purposes = {"treatment"};
  options.role_purposes["dentist"] = {"treatment", "research"};  // an approved project
  options.role_purposes["receptionist"] = {};
  Harness clinic(options);
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(
      Appointment("a2", "p1", "kari", "2026-01-12T11:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(WithPurpose(JournalRead("dr.lie", "p1", kMonday), v1::PURPOSE_OF_USE_RESEARCH));
  clinic.Feed(WithPurpose(Access("kari", "hygienist", "p1", kMonday + absl::Minutes(1)),
                          v1::PURPOSE_OF_USE_RESEARCH));
  clinic.Feed(WithPurpose(Access("vikar", "locum_unknown", "p1", kMonday + absl::Minutes(2),
                                 v1::DATA_OBJECT_TYPE_CONTACT_DETAILS),
                          v1::PURPOSE_OF_USE_BILLING));
  clinic.Feed(WithPurpose(
      Access("resepsjon", "receptionist", "p3", kMonday, v1::DATA_OBJECT_TYPE_APPOINTMENT),
      v1::PURPOSE_OF_USE_ADMINISTRATION));
  EXPECT_THAT(Ids(clinic.Of("role_purpose")),
              ::testing::UnorderedElementsAre("role_purpose/kari/p1/2026-01-12",
                                              "role_purpose/vikar/p1/2026-01-12",
                                              "role_purpose/resepsjon/p1/2026-01-09",  // booking
                                              "role_purpose/resepsjon/p3/2026-01-12"));
}

TEST(RolePurpose, ARoleWithNoPurposesNamedHasNone) {
  DetectionOptions options = TestOptions();
  options.role_data["vaktmester"] = {"contact_details"};
  Harness clinic(options);
  clinic.Feed(
      WithPurpose(Access("ola", "vaktmester", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS),
                  v1::PURPOSE_OF_USE_ADMINISTRATION));
  EXPECT_THAT(Ids(clinic.Of("role_purpose")), ElementsAre("role_purpose/ola/p1/2026-01-12"));
}

TEST(UnknownRole, ARosterRoleNoSettingNamesIsRefusedAtStart) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
      TestOptions(), Roster({Staff("dr.kirurg", "oral_surgeon"), Staff("it.ola", "it_support")}));
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(engine.status().message()),
              ::testing::HasSubstr("staff it.ola has role \"it_support\""));
}

TEST(UnknownRole, EventsFromAnUnknownRoleAreJudgedAsAClinicianAndCounted) {
  Harness clinic;
  clinic.Feed(Access("vikar", "locum_unknown", "p1", kMonday));
  clinic.Feed(Access("vikar", "locum_unknown", "p2", kMonday));
  clinic.Feed(Access("dr.kirurg", "oral_surgeon", "p3", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ::testing::UnorderedElementsAre("no_care_relationship/vikar/p1/2026-01-12",
                                              "no_care_relationship/vikar/p2/2026-01-12",
                                              "no_care_relationship/dr.kirurg/p3/2026-01-12"));
  EXPECT_THAT(clinic.engine().UnknownRoleEvents(), ElementsAre(Pair("locum_unknown", 2u)));
}

TEST(SourceSilent, AScheduleKeepsAQuietAfternoonFromCounting) {
  DetectionOptions options = TestOptions();
  OpeningHours xray = OpeningHours::Default();
  xray.days[0] = {{7 * 60, 12 * 60}};  // Mondays: mornings only
  options.source_silent.schedules["xray"] = xray;
  Harness clinic(options);
  const absl::Time first_monday = At("2025-12-29T06:30:00Z");  // 07:30 local
  for (int day = 0; day < 14; ++day) {
    if (day % 7 >= 5) continue;
    for (int hour = 0; hour < 13; ++hour) {
      for (const char* system : {"xray", "journal"}) {
        v1::AccessEvent event =
            Access("dr.lie", "dentist", "p1", first_monday + absl::Hours(24 * day + hour),
                   v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
        event.mutable_source()->set_system(system);
        clinic.Feed(event);
      }
    }
  }
  for (const char* system : {"xray", "journal"}) {
    v1::AccessEvent event = Access("dr.lie", "dentist", "p1", kMonday + absl::Hours(2),
                                   v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);  // 12:00
    event.mutable_source()->set_system(system);
    clinic.Feed(event);
  }
  // The clinic works on (its billing system shows it) while both are quiet.
  for (int minute = 130; minute <= 6 * 60; minute += 10) {
    v1::AccessEvent event = Access("ann", "receptionist", "p1", kMonday + absl::Minutes(minute),
                                   v1::DATA_OBJECT_TYPE_INVOICE);
    event.mutable_source()->set_system("billing");
    clinic.Feed(event);
  }
  clinic.Tick(kMonday + absl::Hours(6));
  EXPECT_THAT(Ids(clinic.Of("source_silent")),
              ElementsAre("source_silent/journal/clinic-1/" +
                          std::to_string(absl::ToUnixSeconds(kMonday + absl::Hours(2)))));
}

std::string ExplainIn(const v1::AccessEvent& access, std::vector<v1::AccessEvent> history) {
  history.push_back(access);
  return Explain(access, history, TestOptions());
}

TEST(Explain, ReceptionAtCheckInAndOnThePhone) {
  v1::AccessEvent booked =
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:30:00+01:00", kMonday - absl::Hours(72));
  v1::AccessEvent check_in =
      Access("resepsjon", "receptionist", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  EXPECT_EQ(ExplainIn(check_in, {booked}), "check-in for your appointment 2026-01-12 10:30");
  v1::AccessEvent moved = Appointment("a1", "p1", "dr.lie", "2026-02-12T10:30:00+01:00",
                                      kMonday + absl::Hours(24 * 3), v1::ACTION_CODE_UPDATE);
  v1::AccessEvent call =
      Access("resepsjon", "receptionist", "p1", kMonday + absl::Hours(24 * 3) + absl::Minutes(1),
             v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  EXPECT_EQ(ExplainIn(call, {booked, moved}),
            "phone call: your appointment changed by them at 10:00");
  v1::AccessEvent idle = Access("resepsjon", "receptionist", "p1", kMonday + absl::Hours(24 * 9),
                                v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
  EXPECT_EQ(ExplainIn(idle, {booked, moved}), "");
}

TEST(Explain, ReferralCallInCoveringAndGoLive) {
  v1::AccessEvent booked =
      Appointment("a1", "p1", "kari", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(72));
  v1::AccessEvent referral = Referral("dr.lie", "dr.kirurg", "p1", kMonday - absl::Hours(24));
  EXPECT_EQ(ExplainIn(Access("dr.kirurg", "oral_surgeon", "p1", kMonday), {referral}),
            "referral to this clinician from dr.lie on 2026-01-11");
  v1::AccessEvent kari = Access("kari", "hygienist", "p1", kMonday + absl::Minutes(1));
  v1::AccessEvent read = JournalRead("dr.berg", "p1", kMonday + absl::Minutes(20));
  v1::AccessEvent note = Note("dr.berg", "dentist", "p1", kMonday + absl::Minutes(25));
  EXPECT_EQ(ExplainIn(read, {booked, kari, note}),
            "called in by kari during your appointment 2026-01-12 10:00");
  EXPECT_EQ(ExplainIn(read, {booked, kari}), "") << "no note of their own";
  EXPECT_EQ(ExplainIn(read, {booked}), "covering for kari at your appointment 2026-01-12 10:00");
  v1::AccessEvent imported = Access("journal-sync", "system", "p1", kMonday,
                                    v1::DATA_OBJECT_TYPE_CONTACT_DETAILS, v1::ACTION_CODE_CREATE);
  (*imported.mutable_attributes())[std::string(kImport)] = "go-live";
  EXPECT_EQ(ExplainIn(imported, {}), "recorded at go-live (go-live): imported from opus-dental");
}

}  // namespace
}  // namespace innsyn::anomaly::testing
