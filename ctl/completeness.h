// The client's check that an answer to ListSubjectAccess or
// ListActorActivity is complete (README, "Complete answers"): the
// history's proof against the map root of a checkpoint signed by the
// trusted key, then the answer against the history, entry by entry. What
// does not match is a verification failure that says what.
#ifndef INNSYN_CTL_COMPLETENESS_H_
#define INNSYN_CTL_COMPLETENESS_H_

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/client.h"
#include "ctl/trust.h"
#include "innsyn/v1/service.pb.h"
#include "storage/checkpoint.h"
#include "storage/subject_map.h"

namespace innsyn::ctl {

struct CompleteAnswer {
  size_t entries = 0;                  // in the answer
  size_t history = 0;                  // in the whole history, outside the period too
  storage::CheckpointBody checkpoint;  // verified; its size is the answer's tree
  std::string note;                    // the signed checkpoint note
};

struct AnswerToCheck {
  storage::MapSpace space = storage::MapSpace::kSubject;
  std::string_view id;  // the subject or actor asked about
  std::optional<absl::Time> from, to;
  uint64_t tree_size = 0;  // the tree the server says the answer is of
  const v1::HistoryProof* proof = nullptr;
  const std::vector<v1::RecordedEntry>* entries = nullptr;  // every page, in order
};

absl::StatusOr<CompleteAnswer> CheckComplete(Trust& trust, const AnswerToCheck& answer);

// The first half of CheckComplete, for a proof given alone
// (GetSubjectProof): the checkpoint signed by the trusted key and of
// `tree_size`, and the history proven by its map line. Returns the
// history's entries, newest first (none: the history is proven absent).
struct ProvenHistory {
  std::vector<storage::HistoryLink> entries;
  storage::CheckpointBody checkpoint;
};
absl::StatusOr<ProvenHistory> CheckHistory(Trust& trust, storage::MapSpace space,
                                           uint64_t tree_size, const v1::HistoryProof& proof);

// That the signed tree `now` extends `seen`, one the client saw before (a
// saved checkpoint note): never smaller (a replayed old checkpoint), never
// another tree of the same size or one that does not contain it (a fork),
// proven by the server's consistency proof.
absl::Status CheckExtends(Client& client, const storage::CheckpointBody& seen,
                          const storage::CheckpointBody& now);

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_COMPLETENESS_H_
