// The innsyn report end to end: a simulated patient's dozen accesses (a
// booking, reads around an appointment, a disclosure with consent, an
// emergency access at night in summer time, a login) are sent to the real
// innsynd; `innsynctl report` makes the PDF, FHIR and JSON answer over a
// socket; poppler's pdftotext, pdffonts and pdfinfo read the PDF as a
// person's viewer would, and pdfdetach finds the signed answer attached to
// it; `innsynctl verify-report` accepts the real report from the PDF alone
// and rejects it with a row removed or a time changed.
#include <dirent.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/proto_time.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "report/answer.h"
#include "report/fhir_report.h"
#include "report/pdf_attachment.h"
#include "storage/checkpoint.h"
#include "tests/support/daemon_process.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace innsyn {
namespace {

using testing::Contains;
using testing::DaemonProcess;
using testing::ReadFile;
using testing::RunCommand;

constexpr char kPatient[] = "01017012345";
constexpr char kPatientName[] = "Åse Ødegård Bækken";

absl::Time At(const char* rfc3339) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) ADD_FAILURE() << error;
  return time;
}

struct Staff {
  const char* id;
  const char* name;
  const char* role;
  const char* hpr;
};
constexpr Staff kDentist{"dr.lie", "Kari Lie", "dentist", "9144889"};
constexpr Staff kReceptionist{"ola", "Ola Nordmann", "receptionist", ""};
constexpr Staff kHygienist{"bjorg", "Bjørg Åsheim", "hygienist", "7712345"};
constexpr Staff kEmergencyDoctor{"per.h", "Per Hæhre", "doctor", "5551234"};

v1::AccessEvent Event(int n, const char* occurred_at, const Staff& who, v1::ActionCode action,
                      v1::ActionSubtype subtype, v1::DataObjectType object,
                      v1::PurposeOfUse purpose) {
  v1::AccessEvent event;
  event.set_event_id(absl::StrCat("rep-", n));
  event.mutable_source()->set_system("opus-dental");
  event.mutable_source()->set_instance("clinic-1");
  *event.mutable_occurred_at() = ToProto(At(occurred_at));
  event.mutable_actor()->set_id(who.id);
  event.mutable_actor()->set_display_name(who.name);
  event.mutable_actor()->set_role(who.role);
  event.mutable_actor()->set_hpr_number(who.hpr);
  event.mutable_actor()->set_organisation("Tannlegene i Storgata");
  event.mutable_subject()->set_id(kPatient);
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.mutable_subject()->set_display_name(kPatientName);
  event.set_action(action);
  event.set_action_subtype(subtype);
  event.mutable_data_object()->set_type(object);
  event.mutable_data_object()->set_id(absl::StrCat("obj-", n));
  event.set_purpose_of_use(purpose);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return event;
}

