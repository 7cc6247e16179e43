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
};

class Roster {
 public:
  Roster() = default;  // empty: no roster configured
  explicit Roster(std::vector<StaffMember> staff);

  bool empty() const { return staff_.empty(); }
  const std::vector<StaffMember>& staff() const { return staff_; }
  const StaffMember* Find(std::string_view actor_id) const;
  // The staff member whose own record this subject id is, if any.
  const StaffMember* OwnerOf(std::string_view subject_id) const;

 private:
  std::vector<StaffMember> staff_;
  absl::flat_hash_map<std::string, size_t> by_id_;
  absl::flat_hash_map<std::string, size_t> by_own_subject_;
};

// Reads a roster file. InvalidArgument names the file, the entry and the
// field on bad input (a missing id, a repeated id, a bad date).
absl::StatusOr<Roster> LoadRoster(const std::string& path);

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_ROSTER_H_
