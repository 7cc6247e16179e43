// Incidents about disclosures, logins, accounts and networks, and about
// the sources' own health (a silent day, a gap in the numbering).
#include <fmt/format.h>

#include <algorithm>

#include "anomaly/event_conventions.h"
#include "base/strings.h"
#include "bench/clinic_incidents.h"

namespace innsyn::bench::sim {

// Two silent days each for the X-ray and the billing integration: sources
// whose loss leaves the journal's care links intact.
void Incidents::PlanSilences() {
  const Source sources[] = {Source::kBilling, Source::kXray, Source::kBilling, Source::kXray};
  for (int k = 0; k < 4; ++k) {
    int day = Target(k, 4, 0.25, 0.9);
    while (day < Days() - 1 && (!Weekday(day) || !Weekday(day - 1) || SilentDay(day))) ++day;
    if (day >= Days() - 1) continue;
    std::string system = SystemName(sources[k]);
    int label = Label("source_silent",
                      StrCat(system, " sends nothing all ", absl::FormatCivilTime(b_.Day(day))), "",
                      "", b_.Local(day - 1, 12, 0), b_.Local(day + 1, 12, 0), system);
    b_.silences_.push_back({sources[k], day, label});
  }
}

// Disclosures to a third party that no consent or legal basis covers, right
// after the discloser's own appointment with the patient.
void Incidents::DisclosureWithoutConsent() {
  struct Recipient {
    const char* id;
    const char* name;
  };
  const Recipient insurer{"995568217", "Gjensidige Forsikring"};
  const Recipient other_insurer{"980545222", "If Skadeforsikring"};
  const Recipient nav{"889640782", "NAV"};
  const Recipient collector{"937361928", "Intrum AS"};
  std::vector<int> dentists = b_.StaffWithRole("dentist");
  const char* scenarios[] = {
      "to an insurer with no consent", "to NAV after the patient withdrew consent",
      "to an insurer after the consent lapsed", "to an insurer other than the one consented to",
      "to NAV with no consent"};
  for (int k = 0; k < 5; ++k) {
    int c = dentists[static_cast<size_t>(k) % dentists.size()];
    auto shift = ShiftNear(c, Target(k, 5, 0.3, 0.95));
    if (!shift) continue;
    const Appointment* found = nullptr;
    for (const Appointment& a : b_.appointments_) {
      if (a.clinician == c && a.start >= shift->start && a.End() <= shift->end &&
          a.cancelled_at == absl::InfiniteFuture() && PatientAt(a.patient).consent == 0 &&
          !picked_.count(a.patient)) {
        found = &a;
        break;
      }
    }
    if (!found) continue;
    int p = found->patient;
    picked_.insert(p);
    const Patient& patient = PatientAt(p);
    absl::Time t = found->End() + absl::Minutes(3);
    const Recipient& to = k == 0 || k == 2 ? insurer : k == 3 ? other_insurer : nav;
    auto consent = [&](absl::Time at, ActionSubtype subtype, const Recipient& r,
                       std::optional<absl::Time> until) {
      AccessEvent& e = b_.AddFor(
          at, Source::kWebsite, patient.id, "patient",
          subtype == ACTION_SUBTYPE_CONSENT_GIVEN ? ACTION_CODE_CREATE : ACTION_CODE_UPDATE,
          subtype, DATA_OBJECT_TYPE_CONSENT, PURPOSE_OF_USE_PATIENT_REQUEST,
          /*normal=*/false);
      b_.SetSubject(e, p);
      e.mutable_data_object()->set_id(StrCat("consent-", patient.id, "-", r.id));
      e.set_network_address(patient.website_address);
      e.mutable_recipient()->set_id(r.id);
      e.mutable_recipient()->set_name(r.name);
      if (until)
        (*e.mutable_attributes())[std::string(anomaly::kConsentValidUntil)] = b_.Rfc3339(*until);
    };
    absl::Time earliest = b_.import_at_ + absl::Hours(2);
    absl::Time given = std::max(earliest, t - absl::Hours(24 * 12));
    if (k == 1) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, nav, t + absl::Hours(24 * 365));
      consent(given + (t - given) / 2, ACTION_SUBTYPE_CONSENT_WITHDRAWN, nav, std::nullopt);
    } else if (k == 2) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, insurer, given + (t - given) / 2);
    } else if (k == 3) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, insurer, t + absl::Hours(24 * 365));
    }
    int label =
        Label("disclosure_without_consent", StrCat("discloses a journal note ", scenarios[k]),
              StaffId(c), patient.id, t, t);
    AccessEvent& e = b_.Add(t, Source::kJournal, c, p, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_DISCLOSE,
                            DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_PATIENT_REQUEST,
                            /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("note-", found->id));
    e.mutable_recipient()->set_id(to.id);
    e.mutable_recipient()->set_name(to.name);
    b_.Tag(label);
  }
  // The billing clerk sends an unpaid invoice to a debt collector with no
  // legal basis recorded.
  for (int clerk : b_.StaffWithRole("billing_clerk")) {
    auto shift = ShiftNear(clerk, Target(1, 3));
    if (!shift || b_.invoice_queue_.empty()) break;
    absl::Time t = InShift(*shift);
    int p = b_.invoice_queue_[random_() % b_.invoice_queue_.size()];
    int label = Label("disclosure_without_consent",
                      "sends an invoice to a debt collector with no "
                      "legal basis",
                      StaffId(clerk), PatientAt(p).id, t, t);
    AccessEvent& e =
        b_.Add(t, Source::kBilling, clerk, p, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_DISCLOSE,
               DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING, /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("inv-collect-", PatientAt(p).id));
    e.mutable_recipient()->set_id(collector.id);
    e.mutable_recipient()->set_name(collector.name);
    b_.Tag(label);
  }
}