// The patient's year: twelve accesses, in time order.
std::vector<v1::AccessEvent> PatientHistory() {
  using enum v1::ActionCode;
  using enum v1::ActionSubtype;
  using enum v1::DataObjectType;
  using enum v1::PurposeOfUse;
  std::vector<v1::AccessEvent> events;
  v1::AccessEvent booking =
      Event(1, "2026-03-02T08:05:00Z", kReceptionist, ACTION_CODE_CREATE, ACTION_SUBTYPE_CREATE,
            DATA_OBJECT_TYPE_APPOINTMENT, PURPOSE_OF_USE_ADMINISTRATION);
  (*booking.mutable_attributes())["appointment.clinician"] = kDentist.id;
  (*booking.mutable_attributes())["appointment.start"] = "2026-03-05T09:00:00+01:00";
  events.push_back(booking);
  events.push_back(Event(2, "2026-03-04T15:00:00Z", kDentist, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
                         DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT));
  events.push_back(Event(3, "2026-03-05T08:10:00Z", kDentist, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
                         DATA_OBJECT_TYPE_IMAGE, PURPOSE_OF_USE_TREATMENT));
  v1::AccessEvent note =
      Event(4, "2026-03-05T08:40:00Z", kDentist, ACTION_CODE_UPDATE, ACTION_SUBTYPE_UPDATE,
            DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT);
  note.set_legal_basis("helsepersonelloven § 39");
  events.push_back(note);
  events.push_back(Event(5, "2026-03-05T09:00:00Z", kReceptionist, ACTION_CODE_CREATE,
                         ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING));
  v1::AccessEvent consent =
      Event(6, "2026-03-06T10:00:00Z", kDentist, ACTION_CODE_CREATE, ACTION_SUBTYPE_CONSENT_GIVEN,
            DATA_OBJECT_TYPE_CONSENT, PURPOSE_OF_USE_ADMINISTRATION);
  consent.mutable_recipient()->set_id("889640782");
  consent.mutable_recipient()->set_name("NAV");
  events.push_back(consent);
  v1::AccessEvent disclosure =
      Event(7, "2026-03-06T10:05:00Z", kDentist, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_DISCLOSE,
            DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_ADMINISTRATION);
  disclosure.mutable_recipient()->set_id("889640782");
  disclosure.mutable_recipient()->set_name("NAV");
  events.push_back(disclosure);
  v1::AccessEvent emergency =
      Event(8, "2026-06-15T01:30:00Z", kEmergencyDoctor, ACTION_CODE_READ,
            ACTION_SUBTYPE_BREAK_GLASS, DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_EMERGENCY);
  emergency.set_reason("bevisstløs pasient på legevakten");
  events.push_back(emergency);
  v1::AccessEvent login =
      Event(9, "2026-06-15T09:00:00Z", kReceptionist, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_LOGIN,
            DATA_OBJECT_TYPE_ACCOUNT, PURPOSE_OF_USE_PATIENT_REQUEST);
  login.mutable_source()->set_system("website");
  login.mutable_source()->clear_instance();
  login.mutable_actor()->Clear();
  login.mutable_actor()->set_id(kPatient);
  login.mutable_actor()->set_role("patient");
  events.push_back(login);
  events.push_back(Event(10, "2026-06-16T07:00:00Z", kHygienist, ACTION_CODE_READ,
                         ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_TREATMENT_PLAN,
                         PURPOSE_OF_USE_TREATMENT));
  events.push_back(Event(11, "2026-06-16T07:30:00Z", kDentist, ACTION_CODE_CREATE,
                         ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_REFERRAL,
                         PURPOSE_OF_USE_TREATMENT));
  events.push_back(Event(12, "2026-06-16T07:45:00Z", kDentist, ACTION_CODE_READ,
                         ACTION_SUBTYPE_PRINT, DATA_OBJECT_TYPE_REFERRAL,
                         PURPOSE_OF_USE_TREATMENT));
  return events;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The names in directory `path`, sorted.
std::vector<std::string> FilesIn(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// Counts how often `needle` occurs in `text`.
size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/innsynd.toml")
        << "origin = \"tannlege.example.no/innsyn\"\n"
        << "[report]\n"
        << "controller_name = \"Tannlegene i Storgata AS\"\n"
        << "organisation_number = \"987 654 321\"\n"
        << "address = \"Storgata 1, 0155 Oslo\"\n"
        << "contact = \"personvern@tannlege.example.no\"\n"
        << "data_protection_officer = \"Siri Ødegaard\"\n"
        << "[retention.years]\nweb_form = 2\n";
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, data_dir(),
        std::vector<std::string>{"--detection", "true", "--config", dir_.path() + "/innsynd.toml"});
    ASSERT_TRUE(daemon_->running());
    auto channel = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    auto ingest = v1::IngestService::NewStub(channel);
    v1::AppendRequest request;
    for (const v1::AccessEvent& event : PatientHistory()) *request.add_events() = event;
    v1::AccessEvent other = PatientHistory()[1];  // another patient, not in the report
    other.set_event_id("rep-other");
    other.mutable_subject()->set_id("02029054321");
    other.mutable_subject()->set_display_name("Ola Annen");
    *request.add_events() = other;
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = ingest->Append(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string key_file() const { return data_dir() + "/checkpoint_key.pub"; }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {INNSYNCTL_PATH, "--server", daemon_->grpc_address()});
    return RunCommand(args);
  }

  // Makes a report with innsynctl, over the daemon's socket.
  testing::CommandResult Report(const std::string& format, const std::string& language,
                                const std::string& out) {
    return Ctl({"report", "--subject", kPatient, "--format", format, "--lang", language, "--out",
                Path(out), "--reason", "pasienten ba om innsyn"});
  }

  // The PDF's text in reading order, each run of white space (a line
  // wrapped in a table cell, a no-break space) as one space.
  std::string PdfText(const std::string& name) {
    testing::CommandResult text = RunCommand({PDFTOTEXT_PATH, Path(name), "-"});
    EXPECT_EQ(text.exit_code, 0) << text.output;
    std::string spaced = absl::StrReplaceAll(text.output, {{"\xc2\xa0", " "}});
    return absl::StrJoin(absl::StrSplit(spaced, absl::ByAnyChar(" \n\f"), absl::SkipEmpty()), " ");
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(ReportTest, PdfListsEveryAccessInOsloTimeWithItsExplanation) {
  testing::CommandResult made = Report("pdf", "nb", "innsyn.pdf");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(Contains(made.output, "attached to it as innsyn-answer.json")) << made.output;
  EXPECT_NE(::access(Path("innsyn.answer.json").c_str(), F_OK), 0);  // one self-contained file
  const std::string text = PdfText("innsyn.pdf");

  // The controller, the patient with a masked number, never the whole one.
  for (const char* expected :
       {"Tannlegene i Storgata AS", "987 654 321", "Storgata 1, 0155 Oslo",
        "personvern@tannlege.example.no", "Siri Ødegaard", kPatientName, "010170*****"}) {
    EXPECT_TRUE(Contains(text, expected)) << expected << "\n" << text;
  }
  EXPECT_FALSE(Contains(text, kPatient)) << text;
  EXPECT_FALSE(Contains(text, "02029054321")) << text;
  EXPECT_FALSE(Contains(text, "Ola Annen")) << text;

  // Every access at its local time (winter +1, summer +2), computed here
  // from tzdata and written out for the change to summer time.
  absl::TimeZone oslo;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Oslo", &oslo));
  for (const v1::AccessEvent& event : PatientHistory()) {
    const std::string local =
        absl::FormatTime("%d.%m.%Y %H:%M", FromProto(event.occurred_at()), oslo);
    EXPECT_EQ(Count(text, local), event.action_subtype() == v1::ACTION_SUBTYPE_DISCLOSE ? 2u : 1u)
        << local << "\n"
        << text;
  }
  EXPECT_TRUE(Contains(text, "15.06.2026 03:30")) << text;  // 01:30Z in summer time
  EXPECT_TRUE(Contains(text, "04.03.2026 16:00")) << text;  // 15:00Z in winter time

  // Who, with HPR numbers; Norwegian letters survive.
  for (const char* expected : {"Kari Lie", "HPR 9144889", "Bjørg Åsheim", "tannpleier", "Per Hæhre",
                               "Ola Nordmann", "Deg selv", "helsepersonelloven § 39"}) {
    EXPECT_TRUE(Contains(text, expected)) << expected << "\n" << text;
  }
  // The explanations innsyn knows, in bokmål.
  for (const char* expected :
       {"din timebestilling", "time 2026-03-05 09:00 hos denne behandleren", "faktura og betaling",
        "utlevert til NAV med ditt samtykke gitt 2026-03-06", "Nødtilgang",
        "deg selv, gjennom website"}) {
    EXPECT_TRUE(Contains(text, expected)) << expected << "\n" << text;
  }
  // Disclosures, sources, retention, rights, and that the report was logged.
  for (const char* expected :
       {"Utlevering til andre", "889640782", "opus-dental, website", "10 år", "web_form: 2 år",
        "Retting", "Sletting", "Begrensning", "Datatilsynet", "Denne rapporten er også logget",
        "pasienten ba om innsyn", "tannlege.example.no/innsyn",
        "svaret med bevisene er lagt ved denne PDF-en som filen innsyn",
        "Listen er fullstendig: den er bevist mot loggens signerte kontrollpunkt med",
        "Listen er også bevist fullstendig"}) {
    EXPECT_TRUE(Contains(text, expected)) << expected << "\n" << text;
  }

  // A4, numbered "Side X av Y", every font embedded.
  testing::CommandResult info = RunCommand({PDFINFO_PATH, Path("innsyn.pdf")});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(Contains(info.output, "(A4)")) << info.output;
  const size_t pages_at = info.output.find("Pages:");
  ASSERT_NE(pages_at, std::string::npos);
  const int pages = std::stoi(info.output.substr(pages_at + 6));
  ASSERT_GE(pages, 2);
  for (int page = 1; page <= pages; ++page) {
    EXPECT_TRUE(Contains(text, absl::StrCat("Side ", page, " av ", pages))) << text;
  }
  EXPECT_FALSE(Contains(text, absl::StrCat("Side ", pages + 1, " av"))) << text;
  testing::CommandResult fonts = RunCommand({PDFFONTS_PATH, Path("innsyn.pdf")});
  ASSERT_EQ(fonts.exit_code, 0) << fonts.output;
  std::vector<std::string> lines = absl::StrSplit(fonts.output, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 2u) << fonts.output;  // a header of two lines, then a font a line
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string> columns = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    ASSERT_GE(columns.size(), 5u) << lines[i];
    EXPECT_EQ(columns[columns.size() - 5], "yes") << "not embedded: " << lines[i];
  }
}

