// `innsynctl verify-search` checks the saved pages of an HTTP FHIR search
// (GET /fhir/AuditEvent?patient=...&proof=true) offline: that the answer
// is the patient's whole history for the period asked, proven against a
// checkpoint signed by the clinic's key, and that the page's AuditEvents
// are the entries proven (README, "Complete answers over HTTP").
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "ctl/command.h"
#include "ctl/completeness.h"
#include "ctl/format.h"
#include "ctl/trust.h"
#include "google/protobuf/util/json_util.h"
#include "innsyn/v1/service.pb.h"
#include "storage/hash.h"

namespace innsyn::ctl {
namespace {

using Json = nlohmann::json;

// As innsynd's HTTP listener writes them (daemon/http/fhir_audit_event.h).
constexpr std::string_view kAnswerProofType = "application/vnd.innsyn.answer-proof+json";
constexpr std::string_view kSeqUrl = "urn:innsyn:seq:";
constexpr std::string_view kEntityTypeSystem =
    "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kPersonType = "1";

// What the check needs of one AuditEvent of a page.
struct SearchEvent {
  uint64_t seq = 0;
  std::vector<absl::Time> times;  // `recorded`, and `period.start` if it has one
  std::string patient;            // the identifier of its patient entity
};

struct SearchPage {
  v1::ListSubjectAccessResponse answer;  // the page's Binary: the answer without contents
  std::vector<SearchEvent> events;
};

std::string Text(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// The identifier of the entity that is the person the data is about
// (audit-entity-type 1, as innsynd writes the subject).
std::string PatientOf(const Json& audit_event) {
  for (const Json& entity : Member(audit_event, "entity")) {
    const Json& type = Member(entity, "type");
    if (Text(type, "system") != kEntityTypeSystem || Text(type, "code") != kPersonType) continue;
    return Text(Member(Member(entity, "what"), "identifier"), "value");
  }
  return "";
}

absl::StatusOr<SearchEvent> ReadEvent(const Json& entry, const std::string& at) {
  SearchEvent event;
  const std::string url = Text(entry, "fullUrl");
  if (!url.starts_with(kSeqUrl) || !absl::SimpleAtoi(url.substr(kSeqUrl.size()), &event.seq)) {
    return VerificationFailure(
        absl::StrCat(at, ".fullUrl is not urn:innsyn:seq:<seq>, so it names no ledger entry"));
  }
  const Json& resource = Member(entry, "resource");
  for (const std::string& when :
       {Text(resource, "recorded"), Text(Member(resource, "period"), "start")}) {
    if (when.empty() && !event.times.empty()) continue;  // no period
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, when, &time, &error)) {
      return VerificationFailure(
          absl::StrCat(at, " (entry ", event.seq, ") has no readable time: ", error));
    }
    event.times.push_back(time);
  }
  event.patient = PatientOf(resource);
  return event;
}

absl::StatusOr<SearchPage> ReadPage(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  const Json bundle = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (Text(bundle, "resourceType") != "Bundle" || Text(bundle, "type") != "searchset") {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a FHIR searchset Bundle in JSON (GET /fhir/AuditEvent)"));
  }
  SearchPage page;
  int proofs = 0;
  int index = 0;
  for (const Json& entry : Member(bundle, "entry")) {
    const std::string at = absl::StrCat(path, ": Bundle.entry[", index++, "]");
    const Json& resource = Member(entry, "resource");
    const std::string type = Text(resource, "resourceType");
    if (type == "AuditEvent") {
      absl::StatusOr<SearchEvent> event = ReadEvent(entry, at);
      if (!event.ok()) return event.status();
      page.events.push_back(*std::move(event));
    } else if (type == "Binary" && Text(resource, "contentType") == kAnswerProofType) {
      std::optional<std::string> json = storage::Base64Decode(Text(resource, "data"));
      if (!json || !google::protobuf::util::JsonStringToMessage(*json, &page.answer).ok()) {
        return VerificationFailure(absl::StrCat(at, ": the answer proof does not decode"));
      }
      ++proofs;
    }
  }
  if (proofs != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, proofs == 0 ? ": holds no answer proof; search with proof=true"
                                       : ": holds more than one answer proof"));
  }
  return page;
}

// That the AuditEvents are the proven answer's access events: each names
// a non-erased access event of it once, at a time inside that entry's
// hour, about the patient asked about; and each such entry has its
// AuditEvent. (An erasure record is no AuditEvent, and an erased entry's
// contents are gone.)
absl::Status MatchEvents(const std::vector<SearchPage>& pages,
                         const std::vector<v1::RecordedEntry>& entries,
                         const std::string& subject) {
  std::map<uint64_t, const v1::RecordedEntry*> unmatched;
  for (const v1::RecordedEntry& entry : entries) {
    if (entry.kind() == v1::ENTRY_KIND_ACCESS_EVENT && !entry.erased()) {
      unmatched.emplace(entry.seq(), &entry);
    }
  }
  for (const SearchPage& page : pages) {
    for (const SearchEvent& event : page.events) {
      auto it = unmatched.find(event.seq);
      if (it == unmatched.end()) {
        return VerificationFailure(absl::StrCat("the AuditEvent of entry ", event.seq,
                                                " is not an access event of the proven answer "
                                                "(or not one whose contents are kept), or is "
                                                "there twice"));
      }
      const absl::Time hour = absl::FromUnixSeconds(it->second->hour().seconds());
      for (absl::Time time : event.times) {
        if (time < hour || time >= hour + absl::Hours(1)) {
          return VerificationFailure(absl::StrCat("the AuditEvent of entry ", event.seq,
                                                  " has a time outside the hour its signed "
                                                  "header records"));
        }
      }
      if (event.patient != subject) {
        return VerificationFailure(
            absl::StrCat("the AuditEvent of entry ", event.seq, " is about another patient"));
      }
      unmatched.erase(it);
    }
  }
  if (!unmatched.empty()) {
    return VerificationFailure(absl::StrCat("entry ", unmatched.begin()->first,
                                            " of the proven answer has no AuditEvent: the "
                                            "pages are incomplete"));
  }
  return absl::OkStatus();
}

