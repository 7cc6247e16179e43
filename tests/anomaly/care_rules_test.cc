// no_care_relationship, disclosure_without_consent and break_glass.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

TEST(NoCareRelationship, ReadWithoutAppointmentIsOneAlertPerPatientAndDay) {
  Harness clinic;
  uint64_t first = clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  uint64_t second = clinic.Feed(JournalRead("dr.lie", "p1", kMonday + absl::Minutes(30)));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty()) << "waits for a late booking";
  clinic.Feed(JournalRead("dr.berg", "p2", kMonday + absl::Minutes(61)));
  std::vector<v1::Alert> alerts = clinic.Of("no_care_relationship");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "no_care_relationship/dr.lie/p1/2026-01-12");
  EXPECT_EQ(alerts[0].actor_id(), "dr.lie");
  EXPECT_EQ(alerts[0].subject_id(), "p1");
  EXPECT_EQ(alerts[0].severity(), v1::ALERT_SEVERITY_HIGH);
  EXPECT_EQ(alerts[0].source_system(), "opus-dental");
  EXPECT_EQ(alerts[0].occurred_at().seconds(), absl::ToUnixSeconds(kMonday));
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(first, second));
  EXPECT_EQ(alerts[0].summary(),
            "dr.lie read the journal of a patient with no appointment with them from 30 days "
            "before to 7 days after, no treatment by them in the 365 days before, no referral "
            "to them and no colleague's appointment they were called in to or covered");
  // The same patient later that day is the same incident.
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday + absl::Hours(5)));
  clinic.Tick(kMonday + absl::Hours(8));
  EXPECT_EQ(clinic.Of("no_care_relationship").size(), 2u) << "dr.berg/p2 only";
  EXPECT_EQ(clinic.Of("no_care_relationship")[1].alert_id(),
            "no_care_relationship/dr.berg/p2/2026-01-12");
}

TEST(NoCareRelationship, AppointmentWithinWindowClearsAccess) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-15T10:00:00+01:00", kMonday - absl::Hours(72)));
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));  // 3 days before the visit
  clinic.Feed(Appointment("a2", "p2", "dr.lie", "2025-12-20T10:00:00+01:00",
                          kMonday - absl::Hours(24 * 30)));
  clinic.Feed(JournalRead("dr.lie", "p2", kMonday));  // 23 days after the visit
  clinic.Tick(kMonday + absl::Hours(3));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty());
}

TEST(NoCareRelationship, AppointmentWithAnotherClinicianOrOutsideWindowDoesNotClear) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.berg", "2026-01-13T10:00:00+01:00", kMonday - absl::Hours(24)));
  clinic.Feed(Appointment("a2", "p1", "dr.lie", "2026-01-22T10:00:00+01:00",
                          kMonday - absl::Hours(24)));  // 10 days after: beyond days_after
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/dr.lie/p1/2026-01-12"));
}

TEST(NoCareRelationship, AppointmentBookedShortlyAfterClearsAccess) {
  Harness clinic;
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-14T08:00:00+01:00", kMonday + absl::Minutes(20)));
  clinic.Feed(JournalRead("dr.berg", "p9", kMonday + absl::Hours(2)));
  clinic.Tick(kMonday + absl::Hours(3));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/dr.berg/p9/2026-01-12"));
}

TEST(NoCareRelationship, AppointmentBookedHoursAfterDoesNotClear) {
  Harness clinic;
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-14T08:00:00+01:00", kMonday + absl::Hours(2)));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/dr.lie/p1/2026-01-12"));
}

TEST(NoCareRelationship, CancelledAppointmentNoLongerClears) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-14T08:00:00+01:00", kMonday - absl::Hours(48)));
  clinic.Feed(Appointment("a1", "p1", "dr.lie", "2026-01-14T08:00:00+01:00",
                          kMonday - absl::Hours(24), v1::ACTION_CODE_DELETE));
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_EQ(clinic.Of("no_care_relationship").size(), 1u);
}

TEST(NoCareRelationship, MovedAppointmentCoversItsNewTime) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-03-30T08:00:00+02:00", kMonday - absl::Hours(48)));
  clinic.Feed(Appointment("a1", "p1", "dr.lie", "2026-01-13T08:00:00+01:00",
                          kMonday - absl::Hours(24), v1::ACTION_CODE_UPDATE));
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty());
}

TEST(NoCareRelationship, TreatmentLinksLaterAccessWithoutAppointment) {
  Harness clinic;
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00+01:00", kMonday - absl::Hours(48)));
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday, v1::DATA_OBJECT_TYPE_JOURNAL_NOTE,
                     v1::ACTION_CODE_CREATE));
  absl::Time later = At("2026-04-20T08:00:00Z");  // 98 days on, Monday 10:00 local
  clinic.Feed(JournalRead("dr.lie", "p1", later));
  clinic.Feed(JournalRead("dr.berg", "p1", later));
  clinic.Tick(later + absl::Hours(2));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/dr.berg/p1/2026-04-20"));
}