TEST_F(ReportTest, EnglishPdfIsNumberedPageXOfY) {
  testing::CommandResult made = Report("pdf", "en", "access.pdf");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string text = PdfText("access.pdf");
  for (const char* expected :
       {"Access report", "Every access in the period", "Page 1 of",
        "appointment 2026-03-05 09:00 with this clinician", "Emergency access", "Your rights",
        "2026-06-15 03:30", "This list is complete: it is proven against the log's signed",
        "so no entry about you in the period has been left out",
        "The list is also proven complete"}) {
    EXPECT_TRUE(Contains(text, expected)) << expected << "\n" << text;
  }
}

// The PDF alone is the whole report: verify-report reads the answer
// attached to it, with nothing beside it. pdfdetach (poppler, as a
// patient's tools would) finds that attachment and saves the very answer
// the daemon signed.
TEST_F(ReportTest, VerifyReportChecksThePdfAlone) {
  ASSERT_EQ(::mkdir(Path("alone").c_str(), 0700), 0);
  ASSERT_EQ(Report("pdf", "nb", "alone/innsyn.pdf").exit_code, 0);
  EXPECT_EQ(FilesIn(Path("alone")), std::vector<std::string>{"innsyn.pdf"});
  testing::CommandResult good = RunCommand(
      {INNSYNCTL_PATH, "verify-report", Path("alone/innsyn.pdf"), "--key-file", key_file()});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(Contains(good.output, "OK: tannlege.example.no/innsyn signed this answer"))
      << good.output;
  EXPECT_TRUE(
      Contains(good.output, "the PDF names this answer, attached to it as innsyn-answer.json"))
      << good.output;
  EXPECT_TRUE(Contains(good.output, "12 rows, each an entry of that signed log")) << good.output;
  EXPECT_TRUE(Contains(good.output,
                       "complete: this list of 12 entries is every entry about the subject in "
                       "the period, up to tree size"))
      << good.output;

  testing::CommandResult listed = RunCommand({PDFDETACH_PATH, "-list", Path("alone/innsyn.pdf")});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(Contains(listed.output, "1 embedded files")) << listed.output;
  EXPECT_TRUE(Contains(listed.output, "1: innsyn-answer.json")) << listed.output;
  testing::CommandResult saved = RunCommand(
      {PDFDETACH_PATH, "-save", "1", "-o", Path("saved.json"), Path("alone/innsyn.pdf")});
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  absl::StatusOr<v1::SignedAnswer> answer = report::AnswerFromJson(ReadFile(Path("saved.json")));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->answer().rows_size(), 12);
  EXPECT_EQ(answer->answer().self_record().entry().query_record().reason(),
            "pasienten ba om innsyn");
  // The attachment is an associated file of the data kind (PDF 2.0, PDF/A-3).
  EXPECT_TRUE(Contains(ReadFile(Path("alone/innsyn.pdf")), "/AFRelationship /Data"));
}

