#include "ctl/forward/mapping.h"

#include <toml++/toml.h>

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/toml_file.h"
#include "ctl/format.h"

namespace innsyn::ctl::forward {
namespace {

constexpr std::string_view kSourceSeq = "source-seq";
constexpr std::string_view kOccurredAt = "occurred-at";
constexpr std::string_view kEventId = "event-id";

// The text fields of an event, by the name of their `append` flag.
using TextMember = std::string EventFlags::*;
constexpr std::array<std::pair<std::string_view, TextMember>, 23> kTextFields = {{
    {"event-id", &EventFlags::event_id},
    {"source", &EventFlags::source},
    {"occurred-at", &EventFlags::occurred_at},
    {"actor-id", &EventFlags::actor_id},
    {"actor-name", &EventFlags::actor_name},
    {"actor-role", &EventFlags::actor_role},
    {"hpr", &EventFlags::hpr},
    {"org", &EventFlags::org},
    {"subject-id", &EventFlags::subject_id},
    {"subject-kind", &EventFlags::subject_kind},
    {"action", &EventFlags::action},
    {"subtype", &EventFlags::subtype},
    {"object-type", &EventFlags::object_type},
    {"object-id", &EventFlags::object_id},
    {"purpose", &EventFlags::purpose},
    {"legal-basis", &EventFlags::legal_basis},
    {"outcome", &EventFlags::outcome},
    {"network-address", &EventFlags::network_address},
    {"workstation", &EventFlags::workstation},
    {"user-agent", &EventFlags::user_agent},
    {"recipient-id", &EventFlags::recipient_id},
    {"recipient-name", &EventFlags::recipient_name},
    {"reason-text", &EventFlags::reason_text},
}};

std::optional<TextMember> FindTextField(std::string_view name) {
  for (const auto& [field, member] : kTextFields) {
    if (field == name) return member;
  }
  return std::nullopt;
}

bool IsField(std::string_view name) { return name == kSourceSeq || FindTextField(name); }

std::vector<std::string> FieldNames() {
  std::vector<std::string> names;
  for (const auto& [field, member] : kTextFields) names.emplace_back(field);
  names.emplace_back(kSourceSeq);
  return names;
}

absl::Status SetField(EventFlags& flags, std::string_view field, std::string value) {
  if (field == kSourceSeq) {
    std::optional<uint64_t> seq = ParseDecimal(value);
    if (!seq) return absl::InvalidArgumentError(StrCat("\"", value, "\" is not a whole number"));
    flags.source_seq = *seq;
    return absl::OkStatus();
  }
  flags.*(*FindTextField(field)) = std::move(value);
  return absl::OkStatus();
}

// A check of the mapping file: `what` names it and the key.
class MappingReader {
 public:
  MappingReader(const toml::table& table, const std::string& path) : table_(table), path_(path) {}

  absl::Status Error(std::string_view key, std::string_view problem) const {
    return absl::InvalidArgumentError(StrCat("mapping ", path_, ": ", key, " ", problem));
  }

  absl::Status String(const toml::table& table, std::string_view key, std::string& out) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<std::string> value = node->value<std::string>();
    if (!value) return Error(key, "must be a string");
    out = *value;
    return absl::OkStatus();
  }

  absl::StatusOr<const toml::table*> Table(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) return Error(key, "must be a table");
    return node->as_table();
  }