TEST(NoCareRelationship, LinksSurviveMonthsOfPruning) {
  Harness clinic;
  absl::Time visit = At("2025-06-02T08:00:00Z");
  clinic.Feed(
      Appointment("a1", "p1", "dr.lie", "2025-06-02T10:00:00+02:00", visit - absl::Hours(24)));
  clinic.Feed(Access("dr.lie", "dentist", "p1", visit, v1::DATA_OBJECT_TYPE_TREATMENT_PLAN,
                     v1::ACTION_CODE_UPDATE));
  // A visit booked almost two months ahead.
  clinic.Feed(
      Appointment("a2", "p2", "dr.lie", "2026-02-25T10:00:00+01:00", At("2026-01-02T09:00:00Z")));
  // Every day until then, someone works: the engine sweeps its state.
  for (absl::Time day = visit; day < At("2026-02-20T09:00:00Z"); day += absl::Hours(24)) {
    clinic.Feed(
        Access("resepsjon", "receptionist", "p3", day, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  }
  clinic.Feed(JournalRead("dr.lie", "p1", At("2026-02-20T09:00:00Z")));  // 263 days on
  clinic.Feed(JournalRead("dr.lie", "p2", At("2026-02-20T09:00:00Z")));  // 5 days before
  clinic.Tick(At("2026-02-20T12:00:00Z"));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty());
}

TEST(NoCareRelationship, OnlyClinicianReadsOfHealthDataAreChecked) {
  Harness clinic;
  clinic.Feed(Access("resepsjon", "receptionist", "p1", kMonday));  // role_data_access's
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday, v1::DATA_OBJECT_TYPE_CONTACT_DETAILS));
  clinic.Feed(Access("dr.lie", "dentist", "p1", kMonday, v1::DATA_OBJECT_TYPE_INVOICE));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty());
}

TEST(NoCareRelationship, RosterRoleDecidesWhoIsClinician) {
  Roster roster({Staff("kari", "hygienist")});
  Harness clinic(TestOptions(), roster);
  clinic.Feed(Access("kari", "", "p1", kMonday));
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(Ids(clinic.Of("no_care_relationship")),
              ElementsAre("no_care_relationship/kari/p1/2026-01-12"));
}

TEST(BreakGlass, EmergencyAccessIsBreakGlassNotNoCare) {
  Harness clinic;
  v1::AccessEvent emergency = JournalRead("dr.lie", "p1", kMonday);
  emergency.set_action_subtype(v1::ACTION_SUBTYPE_BREAK_GLASS);
  emergency.set_reason("unconscious patient");
  uint64_t seq = clinic.Feed(emergency);
  v1::AccessEvent follow_up = JournalRead("dr.lie", "p1", kMonday + absl::Minutes(5));
  follow_up.set_purpose_of_use(v1::PURPOSE_OF_USE_EMERGENCY);
  clinic.Feed(follow_up);
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_THAT(clinic.Of("no_care_relationship"), IsEmpty());
  std::vector<v1::Alert> alerts = clinic.Of("break_glass");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "break_glass/dr.lie/p1/2026-01-12");
  EXPECT_THAT(Evidence(alerts[0]), ElementsAre(seq));
  EXPECT_EQ(alerts[0].summary(),
            "dr.lie used emergency access (break the glass) to a patient's journal, giving the "
            "reason \"unconscious patient\"");
}

TEST(BreakGlass, OrdinaryAccessIsNotBreakGlass) {
  Harness clinic;
  clinic.Feed(JournalRead("dr.lie", "p1", kMonday));
  EXPECT_THAT(clinic.Of("break_glass"), IsEmpty());
}

TEST(DisclosureWithoutConsent, DisclosureWithoutConsentOrLegalBasisRaises) {
  Harness clinic;
  uint64_t seq = clinic.Feed(Disclosure("dr.lie", "p1", "insurer-x", kMonday));
  std::vector<v1::Alert> alerts = clinic.Of("disclosure_without_consent");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id(), "disclosure_without_consent/" + std::to_string(seq));
  EXPECT_EQ(alerts[0].subject_id(), "p1");
  EXPECT_EQ(alerts[0].summary(),
            "dr.lie disclosed a patient's journal to insurer-x with neither the patient's consent "
            "nor a legal basis recorded");
}

TEST(DisclosureWithoutConsent, ConsentOrLegalBasisClearsDisclosure) {
  Harness clinic;
  clinic.Feed(Consent("p1", "insurer-x", kMonday - absl::Hours(24)));
  clinic.Feed(Disclosure("dr.lie", "p1", "insurer-x", kMonday));
  v1::AccessEvent to_nav = Disclosure("dr.lie", "p2", "nav", kMonday);
  to_nav.set_legal_basis("folketrygdloven § 21-4");
  clinic.Feed(to_nav);
  EXPECT_THAT(clinic.Of("disclosure_without_consent"), IsEmpty());
}

TEST(DisclosureWithoutConsent, WithdrawnConsentOrOtherRecipientRaises) {
  Harness clinic;
  clinic.Feed(Consent("p1", "insurer-x", kMonday - absl::Hours(48)));
  clinic.Feed(Consent("p1", "insurer-x", kMonday - absl::Hours(24), /*given=*/false));
  uint64_t withdrawn = clinic.Feed(Disclosure("dr.lie", "p1", "insurer-x", kMonday));
  clinic.Feed(Consent("p2", "insurer-x", kMonday - absl::Hours(24)));
  uint64_t other = clinic.Feed(Disclosure("dr.lie", "p2", "insurer-y", kMonday));
  EXPECT_THAT(Ids(clinic.Of("disclosure_without_consent")),
              ElementsAre("disclosure_without_consent/" + std::to_string(withdrawn),
                          "disclosure_without_consent/" + std::to_string(other)));
}

}  // namespace
}  // namespace innsyn::anomaly::testing
