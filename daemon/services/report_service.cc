#include "daemon/services/report_service.h"

#include <algorithm>

#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/services/explanations.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/history_proof.h"
#include "daemon/services/portal_view.h"
#include "report/fhir_report.h"
#include "report/pdf_report.h"

namespace innsyn::daemon {
namespace {

constexpr size_t kMaxSubjectIdBytes = 256;
constexpr size_t kMaxReasonBytes = 1024;
constexpr size_t kPageSize = 1000;
// The most entries one report holds; a longer history needs a shorter period.
constexpr size_t kMaxReportEntries = 20'000;

absl::Status CheckRequest(const v1::CreateReportRequest& request) {
  if (request.subject_id().empty()) return absl::InvalidArgumentError("subject_id is required");
  if (request.subject_id().size() > kMaxSubjectIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("subject_id is longer than ", kMaxSubjectIdBytes, " bytes"));
  }
  if (request.reason().size() > kMaxReasonBytes) {
    return absl::InvalidArgumentError(StrCat("reason is longer than ", kMaxReasonBytes, " bytes"));
  }
  if (!request.language().empty() && request.language() != "nb" && request.language() != "en") {
    return absl::InvalidArgumentError(
        StrCat("language must be nb or en, not \"", request.language(), "\""));
  }
  if (request.format() == v1::REPORT_FORMAT_UNSPECIFIED ||
      !v1::ReportFormat_IsValid(request.format())) {
    return absl::InvalidArgumentError("format is required: PDF, FHIR or JSON");
  }
  if (request.has_from() && request.has_to() &&
      FromProto(request.from()) >= FromProto(request.to())) {
    return absl::InvalidArgumentError("from must be before to");
  }
  return absl::OkStatus();
}

// What a patient is shown of an entry: the portal's view, and staff by
// role only if the clinic so decided.
void ShowToPatient(bool staff_by_role, v1::LedgerEntry& entry) {
  MinimiseForPortal(entry);
  if (!staff_by_role || !entry.has_access_event()) return;
  v1::Actor& actor = *entry.mutable_access_event()->mutable_actor();
  if (actor.role() == "patient") return;
  actor.clear_id();
  actor.clear_display_name();
  actor.clear_hpr_number();
}

absl::StatusOr<google::protobuf::RepeatedPtrField<std::string>> ProofOf(
    const storage::Ledger& ledger, uint64_t seq, uint64_t tree_size) {
  ASSIGN_OR_RETURN(std::vector<storage::Hash> path, ledger.InclusionProof(seq, tree_size));
  google::protobuf::RepeatedPtrField<std::string> out;
  for (const storage::Hash& hash : path) out.Add(std::string(storage::AsBytes(hash)));
  return out;
}

}  // namespace

grpc::Status ReportService::CreateReport(grpc::ServerContext* context,
                                         const v1::CreateReportRequest* request,
                                         v1::CreateReportResponse* response) {
  return ToGrpcStatus(CreateReportFor(GrpcAdmission(gate_, *context), *request, *response));
}

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::RecordedEntry>> ReportService::Collect(
    storage::IndexQuery query) const {
  query.limit = kPageSize;
  google::protobuf::RepeatedPtrField<v1::RecordedEntry> entries;
  while (true) {
    ASSIGN_OR_RETURN(storage::IndexPage page, ledger_.ListSubject(query));
    for (storage::StoredEntry& stored : page.entries) {
      v1::RecordedEntry* recorded = entries.Add();
      recorded->set_seq(stored.seq);
      recorded->set_entry_bytes(std::move(stored.bytes));
      *recorded->mutable_entry() = std::move(stored.entry);
      recorded->set_erased(stored.erased);
    }
    if (static_cast<size_t>(entries.size()) > kMaxReportEntries) {
      return absl::OutOfRangeError(StrCat("the period holds more than ", kMaxReportEntries,
                                          " entries about the subject: ask for a shorter one"));
    }
    if (page.next_page_token.empty()) break;
    query.page_token = page.next_page_token;
  }
  RETURN_IF_ERROR(ExplainAccesses(ledger_, monitor_, query.id, entries));
  return entries;
}

absl::Status ReportService::AddRows(
    const google::protobuf::RepeatedPtrField<v1::RecordedEntry>& entries, uint64_t tree_size,
    v1::InnsynAnswer& answer) const {
  for (const v1::RecordedEntry& recorded : entries) {
    v1::ReportRow& row = *answer.add_rows();
    row.set_seq(recorded.seq());
    row.set_entry_bytes(recorded.entry_bytes());
    *row.mutable_entry() = recorded.entry();
    ShowToPatient(settings_.staff_by_role, *row.mutable_entry());
    row.set_explanation(recorded.explanation());
    row.set_erased(recorded.erased());
    ASSIGN_OR_RETURN(*row.mutable_inclusion_proof(), ProofOf(ledger_, recorded.seq(), tree_size));
    if (answer.subject_name().empty() && recorded.entry().has_access_event()) {
      answer.set_subject_name(recorded.entry().access_event().subject().display_name());
    }
  }
  return absl::OkStatus();
}

