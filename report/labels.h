// The words of an innsyn report in bokmål and English: headings, the
// names of actions, data, purposes and roles, times in the clinic's zone,
// and the detectors' explanations; the console shows the same words. Pure;
// thread-safe.
#ifndef INNSYN_REPORT_LABELS_H_
#define INNSYN_REPORT_LABELS_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::report {

enum class Language { kBokmal, kEnglish };

// One text in both languages, picked by Pick().
struct Text {
  std::string_view nb;
  std::string_view en;
};

std::string_view Pick(Language language, const Text& text);
std::string ActionLabel(Language language, const v1::AccessEvent& event);
std::string DataLabel(Language language, v1::DataObjectType type);
std::string PurposeLabel(Language language, v1::PurposeOfUse purpose);
std::string RoleLabel(Language language, std::string_view role);
std::string KindLabel(Language language, v1::SubjectKind kind);
// The detectors' explanation (anomaly/explain.cc writes English) in the
// report's language; unknown phrasings are kept as they are.
std::string ExplanationLabel(Language language, std::string_view explanation);
// "24.11.2026 20:02" (nb) or "2026-11-24 20:02" (en) in `zone`.
std::string LocalTime(Language language, absl::Time time, absl::TimeZone zone);
std::string LocalDate(Language language, absl::Time time, absl::TimeZone zone);
// True for an emergency ("break the glass") access.
bool IsEmergency(const v1::AccessEvent& event);
bool IsDisclosure(const v1::AccessEvent& event);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_LABELS_H_
