#include "report/pdf_report.h"

#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_replace.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "report/answer.h"
#include "report/internal/page_layout.h"
#include "report/labels.h"
#include "report/pdf_attachment.h"

namespace innsyn::report {
namespace {

using internal::Column;
using internal::PageLayout;

std::string E(std::string_view text) { return PageLayout::Escape(text); }

// Everything a section needs: the answer, its words and its zone.
struct Context {
  const v1::SignedAnswer& signed_answer;
  const v1::InnsynAnswer& answer;
  Language language;
  absl::TimeZone zone;
  std::string digest;

  std::string T(const Text& text) const { return std::string(Pick(language, text)); }
  std::string Time(const google::protobuf::Timestamp& t) const {
    return LocalTime(language, FromProto(t), zone);
  }
  // In a table cell the date and the time stay on one line.
  std::string CellTime(absl::Time t) const {
    return absl::StrReplaceAll(LocalTime(language, t, zone), {{" ", "\u00a0"}});
  }
};

// The hour a row's stored header records, for rows whose contents are erased.
absl::Time HeaderHour(const v1::ReportRow& row) {
  v1::SealedEntry header;
  header.ParseFromString(row.entry_bytes());
  return absl::FromUnixSeconds(header.hour());
}

std::string WhoCell(const Context& c, const v1::Actor& actor) {
  std::vector<std::string> lines;
  if (actor.role() == "patient") return E(c.T({"Deg selv", "You"}));
  if (!actor.display_name().empty())
    lines.push_back(StrCat("<b>", E(actor.display_name()), "</b>"));
  if (!actor.role().empty()) lines.push_back(E(RoleLabel(c.language, actor.role())));
  if (!actor.hpr_number().empty()) lines.push_back(E(StrCat("HPR ", actor.hpr_number())));
  if (!actor.organisation().empty()) lines.push_back(E(actor.organisation()));
  if (lines.empty()) lines.push_back(E(actor.id()));
  std::string out;
  for (const std::string& line : lines) out += out.empty() ? line : "\n" + line;
  return out;
}

std::string WhatCell(const Context& c, const v1::AccessEvent& event) {
  std::string out = StrCat(E(ActionLabel(c.language, event)), ": ",
                           E(DataLabel(c.language, event.data_object().type())));
  if (IsDisclosure(event)) {
    const std::string& name =
        event.recipient().name().empty() ? event.recipient().id() : event.recipient().name();
    out += StrCat(" ", E(c.T({"til", "to"})), " <b>", E(name), "</b>");
  }
  out += StrCat("\n<span foreground=\"#555555\">", E(c.T({"i ", "in "})),
                E(event.source().system()), "</span>");
  return out;
}

std::string PurposeCell(const Context& c, const v1::AccessEvent& event) {
  std::string out = E(PurposeLabel(c.language, event.purpose_of_use()));
  if (!event.legal_basis().empty()) {
    out += StrCat(out.empty() ? "" : "\n", "<i>", E(event.legal_basis()), "</i>");
  }
  return out;
}

std::string ExplanationCell(const Context& c, const v1::ReportRow& row) {
  const v1::AccessEvent& event = row.entry().access_event();
  std::string out;
  if (IsEmergency(event)) {
    out = StrCat("<span foreground=\"#a00000\"><b>", E(c.T({"Nødtilgang", "Emergency access"})),
                 "</b></span>");
  }
  std::string explanation = ExplanationLabel(c.language, row.explanation());
  if (!explanation.empty()) out += StrCat(out.empty() ? "" : "\n", E(explanation));
  return out;
}

std::vector<std::string> AccessRow(const Context& c, const v1::ReportRow& row) {
  if (row.erased()) {
    return {
        E(c.T({"time ", "hour "})) + E(c.CellTime(HeaderHour(row))), "",
        StrCat("<i>", E(c.T({"Slettet", "Erased"})), "</i>"), "",
        E(c.T({"Opplysningene i denne oppføringen er slettet for godt; at den fantes, står igjen.",
               "What this entry said has been erased for good; that it existed remains."}))};
  }
  const v1::LedgerEntry& entry = row.entry();
  if (entry.has_erasure()) {
    const v1::Erasure& erasure = entry.erasure();
    return {E(c.CellTime(FromProto(entry.committed_at()))), E(c.T({"Klinikken", "The clinic"})),
            StrCat("<b>", E(c.T({"Sletting", "Erasure"})), "</b>: ", erasure.subject_entries(), " ",
                   E(c.T({"oppføringer", "entries"}))),
            E(erasure.reason()), E(erasure.reference())};
  }
  const v1::AccessEvent& event = entry.access_event();
  return {E(c.CellTime(FromProto(event.occurred_at()))), WhoCell(c, event.actor()),
          WhatCell(c, event), PurposeCell(c, event), ExplanationCell(c, row)};
}

void Header(PageLayout& page, const Context& c) {
  const v1::InnsynAnswer& a = c.answer;
  const v1::ReportController& who = a.controller();
  page.Title(c.T({"Innsyn i logg: hvem har brukt opplysningene dine",
                  "Access report: who has used your data"}));
  std::string controller = StrCat("<b>", E(who.name()), "</b>");
  if (!who.organisation_number().empty()) {
    controller += StrCat(" · ", E(c.T({"org.nr. ", "org. no. "})), E(who.organisation_number()));
  }
  if (!who.address().empty()) controller += StrCat("\n", E(who.address()));
  if (!who.contact().empty())
    controller += StrCat("\n", E(c.T({"Kontakt: ", "Contact: "})), E(who.contact()));
  if (!who.data_protection_officer().empty()) {
    controller += StrCat("\n", E(c.T({"Personvernombud: ", "Data protection officer: "})),
                         E(who.data_protection_officer()));
  }
  page.Paragraph(controller);
  std::string patient = StrCat("<b>", E(c.T({"Til: ", "To: "})), "</b>");
  if (!a.subject_name().empty()) patient += StrCat(E(a.subject_name()), ", ");
  patient +=
      StrCat(E(c.T({"fødselsnummer ", "national identity number "})), E(a.subject_id_masked()));
  const std::string from =
      a.has_from() ? c.Time(a.from()) : c.T({"loggens begynnelse", "the start of the log"});
  const std::string to = a.has_to() ? c.Time(a.to()) : c.Time(a.generated_at());
  patient += StrCat("\n<b>", E(c.T({"Periode: ", "Period: "})), "</b>", E(from), " – ", E(to));
  patient += StrCat("\n<b>", E(c.T({"Laget: ", "Made: "})), "</b>", E(c.Time(a.generated_at())));
  page.Paragraph(patient);
}

// What the answer proves of the list as a whole, in a sentence for the
// patient: complete, when it carries the proof of the subject's history.
std::string CompletenessSentence(const Context& c) {
  if (!c.answer.has_completeness()) {
    return c.T({"Denne rapporten beviser ikke at listen er fullstendig.",
                "This report does not prove that the list is complete."});
  }
  return StrCat(
      c.T({"Listen er fullstendig: den er bevist mot loggens signerte kontrollpunkt med ",
           "This list is complete: it is proven against the log's signed checkpoint of "}),
      c.answer.checkpoint().tree_size(),
      c.T({" oppføringer, så ingen oppføring om deg i perioden er utelatt (se «Bevis» til "
           "slutt).",
           " entries, so no entry about you in the period has been left out (see \"Proof\" at "
           "the end)."}));
}

void Accesses(PageLayout& page, const Context& c) {
  const v1::InnsynAnswer& a = c.answer;
  size_t accesses = 0;
  size_t emergencies = 0;
  for (const v1::ReportRow& row : a.rows()) {
    if (row.erased() || row.entry().has_access_event()) ++accesses;
    if (row.entry().has_access_event() && IsEmergency(row.entry().access_event())) {
      ++emergencies;
    }
  }
  page.Heading(c.T({"Alle tilganger i perioden", "Every access in the period"}));
  page.Paragraph(StrCat(
      E(c.T({"Du har rett til å vite hvem som har hatt tilgang til opplysningene dine "
             "(pasientjournalloven § 18, personvernforordningen art. 15). Loggen viser ",
             "You have the right to know who has had access to your data (the Norwegian Patient "
             "Records Act § 18, GDPR Art. 15). The log shows "})),
      "<b>", accesses, "</b> ", E(c.T({"oppføringer i perioden", "entries in the period"})),
      emergencies == 0 ? std::string(".")
                       : StrCat(E(c.T({", av dem ", ", of them "})), emergencies,
                                E(c.T({" nødtilgang.", " emergency access."}))),
      " ",
      E(c.T({"Alle tider er norsk tid (Europe/Oslo).",
             "All times are Norwegian time (Europe/Oslo)."}))));
  page.Small(E(a.staff_shown_as() == "role"
                   ? c.T({"Ansatte vises med rolle og arbeidssted. Du kan be klinikken om navnene.",
                          "Staff are shown by role and workplace. You may ask the clinic for their "
                          "names."})
                   : c.T({"Ansatte vises med navn, rolle og HPR-nummer (Helsepersonellregisteret).",
                          "Staff are shown by name, role and HPR number (the Norwegian health "
                          "personnel register)."})));
  page.Paragraph(E(CompletenessSentence(c)));
  std::vector<std::vector<std::string>> rows;
  for (const v1::ReportRow& row : a.rows()) rows.push_back(AccessRow(c, row));
  if (rows.empty()) {
    page.Paragraph(E(c.T({"Ingen har brukt opplysningene dine i perioden.",
                          "Nobody used your data in the period."})));
    return;
  }
  page.Table({{c.T({"Tid", "Time"}), 0.17},
              {c.T({"Hvem", "Who"}), 0.2},
              {c.T({"Hva", "What"}), 0.21},
              {c.T({"Formål og hjemmel", "Purpose and legal basis"}), 0.18},
              {c.T({"Forklaring", "Explanation"}), 0.24}},
             rows);
}

void Disclosures(PageLayout& page, const Context& c) {
  page.Heading(c.T({"Utlevering til andre", "Disclosures to others"}));
  std::vector<std::vector<std::string>> rows;
  for (const v1::ReportRow& row : c.answer.rows()) {
    if (!row.entry().has_access_event() || !IsDisclosure(row.entry().access_event())) {
      continue;
    }
    const v1::AccessEvent& event = row.entry().access_event();
    std::string recipient = E(event.recipient().name());
    if (!event.recipient().id().empty()) recipient += StrCat(" (", E(event.recipient().id()), ")");
    // The legal basis, or else the consent innsyn found for the recipient.
    std::string basis = event.legal_basis().empty()
                            ? E(ExplanationLabel(c.language, row.explanation()))
                            : E(event.legal_basis());
    rows.push_back({E(c.CellTime(FromProto(event.occurred_at()))), recipient,
                    E(DataLabel(c.language, event.data_object().type())), basis});
  }
  if (rows.empty()) {
    page.Paragraph(E(c.T({"Ingen opplysninger om deg er utlevert til andre i perioden.",
                          "No data about you was disclosed to others in the period."})));
    return;
  }
  page.Table({{c.T({"Tid", "Time"}), 0.17},
              {c.T({"Mottaker", "Recipient"}), 0.28},
              {c.T({"Hva", "What"}), 0.2},
              {c.T({"Hjemmel eller samtykke", "Legal basis or consent"}), 0.35}},
             rows);
}

void Sources(PageLayout& page, const Context& c) {
  std::set<std::string> systems;
  for (const v1::ReportRow& row : c.answer.rows()) {
    if (row.entry().has_access_event())
      systems.insert(row.entry().access_event().source().system());
  }
  std::string list;
  for (const std::string& system : systems) list += StrCat(list.empty() ? "" : ", ", system);
  page.Heading(c.T({"Hvor opplysningene kommer fra", "Where this information comes from"}));
  page.Paragraph(E(StrCat(
      c.T({"Hvert av klinikkens systemer melder fra til loggen hver gang noen bruker "
           "opplysninger om deg. Oppføringene i denne rapporten kommer fra: ",
           "Each of the clinic's systems reports to the log every time someone uses data about "
           "you. The entries in this report come from: "}),
      list.empty() ? c.T({"ingen", "none"}) : list, ".")));
}

void Retention(PageLayout& page, const Context& c) {
  const v1::ReportRetention& retention = c.answer.retention();
  page.Heading(c.T({"Hvor lenge loggen lagres", "How long the log is kept"}));
  std::string text = StrCat(
      c.T({"Hver oppføring lagres i ", "Each entry is kept for "}), retention.default_years(),
      c.T({" år etter utgangen av året den gjelder, fordi pasientjournalen skal oppbevares minst "
           "10 år og loggen dokumenterer hvem som har brukt den",
           " years after the end of its calendar year, because the patient record is kept at "
           "least 10 years and the log documents who has used it"}));
  std::vector<std::pair<std::string, int>> classes(retention.years_by_class().begin(),
                                                   retention.years_by_class().end());
  std::sort(classes.begin(), classes.end());
  for (const auto& [name, years] : classes) {
    text += StrCat("; ", name, ": ", years, c.T({" år", " years"}));
  }
  text +=
      c.T({". Deretter slettes innholdet for godt.", ". Then its contents are erased for good."});
  page.Paragraph(E(text));
}

void Rights(PageLayout& page, const Context& c) {
  page.Heading(c.T({"Dine rettigheter", "Your rights"}));
  const std::vector<Text> rights = {
      {"Retting: Er noe om deg feil eller ufullstendig, kan du be oss rette det "
       "(personvernforordningen art. 16).",
       "Rectification: if something about you is wrong or incomplete, you may ask us to correct "
       "it (GDPR Art. 16)."},
      {"Sletting: Du kan be oss slette opplysninger vi ikke lenger trenger (art. 17). "
       "Helseopplysninger i journalen må vi likevel ofte oppbevare etter loven.",
       "Erasure: you may ask us to erase data we no longer need (Art. 17). Health data in the "
       "record must often be kept by law all the same."},
      {"Begrensning: Du kan be oss om å bruke opplysningene mindre mens noe undersøkes (art. 18).",
       "Restriction: you may ask us to limit the use of your data while something is looked into "
       "(Art. 18)."},
      {"Mener du at noen har sett opplysningene dine uten grunn, si fra til oss, så undersøker vi "
       "det. Å lese journalen uten tjenstlig grunn er forbudt (helsepersonelloven § 21 a).",
       "If you think someone looked at your data without a reason, tell us and we will look into "
       "it. Reading a record without a work-related reason is forbidden (the Health Personnel Act "
       "§ 21 a)."},
      {"Klage: Du kan klage til Datatilsynet (www.datatilsynet.no) om vår bruk av opplysningene "
       "dine.",
       "Complaint: you may complain to the Norwegian Data Protection Authority, Datatilsynet "
       "(www.datatilsynet.no), about how we use your data."},
  };
  for (const Text& right : rights) page.Paragraph(E(StrCat("• ", c.T(right))));
  const v1::ReportController& who = c.answer.controller();
  if (!who.contact().empty()) {
    page.Paragraph(E(StrCat(c.T({"Spørsmål? Kontakt ", "Questions? Contact "}), who.contact(),
                            who.data_protection_officer().empty()
                                ? std::string(".")
                                : StrCat(c.T({" eller personvernombudet, ",
                                              " or the data "
                                              "protection officer, "}),
                                         who.data_protection_officer(), "."))));
  }
}

void Proof(PageLayout& page, const Context& c) {
  const v1::ReportRow& self = c.answer.self_record();
  const v1::Checkpoint& checkpoint = c.answer.checkpoint();
  page.Heading(c.T({"Denne rapporten er også logget", "This report was logged too"}));
  std::string logged =
      StrCat(c.T({"At denne rapporten ble laget, er selv ført i loggen som oppføring nr. ",
                  "Making this report was itself recorded in the log as entry no. "}),
             self.seq(), " (", c.Time(self.entry().committed_at()), ")");
  if (!self.entry().query_record().reason().empty()) {
    logged += StrCat(c.T({", med begrunnelsen «", ", with the reason \""}),
                     self.entry().query_record().reason(), c.T({"»", "\""}));
  }
  page.Paragraph(E(logged + "."));
  page.Heading(c.T({"Bevis", "Proof"}));
  page.Paragraph(E(StrCat(
      c.T({"Rapporten er laget fra loggens signerte kontrollpunkt med ",
           "This report was made from the log's signed checkpoint of "}),
      checkpoint.tree_size(),
      c.T({" oppføringer. Hver rad er bevist å være med i den signerte loggen (inklusjonsbevis), "
           "og hele svaret er signert med klinikkens nøkkel. ",
           " entries. Every row is proven to be in the signed log (inclusion proofs), and the "
           "whole answer is signed with the clinic's key. "}),
      c.answer.has_completeness()
          ? c.T({"Listen er også bevist fullstendig: kontrollpunktet signerer den nyeste "
                 "oppføringen i historikken din, og hver oppføring peker på den før, så en "
                 "utelatt oppføring ville bli oppdaget. ",
                 "The list is also proven complete: the checkpoint signs the newest entry of "
                 "your history, and each entry points to the one before it, so an entry left out "
                 "would be detected. "})
          : c.T({"At listen er fullstendig, er ikke bevist. ",
                 "That the list is complete is not proven. "}),
      c.T({"Det maskinlesbare svaret med bevisene er ",
           "The machine-readable answer with the proofs is "}),
      c.T({"lagt ved denne PDF-en som filen ", "attached to this PDF as the file "}),
      kAnswerAttachmentName,
      c.T({" (se vedleggene i PDF-leseren); kontroller det med «innsynctl verify-report» og "
           "klinikkens offentlige nøkkel.",
           " (see the attachments in your PDF reader); check it with \"innsynctl verify-report\" "
           "and the clinic's public key."}))));
  page.Monospace(
      StrCat(checkpoint.note(), "\n", c.T({"svarets SHA-256: ", "answer SHA-256: "}), c.digest));
}

}  // namespace

absl::StatusOr<std::string> RenderPdf(const v1::SignedAnswer& signed_answer) {
  const v1::InnsynAnswer& answer = signed_answer.answer();
  if (answer.language() != "nb" && answer.language() != "en") {
    return absl::InvalidArgumentError(
        StrCat("language must be nb or en, not \"", answer.language(), "\""));
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(kReportTimeZone), &zone)) {
    return absl::FailedPreconditionError(
        StrCat("time zone ", kReportTimeZone, " is not installed (Debian package tzdata)"));
  }
  Context c{signed_answer, answer,
            answer.language() == "nb" ? Language::kBokmal : Language::kEnglish, zone,
            AnswerDigest(answer)};
  internal::PdfMetadata metadata;
  metadata.title = c.T({"Innsyn i logg", "Access report"});
  metadata.author = answer.controller().name();
  metadata.subject =
      StrCat(c.T({"Innsynsrapport for ", "Access report for "}), answer.subject_id_masked());
  metadata.keywords = StrCat(kDigestKeywordPrefix, c.digest);
  metadata.create_date =
      absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", FromProto(answer.generated_at()), zone);
  ASSIGN_OR_RETURN(std::unique_ptr<PageLayout> page, PageLayout::Create(metadata));
  Header(*page, c);
  Accesses(*page, c);
  Disclosures(*page, c);
  Sources(*page, c);
  Retention(*page, c);
  Rights(*page, c);
  Proof(*page, c);
  const std::string clinic = answer.controller().name();
  const std::string subject = answer.subject_id_masked();
  const std::string page_word = c.T({"Side ", "Page "});
  const std::string of_word = c.T({" av ", " of "});
  auto footer = [&](int number, int pages) {
    return E(StrCat(clinic, " · ", c.T({"innsyn for ", "access report for "}), subject, " · ",
                    page_word, number, of_word, pages));
  };
  ASSIGN_OR_RETURN(std::string pdf, page->Finish(footer));
  ASSIGN_OR_RETURN(std::string answer_json, AnswerToJson(signed_answer));
  return AttachAnswer(pdf, answer_json, FromProto(answer.generated_at()));
}

}  // namespace innsyn::report