// Guessing one account's password (from one address or many) and trying
// one password on many accounts from one address.
void Incidents::LoginFailures() {
  struct Attack {
    int failures;
    int addresses;
    int seconds;
    bool spray;
    const char* scenario;
  };
  const Attack attacks[] = {
      {20, 1, 120, false, "20 failed logins on one account in two minutes"},
      {16, 16, 180, false, "16 failed logins on one account from 16 addresses"},
      {12, 2, 240, false, "12 failed logins on one account in four minutes"},
      {25, 1, 180, true, "password spraying: 25 accounts from one address"},
      {14, 1, 240, true, "password spraying: 14 accounts from one address"}};
  int k = 0;
  for (const Attack& attack : attacks) {
    int day = Target(k, 5);
    while (SilentDay(day)) ++day;
    absl::Time t =
        b_.Local(day, static_cast<int>(random_() % 24), static_cast<int>(random_() % 60));
    int victim = NeverHad(-1);
    std::string attacker = fmt::format("185.220.{}.{}", 100 + k, 7 + k);
    int label =
        Label("login_failures", attack.scenario, attack.spray ? "" : PatientAt(victim).id,
              attack.spray ? "" : PatientAt(victim).id, t, t + absl::Seconds(attack.seconds));
    size_t first = b_.drafts_.size();
    for (int i = 0; i < attack.failures; ++i) {
      int account = attack.spray ? NeverHad(-1) : victim;
      const Patient& patient = PatientAt(account);
      AccessEvent& e =
          b_.AddFor(t + absl::Seconds(i * attack.seconds / attack.failures), Source::kWebsite,
                    patient.id, "patient", ACTION_CODE_EXECUTE, ACTION_SUBTYPE_LOGIN_FAILED,
                    DATA_OBJECT_TYPE_ACCOUNT, PURPOSE_OF_USE_PATIENT_REQUEST, /*normal=*/false);
      b_.SetSubject(e, account);
      e.set_outcome(OUTCOME_DENIED);
      e.mutable_data_object()->set_id(StrCat("web-", patient.id));
      e.set_network_address(attack.addresses == 1 ? attacker
                                                  : fmt::format("91.{}.{}.{}", 190 + k,
                                                                i % attack.addresses, 20 + i));
      e.set_user_agent("python-requests/2.31");
    }
    TagSince(first, label);
    ++k;
  }
}

