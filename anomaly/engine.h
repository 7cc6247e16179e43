// The anomaly detectors: deterministic functions over committed ledger
// entries. The engine is fed every entry in seq order, keeps only what the
// rules' windows need, and returns the alerts to raise. Fed the same
// entries, it returns the same alerts with the same ids, so after a restart
// innsynd replays a window of the ledger, marks the alert ids the ledger
// already holds as raised, and nothing is raised twice.
//
// Alert ids are "<rule>/<what it saw>", for example
// "no_care_relationship/<actor>/<subject>/<local date>": one alert per
// actor, patient and day, not one per read, so that a session of snooping
// is one thing to review. Time in the rules is the events' occurred_at,
// never the wall clock, except in Tick.
//
// Some alerts wait: an access with no care link is raised only once an
// hour of later events (or Tick) has passed without an appointment being
// booked for it, and a sequence gap only once its grace has passed. So an
// alert may come out of an Observe call for a later entry, or out of Tick.
//
// Thread safety: none; one owner (innsynd's alert monitor thread, or a
// benchmark) calls it.
#ifndef INNSYN_ANOMALY_ENGINE_H_
#define INNSYN_ANOMALY_ENGINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "anomaly/detection_options.h"
#include "anomaly/roster.h"
#include "innsyn/v1/ledger.pb.h"

namespace innsyn::anomaly {

class Engine {
 public:
  // Fails (InvalidArgument, naming the setting) on a time zone that cannot
  // be loaded, a bad closed date or a bad network, and on a roster role no
  // setting names (clinical_roles, non_staff_roles, role_data): a role the
  // rules do not know would go unchecked.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(DetectionOptions options, Roster roster);
  ~Engine();

  // An alert with this id is already in the ledger: never raise it again.
  void MarkRaised(std::string_view alert_id);
  // Feeds committed entry `seq`. Access events update the rules' state and
  // may raise alerts; baseline entries (go-live state) update what the
  // rules know (appointments, treatment, referrals, consents, contact
  // details) and raise nothing; alert entries mark their id raised; other
  // entries are ignored. Returns the alerts to append, each already marked raised.
  std::vector<v1::Alert> Observe(uint64_t seq, const v1::LedgerEntry& entry);
  // Rules that fire on the passing of time (source_silent, a sequence gap
  // past its grace): `now` is the wall clock in innsynd, simulated time in
  // the benchmark. Deterministic in the entries seen and `now`.
  std::vector<v1::Alert> Tick(absl::Time now);
  // innsynd's self-verification failed; empty if already raised for this
  // finding or the rule is off.
  std::vector<v1::Alert> VerificationFailed(std::string_view mode, uint64_t first_bad_seq,
                                            std::string_view problem, absl::Time now);
  // A new roster (on reload); the state built from entries is kept.
  void SetRoster(Roster roster);
  // How to find a subject's pseudonym (32 hex digits, as the roster's
  // *_subject_pseudonyms hold it), for a roster that names records by
  // pseudonym; innsynd computes it with its pseudonym key. Without it such
  // a roster's records are never recognised.
  using SubjectPseudonymFunction = std::function<std::string(std::string_view subject_id)>;
  void SetSubjectPseudonyms(SubjectPseudonymFunction pseudonym);

  const DetectionOptions& options() const;
  // Events seen from actors whose role no setting names ("" when neither
  // roster nor event gives one), by role: judged as a clinician's.
  const std::map<std::string, uint64_t>& UnknownRoleEvents() const;

  struct State;

 private:
  explicit Engine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Why an access was expected, in words a patient understands ("appointment
// 2026-11-20 10:00 with this clinician", "disclosed with your consent given
// 2026-01-05", "emergency access, reviewed by the clinic"), or "" when no
// rule explains it. `history` is the subject's access events, any order,
// including the access itself. Uses the same care-link and consent logic
// as the detectors, so an access they explain raises no alert for it.
std::string Explain(const v1::AccessEvent& access, absl::Span<const v1::AccessEvent> history,
                    const DetectionOptions& options);

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_ENGINE_H_