// A row removed or a time changed is refused, whether the answer comes
// alone, inside the PDF, or inside the PDF with its keywords made to
// match: the clinic's signature covers the answer, not the file.
TEST_F(ReportTest, VerifyReportRejectsATamperedAnswer) {
  ASSERT_EQ(Report("pdf", "nb", "innsyn.pdf").exit_code, 0);
  const std::string pdf = ReadFile(Path("innsyn.pdf"));
  absl::StatusOr<report::PdfContents> contents = report::ReadPdfContents(pdf, "");
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_TRUE(contents->answer_json.has_value());
  absl::StatusOr<v1::SignedAnswer> answer = report::AnswerFromJson(*contents->answer_json);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->answer().rows_size(), 12);
  auto verify = [&](const std::string& name) {
    return RunCommand({INNSYNCTL_PATH, "verify-report", Path(name), "--key-file", key_file()});
  };

  // A row removed (the emergency access).
  v1::SignedAnswer removed = *answer;
  removed.mutable_answer()->mutable_rows()->DeleteSubrange(7, 1);
  WriteFile(Path("removed.json"), *report::AnswerToJson(removed));
  testing::CommandResult rejected = verify("removed.json");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "FAILED")) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "not the one the clinic signed")) << rejected.output;

  // A time changed by ten minutes.
  v1::SignedAnswer moved = *answer;
  auto* when = moved.mutable_answer()
                   ->mutable_rows(1)
                   ->mutable_entry()
                   ->mutable_access_event()
                   ->mutable_occurred_at();
  when->set_seconds(when->seconds() + 600);
  const std::string moved_json = *report::AnswerToJson(moved);
  WriteFile(Path("moved.json"), moved_json);
  rejected = verify("moved.json");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "not the one the clinic signed")) << rejected.output;

  // The PDF with that answer attached instead: the PDF does not name it.
  absl::StatusOr<std::string> swapped = report::AttachAnswer(pdf, moved_json, absl::UnixEpoch());
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  WriteFile(Path("swapped.pdf"), *swapped);
  rejected = verify("swapped.pdf");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "do not belong together")) << rejected.output;

  // ... and with its keywords rewritten to name it (the same length, so
  // the PDF stays whole): the signature still refuses it.
  const std::string digest = report::AnswerDigest(answer->answer());
  ASSERT_EQ(Count(*swapped, digest), 1u);
  WriteFile(Path("renamed.pdf"),
            absl::StrReplaceAll(*swapped, {{digest, report::AnswerDigest(moved.answer())}}));
  rejected = verify("renamed.pdf");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "not the one the clinic signed")) << rejected.output;

  // A companion file beside the PDF is not read: the PDF carries its own.
  WriteFile(Path("innsyn.answer.json"), moved_json);
  EXPECT_EQ(verify("innsyn.pdf").exit_code, 0);

  // Another clinic's key proves nothing.
  testing::CommandResult other_key =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("innsyn.pdf"), "--key",
                  "other.example/innsyn+9a1b2c3d+AWZ3mh0OY4bcCYzIBP7wLCc4G3TL2JHdhOI1CdV7MZ8x"});
  EXPECT_NE(other_key.exit_code, 0) << other_key.output;
}

