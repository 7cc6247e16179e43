#include "report/labels.h"

#include <array>
#include <utility>

#include "absl/strings/str_replace.h"
#include "base/strings.h"

namespace innsyn::report {
namespace {

std::string Str(Language language, const Text& text) { return std::string(Pick(language, text)); }

// The explanations anomaly::Explain writes, by prefix, with bokmål for each.
struct Phrase {
  std::string_view en_prefix;
  std::string_view nb_prefix;
  std::string_view en_suffix = "";
  std::string_view nb_suffix = "";
};
constexpr std::array<Phrase, 8> kPhrases = {{
    {"emergency access (break the glass), reviewed by the clinic",
     "nødtilgang («glassknusing»), gjennomgått av klinikken"},
    {"your appointment booking", "din timebestilling"},
    {"invoice/billing", "faktura og betaling"},
    {"you yourself, through ", "deg selv, gjennom "},
    {"disclosed under ", "utlevert med hjemmel i "},
    {"treated by this clinician on ", "behandlet av denne behandleren "},
    {"appointment ", "time ", " with this clinician", " hos denne behandleren"},
    {"disclosed to ", "utlevert til "},
}};

}  // namespace

std::string_view Pick(Language language, const Text& text) {
  return language == Language::kBokmal ? text.nb : text.en;
}

std::string ActionLabel(Language language, const v1::AccessEvent& event) {
  using enum v1::ActionSubtype;
  std::string label;
  switch (event.action_subtype()) {
    case ACTION_SUBTYPE_VIEW: label = Str(language, {"Lest", "Read"}); break;
    case ACTION_SUBTYPE_SEARCH: label = Str(language, {"Søkt fram", "Searched"}); break;
    case ACTION_SUBTYPE_PRINT: label = Str(language, {"Skrevet ut", "Printed"}); break;
    case ACTION_SUBTYPE_EXPORT: label = Str(language, {"Eksportert", "Exported"}); break;
    case ACTION_SUBTYPE_DISCLOSE: label = Str(language, {"Utlevert", "Disclosed"}); break;
    case ACTION_SUBTYPE_LOGIN: label = Str(language, {"Innlogging", "Logged in"}); break;
    case ACTION_SUBTYPE_LOGIN_FAILED:
      label = Str(language, {"Mislykket innlogging", "Failed login"});
      break;
    case ACTION_SUBTYPE_LOGOUT: label = Str(language, {"Utlogging", "Logged out"}); break;
    case ACTION_SUBTYPE_CONSENT_GIVEN:
      label = Str(language, {"Samtykke gitt", "Consent given"});
      break;
    case ACTION_SUBTYPE_CONSENT_WITHDRAWN:
      label = Str(language, {"Samtykke trukket", "Consent withdrawn"});
      break;
    case ACTION_SUBTYPE_BREAK_GLASS:
      label = Str(language, {"Nødtilgang (lest)", "Emergency access (read)"});
      break;
    case ACTION_SUBTYPE_CREATE: label = Str(language, {"Opprettet", "Created"}); break;
    case ACTION_SUBTYPE_UPDATE: label = Str(language, {"Endret", "Changed"}); break;
    case ACTION_SUBTYPE_DELETE: label = Str(language, {"Slettet", "Deleted"}); break;
    default: label = Str(language, {"Annet", "Other"}); break;
  }
  if (event.outcome() == v1::OUTCOME_DENIED) {
    label += Str(language, {" (avvist)", " (refused)"});
  } else if (event.outcome() != v1::OUTCOME_SUCCESS && event.outcome() != v1::OUTCOME_UNSPECIFIED) {
    label += Str(language, {" (mislyktes)", " (failed)"});
  }
  return label;
}

std::string DataLabel(Language language, v1::DataObjectType type) {
  using enum v1::DataObjectType;
  switch (type) {
    case DATA_OBJECT_TYPE_JOURNAL_NOTE: return Str(language, {"journalnotat", "journal note"});
    case DATA_OBJECT_TYPE_IMAGE: return Str(language, {"røntgenbilde", "radiograph or image"});
    case DATA_OBJECT_TYPE_CONTACT_DETAILS:
      return Str(language, {"kontaktopplysninger", "contact details"});
    case DATA_OBJECT_TYPE_INVOICE: return Str(language, {"faktura", "invoice"});
    case DATA_OBJECT_TYPE_REFERRAL: return Str(language, {"henvisning", "referral"});
    case DATA_OBJECT_TYPE_APPOINTMENT: return Str(language, {"timeavtale", "appointment"});
    case DATA_OBJECT_TYPE_TREATMENT_PLAN:
      return Str(language, {"behandlingsplan", "treatment plan"});
    case DATA_OBJECT_TYPE_CONSENT: return Str(language, {"samtykke", "consent"});
    case DATA_OBJECT_TYPE_WEB_FORM: return Str(language, {"nettskjema", "web form"});
    case DATA_OBJECT_TYPE_ACCOUNT: return Str(language, {"brukerkonto", "user account"});
    default: return Str(language, {"opplysninger", "data"});
  }
}

std::string PurposeLabel(Language language, v1::PurposeOfUse purpose) {
  using enum v1::PurposeOfUse;
  switch (purpose) {
    case PURPOSE_OF_USE_TREATMENT: return Str(language, {"helsehjelp", "treatment"});
    case PURPOSE_OF_USE_EMERGENCY:
      return Str(language, {"øyeblikkelig hjelp", "emergency treatment"});
    case PURPOSE_OF_USE_ADMINISTRATION: return Str(language, {"administrasjon", "administration"});
    case PURPOSE_OF_USE_BILLING: return Str(language, {"fakturering", "billing"});
    case PURPOSE_OF_USE_QUALITY: return Str(language, {"kvalitetssikring", "quality assurance"});
    case PURPOSE_OF_USE_LEGAL: return Str(language, {"lovpålagt plikt", "legal obligation"});
    case PURPOSE_OF_USE_PATIENT_REQUEST:
      return Str(language, {"etter ditt ønske", "at your request"});
    case PURPOSE_OF_USE_RESEARCH: return Str(language, {"forskning", "research"});
    case PURPOSE_OF_USE_SYSTEM: return Str(language, {"systemdrift", "system operation"});
    default: return "";
  }
}

std::string RoleLabel(Language language, std::string_view role) {
  static constexpr std::array<std::pair<std::string_view, Text>, 10> kRoles = {{
      {"dentist", {"tannlege", "dentist"}},
      {"hygienist", {"tannpleier", "dental hygienist"}},
      {"dental_nurse", {"tannhelsesekretær", "dental nurse"}},
      {"receptionist", {"resepsjonist", "receptionist"}},
      {"billing", {"fakturaansvarlig", "billing clerk"}},
      {"billing_clerk", {"fakturaansvarlig", "billing clerk"}},
      {"manager", {"daglig leder", "manager"}},
      {"patient", {"deg selv", "you"}},
      {"doctor", {"lege", "doctor"}},
      {"nurse", {"sykepleier", "nurse"}},
  }};
  for (const auto& [name, text] : kRoles) {
    if (name == role) return Str(language, text);
  }
  return std::string(role);
}

std::string KindLabel(Language language, v1::SubjectKind kind) {
  switch (kind) {
    case v1::SUBJECT_KIND_PATIENT: return Str(language, {"pasient", "patient"});
    case v1::SUBJECT_KIND_CUSTOMER: return Str(language, {"kunde", "customer"});
    case v1::SUBJECT_KIND_APPLICANT: return Str(language, {"søker", "applicant"});
    case v1::SUBJECT_KIND_EMPLOYEE: return Str(language, {"ansatt", "employee"});
    case v1::SUBJECT_KIND_WEBSITE_VISITOR: return Str(language, {"besøkende", "website visitor"});
    default: return "";
  }
}

std::string ExplanationLabel(Language language, std::string_view explanation) {
  if (language == Language::kEnglish || explanation.empty()) return std::string(explanation);
  for (const Phrase& phrase : kPhrases) {
    if (!explanation.starts_with(phrase.en_prefix)) continue;
    std::string_view rest = explanation.substr(phrase.en_prefix.size());
    if (!rest.ends_with(phrase.en_suffix)) continue;
    rest.remove_suffix(phrase.en_suffix.size());
    return absl::StrReplaceAll(StrCat(phrase.nb_prefix, rest, phrase.nb_suffix),
                               {{" with your consent given ", " med ditt samtykke gitt "}});
  }
  return std::string(explanation);
}

std::string LocalTime(Language language, absl::Time time, absl::TimeZone zone) {
  return absl::FormatTime(language == Language::kBokmal ? "%d.%m.%Y %H:%M" : "%Y-%m-%d %H:%M", time,
                          zone);
}

std::string LocalDate(Language language, absl::Time time, absl::TimeZone zone) {
  return absl::FormatTime(language == Language::kBokmal ? "%d.%m.%Y" : "%Y-%m-%d", time, zone);
}

bool IsEmergency(const v1::AccessEvent& event) {
  return event.action_subtype() == v1::ACTION_SUBTYPE_BREAK_GLASS ||
         event.purpose_of_use() == v1::PURPOSE_OF_USE_EMERGENCY;
}

bool IsDisclosure(const v1::AccessEvent& event) {
  return event.action_subtype() == v1::ACTION_SUBTYPE_DISCLOSE;
}

}  // namespace innsyn::report
