#include "daemon/services/access_log_service.h"

#include <algorithm>

#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/services/explanations.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/history_proof.h"
#include "daemon/services/portal_view.h"

namespace innsyn::daemon {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;
constexpr uint32_t kDefaultLeafHashes = 1000;
constexpr uint32_t kMaxLeafHashes = 65536;  // 2 MiB of hashes
constexpr size_t kMaxQueryIdBytes = 256;
constexpr size_t kMaxQueryReasonBytes = 1024;

// Whom a query asks about (`id`, in the request's field `id_field`) and
// why: the error names the field that is wrong.
absl::Status CheckAsked(std::string_view id_field, const std::string& id,
                        const std::string& reason) {
  if (id.empty()) return absl::InvalidArgumentError(StrCat(id_field, " is required"));
  if (id.size() > kMaxQueryIdBytes) {
    return absl::InvalidArgumentError(
        StrCat(id_field, " is longer than ", kMaxQueryIdBytes, " bytes"));
  }
  if (reason.size() > kMaxQueryReasonBytes) {
    return absl::InvalidArgumentError(
        StrCat("reason is longer than ", kMaxQueryReasonBytes, " bytes"));
  }
  return absl::OkStatus();
}

// Builds the index query from a request's common fields, naming the field
// that is wrong.
template <typename Request>
absl::StatusOr<storage::IndexQuery> MakeIndexQuery(const Request& request,
                                                   std::string_view id_field,
                                                   const std::string& id) {
  RETURN_IF_ERROR(CheckAsked(id_field, id, request.reason()));
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(StrCat("page_size is above ", kMaxPageSize));
  }
  storage::IndexQuery query;
  query.id = id;
  query.limit = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  query.page_token = request.page_token();
  if (request.has_from()) query.from = FromProto(request.from());
  if (request.has_to()) query.to = FromProto(request.to());
  if (query.from && query.to && *query.from >= *query.to) {
    return absl::InvalidArgumentError("from must be before to");
  }
  return query;
}

// Only a bound the caller gave is recorded: an unset one means unbounded.
template <typename Request>
void CopyRange(const Request& request, v1::QueryRecord& record) {
  if (request.has_from()) *record.mutable_range_from() = request.from();
  if (request.has_to()) *record.mutable_range_to() = request.to();
}

// What a call asked about and why, as recorded if it is denied.
v1::QueryRecord Asked(const std::string& reason) {
  v1::QueryRecord record;
  record.set_reason(reason);
  return record;
}

// Who asked (the caller the gate admitted), and why.
void SetCaller(const Caller& caller, Method method, const std::string& reason,
               v1::QueryRecord& record) {
  record.set_method(std::string(MethodName(method)));
  record.set_caller(caller.identity);
  record.set_caller_role(caller.role);
  record.set_reason(reason);
}

// A portal's answer never carries the exact bytes, which hold the internal
// fields its view leaves out.
absl::Status FillEntries(const std::vector<storage::StoredEntry>& stored, bool include_bytes,
                         const Caller& caller,
                         google::protobuf::RepeatedPtrField<v1::RecordedEntry>& out) {
  const bool portal = caller.role == kPortalRole;
  for (const storage::StoredEntry& entry : stored) {
    v1::RecordedEntry* recorded = out.Add();
    recorded->set_seq(entry.seq);
    recorded->set_leaf_hash(std::string(storage::AsBytes(entry.leaf_hash)));
    *recorded->mutable_entry() = entry.entry;
    recorded->set_erased(entry.erased);
    recorded->set_kind(entry.header.kind());
    recorded->mutable_hour()->set_seconds(entry.header.hour());
    if (!portal) recorded->set_key_id(entry.header.key_id());
    if (portal) {
      MinimiseForPortal(*recorded->mutable_entry());
    } else if (include_bytes) {
      recorded->set_entry_bytes(entry.bytes);
    }
  }
  return absl::OkStatus();
}

// Leaf hashes and proofs as the responses carry them: raw bytes.
void AddHashes(const std::vector<storage::Hash>& hashes,
               google::protobuf::RepeatedPtrField<std::string>& out) {
  for (const storage::Hash& hash : hashes) out.Add(std::string(storage::AsBytes(hash)));
}

// GetEntries and GetLeafHashes start at an entry the ledger holds.
absl::Status CheckFromSeq(uint64_t from_seq, uint64_t size) {
  if (from_seq < size) return absl::OkStatus();
  return absl::OutOfRangeError(
      StrCat("from_seq ", from_seq, " is not below the ledger size ", size));
}