// A FHIR report is one file too: its signed answer rides in the bundle as
// the Binary "innsyn-answer", and nothing is written beside it.
// verify-report makes the AuditEvents again from the signed answer, so an
// AuditEvent changed in the bundle is refused, even with the answer intact.
TEST_F(ReportTest, FhirBundleCarriesItsAnswer) {
  ASSERT_EQ(::mkdir(Path("fhir").c_str(), 0700), 0);
  testing::CommandResult made = Report("fhir", "nb", "fhir/case.json");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(Contains(made.output, "in it, as the Binary innsyn-answer")) << made.output;
  EXPECT_EQ(FilesIn(Path("fhir")), std::vector<std::string>{"case.json"});
  auto verify = [&](const std::string& name) {
    return RunCommand({INNSYNCTL_PATH, "verify-report", Path(name), "--key-file", key_file()});
  };
  testing::CommandResult good = verify("fhir/case.json");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(Contains(good.output,
                       "the FHIR bundle's AuditEvents are exactly the signed "
                       "answer's, in it as the Binary innsyn-answer"))
      << good.output;
  EXPECT_TRUE(Contains(good.output, "complete: this list of 12 entries")) << good.output;

  const auto bundle = nlohmann::ordered_json::parse(ReadFile(Path("fhir/case.json")));
  auto moved = bundle;
  moved["entry"][2]["resource"]["period"]["start"] = "2026-03-05T08:20:00.000Z";
  WriteFile(Path("moved.fhir.json"), moved.dump(2));
  testing::CommandResult rejected = verify("moved.fhir.json");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output,
                       "Bundle.entry[2] is not the AuditEvent the signed answer gives for it"))
      << rejected.output;
  auto dropped = bundle;
  dropped["entry"].erase(7);
  WriteFile(Path("dropped.fhir.json"), dropped.dump(2));
  rejected = verify("dropped.fhir.json");
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "the Bundle holds 11 entries besides the answer"))
      << rejected.output;
}

// A clinic that leaves an access out and signs the shorter answer with its
// own key passes every check but one: the subject's history, proven in the
// same signed checkpoint, names the entry left out.
TEST_F(ReportTest, VerifyReportFindsAnEntryLeftOutOfASignedAnswer) {
  ASSERT_EQ(Report("json", "nb", "answer.json").exit_code, 0);
  absl::StatusOr<v1::SignedAnswer> answer = report::AnswerFromJson(ReadFile(Path("answer.json")));
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->answer().rows_size(), 12);
  const uint64_t left_out = answer->answer().rows(7).seq();  // the emergency access
  v1::SignedAnswer shorter = *answer;
  shorter.mutable_answer()->mutable_rows()->DeleteSubrange(7, 1);
  const std::string verifier = ReadFile(key_file());
  absl::StatusOr<std::unique_ptr<storage::CheckpointSigner>> signer =
      storage::CheckpointSigner::Load(data_dir() + "/checkpoint_key.pem",
                                      verifier.substr(0, verifier.find('+')), /*create=*/false);
  ASSERT_TRUE(signer.ok()) << signer.status();
  absl::StatusOr<std::string> statement = (*signer)->SignStatement(report::StatementText(
      answer->answer().checkpoint().origin(), report::AnswerDigest(shorter.answer())));
  ASSERT_TRUE(statement.ok()) << statement.status();
  shorter.set_statement(*statement);
  WriteFile(Path("shorter.json"), *report::AnswerToJson(shorter));
  testing::CommandResult rejected =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("shorter.json"), "--key-file", key_file()});
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "OK: tannlege.example.no/innsyn signed this answer"))
      << rejected.output;  // the signature holds: the clinic signed it
  EXPECT_TRUE(Contains(rejected.output, absl::StrCat("FAILED: the answer is not proven complete: "
                                                     "entry ",
                                                     left_out, " of the subject's signed history")))
      << rejected.output;
  EXPECT_TRUE(Contains(rejected.output, "is missing from the answer")) << rejected.output;

  // Without the proof (an answer made before reports carried it), the
  // answer verifies but says that completeness is not proven.
  v1::SignedAnswer unproven = *answer;
  unproven.mutable_answer()->clear_completeness();
  statement = (*signer)->SignStatement(report::StatementText(
      answer->answer().checkpoint().origin(), report::AnswerDigest(unproven.answer())));
  ASSERT_TRUE(statement.ok()) << statement.status();
  unproven.set_statement(*statement);
  WriteFile(Path("unproven.json"), *report::AnswerToJson(unproven));
  testing::CommandResult old = RunCommand(
      {INNSYNCTL_PATH, "verify-report", Path("unproven.json"), "--key-file", key_file()});
  EXPECT_EQ(old.exit_code, 0) << old.output;
  EXPECT_TRUE(Contains(old.output, "not proven: that no entry about the subject was left out"))
      << old.output;
}

TEST_F(ReportTest, JsonAnswerVerifiesAndItsMakingIsRecorded) {
  testing::CommandResult made = Report("json", "en", "answer.json");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  testing::CommandResult good =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("answer.json"), "--key-file", key_file()});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  absl::StatusOr<v1::SignedAnswer> answer = report::AnswerFromJson(ReadFile(Path("answer.json")));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->answer().self_record().entry().query_record().method(), "CreateReport");
  EXPECT_EQ(answer->answer().self_record().entry().query_record().reason(),
            "pasienten ba om innsyn");
  EXPECT_TRUE(Contains(good.output,
                       absl::StrCat("recorded as entry ", answer->answer().self_record().seq())))
      << good.output;
  // A format innsynctl does not know is a usage error.
  testing::CommandResult bad =
      Ctl({"report", "--subject", kPatient, "--format", "docx", "--out", Path("x.docx")});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(Contains(bad.output, "--format")) << bad.output;
}

