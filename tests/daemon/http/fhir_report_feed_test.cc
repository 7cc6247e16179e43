// The innsyn report's FHIR bundle (report/fhir_report.h) read by the FHIR
// feed's mapper (daemon/http/fhir_audit_event.h): every AuditEvent a report
// writes maps back to the access event the report shows, for every action,
// outcome, kind of subject and data, with and without HPR number, recipient
// and legal basis. A report that shows staff by role only names no one,
// and the feed refuses it, naming the element.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/http/fhir_audit_event.h"
#include "daemon/http/json_codec.h"
#include "report/fhir_report.h"

namespace innsyn::daemon::http {
namespace {

// An access as a report row shows it (the portal's view: no event id,
// workstation, network address, free text or attributes).
v1::AccessEvent Shown(int n) {
  v1::AccessEvent event;
  event.mutable_source()->set_system("opus-dental");
  if (n % 3 != 0) event.mutable_source()->set_instance("clinic-1");
  event.mutable_occurred_at()->set_seconds(1'774'735'200 + 60 * n);
  event.mutable_actor()->set_id(absl::StrCat("user-", n));
  event.mutable_actor()->set_display_name("Bjørg Åsheim");
  event.mutable_actor()->set_role("hygienist");
  if (n % 2 == 0) event.mutable_actor()->set_hpr_number("7712345");
  if (n % 4 != 1) event.mutable_actor()->set_organisation("Tannlegene i Storgata");
  event.mutable_subject()->set_id("01017012345");
  event.mutable_subject()->set_display_name("Åse Ødegård Bækken");
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.set_action(static_cast<v1::ActionCode>(1 + n % 5));
  event.mutable_data_object()->set_type(static_cast<v1::DataObjectType>(1 + n % 10));
  if (n % 5 != 0) event.mutable_data_object()->set_id(absl::StrCat("obj-", n));
  event.set_purpose_of_use(static_cast<v1::PurposeOfUse>(n % 10));
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return event;
}

// Each AuditEvent of the report made of `events`, read by the feed.
std::vector<absl::StatusOr<v1::AccessEvent>> ThroughTheFeed(
    const std::vector<v1::AccessEvent>& events) {
  v1::SignedAnswer signed_answer;
  v1::InnsynAnswer& answer = *signed_answer.mutable_answer();
  for (size_t i = 0; i < events.size(); ++i) {
    v1::ReportRow& row = *answer.add_rows();
    row.set_seq(100 + i);
    *row.mutable_entry()->mutable_access_event() = events[i];
    row.mutable_entry()->mutable_committed_at()->set_seconds(1'780'000'000);
    if (i % 2 == 0) row.set_explanation("time 2026-03-05 09:00 hos denne behandleren");
  }
  absl::StatusOr<std::string> bundle = report::RenderFhir(signed_answer);
  EXPECT_TRUE(bundle.ok()) << bundle.status();
  absl::StatusOr<google::protobuf::Value> parsed = ParseJsonValue(bundle.value_or("{}"));
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  std::vector<absl::StatusOr<v1::AccessEvent>> out;
  const auto& entries = parsed->struct_value().fields().at("entry").list_value().values();
  for (int i = 0; i < entries.size(); ++i) {
    const google::protobuf::Value& resource = entries[i].struct_value().fields().at("resource");
    if (resource.struct_value().fields().at("resourceType").string_value() != "AuditEvent") {
      continue;
    }
    out.push_back(
        AuditEventToAccessEvent(resource, absl::StrCat("Bundle.entry[", i, "].resource")));
  }
  return out;
}

TEST(FhirReportFeed, EveryReportedAccessMapsBackToItself) {
  std::vector<v1::AccessEvent> events;
  int n = 0;
  for (int subtype = 1; subtype <= v1::ActionSubtype_MAX; ++subtype) {
    for (int outcome = 1; outcome <= v1::Outcome_MAX; ++outcome) {
      v1::AccessEvent event = Shown(n++);
      event.set_action_subtype(static_cast<v1::ActionSubtype>(subtype));
      event.set_outcome(static_cast<v1::Outcome>(outcome));
      // A login that failed is a failure, as innsyn's validation has it.
      if (subtype == v1::ACTION_SUBTYPE_LOGIN_FAILED && outcome == v1::OUTCOME_SUCCESS) {
        event.set_outcome(v1::OUTCOME_DENIED);
      }
      if (subtype == v1::ACTION_SUBTYPE_DISCLOSE || subtype == v1::ACTION_SUBTYPE_CONSENT_GIVEN) {
        event.mutable_recipient()->set_id("889640782");
        event.mutable_recipient()->set_name("NAV");
      }
      if (n % 3 == 0) event.set_legal_basis("helsepersonelloven § 39");
      events.push_back(event);
    }
  }
  for (int kind = 2; kind <= v1::SubjectKind_MAX; ++kind) {
    v1::AccessEvent event = Shown(n++);
    event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
    event.mutable_subject()->set_kind(static_cast<v1::SubjectKind>(kind));
    events.push_back(event);
  }
  std::vector<absl::StatusOr<v1::AccessEvent>> read = ThroughTheFeed(events);
  ASSERT_EQ(read.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(read[i].ok()) << i << ": " << read[i].status();
    v1::AccessEvent expected = events[i];
    expected.set_event_id(absl::StrCat("seq-", 100 + i));
    std::string differences;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&differences);
    EXPECT_TRUE(differ.Compare(expected, *read[i]))
        << i << " (" << v1::ActionSubtype_Name(expected.action_subtype()) << ", "
        << v1::Outcome_Name(expected.outcome()) << "): " << differences;
  }
}

TEST(FhirReportFeed, AReportShowingStaffByRoleOnlyIsRefusedNamingTheAgent) {
  v1::AccessEvent event = Shown(2);
  event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
  event.mutable_actor()->clear_id();
  event.mutable_actor()->clear_display_name();
  event.mutable_actor()->clear_hpr_number();
  std::vector<absl::StatusOr<v1::AccessEvent>> read = ThroughTheFeed({event});
  ASSERT_EQ(read.size(), 1u);
  EXPECT_TRUE(absl::IsInvalidArgument(read[0].status())) << read[0].status();
  EXPECT_TRUE(absl::StartsWith(read[0].status().message(),
                               "Bundle.entry[0].resource.agent[0].who.identifier"))
      << read[0].status();
}

}  // namespace
}  // namespace innsyn::daemon::http