// A proof can be given: the ledger has a signed tree, and `tree_size` (0:
// the newest) is the proof's.
absl::Status CheckProvable(const storage::HistoryProof& proof, std::string_view otherwise) {
  if (proof.tree_size == 0) {
    // A checkpoint is signed for a tree of at least one entry (size 0
    // asks for the newest), so an empty ledger has no proof to give.
    return absl::FailedPreconditionError(
        StrCat("the ledger has no entries yet, so there is no signed tree to prove an answer "
               "against; ",
               otherwise));
  }
  return absl::OkStatus();
}

absl::Status CheckTreeSize(uint64_t tree_size, uint64_t size) {
  if (tree_size <= size) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("tree_size ", tree_size, " is beyond the ledger's ", size, " entries"));
}

}  // namespace

// The shared body of ListSubjectAccess and ListActorActivity: admit the
// caller, scan the index, record the query durably, then answer. `record`
// names whom was asked about. `query` is checked only after the gate, so
// that a caller without the right is refused, and recorded, whatever it
// asked.
template <typename Request, typename Response>
absl::Status AccessLogService::ListIndexed(
    const Admission& admit, Method method, const Request& request,
    const absl::StatusOr<storage::IndexQuery>& query,
    absl::StatusOr<storage::IndexPage> (storage::Ledger::*list)(const storage::IndexQuery&) const,
    absl::StatusOr<storage::HistoryProof> (storage::Ledger::*prove)(std::string_view, uint64_t)
        const,
    v1::QueryRecord record, Response& response) {
  absl::Time start = Now();
  record.set_reason(request.reason());
  CopyRange(request, record);
  ASSIGN_OR_RETURN(CallGate::Pass pass, admit(method, record));
  RETURN_IF_ERROR(query.status());
  storage::IndexQuery at = *query;
  // The answer is of one tree: the proof's (the newest, read at once), or
  // the one the caller names for the pages after the first.
  std::optional<storage::HistoryProof> proof;
  const uint64_t size = ledger_.Size();
  RETURN_IF_ERROR(CheckTreeSize(request.tree_size(), size));
  if (request.prove()) {
    ASSIGN_OR_RETURN(proof, (ledger_.*prove)(query->id, request.tree_size()));
    RETURN_IF_ERROR(CheckProvable(*proof, "ask without prove"));
    at.tree_size = proof->tree_size;
  } else {
    at.tree_size = request.tree_size() != 0 ? request.tree_size() : size;
  }
  ASSIGN_OR_RETURN(storage::IndexPage page, (ledger_.*list)(at));
  SetCaller(pass.caller(), method, request.reason(), record);
  record.set_results(page.entries.size());
  ASSIGN_OR_RETURN(v1::AppendReceipt receipt, ledger_.AppendQuery(record));
  RETURN_IF_ERROR(FillEntries(page.entries, request.include_entry_bytes(), pass.caller(),
                              *response.mutable_entries()));
  if (proof) RETURN_IF_ERROR(FillHistoryProof(ledger_, *proof, at, *response.mutable_proof()));
  response.set_tree_size(at.tree_size);
  response.set_next_page_token(page.next_page_token);
  response.set_query_seq(receipt.seq());
  metrics_.ObserveQueryLatency(MethodName(method), Now() - start);
  return absl::OkStatus();
}

grpc::Status AccessLogService::ListSubjectAccess(grpc::ServerContext* context,
                                                 const v1::ListSubjectAccessRequest* request,
                                                 v1::ListSubjectAccessResponse* response) {
  return ToGrpcStatus(DoListSubjectAccess(*context, *request, *response));
}

absl::Status AccessLogService::DoListSubjectAccess(grpc::ServerContext& context,
                                                   const v1::ListSubjectAccessRequest& request,
                                                   v1::ListSubjectAccessResponse& response) {
  return ListSubjectAccessFor(GrpcAdmission(gate_, context), request, response);
}

absl::Status AccessLogService::ListSubjectAccessFor(const Admission& admit,
                                                    const v1::ListSubjectAccessRequest& request,
                                                    v1::ListSubjectAccessResponse& response) {
  v1::QueryRecord record;
  record.set_subject_id(request.subject_id());
  RETURN_IF_ERROR(ListIndexed(admit, Method::kListSubjectAccess, request,
                              MakeIndexQuery(request, "subject_id", request.subject_id()),
                              &storage::Ledger::ListSubject, &storage::Ledger::ProveSubjectHistory,
                              std::move(record), response));
  return ExplainAccesses(ledger_, monitor_, request.subject_id(), *response.mutable_entries());
}

grpc::Status AccessLogService::ListActorActivity(grpc::ServerContext* context,
                                                 const v1::ListActorActivityRequest* request,
                                                 v1::ListActorActivityResponse* response) {
  return ToGrpcStatus(ListActorActivityFor(GrpcAdmission(gate_, *context), *request, *response));
}

