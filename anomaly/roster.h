// The staff roster: who works at the clinic, in what role, from when to
// when, and which patient records are their own or their relatives'. Read
// from a TOML file the clinic keeps (see the README), and re-read on reload.
//
//   [[staff]]
//   id = "dr.lie"                 # the actor id the clinic software sends
//   name = "Kari Lie"
//   role = "dentist"
//   start = 2024-01-01            # optional
//   end = 2026-12-31              # optional: last working day
//   surname = "Lie"               # with address: finds relatives
//   address = "Storgata 1, 0155 Oslo"
//   own_subject_ids = ["01017012345"]       # the employee's own records
//   related_subject_ids = ["12128054321"]   # family members' records
//
// Instead of identity numbers the roster may name records by their subject
// pseudonyms (32 hex digits, `innsynctl roster pseudonymize` computes them
// with innsynd's pseudonym key): own_subject_pseudonyms and
// related_subject_pseudonyms. Without surname and address, a staff member's
// household is taken from the contact details of their own record.
#ifndef INNSYN_ANOMALY_ROSTER_H_
#define INNSYN_ANOMALY_ROSTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace innsyn::anomaly {

struct StaffMember {
  std::string id;
  std::string name;
  std::string role;
  std::optional<absl::CivilDay> start;
  std::optional<absl::CivilDay> end;
  std::string surname;
  std::string address;
  std::vector<std::string> own_subject_ids;
  std::vector<std::string> related_subject_ids;
  // The same records by subject pseudonym: 32 lower-case hex digits.
  std::vector<std::string> own_subject_pseudonyms;
  std::vector<std::string> related_subject_pseudonyms;
};

// Whether `text` is a subject pseudonym as the roster writes it: 32 hex
// digits (lower case).
bool IsSubjectPseudonym(std::string_view text);

class Roster {
 public:
  Roster() = default;  // empty: no roster configured
  explicit Roster(std::vector<StaffMember> staff);

  bool empty() const { return staff_.empty(); }
  const std::vector<StaffMember>& staff() const { return staff_; }
  const StaffMember* Find(std::string_view actor_id) const;
  // The staff member whose own record this subject id is, if any; by its
  // pseudonym (hex) too when one is given.
  const StaffMember* OwnerOf(std::string_view subject_id, std::string_view pseudonym = {}) const;
  // Some staff member's records are named by pseudonym: the detectors must
  // compute the pseudonym of the subjects they see.
  bool has_pseudonyms() const { return has_pseudonyms_; }

 private:
  std::vector<StaffMember> staff_;
  absl::flat_hash_map<std::string, size_t> by_id_;
  absl::flat_hash_map<std::string, size_t> by_own_subject_;
  absl::flat_hash_map<std::string, size_t> by_own_pseudonym_;
  bool has_pseudonyms_ = false;
};

// Reads a roster file. InvalidArgument names the file, the entry and the
// field on bad input (a missing id, a repeated id, a bad date).
absl::StatusOr<Roster> LoadRoster(const std::string& path);

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_ROSTER_H_
