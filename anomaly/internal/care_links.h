// What makes a patient's data expected reading for a clinician, and what
// lets the clinic disclose it: appointments, treatments and consents, per
// patient, learnt from access events (see event_conventions.h). The
// detectors (no_care_relationship, disclosure_without_consent) and Explain
// ask the same questions of this one class, so an access Explain can account
// for never raises an alert.
//
// Memory: per patient, the appointments that can still cover an access, the
// latest treatment by each clinician within treatment_days, and live
// consents; Prune drops the rest.
#ifndef INNSYN_ANOMALY_INTERNAL_CARE_LINKS_H_
#define INNSYN_ANOMALY_INTERNAL_CARE_LINKS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "anomaly/detection_options.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::anomaly::internal {

// An appointment booked up to this long after an access (in event time)
// still explains it: reception often books the visit after the clinician
// has looked at the journal with the patient on the phone.
inline constexpr absl::Duration kLateBookingGrace = absl::Minutes(60);
// A colleague's appointment starting this long before (or after) a
// clinician's treatment entry makes the entry a call-in, or the access a
// cover for that slot.
inline constexpr absl::Duration kSlotBefore = absl::Hours(3);
inline constexpr absl::Duration kSlotAfter = absl::Minutes(30);

absl::Time EventTime(const v1::AccessEvent& event);
bool IsHealthData(v1::DataObjectType type);
// Read, create, update, print or export of a journal note, image,
// treatment plan or referral: what needs a care link.
bool NeedsCareLink(const v1::AccessEvent& event);
// Emergency access: subtype BREAK_GLASS or purpose EMERGENCY.
bool IsBreakGlass(const v1::AccessEvent& event);
// A create or update of health data for treatment (or emergency treatment).
bool IsTreatment(const v1::AccessEvent& event);
bool IsDisclosure(const v1::AccessEvent& event);

struct CareLink {
  enum class Kind { kAppointment, kTreatment, kReferral };
  Kind kind;
  absl::Time when;   // the appointment's start, the treatment or the referral
  std::string from;  // kReferral: who wrote it
};

// An appointment of the patient, with whom and when.
struct BookedSlot {
  std::string clinician;
  absl::Time start;
};

class CareLinks {
 public:
  explicit CareLinks(const DetectionOptions& options);

  // Learns from appointment, consent and referral events; ignores the
  // rest.
  void Observe(const v1::AccessEvent& event, absl::Time at);
  void RecordTreatment(const std::string& subject, const std::string& clinician, absl::Time at);

  // The care link between `clinician` and `subject` covering an access at
  // `access`, counting only appointments booked by `booked_by`; the
  // appointment nearest the access first, else the latest treatment.
  std::optional<CareLink> Find(const std::string& subject, const std::string& clinician,
                               absl::Time access, absl::Time booked_by) const;
  // The patient's appointment with a clinician other than `clinician`
  // starting from kSlotBefore before to kSlotAfter after `at`, booked by
  // then: the slot a call-in or a cover serves. The nearest if several.
  std::optional<BookedSlot> ColleagueSlot(const std::string& subject, const std::string& clinician,
                                          absl::Time at) const;
  // The patient's appointment with anyone starting from `before` before to
  // `after` after `at`, booked by `at` + kLateBookingGrace; the nearest.
  std::optional<BookedSlot> AnySlot(const std::string& subject, absl::Time at,
                                    absl::Duration before, absl::Duration after) const;
  // When the consent to disclose `subject`'s data to `recipient` that is in
  // force at `at` was given, if there is one.
  std::optional<absl::Time> ActiveConsent(const std::string& subject, const std::string& recipient,
                                          absl::Time at) const;

  // Forgets what can no longer explain an access at or after `now` minus
  // the late-booking grace.
  void Prune(absl::Time now);
  size_t subject_count() const { return subjects_.size(); }

 private:
  struct Appointment {
    std::string id;
    std::string clinician;
    absl::Time start;
    absl::Time booked_at;
  };
  // The appointment of `subject` starting nearest `at`, within
  // [at - before, at + after], among those `counts` accepts.
  template <typename Counts>
  std::optional<BookedSlot> NearestSlot(const std::string& subject, absl::Time at,
                                        absl::Duration before, absl::Duration after,
                                        Counts counts) const;
  struct Treatment {
    std::string clinician;
    absl::Time last;
  };
  struct Consent {
    std::string recipient;
    absl::Time given_at;
    absl::Time valid_until;
    absl::Time withdrawn_at;
  };
  struct Referral {
    std::string addressee;
    std::string from;
    absl::Time at;
  };
  struct Subject {
    std::vector<Appointment> appointments;
    std::vector<Treatment> treatments;
    std::vector<Consent> consents;
    std::vector<Referral> referrals;
    bool empty() const {
      return appointments.empty() && treatments.empty() && consents.empty() && referrals.empty();
    }
  };

  void ObserveAppointment(const v1::AccessEvent& event, absl::Time at);
  void ObserveConsent(const v1::AccessEvent& event, absl::Time at);
  void ObserveReferral(const v1::AccessEvent& event, absl::Time at);

  absl::Duration before_;
  absl::Duration after_;
  absl::Duration treatment_;
  absl::Duration referral_;
  absl::flat_hash_map<std::string, Subject> subjects_;
};

}  // namespace innsyn::anomaly::internal

#endif  // INNSYN_ANOMALY_INTERNAL_CARE_LINKS_H_