absl::Status AccessLogService::ListActorActivityFor(const Admission& admit,
                                                    const v1::ListActorActivityRequest& request,
                                                    v1::ListActorActivityResponse& response) {
  v1::QueryRecord record;
  record.set_actor_id(request.actor_id());
  return ListIndexed(admit, Method::kListActorActivity, request,
                     MakeIndexQuery(request, "actor_id", request.actor_id()),
                     &storage::Ledger::ListActor, &storage::Ledger::ProveActorHistory,
                     std::move(record), response);
}

grpc::Status AccessLogService::GetSubjectProof(grpc::ServerContext* context,
                                               const v1::GetSubjectProofRequest* request,
                                               v1::GetSubjectProofResponse* response) {
  return ToGrpcStatus(DoGetSubjectProof(*context, *request, *response));
}

absl::Status AccessLogService::DoGetSubjectProof(grpc::ServerContext& context,
                                                 const v1::GetSubjectProofRequest& request,
                                                 v1::GetSubjectProofResponse& response) {
  const absl::Time start = Now();
  v1::QueryRecord record = Asked(request.reason());
  record.set_subject_id(request.subject_id());
  record.set_actor_id(request.actor_id());
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kGetSubjectProof, record));
  const bool subject = !request.subject_id().empty();
  if (subject == !request.actor_id().empty()) {
    return absl::InvalidArgumentError(
        "exactly one of subject_id and actor_id is required, naming whose history to prove");
  }
  const std::string& id = subject ? request.subject_id() : request.actor_id();
  RETURN_IF_ERROR(CheckAsked(subject ? "subject_id" : "actor_id", id, request.reason()));
  RETURN_IF_ERROR(CheckTreeSize(request.tree_size(), ledger_.Size()));
  ASSIGN_OR_RETURN(storage::HistoryProof proof,
                   subject ? ledger_.ProveSubjectHistory(id, request.tree_size())
                           : ledger_.ProveActorHistory(id, request.tree_size()));
  RETURN_IF_ERROR(CheckProvable(proof, "ask again once it has some"));
  SetCaller(pass.caller(), Method::kGetSubjectProof, request.reason(), record);
  record.set_results(proof.chain.size());
  ASSIGN_OR_RETURN(v1::AppendReceipt receipt, ledger_.AppendQuery(record));
  // No period: no entry's own time is needed, only the headers.
  RETURN_IF_ERROR(
      FillHistoryProof(ledger_, proof, storage::IndexQuery{}, *response.mutable_proof()));
  response.set_tree_size(proof.tree_size);
  response.set_query_seq(receipt.seq());
  metrics_.ObserveQueryLatency(MethodName(Method::kGetSubjectProof), Now() - start);
  return absl::OkStatus();
}

grpc::Status AccessLogService::GetEntries(grpc::ServerContext* context,
                                          const v1::GetEntriesRequest* request,
                                          v1::GetEntriesResponse* response) {
  return ToGrpcStatus(DoGetEntries(*context, *request, *response));
}

absl::Status AccessLogService::DoGetEntries(grpc::ServerContext& context,
                                            const v1::GetEntriesRequest& request,
                                            v1::GetEntriesResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass,
                   gate_.Admit(context, Method::kGetEntries, Asked(request.reason())));
  if (request.count() > kMaxPageSize) {
    return absl::InvalidArgumentError(StrCat("count is above ", kMaxPageSize));
  }
  if (request.reason().size() > kMaxQueryReasonBytes) {
    return absl::InvalidArgumentError("reason is too long");
  }
  uint64_t size = ledger_.Size();
  RETURN_IF_ERROR(CheckFromSeq(request.from_seq(), size));
  size_t count = request.count() == 0 ? kDefaultPageSize : request.count();
  ASSIGN_OR_RETURN(std::vector<storage::StoredEntry> entries,
                   ledger_.GetEntries(request.from_seq(), count));
  v1::QueryRecord record;
  SetCaller(pass.caller(), Method::kGetEntries, request.reason(), record);
  record.set_results(entries.size());
  RETURN_IF_ERROR(ledger_.AppendQuery(record).status());
  response.set_tree_size(size);
  return FillEntries(entries, /*include_bytes=*/true, pass.caller(), *response.mutable_entries());
}

grpc::Status AccessLogService::GetLeafHashes(grpc::ServerContext* context,
                                             const v1::GetLeafHashesRequest* request,
                                             v1::GetLeafHashesResponse* response) {
  return ToGrpcStatus(DoGetLeafHashes(*context, *request, *response));
}