absl::Status ReportService::CreateReportFor(const Admission& admit,
                                            const v1::CreateReportRequest& request,
                                            v1::CreateReportResponse& response) {
  const absl::Time start = absl::Now();
  v1::QueryRecord record;
  record.set_subject_id(request.subject_id());
  record.set_reason(request.reason());
  if (request.has_from()) *record.mutable_range_from() = request.from();
  if (request.has_to()) *record.mutable_range_to() = request.to();
  ASSIGN_OR_RETURN(CallGate::Pass pass, admit(Method::kCreateReport, record));
  RETURN_IF_ERROR(CheckRequest(request));
  storage::IndexQuery query;
  query.id = request.subject_id();
  if (request.has_from()) query.from = FromProto(request.from());
  if (request.has_to()) query.to = FromProto(request.to());
  query.tree_size = ledger_.Size();
  ASSIGN_OR_RETURN(auto entries, Collect(query));

  // The report is a query: recorded before anything is signed, so that the
  // signed tree holds its record too.
  record.set_method(std::string(MethodName(Method::kCreateReport)));
  record.set_caller(pass.caller().identity);
  record.set_caller_role(pass.caller().role);
  record.set_results(entries.size());
  ASSIGN_OR_RETURN(v1::AppendReceipt receipt, ledger_.AppendQuery(record));
  // The answer is of one tree, the newest, which holds that record: the
  // subject's history is proven complete in it, and every row and the
  // record are proven in it. An entry about the subject that came in after
  // the rows were read is in that history, so the rows are read again.
  ASSIGN_OR_RETURN(storage::HistoryProof history,
                   ledger_.ProveSubjectHistory(request.subject_id()));
  const uint64_t read_at = query.tree_size;
  if (std::any_of(history.chain.begin(), history.chain.end(),
                  [&](const storage::HistoryProof::Link& link) { return link.seq >= read_at; })) {
    query.tree_size = history.tree_size;
    ASSIGN_OR_RETURN(entries, Collect(query));
  }
  v1::HistoryProof completeness;
  RETURN_IF_ERROR(FillHistoryProof(ledger_, history, query, completeness));
  v1::Checkpoint checkpoint = completeness.checkpoint();

  v1::InnsynAnswer& answer = *response.mutable_answer()->mutable_answer();
  answer.set_format(std::string(report::kAnswerFormat));
  *answer.mutable_controller() = settings_.controller;
  answer.set_subject_id_masked(report::MaskIdentityNumber(request.subject_id()));
  if (request.has_from()) *answer.mutable_from() = request.from();
  if (request.has_to()) *answer.mutable_to() = request.to();
  answer.mutable_generated_at()->set_seconds(absl::ToUnixSeconds(Now()));
  answer.set_language(request.language().empty() ? "nb" : request.language());
  answer.set_staff_shown_as(settings_.staff_by_role ? "role" : "named");
  RETURN_IF_ERROR(AddRows(entries, checkpoint.tree_size(), answer));
  ASSIGN_OR_RETURN(std::vector<storage::StoredEntry> self, ledger_.GetEntries(receipt.seq(), 1));
  v1::ReportRow& self_row = *answer.mutable_self_record();
  self_row.set_seq(receipt.seq());
  self_row.set_entry_bytes(self.front().bytes);
  *self_row.mutable_entry() = self.front().entry;
  if (pass.caller().role == kPortalRole) MinimiseForPortal(*self_row.mutable_entry());
  ASSIGN_OR_RETURN(*self_row.mutable_inclusion_proof(),
                   ProofOf(ledger_, receipt.seq(), checkpoint.tree_size()));
  *answer.mutable_checkpoint() = std::move(checkpoint);
  *answer.mutable_completeness() = std::move(completeness);
  answer.mutable_retention()->set_default_years(retention_.default_years);
  for (const auto& [name, years] : retention_.years_by_class) {
    (*answer.mutable_retention()->mutable_years_by_class())[name] = years;
  }
  ASSIGN_OR_RETURN(std::string statement,
                   ledger_.SignStatement(report::StatementText(answer.checkpoint().origin(),
                                                               report::AnswerDigest(answer))));
  response.mutable_answer()->set_statement(std::move(statement));
  response.set_query_seq(receipt.seq());

  switch (request.format()) {
    case v1::REPORT_FORMAT_PDF: {
      ASSIGN_OR_RETURN(*response.mutable_document(), report::RenderPdf(response.answer()));
      response.set_media_type("application/pdf");
      break;
    }
    case v1::REPORT_FORMAT_FHIR: {
      ASSIGN_OR_RETURN(*response.mutable_document(), report::RenderFhir(response.answer()));
      response.set_media_type("application/fhir+json");
      break;
    }
    default: {
      // The document is the answer itself; it is not sent twice.
      ASSIGN_OR_RETURN(*response.mutable_document(), report::AnswerToJson(response.answer()));
      response.clear_answer();
      response.set_media_type("application/json");
      break;
    }
  }
  metrics_.ObserveQueryLatency(MethodName(Method::kCreateReport), absl::Now() - start);
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
