// Access events that carry personal data, for the forgetting tests: patients
// with national identity numbers and names, clinicians with names, free-text
// reasons and user agents. Each test can then look for these strings in
// every file the ledger wrote, and read back what erasure left.
#ifndef INNSYN_TESTS_STORAGE_FORGETTING_TEST_SUPPORT_H_
#define INNSYN_TESTS_STORAGE_FORGETTING_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "storage/ledger.h"
#include "tests/support/test_events.h"

namespace innsyn::testing {

// The source system: stored in the clear header of every access event by
// design, so a search of the files must find it.
inline constexpr char kForgetSource[] = "fjordtann-journal";
inline constexpr char kReason[] = "suspected fracture, called mother";
inline constexpr char kUserAgent[] = "OpusDental/7.3 (Windows NT 10.0; chair-ingrid)";

struct Person {
  std::string id;  // a national identity number, or an account
  std::string name;
};

inline const Person kKari{"01017012345", "Kari Nordmann"};
inline const Person kOla{"24128899876", "Ola Nordmann"};
inline const Person kIngrid{"ingrid.bakke", "Ingrid Tannlege-Bakke"};
inline const Person kJonas{"jonas.kjeve", "Jonas Kjeveortoped"};

// 09:00 UTC on a fixed day of `year`.
inline absl::Time At(int year, int month = 3, int day = 2) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, 9, 0, 0), absl::UTCTimeZone());
}

// `clinician` reading `patient`'s `type` at `at`, event_id "ev-<n>".
inline v1::AccessEvent PersonalRead(int n, const Person& patient, const Person& clinician,
                                    absl::Time at,
                                    v1::DataObjectType type = v1::DATA_OBJECT_TYPE_JOURNAL_NOTE) {
  v1::AccessEvent event = JournalRead(n, patient.id, clinician.id, at);
  event.mutable_source()->set_system(kForgetSource);
  event.mutable_subject()->set_display_name(patient.name);
  event.mutable_actor()->set_display_name(clinician.name);
  event.set_reason(kReason);
  event.set_user_agent(kUserAgent);
  event.mutable_data_object()->set_type(type);
  return event;
}

// What ListSubject returns about `subject_id` (tests keep it under a page).
inline std::vector<storage::StoredEntry> History(const storage::Ledger& ledger,
                                                 const std::string& subject_id) {
  storage::IndexQuery query;
  query.id = subject_id;
  query.limit = 1000;
  absl::StatusOr<storage::IndexPage> page = ledger.ListSubject(query);
  EXPECT_TRUE(page.ok()) << page.status();
  if (!page.ok()) return {};
  EXPECT_TRUE(page->next_page_token.empty());
  return std::move(page->entries);
}

// Every key id the ledger's erasure and retention records name.
inline std::set<std::string> NamedKeys(const storage::Ledger& ledger) {
  std::set<std::string> named;
  absl::StatusOr<std::vector<storage::StoredEntry>> records = ledger.ListErasures();
  EXPECT_TRUE(records.ok()) << records.status();
  if (!records.ok()) return named;
  for (const storage::StoredEntry& record : *records) {
    const auto& keys = record.entry.has_erasure() ? record.entry.erasure().keys()
                                                  : record.entry.retention_run().keys();
    for (const v1::ShreddedKey& key : keys) named.insert(key.key_id());
  }
  return named;
}

// Whether `entries` holds some entries and none of them is erased.
inline bool NoneErased(const std::vector<storage::StoredEntry>& entries) {
  if (entries.empty()) return false;
  for (const storage::StoredEntry& entry : entries) {
    if (entry.erased) return false;
  }
  return true;
}

// The key ids of the entries of `entries`.
inline std::set<std::string> KeyIds(const std::vector<storage::StoredEntry>& entries) {
  std::set<std::string> ids;
  for (const storage::StoredEntry& entry : entries) ids.insert(entry.header.key_id());
  return ids;
}

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_STORAGE_FORGETTING_TEST_SUPPORT_H_
