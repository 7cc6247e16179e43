// `innsynctl roster`: a roster that holds no identity numbers. The
// detectors' roster may name employees' own records and their relatives'
// by subject pseudonym (own_subject_pseudonyms, related_subject_pseudonyms)
// instead of identity number; these are HMACs under innsynd's pseudonym
// key, so innsynd computes them (AdminService.Pseudonymize, admin role,
// recorded in the ledger): the key never leaves the server, and innsynctl
// needs no access to its data folder.
//
//   innsynctl roster pseudonymize roster.toml --out roster-pseudonyms.toml
//   innsynctl roster pseudonym < ids.txt      # one id a line in, one pseudonym a line out
#include <toml++/toml.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "anomaly/roster.h"
#include "base/toml_file.h"
#include "ctl/client.h"
#include "ctl/command.h"

namespace innsyn::ctl {
namespace {

constexpr size_t kIdsPerCall = 1000;  // AdminService.Pseudonymize's limit

struct RosterFlags {
  std::string roster;
  std::string out;
  bool drop_address = false;
};

// The pseudonyms of `ids`, in order, in calls of at most kIdsPerCall.
absl::StatusOr<std::vector<std::string>> Pseudonyms(Client& client, const GlobalOptions& global,
                                                    const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (size_t begin = 0; begin < ids.size(); begin += kIdsPerCall) {
    v1::PseudonymizeRequest request;
    request.set_reason(global.reason.empty() ? "staff roster" : global.reason);
    for (size_t i = begin; i < std::min(ids.size(), begin + kIdsPerCall); ++i) {
      request.add_subject_ids(ids[i]);
    }
    absl::StatusOr<v1::PseudonymizeResponse> response = client.Pseudonymize(request);
    if (!response.ok()) return response.status();
    for (std::string& pseudonym : *response->mutable_subject_pseudonyms()) {
      out.push_back(std::move(pseudonym));
    }
  }
  return out;
}

// The roster's identity-number lists, and the pseudonym lists they become.
constexpr std::pair<std::string_view, std::string_view> kLists[] = {
    {"own_subject_ids", "own_subject_pseudonyms"},
    {"related_subject_ids", "related_subject_pseudonyms"}};

// Moves every identity number of `staff` into its pseudonym list, taking
// pseudonyms from `next` in the order CollectIds met the ids.
void Replace(toml::table& staff, const std::vector<std::string>& pseudonyms, size_t& next) {
  for (const auto& [ids_key, pseudonyms_key] : kLists) {
    toml::array* ids = staff[ids_key].as_array();
    if (ids == nullptr) continue;
    if (!staff.contains(pseudonyms_key)) staff.insert(pseudonyms_key, toml::array());
    toml::array& out = *staff[pseudonyms_key].as_array();
    for (size_t i = 0; i < ids->size(); ++i) out.push_back(pseudonyms[next++]);
    staff.erase(ids_key);
  }
}

int RunPseudonymize(const GlobalOptions& global, const RosterFlags& flags) {
  // The roster must be one innsynd takes, before anything is asked.
  if (absl::StatusOr<anomaly::Roster> valid = anomaly::LoadRoster(flags.roster); !valid.ok()) {
    return ReportError(valid.status());
  }
  absl::StatusOr<toml::table> roster = ParseTomlFile("roster", flags.roster);
  if (!roster.ok()) return ReportError(roster.status());
  std::vector<std::string> ids;
  toml::array* staff = (*roster)["staff"].as_array();
  if (staff != nullptr) {
    for (toml::node& node : *staff) {
      for (const auto& [ids_key, pseudonyms_key] : kLists) {
        if (toml::array* list = (*node.as_table())[ids_key].as_array()) {
          for (toml::node& id : *list) ids.push_back(id.value_or(std::string()));
        }
      }
    }
  }
  Client client(global);
  absl::StatusOr<std::vector<std::string>> pseudonyms = Pseudonyms(client, global, ids);
  if (!pseudonyms.ok()) return ReportError(pseudonyms.status());
  size_t next = 0;
  size_t dropped = 0;
  if (staff != nullptr) {
    for (toml::node& node : *staff) {
      toml::table& member = *node.as_table();
      Replace(member, *pseudonyms, next);
      // The household then comes from the employee's own record's contact
      // details, as the journal system sends them.
      if (flags.drop_address && member.contains("own_subject_pseudonyms") &&
          (member.contains("surname") || member.contains("address"))) {
        member.erase("surname");
        member.erase("address");
        ++dropped;
      }
    }
  }
  std::ostringstream text;
  text << "# Written by innsynctl roster pseudonymize from " << flags.roster
       << ": identity numbers replaced by subject pseudonyms.\n"
       << *roster << "\n";
  if (flags.out.empty()) {
    std::fputs(text.str().c_str(), stdout);
  } else {
    std::ofstream out(flags.out, std::ios::trunc);
    out << text.str();
    if (!out.good()) {
      return ReportError(absl::UnavailableError(absl::StrCat("cannot write ", flags.out)));
    }
  }
  std::fprintf(stderr, "%zu identity numbers replaced by pseudonyms%s\n", ids.size(),
               dropped == 0 ? "" : absl::StrCat("; ", dropped, " addresses dropped").c_str());
  return kExitOk;
}

int RunPseudonym(const GlobalOptions& global) {
  std::vector<std::string> ids;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) ids.push_back(line);
  }
  if (ids.empty()) {
    return ReportError(absl::InvalidArgumentError("roster pseudonym: no ids on standard input"));
  }
  Client client(global);
  absl::StatusOr<std::vector<std::string>> pseudonyms = Pseudonyms(client, global, ids);
  if (!pseudonyms.ok()) return ReportError(pseudonyms.status());
  for (const std::string& pseudonym : *pseudonyms) std::printf("%s\n", pseudonym.c_str());
  return kExitOk;
}

}  // namespace

void AddRosterCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<RosterFlags>();
  CLI::App* roster = app.add_subcommand(
      "roster", "Subject pseudonyms for the detectors' roster, in place of identity numbers");
  roster->require_subcommand(1);
  CLI::App* pseudonymize = roster->add_subcommand(
      "pseudonymize", "Write ROSTER again with pseudonyms in place of its identity numbers");
  pseudonymize->footer(
      "own_subject_ids and related_subject_ids become own_subject_pseudonyms and\n"
      "related_subject_pseudonyms, computed by innsynd with its pseudonym key (admin role;\n"
      "the call is recorded in the ledger). With --drop-address, surname and address go too\n"
      "wherever the employee's own record is named: the detectors then take the household\n"
      "from that record's contact details.");
  pseudonymize->add_option("roster", flags->roster, "The roster (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  pseudonymize->add_option("--out", flags->out, "Write here (default: standard output)");
  pseudonymize->add_flag("--drop-address", flags->drop_address,
                         "Drop surname and address of staff whose own record is named");
  pseudonymize->callback(
      [flags, &context] { context.exit_code = RunPseudonymize(context.global, *flags); });
  CLI::App* pseudonym = roster->add_subcommand(
      "pseudonym", "Print the pseudonym of each subject id read from standard input");
  pseudonym->callback([&context] { context.exit_code = RunPseudonym(context.global); });
}

}  // namespace innsyn::ctl