  absl::Status KnownKeys(const toml::table& table, std::string_view where,
                         const std::vector<std::string>& keys) const {
    for (const auto& [key, value] : table) {
      if (std::find(keys.begin(), keys.end(), key.str()) == keys.end()) {
        return Error(StrCat(where, key.str()),
                     StrCat("is not a key here (one of: ", absl::StrJoin(keys, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  const toml::table& table() const { return table_; }

 private:
  const toml::table& table_;
  const std::string& path_;
};

absl::Status ReadTop(const MappingReader& reader, Mapping& mapping) {
  RETURN_IF_ERROR(reader.KnownKeys(reader.table(), "",
                                   {"file", "format", "time_zone", "time_formats", "csv", "columns",
                                    "constants", "values", "attributes"}));
  RETURN_IF_ERROR(reader.String(reader.table(), "file", mapping.file));
  std::string format = "csv";
  RETURN_IF_ERROR(reader.String(reader.table(), "format", format));
  if (format == "csv") {
    mapping.format = FileFormat::kCsv;
  } else if (format == "jsonl") {
    mapping.format = FileFormat::kJsonLines;
  } else {
    return reader.Error("format", StrCat("is \"", format, "\"; want \"csv\" or \"jsonl\""));
  }
  RETURN_IF_ERROR(reader.String(reader.table(), "time_zone", mapping.zone_name));
  if (!absl::LoadTimeZone(mapping.zone_name, &mapping.zone)) {
    return reader.Error("time_zone", StrCat("\"", mapping.zone_name, "\" is not a known zone"));
  }
  if (const toml::node* node = reader.table().get("time_formats")) {
    const toml::array* array = node->as_array();
    if (array == nullptr) return reader.Error("time_formats", "must be a list of strings");
    mapping.time_formats.clear();
    for (const toml::node& item : *array) {
      std::optional<std::string> text = item.value<std::string>();
      if (!text) return reader.Error("time_formats", "must be a list of strings");
      mapping.time_formats.push_back(*text);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadCsv(const MappingReader& reader, Mapping& mapping) {
  ASSIGN_OR_RETURN(const toml::table* csv, reader.Table("csv"));
  if (csv == nullptr) return absl::OkStatus();
  RETURN_IF_ERROR(reader.KnownKeys(*csv, "csv.", {"delimiter", "header"}));
  std::string delimiter(1, mapping.delimiter);
  RETURN_IF_ERROR(reader.String(*csv, "delimiter", delimiter));
  if (delimiter == "\\t") delimiter = "\t";
  if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n") {
    return reader.Error("csv.delimiter", "must be one character (\"\\t\" for a tab), not a quote");
  }
  mapping.delimiter = delimiter[0];
  if (const toml::node* header = csv->get("header")) {
    std::optional<bool> value = header->value<bool>();
    if (!value) return reader.Error("csv.header", "must be true or false");
    mapping.header = *value;
  }
  return absl::OkStatus();
}

// [columns] and [attributes]: field = column.
absl::Status ReadColumns(const MappingReader& reader, std::string_view table_name,
                         Mapping& mapping) {
  ASSIGN_OR_RETURN(const toml::table* table, reader.Table(table_name));
  if (table == nullptr) return absl::OkStatus();
  const bool attributes = table_name == "attributes";
  for (const auto& [key, value] : *table) {
    std::string field(key.str());
    std::string where = StrCat(table_name, ".", field);
    if (!attributes && !IsField(field)) {
      return reader.Error(
          where, StrCat("is not a field (one of: ", absl::StrJoin(FieldNames(), ", "), ")"));
    }
    std::optional<std::string> column = value.value<std::string>();
    if (!column || column->empty()) return reader.Error(where, "must name a column");
    if (!mapping.header && mapping.format == FileFormat::kCsv && !ParseDecimal(*column)) {
      return reader.Error(where, "must be a column number from 1 (the CSV has no header)");
    }
    mapping.columns.push_back({field, *column, {}, attributes});
  }
  return absl::OkStatus();
}

absl::Status ReadConstants(const MappingReader& reader, Mapping& mapping) {
  ASSIGN_OR_RETURN(const toml::table* table, reader.Table("constants"));
  if (table == nullptr) return absl::OkStatus();
  for (const auto& [key, value] : *table) {
    std::string field(key.str());
    std::string where = StrCat("constants.", field);
    if (!IsField(field) || field == kEventId || field == kOccurredAt) {
      return reader.Error(where, "is not a field that can be constant");
    }
    for (const ColumnField& column : mapping.columns) {
      if (!column.attribute && column.field == field) {
        return reader.Error(where, "is also in [columns]: say which");
      }
    }
    std::optional<std::string> text = value.value<std::string>();
    if (!text) return reader.Error(where, "must be a string");
    if (absl::Status s = SetField(mapping.constants, field, *text); !s.ok()) {
      return reader.Error(where, std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadValues(const MappingReader& reader, Mapping& mapping) {
  ASSIGN_OR_RETURN(const toml::table* table, reader.Table("values"));
  if (table == nullptr) return absl::OkStatus();
  for (const auto& [key, value] : *table) {
    const std::string field(key.str());  // clang 14 captures no structured binding
    std::string where = StrCat("values.", field);
    auto column =
        std::find_if(mapping.columns.begin(), mapping.columns.end(),
                     [&field](const ColumnField& c) { return !c.attribute && c.field == field; });
    if (column == mapping.columns.end()) return reader.Error(where, "is not a field in [columns]");
    const toml::table* words = value.as_table();
    if (words == nullptr) return reader.Error(where, "must be a table of \"word\" = \"label\"");
    for (const auto& [word, label] : *words) {
      std::optional<std::string> text = label.value<std::string>();
      if (!text) return reader.Error(StrCat(where, ".", word.str()), "must be a string");
      column->values.emplace(std::string(word.str()), *text);
    }
  }
  return absl::OkStatus();
}

// Replaces the flag that BuildEvent names ("--subject-kind: ...") by where
// the value came from.
absl::Status Renamed(const absl::Status& status,
                     const std::function<std::string(std::string_view)>& name) {
  const std::string message(status.message());
  if (!message.starts_with("--")) return status;
  size_t colon = message.find(':');
  return absl::InvalidArgumentError(
      StrCat(name(std::string_view(message).substr(2, colon - 2)), message.substr(colon)));
}

std::string ColumnName(const ColumnField& column) {
  return StrCat("column \"", column.column, "\" (", column.field, ")");
}

// The mapping with every column field given a value that passes, so that
// BuildEvent checks the constants alone once, at load.
absl::Status CheckConstants(const Mapping& mapping) {
  EventFlags flags = mapping.constants;
  for (const ColumnField& column : mapping.columns) {
    if (column.attribute || column.field == kSourceSeq) continue;
    flags.*(*FindTextField(column.field)) = "x";
  }
  flags.occurred_at = "2000-01-01T00:00:00Z";
  for (auto [member, label] : {std::pair{&EventFlags::subject_kind, "patient"},
                               {&EventFlags::action, "read"},
                               {&EventFlags::subtype, "view"},
                               {&EventFlags::object_type, "journal_note"},
                               {&EventFlags::outcome, "success"},
                               {&EventFlags::purpose, "treatment"}}) {
    if (flags.*member == "x") flags.*member = label;
  }
  absl::StatusOr<v1::AccessEvent> event = BuildEvent(flags);
  if (event.ok()) return absl::OkStatus();
  return Renamed(event.status(), [&](std::string_view field) {
    return StrCat("mapping ", mapping.path, ": constants.", field);
  });
}

absl::Status CheckRequired(const Mapping& mapping) {
  EventFlags flags = mapping.constants;
  for (const ColumnField& column : mapping.columns) {
    if (column.attribute || column.field == kSourceSeq) continue;
    flags.*(*FindTextField(column.field)) = "x";
  }
  std::vector<std::string> missing;
  for (const std::string& flag : MissingEventFlags(flags)) missing.push_back(flag.substr(2));
  if (flags.occurred_at.empty()) missing.emplace_back(kOccurredAt);
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("mapping ", mapping.path, ": ",
                                           absl::StrJoin(missing, ", "),
                                           " must be in [columns] or [constants]"));
}

}  // namespace

absl::StatusOr<Mapping> LoadMapping(const std::string& path) {
  ASSIGN_OR_RETURN(toml::table table, ParseTomlFile("mapping", path));
  Mapping mapping;
  mapping.path = path;
  MappingReader reader(table, path);
  RETURN_IF_ERROR(ReadTop(reader, mapping));
  RETURN_IF_ERROR(ReadCsv(reader, mapping));
  RETURN_IF_ERROR(ReadColumns(reader, "columns", mapping));
  RETURN_IF_ERROR(ReadColumns(reader, "attributes", mapping));
  RETURN_IF_ERROR(ReadConstants(reader, mapping));
  RETURN_IF_ERROR(ReadValues(reader, mapping));
  RETURN_IF_ERROR(CheckRequired(mapping));
  RETURN_IF_ERROR(CheckConstants(mapping));
  for (const ColumnField& column : mapping.columns) {
    if (!column.attribute && column.field == kEventId) mapping.has_event_id = true;
  }
  return mapping;
}

absl::StatusOr<absl::Time> ParseFileTime(const Mapping& mapping, std::string_view text) {
  const std::string value(text);
  absl::Time time;
  std::string ignored;
  if (absl::ParseTime(absl::RFC3339_full, value, &time, &ignored)) return time;
  for (const std::string& format : mapping.time_formats) {
    if (absl::ParseTime(format, value, mapping.zone, &time, &ignored)) return time;
  }
  return absl::InvalidArgumentError(StrCat("\"", value, "\" is not a time (RFC 3339, or ",
                                           absl::StrJoin(mapping.time_formats, " or "), " in ",
                                           mapping.zone_name, ")"));
}

absl::StatusOr<v1::AccessEvent> MapRecord(const Mapping& mapping, const RecordValues& values,
                                          const std::string& derived_id) {
  EventFlags flags = mapping.constants;
  flags.event_id = derived_id;
  for (size_t i = 0; i < mapping.columns.size(); ++i) {
    const ColumnField& column = mapping.columns[i];
    std::optional<std::string> value = values.Value(i);
    if (!value) return absl::InvalidArgumentError(StrCat(ColumnName(column), ": missing"));
    if (auto word = column.values.find(*value); word != column.values.end()) *value = word->second;
    if (column.attribute) {
      if (!value->empty()) flags.attributes.push_back(StrCat(column.field, "=", *value));
      continue;
    }
    if (column.field == kOccurredAt) {
      absl::StatusOr<absl::Time> time = ParseFileTime(mapping, *value);
      if (!time.ok())
        return absl::InvalidArgumentError(
            StrCat(ColumnName(column), ": ", time.status().message()));
      *value = absl::FormatTime(absl::RFC3339_full, *time, absl::UTCTimeZone());
    }
    if (absl::Status s = SetField(flags, column.field, *std::move(value)); !s.ok()) {
      return absl::InvalidArgumentError(StrCat(ColumnName(column), ": ", s.message()));
    }
  }
  std::vector<std::string> missing = MissingEventFlags(flags);
  if (flags.event_id.empty()) missing.insert(missing.begin(), StrCat("--", kEventId));
  auto name = [&](std::string_view field) {
    for (const ColumnField& column : mapping.columns) {
      if (!column.attribute && column.field == field) return ColumnName(column);
    }
    return StrCat("constants.", field);
  };
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        StrCat(name(std::string_view(missing[0]).substr(2)), ": empty"));
  }
  absl::StatusOr<v1::AccessEvent> event = BuildEvent(flags);
  if (!event.ok()) return Renamed(event.status(), name);
  return event;
}

}  // namespace innsyn::ctl::forward