struct VerifySearchFlags {
  std::vector<std::string> files;
  std::string subject;
  std::string from, to;
  TrustFlags trust;
};

int RunVerifySearch(const VerifySearchFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  AnswerToCheck answer;
  answer.space = storage::MapSpace::kSubject;
  answer.id = flags.subject;
  for (const auto& [flag, text, bound] :
       {std::tuple{"--from", &flags.from, &answer.from}, {"--to", &flags.to, &answer.to}}) {
    absl::StatusOr<std::optional<google::protobuf::Timestamp>> time = ParseTimeFlag(flag, *text);
    if (!time.ok()) return ReportError(time.status());
    if (*time) *bound = FromProto(**time);
  }
  std::vector<SearchPage> pages;
  for (const std::string& file : flags.files) {
    absl::StatusOr<SearchPage> page = ReadPage(file);
    if (!page.ok()) return ReportError(page.status());
    pages.push_back(*std::move(page));
  }
  // One answer: every page of one tree and one proof, each but the last
  // naming a page after it.
  const v1::ListSubjectAccessResponse& first = pages.front().answer;
  std::vector<v1::RecordedEntry> entries;
  for (size_t i = 0; i < pages.size(); ++i) {
    const v1::ListSubjectAccessResponse& page = pages[i].answer;
    if (page.tree_size() != first.tree_size() ||
        page.proof().SerializeAsString() != first.proof().SerializeAsString()) {
      return ReportError(VerificationFailure(
          absl::StrCat(flags.files[i], " is of another tree or proof than ", flags.files[0])));
    }
    if (page.next_page_token().empty() != (i + 1 == pages.size())) {
      return ReportError(VerificationFailure(
          i + 1 == pages.size()
              ? absl::StrCat(flags.files[i], " names a page after it: give every page, in order")
              : absl::StrCat(flags.files[i], " is the last page, but more were given")));
    }
    entries.insert(entries.end(), page.entries().begin(), page.entries().end());
  }
  answer.tree_size = first.tree_size();
  answer.proof = &first.proof();
  answer.entries = &entries;
  absl::StatusOr<CompleteAnswer> complete = CheckComplete(*trust, answer);
  if (!complete.ok()) return ReportError(complete.status());
  if (absl::Status s = MatchEvents(pages, entries, flags.subject); !s.ok()) return ReportError(s);
  fmt::print("complete: {} {}, verified against checkpoint of size {}\n", complete->entries,
             complete->entries == 1 ? "entry" : "entries", complete->checkpoint.tree_size);
  // What the proof cannot show: that an entry said to be erased is. Each is
  // named, with its hour, so that the reader can ask about it.
  std::vector<std::string> erased, erasures;
  for (const v1::RecordedEntry& entry : entries) {
    const std::string named = absl::StrCat(entry.seq(), " (", LocalMinute(entry.hour()), ")");
    if (entry.erased()) erased.push_back(named);
    if (entry.kind() == v1::ENTRY_KIND_ERASURE) erasures.push_back(named);
  }
  if (!erased.empty()) {
    fmt::print(
        "erased, by innsynd's word (their contents are gone; the proof shows that they "
        "are entries of the history, not that they were erased): {}\n",
        absl::StrJoin(erased, ", "));
  }
  if (!erasures.empty()) {
    fmt::print("erasure records (no AuditEvent): {}\n", absl::StrJoin(erasures, ", "));
  }
  return kExitOk;
}

}  // namespace

void AddVerifySearchCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<VerifySearchFlags>();
  CLI::App* command = app.add_subcommand(
      "verify-search",
      "Check saved pages of an HTTP FHIR search (GET /fhir/AuditEvent with proof=true) offline: "
      "the patient's whole history for the period, against the clinic's public key");
  command->add_option("FILE", flags->files, "Every page's Bundle, in order")->required();
  command->add_option("--subject", flags->subject, "The patient searched for")->required();
  command->add_option("--from", flags->from,
                      "The search's start (date=ge...), as an RFC 3339 instant (a day in the "
                      "search is a UTC day)");
  command->add_option("--to", flags->to, "The search's end (date=lt...), likewise");
  AddOfflineTrustFlags(*command, flags->trust);
  command->callback([&context, flags] {
    if (absl::Status s = RequirePinnedKey(flags->trust, "verify-search"); !s.ok()) {
      context.exit_code = ReportError(s);
      return;
    }
    context.exit_code = RunVerifySearch(*flags);
  });
}

}  // namespace innsyn::ctl
