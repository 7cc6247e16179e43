// `innsynctl report` makes the innsyn report a patient receives (a PDF in
// bokmål or English, FHIR AuditEvents, or the signed answer as JSON), and
// `innsynctl verify-report` checks a received one offline against the
// clinic's public key and says what that proves. A PDF carries its signed
// answer as an attachment (report/pdf_attachment.h) and a FHIR bundle as
// a Binary entry (report/fhir_report.h), so each is one file. Every file holds health data and is
// written readable by its owner only. With --encrypt the PDF, its attached answer included, is
// AES-256-encrypted with a password read from a file (never a flag value,
// which `ps` would show), for the clinic to send the patient another way;
// the password is wiped from memory after use, and no answer is written in
// the clear.
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/match.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/completeness.h"
#include "ctl/format.h"
#include "ctl/trust.h"
#include "report/answer.h"
#include "report/fhir_report.h"
#include "report/pdf_attachment.h"
#include "report/pdf_encrypt.h"
#include "report/pdf_report.h"
#include "storage/hash.h"

namespace innsyn::ctl {
namespace {

constexpr mode_t kPrivateFileMode = 0600;
constexpr std::string_view kPdfMagic = "%PDF-";

struct ReportFlags {
  std::string subject;
  std::string from;
  std::string to;
  std::string language = "nb";
  std::string format = "pdf";
  std::string out;
  bool encrypt = false;
  std::string password_file;
};

// A password, wiped from memory when it goes (qpdf keeps copies of its own
// while it encrypts, which this cannot reach).
class Password {
 public:
  Password() = default;
  Password(const Password&) = delete;
  Password& operator=(const Password&) = delete;
  ~Password() { Wipe(); }
  std::string& value() { return value_; }
  void Wipe() {
    if (!value_.empty()) ::explicit_bzero(value_.data(), value_.size());
    value_.clear();
  }