// Accounts not in the roster, used after the end date or before the start
// date, and locums' accounts back after more than dormant_days.
void Incidents::UnknownOrDormant() {
  std::vector<int> roster_only;
  for (size_t s = 0; s < b_.staff_.size(); ++s) {
    if (!b_.staff_[s].working) roster_only.push_back(static_cast<int>(s));
  }
  auto open_time = [&](int target) {
    int day = target;
    while (day < Days() - 1 && (!Weekday(day) || SilentDay(day))) ++day;
    return b_.Local(day, 9 + static_cast<int>(random_() % 6), static_cast<int>(random_() % 60));
  };
  auto read = [&](absl::Time t, const std::string& actor, const std::string& role, int p,
                  const std::string& address) -> AccessEvent& {
    AccessEvent& e =
        b_.AddFor(t, Source::kJournal, actor, role, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
                  DATA_OBJECT_TYPE_APPOINTMENT, PURPOSE_OF_USE_ADMINISTRATION, /*normal=*/false);
    b_.SetSubject(e, p);
    e.set_network_address(address);
    e.set_workstation("resepsjon-1");
    return e;
  };
  struct Case {
    std::string actor;
    std::string role;
    std::string scenario;
    int dormant_days = 0;
  };
  std::vector<Case> cases = {
      {"it.konsulent", "it_support", "an account not in the roster"},
      {"test.bruker", "receptionist", "a test account not in the roster"},
      {StaffId(roster_only[0]), "receptionist", "a former employee after their end date"},
      {StaffId(roster_only[1]), "receptionist", "a future employee before their start date"},
      {StaffId(roster_only[2]), "receptionist", "a locum back after 100 days", 100},
      {StaffId(roster_only[3]), "receptionist", "a locum back after 130 days", 130}};
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    absl::Time t =
        open_time(Target(static_cast<int>(k), static_cast<int>(cases.size()), 0.15, 0.9));
    if (c.dormant_days > 0) {
      // The last use before: a weekday morning dormant_days earlier.
      int day = b_.DayOf(t) - c.dormant_days;
      while (absl::GetWeekday(b_.Day(day)) == absl::Weekday::saturday ||
             absl::GetWeekday(b_.Day(day)) == absl::Weekday::sunday) {
        --day;
      }
      absl::Time before = b_.Local(day, 10, 30);
      read(before, c.actor, c.role, NeverHad(-1), "10.20.2.99");
    }
    int label = Label("unknown_or_dormant_actor", c.scenario, c.actor, "", t, t + absl::Minutes(2));
    size_t first = b_.drafts_.size();
    for (int i = 0; i < 2; ++i) {
      read(t + absl::Minutes(i), c.actor, c.role, NeverHad(-1), "10.20.2.99");
    }
    TagSince(first, label);
  }
}

// Staff reaching the journal, X-ray or billing systems from outside the
// clinic's network.
void Incidents::DisallowedNetwork() {
  std::vector<int> chair = ChairClinicians();
  struct Case {
    int actor;
    const char* address;
    bool image;
  };
  std::vector<Case> cases = {{chair[0], "203.0.113.7", false},
                             {chair[1 % chair.size()], "198.51.100.23", true},
                             {chair[2 % chair.size()], "2001:db8::7", false}};
  for (int r : b_.StaffWithRole("receptionist")) {
    cases.push_back({r, "192.168.1.50", false});
    break;
  }
  for (int r : b_.StaffWithRole("billing_clerk")) cases.push_back({r, "203.0.113.99", false});
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    auto shift =
        ShiftNear(c.actor, Target(static_cast<int>(k), static_cast<int>(cases.size()), 0.2, 0.95));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    std::vector<int> patients;
    if (Staff(c.actor).IsClinician()) {
      patients = TreatedBefore(c.actor, t);
    } else {
      patients = {NeverHad(-1), NeverHad(-1)};
    }
    if (patients.empty()) continue;
    patients.resize(std::min<size_t>(patients.size(), 2));
    int label =
        Label("disallowed_network", StrCat("access from ", c.address), StaffId(c.actor), "", t, t);
    if (c.image) {
      size_t first = b_.drafts_.size();
      for (size_t i = 0; i < patients.size(); ++i) {
        Access(t + absl::Minutes(static_cast<int>(i)), Source::kXray, c.actor, patients[i],
               DATA_OBJECT_TYPE_IMAGE)
            .set_network_address(c.address);
      }
      TagSince(first, label);
      b_.labels_[static_cast<size_t>(label)].to = t + absl::Minutes(2);
    } else {
      Session(label, c.actor, t, patients, c.address);
    }
  }
}

void Incidents::SequenceGaps() {
  const std::pair<Source, int> gaps[] = {{Source::kJournal, 1},
                                         {Source::kXray, 2},
                                         {Source::kBilling, 1},
                                         {Source::kWebsite, 5},
                                         {Source::kJournal, 3}};
  int k = 0;
  for (auto [source, skip] : gaps) {
    int day = Target(k, 5, 0.1, 0.9);
    while (day < Days() - 1 && (!Weekday(day) || SilentDay(day))) ++day;
    absl::Time at = b_.Local(day, 10 + k, 7);
    std::string system = SystemName(source);
    int label =
        Label("source_sequence_gap",
              fmt::format("{} skips {} sequence number{}", system, skip, skip > 1 ? "s" : ""), "",
              "", at, at + absl::Hours(24), system);
    b_.gaps_.push_back({source, at, skip, label});
    ++k;
  }
}

}  // namespace innsyn::bench::sim