// Protected for e-mail: --encrypt writes an AES-256 PDF that poppler cannot
// open without the password from --password-file, whose words (the
// controller, the answer digest) are not in its bytes, and that opens with
// it; its attached answer is encrypted with it and no answer is written in
// the clear beside it; verify-report needs the password too. A missing or
// empty password file is an error naming the flag, and nothing is written.
TEST_F(ReportTest, EncryptedPdfNeedsItsPassword) {
  constexpr char kPassword[] = "fjord-Lefse-4817";
  WriteFile(Path("password.txt"), absl::StrCat(kPassword, "\n"));
  ASSERT_EQ(::mkdir(Path("mail").c_str(), 0700), 0);
  WriteFile(Path("mail/secret.pdf"), "was here before");
  ASSERT_EQ(::chmod(Path("mail/secret.pdf").c_str(), 0644), 0);
  testing::CommandResult made =
      Ctl({"report", "--subject", kPatient, "--out", Path("mail/secret.pdf"), "--encrypt",
           "--password-file", Path("password.txt"), "--reason", "pasienten ba om innsyn"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(Contains(made.output, "AES-256")) << made.output;
  EXPECT_FALSE(Contains(made.output, kPassword)) << made.output;
  EXPECT_EQ(FilesIn(Path("mail")), std::vector<std::string>{"secret.pdf"});
  ASSERT_EQ(::rename(Path("mail/secret.pdf").c_str(), Path("secret.pdf").c_str()), 0);
  struct stat st {};
  ASSERT_EQ(::stat(Path("secret.pdf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The answer is inside, and only the password lets poppler at it.
  testing::CommandResult attachments = RunCommand({PDFDETACH_PATH, "-list", Path("secret.pdf")});
  EXPECT_NE(attachments.exit_code, 0) << attachments.output;
  EXPECT_FALSE(Contains(attachments.output, "innsyn-answer.json")) << attachments.output;
  attachments = RunCommand({PDFDETACH_PATH, "-upw", kPassword, "-list", Path("secret.pdf")});
  ASSERT_EQ(attachments.exit_code, 0) << attachments.output;
  EXPECT_TRUE(Contains(attachments.output, "1: innsyn-answer.json")) << attachments.output;

  // The plain PDF shows these words in its bytes; the encrypted one does not.
  ASSERT_EQ(Report("pdf", "nb", "plain.pdf").exit_code, 0);
  const std::string plain = ReadFile(Path("plain.pdf"));
  const std::string secret = ReadFile(Path("secret.pdf"));
  ASSERT_TRUE(secret.starts_with("%PDF-")) << secret.substr(0, 16);
  for (const char* word : {"innsyn-answer-sha256", "Tannlegene i Storgata AS", "010170*****"}) {
    EXPECT_TRUE(Contains(plain, word)) << word;
    EXPECT_FALSE(Contains(secret, word)) << word;
  }

  testing::CommandResult locked = RunCommand({PDFTOTEXT_PATH, Path("secret.pdf"), "-"});
  EXPECT_NE(locked.exit_code, 0) << locked.output;
  EXPECT_FALSE(Contains(locked.output, kPatientName)) << locked.output;
  testing::CommandResult wrong =
      RunCommand({PDFTOTEXT_PATH, "-upw", "fjord-Lefse-4818", Path("secret.pdf"), "-"});
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  testing::CommandResult opened =
      RunCommand({PDFTOTEXT_PATH, "-upw", kPassword, Path("secret.pdf"), "-"});
  ASSERT_EQ(opened.exit_code, 0) << opened.output;
  for (const char* expected : {kPatientName, "Tannlegene i Storgata AS", "Nødtilgang"}) {
    EXPECT_TRUE(Contains(opened.output, expected)) << expected << "\n" << opened.output;
  }
  testing::CommandResult info = RunCommand({PDFINFO_PATH, "-upw", kPassword, Path("secret.pdf")});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(Contains(info.output, "algorithm:AES-256")) << info.output;

  // verify-report reads the answer digest with the password, and says it
  // needs one without.
  testing::CommandResult good =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("secret.pdf"), "--key-file", key_file(),
                  "--password-file", Path("password.txt")});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(
      Contains(good.output, "the PDF names this answer, attached to it as innsyn-answer.json"))
      << good.output;
  testing::CommandResult no_password =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("secret.pdf"), "--key-file", key_file()});
  EXPECT_EQ(no_password.exit_code, 2) << no_password.output;
  EXPECT_TRUE(Contains(no_password.output, "encrypted: give its password with --password-file"))
      << no_password.output;
  WriteFile(Path("wrong.txt"), "fjord-Lefse-4818");
  testing::CommandResult wrong_password =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("secret.pdf"), "--key-file", key_file(),
                  "--password-file", Path("wrong.txt")});
  EXPECT_NE(wrong_password.exit_code, 0) << wrong_password.output;
  EXPECT_TRUE(Contains(wrong_password.output, "--password-file does not open it"))
      << wrong_password.output;

  // No password, an empty one, a missing file, or a format that is not a
  // PDF: an error naming the flag, and no file.
  WriteFile(Path("empty.txt"), "\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--encrypt"}, "--encrypt needs --password-file"},
      {{"--encrypt", "--password-file", Path("empty.txt")}, "empty.txt holds no password"},
      {{"--encrypt", "--password-file", Path("nowhere.txt")}, "--password-file: cannot read"},
      {{"--encrypt", "--password-file", Path("password.txt"), "--format", "json"},
       "--encrypt needs --format pdf"},
  };
  for (const auto& [flags, message] : bad) {
    std::vector<std::string> args = {"report", "--subject", kPatient, "--out", Path("bad.pdf")};
    args.insert(args.end(), flags.begin(), flags.end());
    testing::CommandResult refused = Ctl(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.output;
    EXPECT_TRUE(Contains(refused.output, message)) << message << "\n" << refused.output;
    EXPECT_NE(::access(Path("bad.pdf").c_str(), F_OK), 0) << absl::StrJoin(flags, " ");
    EXPECT_NE(::access(Path("bad.answer.json").c_str(), F_OK), 0) << absl::StrJoin(flags, " ");
  }
}

