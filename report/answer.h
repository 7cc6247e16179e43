// The machine-readable innsyn answer (innsyn.v1.SignedAnswer) and its proof:
// the digest a clinic signs, the file format, and the offline check a
// patient or their adviser runs with the clinic's verifier key
// (`innsynctl verify-report`).
//
// What a verified answer proves: the clinic's checkpoint key signed this
// exact answer (no row removed, added or changed since), every row is the
// entry of its seq in the signed tree (its stored bytes, leaf hash and
// inclusion proof), all rows are about one subject pseudonym, each access
// row's time lies in the hour its stored header records, and the making
// of the report was itself recorded in that tree. That no entry about the
// subject was left out is proven by the answer's `completeness`, the
// subject's history proof in the same tree, which the client checks as it
// checks any complete answer (ctl/completeness.h). Pure functions;
// thread-safe.
#ifndef INNSYN_REPORT_ANSWER_H_
#define INNSYN_REPORT_ANSWER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "innsyn/v1/report.pb.h"

namespace innsyn::report {

inline constexpr std::string_view kAnswerFormat = "innsyn-answer/2";

// What the clinic sets for its reports (the [report] table of innsynd.toml).
struct ReportSettings {
  v1::ReportController controller;
  // Staff by role and organisation only, without name, id or HPR number.
  // Off by default: pasientjournalloven § 18 gives the patient the right to
  // know who had access; a clinic that weighs its employees' interests
  // otherwise (CJEU C-579/21) may turn it on and name staff on request.
  bool staff_by_role = false;
};

// Hex SHA-256 of the answer's deterministic serialisation.
std::string AnswerDigest(const v1::InnsynAnswer& answer);
// The text the clinic signs: "<origin>\ninnsyn-answer sha256 <digest>\n".
std::string StatementText(std::string_view origin, std::string_view digest);

// "01017012345" -> "010170*****": the date of birth stays, the personal
// number is hidden. Other ids keep their first third.
std::string MaskIdentityNumber(std::string_view id);

// Where the answer went beside a report made before reports carried it:
// "innsyn.fhir.json" -> "innsyn.fhir.answer.json". A PDF carries its answer
// inside (pdf_attachment.h), a FHIR bundle too (fhir_report.h).
std::string CompanionPath(std::string_view report_path);

// The file form: proto3 JSON of the SignedAnswer, indented.
absl::StatusOr<std::string> AnswerToJson(const v1::SignedAnswer& signed_answer);
// Parses that form; InvalidArgument naming what is wrong.
absl::StatusOr<v1::SignedAnswer> AnswerFromJson(std::string_view json);

struct AnswerCheck {
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hex;
  size_t rows = 0;
  size_t erased_rows = 0;
  uint64_t self_record_seq = 0;
  std::string digest;
};

// Checks everything the header comment lists against `verifier_key`
// ("name+keyid+base64", checkpoint_key.pub). DataLoss or InvalidArgument
// naming the first row or part that fails.
absl::StatusOr<AnswerCheck> VerifyAnswer(const v1::SignedAnswer& signed_answer,
                                         std::string_view verifier_key);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_ANSWER_H_
