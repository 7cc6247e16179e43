#include "anomaly/roster.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <initializer_list>

#include "base/strings.h"
#include "base/toml_file.h"

namespace innsyn::anomaly {
namespace {

constexpr std::array<std::string_view, 11> kStaffKeys = {"id",
                                                         "name",
                                                         "role",
                                                         "start",
                                                         "end",
                                                         "surname",
                                                         "address",
                                                         "own_subject_ids",
                                                         "related_subject_ids",
                                                         "own_subject_pseudonyms",
                                                         "related_subject_pseudonyms"};

// Reads one [[staff]] entry; errors name the entry by index and id.
class EntryReader {
 public:
  EntryReader(const std::string& path, size_t index, const toml::table& table)
      : path_(path), index_(index), table_(table) {}

  absl::Status Error(std::string_view field, std::string_view problem) const {
    std::string id = table_["id"].value_or(std::string());
    std::string entry =
        id.empty() ? StrCat("staff[", index_, "]") : StrCat("staff[", index_, "] (", id, ")");
    return absl::InvalidArgumentError(
        StrCat("roster ", path_, ": ", entry, ": ", field, " ", problem));
  }

  absl::Status String(std::string_view field, bool required, std::string& out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return required ? Error(field, "is required") : absl::OkStatus();
    std::optional<std::string> value = node->value_exact<std::string>();
    if (!value || (required && value->empty())) return Error(field, "must be a non-empty string");
    out = std::move(*value);
    return absl::OkStatus();
  }

  absl::Status Date(std::string_view field, std::optional<absl::CivilDay>& out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return absl::OkStatus();
    const toml::value<toml::date>* date = node->as_date();
    if (date == nullptr) return Error(field, "must be a date (2026-01-31, without quotes)");
    const toml::date& d = date->get();
    out = absl::CivilDay(d.year, d.month, d.day);
    return absl::OkStatus();
  }

  absl::Status StringList(std::string_view field, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return absl::OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr) return Error(field, "must be a list of strings");
    for (const toml::node& item : *array) {
      std::optional<std::string> text = item.value_exact<std::string>();
      if (!text || text->empty()) return Error(field, "must be a list of non-empty strings");
      out.push_back(std::move(*text));
    }
    return absl::OkStatus();
  }

  absl::Status PseudonymList(std::string_view field, std::vector<std::string>& out) const {
    if (absl::Status s = StringList(field, out); !s.ok()) return s;
    for (const std::string& text : out) {
      if (!IsSubjectPseudonym(text)) {
        return Error(field, StrCat("must hold subject pseudonyms of 32 lower-case hex digits, as "
                                   "innsynctl roster pseudonymize writes them; \"",
                                   text.substr(0, 40), "\" is not one"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckKeys() const {
    for (const auto& [key, value] : table_) {
      if (std::find(kStaffKeys.begin(), kStaffKeys.end(), key.str()) == kStaffKeys.end()) {
        return Error(key.str(), "is not a roster field");
      }
    }
    return absl::OkStatus();
  }

 private:
  const std::string& path_;
  size_t index_;
  const toml::table& table_;
};

absl::StatusOr<StaffMember> ReadStaffMember(const EntryReader& reader) {
  StaffMember member;
  for (absl::Status s :
       {reader.CheckKeys(), reader.String("id", true, member.id),
        reader.String("name", false, member.name), reader.String("role", false, member.role),
        reader.Date("start", member.start), reader.Date("end", member.end),
        reader.String("surname", false, member.surname),
        reader.String("address", false, member.address),
        reader.StringList("own_subject_ids", member.own_subject_ids),
        reader.StringList("related_subject_ids", member.related_subject_ids),
        reader.PseudonymList("own_subject_pseudonyms", member.own_subject_pseudonyms),
        reader.PseudonymList("related_subject_pseudonyms", member.related_subject_pseudonyms)}) {
    if (!s.ok()) return s;
  }
  if (member.start && member.end && *member.end < *member.start) {
    return reader.Error("end", "is before start");
  }
  return member;
}

}  // namespace

bool IsSubjectPseudonym(std::string_view text) {
  constexpr size_t kHexDigits = 32;
  return text.size() == kHexDigits && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Roster::Roster(std::vector<StaffMember> staff) : staff_(std::move(staff)) {
  for (size_t i = 0; i < staff_.size(); ++i) {
    by_id_.emplace(staff_[i].id, i);
    for (const std::string& subject : staff_[i].own_subject_ids)
      by_own_subject_.emplace(subject, i);
    for (const std::string& pseudonym : staff_[i].own_subject_pseudonyms)
      by_own_pseudonym_.emplace(pseudonym, i);
    has_pseudonyms_ = has_pseudonyms_ || !staff_[i].own_subject_pseudonyms.empty() ||
                      !staff_[i].related_subject_pseudonyms.empty();
  }
}

const StaffMember* Roster::Find(std::string_view actor_id) const {
  auto it = by_id_.find(absl::string_view(actor_id.data(), actor_id.size()));
  return it == by_id_.end() ? nullptr : &staff_[it->second];
}

const StaffMember* Roster::OwnerOf(std::string_view subject_id, std::string_view pseudonym) const {
  auto it = by_own_subject_.find(absl::string_view(subject_id.data(), subject_id.size()));
  if (it != by_own_subject_.end()) return &staff_[it->second];
  if (pseudonym.empty()) return nullptr;
  it = by_own_pseudonym_.find(absl::string_view(pseudonym.data(), pseudonym.size()));
  return it == by_own_pseudonym_.end() ? nullptr : &staff_[it->second];
}

absl::StatusOr<Roster> LoadRoster(const std::string& path) {
  absl::StatusOr<toml::table> parsed = ParseTomlFile("roster", path);
  if (!parsed.ok()) return parsed.status();
  const toml::table& table = *parsed;
  for (const auto& [key, value] : table) {
    if (key.str() != "staff") {
      return absl::InvalidArgumentError(StrCat("roster ", path, ": unknown setting ", key.str(),
                                               " (expected [[staff]] entries)"));
    }
  }
  std::vector<StaffMember> staff;
  const toml::node* node = table.get("staff");
  if (node == nullptr) return Roster(std::move(staff));
  const toml::array* entries = node->as_array();
  if (entries == nullptr) {
    return absl::InvalidArgumentError(StrCat("roster ", path, ": staff must be [[staff]] entries"));
  }
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t i = 0; i < entries->size(); ++i) {
    const toml::table* entry = entries->get(i)->as_table();
    if (entry == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("roster ", path, ": staff[", i, "] must be a table"));
    }
    EntryReader reader(path, i, *entry);
    absl::StatusOr<StaffMember> member = ReadStaffMember(reader);
    if (!member.ok()) return member.status();
    auto [it, inserted] = seen.emplace(member->id, i);
    if (!inserted) {
      return reader.Error("id", StrCat("repeats staff[", it->second, "]"));
    }
    staff.push_back(std::move(*member));
  }
  return Roster(std::move(staff));
}

}  // namespace innsyn::anomaly