// The FHIR bundle passes the official FHIR R4 JSON schema and maps back to
// the events it came from: one AuditEvent per access, with its time,
// action, the HPR and identity numbers.
TEST_F(ReportTest, FhirBundleMapsBackToTheEvents) {
  testing::CommandResult made = Report("fhir", "nb", "innsyn.fhir.json");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  testing::CommandResult good = RunCommand(
      {INNSYNCTL_PATH, "verify-report", Path("innsyn.fhir.json"), "--key-file", key_file()});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  // The official FHIR R4 JSON schema accepts it, and refuses it broken.
  testing::CommandResult valid =
      RunCommand({PYTHON3_PATH, VALIDATE_FHIR, FHIR_R4_SCHEMA, Path("innsyn.fhir.json")});
  EXPECT_EQ(valid.exit_code, 0) << valid.output;
  auto bundle = nlohmann::json::parse(ReadFile(Path("innsyn.fhir.json")));
  auto broken = bundle;
  broken["entry"][0]["resource"].erase("agent");
  broken["entry"][1]["resource"]["action"] = "X";
  WriteFile(Path("broken.fhir.json"), broken.dump());
  testing::CommandResult invalid =
      RunCommand({PYTHON3_PATH, VALIDATE_FHIR, FHIR_R4_SCHEMA, Path("broken.fhir.json")});
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
  EXPECT_TRUE(Contains(invalid.output, "entry[0].resource/: 'agent' is a required property"))
      << invalid.output;
  EXPECT_TRUE(Contains(invalid.output, "entry[1].resource/action")) << invalid.output;
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  const std::vector<v1::AccessEvent> history = PatientHistory();
  ASSERT_EQ(bundle["entry"].size(), history.size() + 1);  // and the answer
  EXPECT_EQ(bundle["entry"][history.size()]["resource"]["resourceType"], "Binary");
  absl::StatusOr<std::optional<std::string>> carried =
      report::AnswerInBundle(ReadFile(Path("innsyn.fhir.json")));
  ASSERT_TRUE(carried.ok() && carried->has_value()) << carried.status();
  absl::StatusOr<v1::SignedAnswer> answer = report::AnswerFromJson(**carried);
  ASSERT_TRUE(answer.ok()) << answer.status();
  std::map<std::string, v1::AccessEvent> by_id;
  for (const v1::ReportRow& row : answer->answer().rows()) {
    by_id[absl::StrCat("seq-", row.seq())] = row.entry().access_event();
  }
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& audit = bundle["entry"][i]["resource"];
    ASSERT_EQ(audit["resourceType"], "AuditEvent");
    const v1::AccessEvent& event = by_id.at(audit["id"].get<std::string>());
    const v1::AccessEvent& sent = history[i];
    EXPECT_EQ(event.occurred_at().seconds(), sent.occurred_at().seconds());
    EXPECT_EQ(FromProto(sent.occurred_at()),
              At(audit["period"]["start"].get<std::string>().c_str()));
    const char* actions = "?CRUDE";
    EXPECT_EQ(audit["action"], std::string(1, actions[sent.action()]));
    EXPECT_EQ(audit["entity"][0]["what"]["identifier"]["system"], "urn:oid:2.16.578.1.12.4.1.4.1");
    EXPECT_EQ(audit["entity"][0]["what"]["identifier"]["value"], kPatient);
    if (!sent.actor().hpr_number().empty()) {
      EXPECT_EQ(audit["agent"][0]["who"]["identifier"]["system"], "urn:oid:2.16.578.1.12.4.1.4.4");
      EXPECT_EQ(audit["agent"][0]["who"]["identifier"]["value"], sent.actor().hpr_number());
    }
  }
}

