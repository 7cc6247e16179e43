#include "report/answer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

#include <vector>

#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "storage/checkpoint.h"
#include "storage/hash.h"
#include "storage/merkle.h"

namespace innsyn::report {
namespace {

constexpr int64_t kSecondsPerHour = 3600;
constexpr size_t kBirthDateDigits = 6;

std::string Deterministic(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

v1::EntryKind KindOf(const v1::LedgerEntry& entry) {
  switch (entry.body_case()) {
    case v1::LedgerEntry::kAccessEvent: return v1::ENTRY_KIND_ACCESS_EVENT;
    case v1::LedgerEntry::kQueryRecord: return v1::ENTRY_KIND_QUERY_RECORD;
    case v1::LedgerEntry::kAlert: return v1::ENTRY_KIND_ALERT;
    case v1::LedgerEntry::kAlertDecision: return v1::ENTRY_KIND_ALERT_DECISION;
    case v1::LedgerEntry::kErasure: return v1::ENTRY_KIND_ERASURE;
    case v1::LedgerEntry::kRetentionRun: return v1::ENTRY_KIND_RETENTION_RUN;
    case v1::LedgerEntry::kBaseline: return v1::ENTRY_KIND_BASELINE;
    case v1::LedgerEntry::BODY_NOT_SET: break;
  }
  return v1::ENTRY_KIND_UNSPECIFIED;
}

// One row against the signed tree: its bytes are leaf `seq`, and what the
// answer says of it agrees with the clear header those bytes hold.
absl::StatusOr<v1::SealedEntry> CheckRow(const v1::ReportRow& row, std::string_view what,
                                         const storage::CheckpointBody& tree) {
  if (row.seq() >= tree.tree_size) {
    return absl::DataLossError(
        StrCat(what, ": seq ", row.seq(), " is outside the signed tree of ", tree.tree_size));
  }
  v1::SealedEntry header;
  if (!header.ParseFromString(row.entry_bytes()) || header.seq() != row.seq()) {
    return absl::DataLossError(StrCat(what, ": its entry bytes are not entry ", row.seq()));
  }
  std::vector<storage::Hash> path;
  for (const std::string& node : row.inclusion_proof()) {
    std::optional<storage::Hash> hash = storage::HashFromBytes(node);
    if (!hash) return absl::DataLossError(StrCat(what, ": a proof hash is not 32 bytes"));
    path.push_back(*hash);
  }
  if (absl::Status s = storage::VerifyInclusion(
          row.seq(), tree.tree_size, storage::LeafHash(row.entry_bytes()), path, tree.root_hash);
      !s.ok()) {
    return absl::DataLossError(
        StrCat(what, ": entry ", row.seq(), " is not in the signed tree (", s.message(), ")"));
  }
  if (row.erased()) return header;
  if (row.entry().seq() != row.seq() || KindOf(row.entry()) != header.kind()) {
    return absl::DataLossError(
        StrCat(what, ": its contents do not match the kind of entry ", row.seq()));
  }
  if (row.entry().has_access_event()) {
    const int64_t seconds = row.entry().access_event().occurred_at().seconds();
    const int64_t hour =
        seconds - ((seconds % kSecondsPerHour) + kSecondsPerHour) % kSecondsPerHour;
    if (hour != header.hour()) {
      return absl::DataLossError(StrCat(what, ": its time ",
                                        absl::FormatTime(absl::FromUnixSeconds(seconds)),
                                        " is not in the hour entry ", row.seq(), " records"));
    }
  }
  return header;
}

}  // namespace

std::string AnswerDigest(const v1::InnsynAnswer& answer) {
  return storage::ToHex(storage::Sha256(Deterministic(answer)));
}

std::string StatementText(std::string_view origin, std::string_view digest) {
  return StrCat(origin, "\ninnsyn-answer sha256 ", digest, "\n");
}

std::string MaskIdentityNumber(std::string_view id) {
  const bool national = id.size() == 11 && id.find_first_not_of("0123456789") == std::string::npos;
  const size_t keep = national ? kBirthDateDigits : id.size() / 3;
  return StrCat(id.substr(0, keep), std::string(id.size() - keep, '*'));
}

std::string CompanionPath(std::string_view report_path) {
  const size_t slash = report_path.rfind('/');
  const size_t dot = report_path.rfind('.');
  const bool has_extension =
      dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash + 1);
  return StrCat(has_extension ? report_path.substr(0, dot) : report_path, ".answer.json");
}

absl::StatusOr<std::string> AnswerToJson(const v1::SignedAnswer& signed_answer) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(signed_answer, &out, options);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return out;
}

absl::StatusOr<v1::SignedAnswer> AnswerFromJson(std::string_view json) {
  v1::SignedAnswer signed_answer;
  auto status = google::protobuf::util::JsonStringToMessage(json, &signed_answer);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        StrCat("not an innsyn answer (", std::string(status.message()), ")"));
  }
  return signed_answer;
}

absl::StatusOr<AnswerCheck> VerifyAnswer(const v1::SignedAnswer& signed_answer,
                                         std::string_view verifier_key) {
  const v1::InnsynAnswer& answer = signed_answer.answer();
  if (answer.format() != kAnswerFormat) {
    return absl::InvalidArgumentError(
        StrCat("format is \"", answer.format(), "\", not ", kAnswerFormat));
  }
  absl::StatusOr<storage::CheckpointBody> tree =
      storage::VerifyCheckpointNote(answer.checkpoint().note(), verifier_key);
  if (!tree.ok()) {
    return absl::DataLossError(StrCat("the checkpoint: ", tree.status().message()));
  }
  AnswerCheck check;
  check.digest = AnswerDigest(answer);
  absl::StatusOr<std::string> statement =
      storage::VerifyNoteText(signed_answer.statement(), verifier_key);
  if (!statement.ok()) {
    return absl::DataLossError(StrCat("the statement: ", statement.status().message()));
  }
  if (*statement != StatementText(tree->origin, check.digest)) {
    return absl::DataLossError(
        "the answer is not the one the clinic signed: its digest differs from the signed "
        "statement (a row was removed, added or changed)");
  }
  std::string subject;
  int64_t last_hour = INT64_MIN;
  uint64_t last_seq = 0;
  for (int i = 0; i < answer.rows_size(); ++i) {
    const v1::ReportRow& row = answer.rows(i);
    ASSIGN_OR_RETURN(v1::SealedEntry header, CheckRow(row, StrCat("row ", i + 1), *tree));
    if (i == 0) subject = header.subject();
    if (header.subject().empty() || header.subject() != subject) {
      return absl::DataLossError(
          StrCat("row ", i + 1, ": entry ", row.seq(), " is about another subject than row 1"));
    }
    if (i > 0 &&
        (header.hour() < last_hour || (header.hour() == last_hour && row.seq() <= last_seq))) {
      return absl::DataLossError(StrCat("row ", i + 1, " is out of the ledger's order"));
    }
    last_hour = header.hour();
    last_seq = row.seq();
    if (row.erased()) ++check.erased_rows;
  }
  ASSIGN_OR_RETURN(v1::SealedEntry self,
                   CheckRow(answer.self_record(), "the report's own record", *tree));
  if (self.kind() != v1::ENTRY_KIND_QUERY_RECORD ||
      (!subject.empty() && self.subject() != subject)) {
    return absl::DataLossError("the report's own record is not a query about this subject");
  }
  check.origin = tree->origin;
  check.tree_size = tree->tree_size;
  check.root_hex = storage::ToHex(tree->root_hash);
  check.rows = answer.rows_size();
  check.self_record_seq = answer.self_record().seq();
  return check;
}

}  // namespace innsyn::report