absl::Status AccessLogService::DoGetLeafHashes(grpc::ServerContext& context,
                                               const v1::GetLeafHashesRequest& request,
                                               v1::GetLeafHashesResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kGetLeafHashes));
  if (request.count() > kMaxLeafHashes) {
    return absl::InvalidArgumentError(StrCat("count is above ", kMaxLeafHashes));
  }
  uint64_t size = ledger_.Size();
  RETURN_IF_ERROR(CheckFromSeq(request.from_seq(), size));
  ASSIGN_OR_RETURN(std::vector<storage::Hash> hashes,
                   ledger_.LeafHashes(request.from_seq(),
                                      request.count() == 0 ? kDefaultLeafHashes : request.count()));
  response.set_from_seq(request.from_seq());
  response.set_tree_size(size);
  AddHashes(hashes, *response.mutable_leaf_hashes());
  return absl::OkStatus();
}

grpc::Status AccessLogService::GetCheckpoint(grpc::ServerContext* context,
                                             const v1::GetCheckpointRequest* request,
                                             v1::Checkpoint* response) {
  return ToGrpcStatus(DoGetCheckpoint(*context, *request, *response));
}

absl::Status AccessLogService::DoGetCheckpoint(grpc::ServerContext& context,
                                               const v1::GetCheckpointRequest& request,
                                               v1::Checkpoint& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kGetCheckpoint));
  ASSIGN_OR_RETURN(response, ledger_.Checkpoint(request.tree_size()));
  return absl::OkStatus();
}

grpc::Status AccessLogService::GetInclusionProof(grpc::ServerContext* context,
                                                 const v1::GetInclusionProofRequest* request,
                                                 v1::InclusionProof* response) {
  return ToGrpcStatus(DoGetInclusionProof(*context, *request, *response));
}

absl::Status AccessLogService::DoGetInclusionProof(grpc::ServerContext& context,
                                                   const v1::GetInclusionProofRequest& request,
                                                   v1::InclusionProof& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kGetInclusionProof));
  uint64_t tree_size = request.tree_size() == 0 ? ledger_.Size() : request.tree_size();
  ASSIGN_OR_RETURN(std::vector<storage::Hash> path,
                   ledger_.InclusionProof(request.seq(), tree_size));
  ASSIGN_OR_RETURN(std::vector<storage::StoredEntry> entry, ledger_.GetEntries(request.seq(), 1));
  response.set_leaf_index(request.seq());
  response.set_tree_size(tree_size);
  response.set_leaf_hash(std::string(storage::AsBytes(entry.front().leaf_hash)));
  AddHashes(path, *response.mutable_hashes());
  return absl::OkStatus();
}

grpc::Status AccessLogService::GetConsistencyProof(grpc::ServerContext* context,
                                                   const v1::GetConsistencyProofRequest* request,
                                                   v1::ConsistencyProof* response) {
  return ToGrpcStatus(DoGetConsistencyProof(*context, *request, *response));
}

absl::Status AccessLogService::DoGetConsistencyProof(grpc::ServerContext& context,
                                                     const v1::GetConsistencyProofRequest& request,
                                                     v1::ConsistencyProof& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kGetConsistencyProof));
  response.set_first_size(request.first_size());
  response.set_second_size(request.second_size() == 0 ? ledger_.Size() : request.second_size());
  ASSIGN_OR_RETURN(std::vector<storage::Hash> path,
                   ledger_.ConsistencyProof(response.first_size(), response.second_size()));
  AddHashes(path, *response.mutable_hashes());
  return absl::OkStatus();
}

grpc::Status AccessLogService::VerifyLedger(grpc::ServerContext* context,
                                            const v1::VerifyLedgerRequest* request,
                                            v1::VerifyLedgerResponse* response) {
  return ToGrpcStatus(DoVerifyLedger(*context, *request, *response));
}

absl::Status AccessLogService::DoVerifyLedger(grpc::ServerContext& context,
                                              const v1::VerifyLedgerRequest& request,
                                              v1::VerifyLedgerResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kVerifyLedger));
  storage::VerifyReport report = ledger_.Verify(/*check_indexes=*/!request.skip_indexes());
  response.set_ok(report.ok);
  response.set_entries_checked(report.entries_checked);
  response.set_has_bad_seq(report.first_bad_seq.has_value());
  response.set_first_bad_seq(report.first_bad_seq.value_or(0));
  response.set_problem(report.problem);
  response.set_seconds(report.seconds);
  response.set_indexes_checked(report.indexes_checked);
  // Only a ledger that verified is signed anew; otherwise the answer shows
  // the last checkpoint signed before the problem.
  if (report.ok) {
    ASSIGN_OR_RETURN(*response.mutable_checkpoint(), ledger_.Checkpoint());
  } else if (std::optional<v1::Checkpoint> checkpoint = ledger_.LatestStoredCheckpoint()) {
    *response.mutable_checkpoint() = *std::move(checkpoint);
  }
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