 private:
  std::string value_;
};

// The password in `path` given as `flag`: the file's first line, without
// its line ending. An error naming the flag if it is missing or empty.
absl::Status ReadPassword(std::string_view flag, const std::string& path, Password& password) {
  if (path.empty()) return absl::InvalidArgumentError(StrCat("--encrypt needs ", flag, " FILE"));
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return absl::InvalidArgumentError(StrCat(flag, ": cannot read ", path));
  password.value() = bytes->substr(0, bytes->find_first_of("\r\n"));
  ::explicit_bzero(bytes->data(), bytes->size());
  if (password.value().empty()) {
    return absl::InvalidArgumentError(StrCat(flag, ": ", path, " holds no password"));
  }
  return absl::OkStatus();
}

absl::Status WritePrivateFile(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return absl::PermissionDeniedError(StrCat("cannot write ", path));
  if (::fchmod(fd, kPrivateFileMode) != 0) {  // a file that was there keeps its mode otherwise
    ::close(fd);
    return absl::PermissionDeniedError(StrCat("cannot make ", path, " private"));
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      return absl::DataLossError(StrCat("cannot write ", path));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::DataLossError(StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReportFormat> FormatFromFlag(const std::string& format) {
  if (format == "pdf") return v1::REPORT_FORMAT_PDF;
  if (format == "fhir") return v1::REPORT_FORMAT_FHIR;
  if (format == "json") return v1::REPORT_FORMAT_JSON;
  return absl::InvalidArgumentError(StrCat("--format must be pdf, fhir or json, not ", format));
}

int RunReport(const GlobalOptions& global, const ReportFlags& flags) {
  v1::CreateReportRequest request;
  request.set_subject_id(flags.subject);
  request.set_language(flags.language);
  request.set_reason(global.reason);
  absl::StatusOr<v1::ReportFormat> format = FormatFromFlag(flags.format);
  if (!format.ok()) return ReportError(format.status());
  request.set_format(*format);
  // The password is checked before the server is asked, so that a bad one
  // records no query and writes nothing.
  Password password;
  if (flags.encrypt) {
    if (*format != v1::REPORT_FORMAT_PDF) {
      return ReportError(absl::InvalidArgumentError("--encrypt needs --format pdf"));
    }
    if (absl::Status s = ReadPassword("--password-file", flags.password_file, password); !s.ok()) {
      return ReportError(s);
    }
  }
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> from =
      ParseTimeFlag("--from", flags.from);
  if (!from.ok()) return ReportError(from.status());
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> to = ParseTimeFlag("--to", flags.to);
  if (!to.ok()) return ReportError(to.status());
  if (*from) *request.mutable_from() = **from;
  if (*to) *request.mutable_to() = **to;
  Client client(global);
  absl::StatusOr<v1::CreateReportResponse> response = client.CreateReport(request);
  if (!response.ok()) return ReportError(response.status());
  std::string document = std::move(*response->mutable_document());
  if (flags.encrypt) {
    absl::StatusOr<std::string> encrypted = report::EncryptPdf(document, password.value());
    password.Wipe();
    ::explicit_bzero(document.data(), document.size());
    if (!encrypted.ok()) return ReportError(encrypted.status());
    document = *std::move(encrypted);
  }
  if (absl::Status s = WritePrivateFile(flags.out, document); !s.ok()) return ReportError(s);
  fmt::print("report written to {} ({}{})\n", flags.out, response->media_type(),
             flags.encrypt ? ", AES-256 encrypted: send its password another way" : "");
  // The answer rides inside the document (encrypted with a PDF under
  // --encrypt): no second file to send, keep or delete.
  if (*format == v1::REPORT_FORMAT_PDF) {
    fmt::print("its signed answer and proofs are attached to it as {}\n",
               report::kAnswerAttachmentName);
  } else if (*format == v1::REPORT_FORMAT_FHIR) {
    fmt::print("its signed answer and proofs are in it, as the Binary {}\n",
               report::kAnswerBinaryId);
  }
  fmt::print("this report was recorded as seq {}\n", response->query_seq());
  return kExitOk;
}

// The answer a file carries or goes with, and what ties the two together.
struct ReceivedReport {
  v1::SignedAnswer answer;
  std::string tie;  // how the file names its answer, for the message
};

// The answer beside a PDF or FHIR report in its companion file.
absl::StatusOr<std::string> ReadCompanion(const std::string& path) {
  const std::string companion = report::CompanionPath(path);
  absl::StatusOr<std::string> json = ReadWholeFile(companion);
  if (!json.ok()) {
    return absl::NotFoundError(StrCat(path, " carries no signed answer and goes with one in ",
                                      companion, ", which cannot be read"));
  }
  return json;
}

// A PDF's keywords and attachment, opened with the password in
// `password_file` if it is encrypted.
absl::StatusOr<report::PdfContents> OpenPdf(const std::string& path, std::string_view bytes,
                                            const std::string& password_file) {
  Password password;
  if (!password_file.empty()) {
    RETURN_IF_ERROR(ReadPassword("--password-file", password_file, password));
  }
  absl::StatusOr<report::PdfContents> contents = report::ReadPdfContents(bytes, password.value());
  if (absl::IsPermissionDenied(contents.status())) {
    return absl::PermissionDeniedError(
        StrCat(path, password_file.empty() ? " is encrypted: give its password with --password-file"
                                           : " is encrypted and --password-file does not open it"));
  }
  return contents;
}

// A PDF is checked with the answer attached to it; one without (made
// before reports carried their answer) with the answer beside it.
absl::StatusOr<ReceivedReport> ReadPdfReport(const std::string& path, std::string_view bytes,
                                             const std::string& password_file) {
  ASSIGN_OR_RETURN(report::PdfContents contents, OpenPdf(path, bytes, password_file));
  const bool attached = contents.answer_json.has_value();
  std::string where = StrCat("attached to it as ", report::kAnswerAttachmentName);
  if (!attached) {
    ASSIGN_OR_RETURN(contents.answer_json, ReadCompanion(path));
    where = StrCat("in ", report::CompanionPath(path));
  }
  ReceivedReport received;
  ASSIGN_OR_RETURN(received.answer, report::AnswerFromJson(*contents.answer_json));
  const std::string digest = report::AnswerDigest(received.answer.answer());
  if (!absl::StrContains(contents.keywords, StrCat(report::kDigestKeywordPrefix, digest))) {
    return VerificationFailure(StrCat(path, " does not name the answer ", where, " (SHA-256 ",
                                      digest, "): they do not belong together"));
  }
  received.tie = StrCat("the PDF names this answer, ", where);
  return received;
}

absl::StatusOr<ReceivedReport> ReadReport(const std::string& path,
                                          const std::string& password_file) {
  ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  if (bytes.starts_with(kPdfMagic)) return ReadPdfReport(path, bytes, password_file);
  ReceivedReport received;
  if (!absl::StrContains(bytes, "\"resourceType\": \"Bundle\"")) {
    ASSIGN_OR_RETURN(received.answer, report::AnswerFromJson(bytes));
    return received;
  }
  // A FHIR bundle carries its answer; one made before bundles did goes
  // with the answer beside it.
  ASSIGN_OR_RETURN(std::optional<std::string> carried, report::AnswerInBundle(bytes));
  std::string where = StrCat("in it as the Binary ", report::kAnswerBinaryId);
  if (!carried) {
    ASSIGN_OR_RETURN(carried, ReadCompanion(path));
    where = StrCat("in ", report::CompanionPath(path));
  }
  ASSIGN_OR_RETURN(received.answer, report::AnswerFromJson(*carried));
  const std::string digest = report::AnswerDigest(received.answer.answer());
  if (!absl::StrContains(bytes, digest)) {
    return VerificationFailure(StrCat(path, " does not name the answer ", where, " (SHA-256 ",
                                      digest, "): they do not belong together"));
  }
  if (absl::Status s = report::CheckBundleEvents(bytes, received.answer.answer()); !s.ok()) {
    return VerificationFailure(StrCat(path, ": ", s.message()));
  }
  received.tie = StrCat("the FHIR bundle's AuditEvents are exactly the signed answer's, ", where);
  return received;
}

// The answer's completeness proof, checked offline as `innsynctl history`
// checks one (completeness.h): its rows are every entry of the subject's
// signed history in the period, in the tree of the answer's checkpoint.
// `tree_size` is that checkpoint's, already verified. NotFound for an
// answer made before answers carried the proof.
absl::StatusOr<CompleteAnswer> CheckAnswerComplete(Trust& trust, const v1::InnsynAnswer& answer,
                                                   uint64_t tree_size) {
  if (!answer.has_completeness()) {
    return absl::NotFoundError("this answer carries no completeness proof");
  }
  if (answer.completeness().checkpoint().note() != answer.checkpoint().note()) {
    return VerificationFailure("the completeness proof is of another checkpoint than the answer");
  }
  std::vector<v1::RecordedEntry> entries;
  std::string subject;
  for (const v1::ReportRow& row : answer.rows()) {
    v1::SealedEntry header;  // VerifyAnswer has checked that the bytes are entry `seq`
    header.ParseFromString(row.entry_bytes());
    v1::RecordedEntry& entry = entries.emplace_back();
    entry.set_seq(row.seq());
    entry.set_entry_bytes(row.entry_bytes());
    entry.set_kind(header.kind());
    entry.mutable_hour()->set_seconds(header.hour());
    entry.set_erased(row.erased());
    *entry.mutable_entry() = row.entry();
    if (subject.empty() && row.entry().has_access_event()) {
      subject = row.entry().access_event().subject().id();
    }
  }
  if (!subject.empty() && report::MaskIdentityNumber(subject) != answer.subject_id_masked()) {
    return VerificationFailure(StrCat("the rows are about ", report::MaskIdentityNumber(subject),
                                      ", the answer says it is for ", answer.subject_id_masked()));
  }
  AnswerToCheck check;
  check.space = storage::MapSpace::kSubject;
  check.id = subject;
  if (answer.has_from()) check.from = FromProto(answer.from());
  if (answer.has_to()) check.to = FromProto(answer.to());
  check.tree_size = tree_size;
  check.proof = &answer.completeness();
  check.entries = &entries;
  return CheckComplete(trust, check);
}

int RunVerifyReport(const std::string& path, const std::string& password_file,
                    const TrustFlags& trust_flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(trust_flags);
  if (!trust.ok()) return ReportError(trust.status());
  absl::StatusOr<ReceivedReport> received = ReadReport(path, password_file);
  if (!received.ok()) return ReportError(received.status());
  absl::StatusOr<report::AnswerCheck> check =
      report::VerifyAnswer(received->answer, trust->pinned_key());
  if (!check.ok()) return ReportError(VerificationFailure(std::string(check.status().message())));
  const v1::InnsynAnswer& answer = received->answer.answer();
  fmt::print("OK: {} signed this answer for {} (SHA-256 {})\n", check->origin,
             answer.subject_id_masked(), check->digest);
  if (!received->tie.empty()) fmt::print("  {}\n", received->tie);
  fmt::print("  checkpoint: {} entries, root {}\n", check->tree_size, check->root_hex);
  fmt::print("  {} rows, each an entry of that signed log with its inclusion proof", check->rows);
  if (check->erased_rows > 0) fmt::print(" ({} erased)", check->erased_rows);
  fmt::print("\n  the report itself was recorded as entry {}\n", check->self_record_seq);
  absl::StatusOr<CompleteAnswer> complete = CheckAnswerComplete(*trust, answer, check->tree_size);
  if (absl::IsNotFound(complete.status())) {
    fmt::print("  not proven: that no entry about the subject was left out ({})\n",
               complete.status().message());
    return kExitOk;
  }
  if (!complete.ok()) {
    return ReportError(VerificationFailure(
        StrCat("the answer is not proven complete: ", complete.status().message())));
  }
  fmt::print(
      "  complete: this list of {} entries is every entry about the subject in the period, up to "
      "tree size {} (the subject's signed history holds {} entries in all)\n",
      complete->entries, complete->checkpoint.tree_size, complete->history);
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* command = app.add_subcommand(
      "report", "Make the innsyn report for a subject: PDF, FHIR or signed JSON (CreateReport)");
  command->add_option("--subject", flags->subject, "Subject id, e.g. a national identity number")
      ->required();
  command->add_option("--from", flags->from,
                      "Only events at or after this time (RFC 3339 or local YYYY-MM-DD)");
  command->add_option("--to", flags->to,
                      "Only events before this time (RFC 3339 or local YYYY-MM-DD)");
  command->add_option("--lang", flags->language, "nb (bokmål) or en")
      ->capture_default_str()
      ->check(CLI::IsMember({"nb", "en"}));
  command->add_option("--format", flags->format, "pdf, fhir or json")->capture_default_str();
  command->add_option("--out", flags->out, "The file to write (mode 0600)")->required();
  command->add_flag("--encrypt", flags->encrypt,
                    "Encrypt the PDF with AES-256 for e-mail; needs --password-file");
  command->add_option("--password-file", flags->password_file,
                      "With --encrypt: a file whose first line is the PDF's password, to be "
                      "sent to the patient another way (e.g. by SMS)");
  command->footer(
      "Making a report is a query: it is recorded in the ledger with --reason. A PDF carries "
      "its signed answer as the attachment innsyn-answer.json, a FHIR bundle as the Binary "
      "innsyn-answer. --encrypt "
      "encrypts the PDF with its attachment: nothing is written in the clear.");
  command->callback([&context, flags] { context.exit_code = RunReport(context.global, *flags); });
}

void AddVerifyReportCommand(CLI::App& app, CommandContext& context) {
  auto path = std::make_shared<std::string>();
  auto trust = std::make_shared<TrustFlags>();
  auto password_file = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "verify-report", "Check a received innsyn report offline against the clinic's public key");
  command
      ->add_option("FILE", *path,
                   "The report (a PDF or FHIR bundle, which carries its answer) or an answer "
                   "alone")
      ->required();
  command->add_option("--password-file", *password_file,
                      "For a PDF made with --encrypt: a file whose first line is its password");
  AddOfflineTrustFlags(*command, *trust);
  command->callback([&context, path, password_file, trust] {
    if (absl::Status s = RequirePinnedKey(*trust, "verify-report"); !s.ok()) {
      context.exit_code = ReportError(s);
      return;
    }
    context.exit_code = RunVerifyReport(*path, *password_file, *trust);
  });
}

}  // namespace innsyn::ctl
