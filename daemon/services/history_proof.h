// The wire form of a history's completeness proof (v1::HistoryProof), as
// ListSubjectAccess and ListActorActivity answer it with `prove` and as the
// innsyn report carries it: the signed checkpoint of the proof's tree, the
// map proof, and every entry of the history, with the time of each entry
// whose hour the period's start or end cuts (README, "Complete answers").
// Reads the ledger; thread-safe as the ledger is.
#ifndef INNSYN_DAEMON_SERVICES_HISTORY_PROOF_H_
#define INNSYN_DAEMON_SERVICES_HISTORY_PROOF_H_

#include "absl/status/status.h"
#include "innsyn/v1/service.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

absl::Status FillHistoryProof(storage::Ledger& ledger, const storage::HistoryProof& history,
                              const storage::IndexQuery& query, v1::HistoryProof& out);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_HISTORY_PROOF_H_
