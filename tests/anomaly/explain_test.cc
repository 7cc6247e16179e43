// Explain: the reason a patient is shown for an access to their data.
#include <gtest/gtest.h>

#include "tests/anomaly/anomaly_test_util.h"

namespace innsyn::anomaly::testing {
namespace {

// Monday 2026-01-12, 10:00 in Oslo (UTC+1).
const absl::Time kMonday = At("2026-01-12T09:00:00Z");

std::string ExplainIn(const v1::AccessEvent& access, std::vector<v1::AccessEvent> history) {
  history.push_back(access);
  return Explain(access, history, TestOptions());
}

TEST(Explain, AppointmentWithTheClinicianInLocalTime) {
  v1::AccessEvent read = JournalRead("dr.lie", "p1", kMonday);
  v1::AccessEvent booked =
      Appointment("a1", "p1", "dr.lie", "2026-01-16T09:00:00Z", kMonday - absl::Hours(48));
  EXPECT_EQ(ExplainIn(read, {booked}), "appointment 2026-01-16 10:00 with this clinician");
  v1::AccessEvent too_late =
      Appointment("a9", "p1", "dr.lie", "2026-01-20T09:00:00Z", kMonday - absl::Hours(48));
  EXPECT_EQ(ExplainIn(read, {too_late}), "") << "8 days after: beyond days_after";
  // Summer time: 08:00Z is 10:00 in Oslo.
  v1::AccessEvent summer_read = JournalRead("dr.lie", "p1", At("2026-06-01T08:00:00Z"));
  v1::AccessEvent summer_booking =
      Appointment("a2", "p1", "dr.lie", "2026-06-02T08:00:00Z", At("2026-05-01T08:00:00Z"));
  EXPECT_EQ(ExplainIn(summer_read, {summer_booking}),
            "appointment 2026-06-02 10:00 with this clinician");
}

TEST(Explain, AppointmentBookedJustAfterTheAccessExplainsIt) {
  v1::AccessEvent read = JournalRead("dr.lie", "p1", kMonday);
  EXPECT_EQ(ExplainIn(read, {Appointment("a1", "p1", "dr.lie", "2026-01-14T09:00:00Z",
                                         kMonday + absl::Minutes(20))}),
            "appointment 2026-01-14 10:00 with this clinician");
  EXPECT_EQ(ExplainIn(read, {Appointment("a1", "p1", "dr.lie", "2026-01-14T09:00:00Z",
                                         kMonday + absl::Hours(3))}),
            "");
}

TEST(Explain, EarlierTreatmentByTheClinician) {
  absl::Time visit = At("2025-10-02T08:00:00Z");
  v1::AccessEvent booked =
      Appointment("a1", "p1", "dr.lie", "2025-10-02T08:00:00Z", visit - absl::Hours(24));
  v1::AccessEvent treated = Access("dr.lie", "dentist", "p1", visit,
                                   v1::DATA_OBJECT_TYPE_JOURNAL_NOTE, v1::ACTION_CODE_CREATE);
  v1::AccessEvent read = JournalRead("dr.lie", "p1", kMonday);
  EXPECT_EQ(ExplainIn(read, {booked, treated}), "treated by this clinician on 2025-10-02");
  v1::AccessEvent other = JournalRead("dr.berg", "p1", kMonday);
  EXPECT_EQ(ExplainIn(other, {booked, treated}), "");
}

TEST(Explain, DisclosureWithConsentOrLegalBasis) {
  v1::AccessEvent consent = Consent("p1", "insurer-x", At("2026-01-05T12:00:00Z"));
  v1::AccessEvent disclosure = Disclosure("dr.lie", "p1", "insurer-x", kMonday);
  disclosure.mutable_recipient()->set_name("Insurer X");
  EXPECT_EQ(ExplainIn(disclosure, {consent}),
            "disclosed to Insurer X with your consent given 2026-01-05");
  v1::AccessEvent unnamed = Disclosure("dr.lie", "p1", "insurer-x", kMonday);
  EXPECT_EQ(ExplainIn(unnamed, {consent}),
            "disclosed to insurer-x with your consent given 2026-01-05");
  v1::AccessEvent withdrawn = Consent("p1", "insurer-x", At("2026-01-08T12:00:00Z"), false);
  EXPECT_EQ(ExplainIn(unnamed, {consent, withdrawn}), "");
  v1::AccessEvent to_nav = Disclosure("dr.lie", "p1", "nav", kMonday);
  to_nav.set_legal_basis("folketrygdloven § 21-4");
  EXPECT_EQ(ExplainIn(to_nav, {}), "disclosed under folketrygdloven § 21-4");
}

TEST(Explain, EmergencySelfBookingAndBilling) {
  v1::AccessEvent emergency = JournalRead("dr.lie", "p1", kMonday);
  emergency.set_action_subtype(v1::ACTION_SUBTYPE_BREAK_GLASS);
  EXPECT_EQ(ExplainIn(emergency, {}), "emergency access (break the glass), reviewed by the clinic");
  v1::AccessEvent self = Access("p1", "patient", "p1", kMonday);
  self.mutable_source()->set_system("portal");
  EXPECT_EQ(ExplainIn(self, {}), "you yourself, through portal");
  EXPECT_EQ(ExplainIn(Appointment("a1", "p1", "dr.lie", "2026-01-20T09:00:00Z", kMonday), {}),
            "your appointment booking");
  v1::AccessEvent invoice =
      Access("regnskap", "accountant", "p1", kMonday, v1::DATA_OBJECT_TYPE_INVOICE);
  invoice.set_purpose_of_use(v1::PURPOSE_OF_USE_BILLING);
  EXPECT_EQ(ExplainIn(invoice, {}), "invoice/billing");
}

TEST(Explain, NothingExplainsAnUnlinkedRead) {
  EXPECT_EQ(ExplainIn(JournalRead("dr.lie", "p1", kMonday),
                      {Appointment("a1", "p2", "dr.lie", "2026-01-13T09:00:00Z", kMonday)}),
            "");
}

// What Explain accounts for, the detector does not raise.
TEST(Explain, AgreesWithTheDetector) {
  std::vector<v1::AccessEvent> history = {
      Appointment("a1", "p1", "dr.lie", "2026-01-12T10:00:00Z", kMonday - absl::Hours(1)),
      JournalRead("dr.lie", "p1", kMonday),
      JournalRead("dr.berg", "p1", kMonday),
  };
  Harness clinic;
  for (const v1::AccessEvent& event : history) clinic.Feed(event);
  clinic.Tick(kMonday + absl::Hours(2));
  EXPECT_EQ(Explain(history[1], history, TestOptions()),
            "appointment 2026-01-12 11:00 with this clinician");
  EXPECT_EQ(Explain(history[2], history, TestOptions()), "");
  EXPECT_EQ(Ids(clinic.Of("no_care_relationship")),
            std::vector<std::string>{"no_care_relationship/dr.berg/p1/2026-01-12"});
}

}  // namespace
}  // namespace innsyn::anomaly::testing
