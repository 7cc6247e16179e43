// The report module without a daemon: the PDF is the same bytes for the
// same answer whatever the machine's time zone, it carries its answer as
// an attachment that encryption covers too, times are shown in Oslo
// time across the change to summer time, identity numbers are masked, and
// the explanations read in bokmål.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/proto_time.h"
#include "report/answer.h"
#include "report/fhir_report.h"
#include "report/labels.h"
#include "report/pdf_attachment.h"
#include "report/pdf_encrypt.h"
#include "report/pdf_report.h"
#include "storage/checkpoint.h"
#include "tests/support/temp_dir.h"

namespace innsyn::report {
namespace {

// An answer of `rows` journal reads an hour apart from 2026-03-28T22:00Z,
// across the night summer time begins; no proofs (rendering reads none).
v1::SignedAnswer SampleAnswer(int rows) {
  v1::SignedAnswer signed_answer;
  v1::InnsynAnswer& answer = *signed_answer.mutable_answer();
  answer.set_format(std::string(kAnswerFormat));
  answer.mutable_controller()->set_name("Tannlegene i Storgata AS");
  answer.set_subject_id_masked(MaskIdentityNumber("01017012345"));
  answer.set_language("nb");
  answer.mutable_generated_at()->set_seconds(1'775'000'000);
  answer.mutable_checkpoint()->set_note("tannlege.example.no/innsyn\n1\nAAAA\n\n— x y\n");
  for (int i = 0; i < rows; ++i) {
    v1::ReportRow& row = *answer.add_rows();
    row.set_seq(i);
    v1::AccessEvent& event = *row.mutable_entry()->mutable_access_event();
    event.mutable_occurred_at()->set_seconds(1'774'735'200 + 3600 * i);  // 2026-03-28T22:00Z
    event.mutable_actor()->set_display_name("Bjørg Åsheim");
    event.mutable_actor()->set_role("hygienist");
    event.mutable_source()->set_system("opus-dental");
    event.set_action(v1::ACTION_CODE_READ);
    event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_JOURNAL_NOTE);
    event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
    event.set_outcome(v1::OUTCOME_SUCCESS);
    row.set_explanation("appointment 2026-03-30 09:00 with this clinician");
  }
  return signed_answer;
}

TEST(PdfReport, SameAnswerSameBytesInAnyTimeZone) {
  const v1::SignedAnswer answer = SampleAnswer(40);
  const char* before = std::getenv("TZ");
  const std::string saved = before == nullptr ? "" : before;
  setenv("TZ", "America/Los_Angeles", 1);
  tzset();
  absl::StatusOr<std::string> west = RenderPdf(answer);
  setenv("TZ", "Asia/Tokyo", 1);
  tzset();
  absl::StatusOr<std::string> east = RenderPdf(answer);
  if (before == nullptr) {
    unsetenv("TZ");
  } else {
    setenv("TZ", saved.c_str(), 1);
  }
  tzset();
  ASSERT_TRUE(west.ok()) << west.status();
  ASSERT_TRUE(east.ok()) << east.status();
  EXPECT_TRUE(west->starts_with("%PDF-"));
  EXPECT_EQ(*west, *east);
  EXPECT_NE(west->find("innsyn-answer-sha256:" + AnswerDigest(answer.answer())), std::string::npos);
}

TEST(PdfReport, AnUnknownLanguageIsRefused) {
  v1::SignedAnswer answer = SampleAnswer(1);
  answer.mutable_answer()->set_language("de");
  EXPECT_EQ(RenderPdf(answer).status().code(), absl::StatusCode::kInvalidArgument);
}

// The PDF carries the exact answer file as its attachment, and names its
// digest in its keywords.
TEST(PdfAttachment, ThePdfCarriesItsAnswer) {
  const v1::SignedAnswer answer = SampleAnswer(3);
  absl::StatusOr<std::string> pdf = RenderPdf(answer);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  absl::StatusOr<PdfContents> contents = ReadPdfContents(*pdf, "");
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_TRUE(contents->answer_json.has_value());
  EXPECT_EQ(*contents->answer_json, *AnswerToJson(answer));
  EXPECT_EQ(contents->keywords, std::string(kDigestKeywordPrefix) + AnswerDigest(answer.answer()));
  // An associated file of the data kind, as PDF 2.0 and PDF/A-3 describe it.
  EXPECT_NE(pdf->find("/AFRelationship /Data"), std::string::npos);
  EXPECT_NE(pdf->find("/EmbeddedFile"), std::string::npos);
}

// Attaching again replaces the attachment rather than adding a second one
// that a reader might take instead.
TEST(PdfAttachment, AttachingAgainReplacesTheAnswer) {
  absl::StatusOr<std::string> pdf = RenderPdf(SampleAnswer(1));
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  absl::StatusOr<std::string> again = AttachAnswer(*pdf, "{\"other\": 1}", absl::UnixEpoch());
  ASSERT_TRUE(again.ok()) << again.status();
  absl::StatusOr<PdfContents> contents = ReadPdfContents(*again, "");
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->answer_json.value_or(""), "{\"other\": 1}");
  size_t specs = 0;
  for (size_t at = again->find("/Filespec"); at != std::string::npos;
       at = again->find("/Filespec", at + 1)) {
    ++specs;
  }
  EXPECT_EQ(specs, 1u);
}

// Encryption covers the attachment: without the password nothing opens,
// with it the answer is the same.
TEST(PdfAttachment, EncryptionCoversTheAnswer) {
  const v1::SignedAnswer answer = SampleAnswer(2);
  absl::StatusOr<std::string> pdf = RenderPdf(answer);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  absl::StatusOr<std::string> encrypted = EncryptPdf(*pdf, "fjord-Lefse-4817");
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  EXPECT_EQ(ReadPdfContents(*encrypted, "").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadPdfContents(*encrypted, "fjord-Lefse-4818").status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<PdfContents> contents = ReadPdfContents(*encrypted, "fjord-Lefse-4817");
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->answer_json.value_or(""), *AnswerToJson(answer));
}

TEST(PdfAttachment, APdfWithoutAnAnswerOrNoPdfAtAll) {
  absl::StatusOr<PdfContents> none = ReadPdfContents(
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count "
      "0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
      "");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->answer_json.has_value());
  EXPECT_EQ(ReadPdfContents("not a pdf", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AttachAnswer("not a pdf", "{}", absl::UnixEpoch()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Labels, OsloTimeFollowsSummerTime) {
  absl::TimeZone oslo;
  ASSERT_TRUE(absl::LoadTimeZone(std::string(kReportTimeZone), &oslo));
  // Summer time begins at 01:00Z on 2026-03-29: 01:30Z is 03:30 CEST,
  // and 23:30Z the evening before is 00:30 CET.
  EXPECT_EQ(LocalTime(Language::kBokmal, absl::FromUnixSeconds(1'774'747'800), oslo),
            "29.03.2026 03:30");
  EXPECT_EQ(LocalTime(Language::kEnglish, absl::FromUnixSeconds(1'774'740'600), oslo),
            "2026-03-29 00:30");
}

TEST(Labels, ExplanationsReadInBokmal) {
  EXPECT_EQ(ExplanationLabel(Language::kBokmal, "appointment 2026-03-30 09:00 with this clinician"),
            "time 2026-03-30 09:00 hos denne behandleren");
  EXPECT_EQ(
      ExplanationLabel(Language::kBokmal, "disclosed to NAV with your consent given 2026-01-05"),
      "utlevert til NAV med ditt samtykke gitt 2026-01-05");
  EXPECT_EQ(ExplanationLabel(Language::kEnglish, "invoice/billing"), "invoice/billing");
  EXPECT_EQ(ExplanationLabel(Language::kBokmal, "something new"), "something new");
}

TEST(Answer, IdentityNumbersAreMasked) {
  EXPECT_EQ(MaskIdentityNumber("01017012345"), "010170*****");
  EXPECT_EQ(MaskIdentityNumber("patient-123"), "pat********");
}

TEST(Answer, CompanionFileSitsBesideTheReport) {
  EXPECT_EQ(CompanionPath("innsyn.json"), "innsyn.answer.json");
  EXPECT_EQ(CompanionPath("/tmp/a.b/report"), "/tmp/a.b/report.answer.json");
  EXPECT_EQ(CompanionPath("dir/x.fhir.json"), "dir/x.fhir.answer.json");
}

// The checkpoint key signs the statement of an answer, and nothing that
// a verifier could take for a checkpoint.
TEST(Answer, StatementsNeverReadAsCheckpoints) {
  testing::TempDir dir;
  auto signer = storage::CheckpointSigner::Load(dir.path() + "/key.pem", "clinic", true);
  ASSERT_TRUE(signer.ok()) << signer.status();
  absl::StatusOr<std::string> note = (*signer)->SignStatement(StatementText("clinic", "ab12"));
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_FALSE(storage::VerifyCheckpointNote(*note, (*signer)->verifier_key()).ok());
  absl::StatusOr<std::string> text = storage::VerifyNoteText(*note, (*signer)->verifier_key());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "clinic\ninnsyn-answer sha256 ab12\n");
  EXPECT_FALSE((*signer)->SignStatement("clinic\n12\nroot\n").ok());
}

TEST(FhirReport, OneAuditEventPerAccess) {
  absl::StatusOr<std::string> bundle = RenderFhir(SampleAnswer(3));
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  size_t count = 0;
  for (size_t at = bundle->find("\"AuditEvent\""); at != std::string::npos;
       at = bundle->find("\"AuditEvent\"", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
  EXPECT_NE(bundle->find("\"id\": \"seq-2\""), std::string::npos) << *bundle;
}

// The bundle carries its answer as the Binary "innsyn-answer", and its
// AuditEvents are exactly those the answer gives: one changed, or a bundle
// without its answer, is told apart.
TEST(FhirReport, TheBundleCarriesItsAnswerAndMatchesIt) {
  const v1::SignedAnswer signed_answer = SampleAnswer(3);
  absl::StatusOr<std::string> bundle = RenderFhir(signed_answer);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_NE(bundle->find("\"resourceType\": \"Binary\""), std::string::npos) << *bundle;
  absl::StatusOr<std::optional<std::string>> carried = AnswerInBundle(*bundle);
  ASSERT_TRUE(carried.ok()) << carried.status();
  ASSERT_TRUE(carried->has_value());
  EXPECT_EQ(**carried, *AnswerToJson(signed_answer));
  EXPECT_TRUE(CheckBundleEvents(*bundle, signed_answer.answer()).ok());

  std::string changed = *bundle;
  const size_t at = changed.find("\"R\"");
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, 3, "\"U\"");
  absl::Status refused = CheckBundleEvents(changed, signed_answer.answer());
  EXPECT_TRUE(absl::IsDataLoss(refused)) << refused;
  EXPECT_NE(refused.message().find("Bundle.entry[0] is not the AuditEvent"), std::string::npos)
      << refused;

  absl::StatusOr<std::optional<std::string>> none =
      AnswerInBundle(R"({"resourceType": "Bundle", "type": "collection", "entry": []})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(AnswerInBundle(R"({"resourceType": "Patient"})").ok());
  EXPECT_FALSE(AnswerInBundle("not json").ok());
}

}  // namespace
}  // namespace innsyn::report