// The round trip of issue 16: a report's FHIR bundle from one real innsynd,
// posted as a batch (its AuditEvents, each with its request) to a second
// innsynd's FHIR feed, is recorded there as the very access events the
// report shows, field by field; posting it again records nothing new. The
// one exception is said: an emergency access, whose free-text reason a
// report leaves out and innsyn requires of every emergency access, refuses
// the whole batch, naming the entry and the field.
TEST_F(ReportTest, FhirReportGoesBackInThroughTheFeed) {
  ASSERT_EQ(Report("fhir", "nb", "first.fhir.json").exit_code, 0);
  const std::string bundle_json = ReadFile(Path("first.fhir.json"));
  absl::StatusOr<std::optional<std::string>> carried = report::AnswerInBundle(bundle_json);
  ASSERT_TRUE(carried.ok() && carried->has_value()) << carried.status();
  absl::StatusOr<v1::SignedAnswer> sent = report::AnswerFromJson(**carried);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->answer().rows_size(), 12);
  int emergency = -1;
  for (int i = 0; i < sent->answer().rows_size(); ++i) {
    if (sent->answer().rows(i).entry().access_event().action_subtype() ==
        v1::ACTION_SUBTYPE_BREAK_GLASS) {
      emergency = i;
    }
  }
  ASSERT_GE(emergency, 0);

  // The collection as a batch, as the README's jq line makes it: the
  // AuditEvents only, each POSTed.
  const auto bundle = nlohmann::ordered_json::parse(bundle_json);
  nlohmann::ordered_json batch = {{"resourceType", "Bundle"}, {"type", "batch"}};
  batch["entry"] = nlohmann::ordered_json::array();
  for (const auto& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] != "AuditEvent") continue;
    batch["entry"].push_back({{"resource", entry["resource"]},
                              {"request", {{"method", "POST"}, {"url", "AuditEvent"}}}});
  }
  ASSERT_EQ(batch["entry"].size(), 12u);

  DaemonProcess second(INNSYND_PATH, dir_.path() + "/second",
                       std::vector<std::string>{"--http-listen", "127.0.0.1:0"});
  ASSERT_TRUE(second.running());
  ASSERT_NE(second.http_port(), 0);
  auto post = [&](const nlohmann::ordered_json& body) {
    WriteFile(Path("batch.json"), body.dump());
    return RunCommand({"/usr/bin/curl", "-s", "-w", "\nHTTP %{http_code}", "--max-time", "20", "-X",
                       "POST", "-H", "Content-Type: application/fhir+json", "--data-binary",
                       "@" + Path("batch.json"),
                       absl::StrCat("http://127.0.0.1:", second.http_port(), "/fhir")});
  };
  testing::CommandResult refused = post(batch);
  ASSERT_EQ(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(Contains(refused.output, "HTTP 400")) << refused.output;
  EXPECT_TRUE(Contains(refused.output, absl::StrCat("Bundle.entry[", emergency, "].resource")))
      << refused.output;
  EXPECT_TRUE(Contains(refused.output, "reason is required for ACTION_SUBTYPE_BREAK_GLASS"))
      << refused.output;

  batch["entry"].erase(static_cast<size_t>(emergency));
  testing::CommandResult posted = post(batch);
  ASSERT_EQ(posted.exit_code, 0) << posted.output;
  ASSERT_TRUE(Contains(posted.output, "HTTP 200")) << posted.output;
  EXPECT_EQ(Count(posted.output, "\"201 Created\""), 11u) << posted.output;
  posted = post(batch);  // a retry: every event is already recorded
  ASSERT_TRUE(Contains(posted.output, "HTTP 200")) << posted.output;
  EXPECT_EQ(Count(posted.output, "\"200 OK\""), 11u) << posted.output;

  testing::CommandResult made = RunCommand(
      {INNSYNCTL_PATH, "--server", second.grpc_address(), "report", "--subject", kPatient,
       "--format", "json", "--out", Path("second.json"), "--reason", "kontroll av tilbakeføring"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  absl::StatusOr<v1::SignedAnswer> recorded = report::AnswerFromJson(ReadFile(Path("second.json")));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  ASSERT_EQ(recorded->answer().rows_size(), 11);
  for (int i = 0, j = 0; i < sent->answer().rows_size(); ++i) {
    if (i == emergency) continue;
    const v1::AccessEvent& before = sent->answer().rows(i).entry().access_event();
    const v1::AccessEvent& after = recorded->answer().rows(j++).entry().access_event();
    std::string differences;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&differences);
    EXPECT_TRUE(differ.Compare(before, after))
        << "row " << i << " (" << v1::ActionSubtype_Name(before.action_subtype())
        << "): " << differences;
  }
  testing::CommandResult checked =
      RunCommand({INNSYNCTL_PATH, "verify-report", Path("second.json"), "--key-file",
                  dir_.path() + "/second/checkpoint_key.pub"});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_TRUE(Contains(checked.output, "complete: this list of 11 entries")) << checked.output;
}

}  // namespace
}  // namespace innsyn
