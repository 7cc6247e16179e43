#include "anomaly/detection_options.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>

#include "anomaly/internal/local_clock.h"
#include "anomaly/internal/networks.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

constexpr int kMinutesPerHour = 60;
constexpr std::array<std::string_view, 7> kWeekdayNames = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
constexpr std::array<std::pair<std::string_view, v1::AlertSeverity>, 4> kSeverityNames = {{
    {"low", v1::ALERT_SEVERITY_LOW},
    {"medium", v1::ALERT_SEVERITY_MEDIUM},
    {"high", v1::ALERT_SEVERITY_HIGH},
    {"critical", v1::ALERT_SEVERITY_CRITICAL},
}};

// Reads typed settings from one TOML table; every error names the setting
// by its full dotted path ("detection.bulk_export.max_subjects").
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  absl::Status Error(std::string_view key, std::string_view problem) const {
    std::string_view gap = problem.starts_with(":") ? "" : " ";
    return absl::InvalidArgumentError(StrCat("config: ", path_, ".", key, gap, problem));
  }

  absl::Status CheckKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : table_) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        return absl::InvalidArgumentError(
            StrCat("config: unknown setting ", path_, ".", key.str()));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<bool> value = node->value_exact<bool>();
    if (!value) return Error(key, "must be true or false");
    out = *value;
    return absl::OkStatus();
  }

  absl::Status String(std::string_view key, std::string& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<std::string> value = node->value_exact<std::string>();
    if (!value) return Error(key, "must be a string");
    out = *value;
    return absl::OkStatus();
  }

  // An integer of at least `min` (0 or 1).
  absl::Status Int(std::string_view key, int min, int& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<int64_t> value = node->value_exact<int64_t>();
    if (!value || *value < min || *value > std::numeric_limits<int>::max()) {
      return Error(key, min > 0 ? "must be a positive integer" : "must be an integer, 0 or more");
    }
    out = static_cast<int>(*value);
    return absl::OkStatus();
  }

  absl::Status Minutes(std::string_view key, absl::Duration& out) const {
    int minutes = 0;
    if (absl::Status s = Int(key, 1, minutes); !s.ok() || table_.get(key) == nullptr) return s;
    out = absl::Minutes(minutes);
    return absl::OkStatus();
  }

  absl::Status PositiveNumber(std::string_view key, double& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<double> value = node->value<double>();
    if (!value || !(*value > 0)) return Error(key, "must be a number above 0");
    out = *value;
    return absl::OkStatus();
  }

  absl::Status StringList(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<std::vector<std::string>> list = ToStringList(*node);
    if (!list) return Error(key, "must be a list of strings");
    out = std::move(*list);
    return absl::OkStatus();
  }

  absl::Status Severity(std::string_view key, v1::AlertSeverity& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    std::optional<std::string> value = node->value_exact<std::string>();
    for (const auto& [name, severity] : kSeverityNames) {
      if (value && *value == name) {
        out = severity;
        return absl::OkStatus();
      }
    }
    return Error(key, "must be \"low\", \"medium\", \"high\" or \"critical\"");
  }

  // A sub-table, or nullptr if absent; an error if present but not a table.
  absl::StatusOr<const toml::table*> Table(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) return Error(key, "must be a table");
    return node->as_table();
  }

  static std::optional<std::vector<std::string>> ToStringList(const toml::node& node) {
    const toml::array* array = node.as_array();
    if (array == nullptr) return std::nullopt;
    std::vector<std::string> list;
    for (const toml::node& item : *array) {
      std::optional<std::string> text = item.value_exact<std::string>();
      if (!text) return std::nullopt;
      list.push_back(std::move(*text));
    }
    return list;
  }

  const toml::table& table() const { return table_; }
  const std::string& path() const { return path_; }

 private:
  const toml::table& table_;
  std::string path_;
};

absl::Status FirstError(std::initializer_list<absl::Status> statuses) {
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ReadOpeningHours(const TableReader& reader, OpeningHours& hours) {
  if (absl::Status s = reader.CheckKeys(
          {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"});
      !s.ok()) {
    return s;
  }
  for (size_t day = 0; day < kWeekdayNames.size(); ++day) {
    const toml::node* node = reader.table().get(kWeekdayNames[day]);
    if (node == nullptr) continue;
    std::optional<std::vector<std::string>> list = TableReader::ToStringList(*node);
    if (!list) return reader.Error(kWeekdayNames[day], "must be a list of \"HH:MM-HH:MM\"");
    std::vector<std::pair<int, int>> intervals;
    for (const std::string& text : *list) {
      std::optional<std::pair<int, int>> interval = internal::ParseOpeningInterval(text);
      if (!interval) {
        return reader.Error(kWeekdayNames[day],
                            StrCat(": \"", text, "\" is not an interval \"HH:MM-HH:MM\""));
      }
      intervals.push_back(*interval);
    }
    hours.days[day] = std::move(intervals);
  }
  return absl::OkStatus();
}

absl::Status ReadNetworks(const TableReader& reader,
                          std::map<std::string, std::vector<std::string>>& networks) {
  absl::StatusOr<const toml::table*> table = reader.Table("networks");
  if (!table.ok() || *table == nullptr) return table.status();
  std::map<std::string, std::vector<std::string>> parsed;
  for (const auto& [source, value] : **table) {
    std::string key = StrCat("networks.", source.str());
    std::optional<std::vector<std::string>> list = TableReader::ToStringList(value);
    if (!list) return reader.Error(key, "must be a list of networks (CIDR)");
    if (absl::StatusOr<internal::NetworkList> check = internal::NetworkList::Parse(*list);
        !check.ok()) {
      return reader.Error(key, StrCat(": ", check.status().message()));
    }
    parsed[std::string(source.str())] = std::move(*list);
  }
  networks = std::move(parsed);
  return absl::OkStatus();
}

// [detection.source_silent.schedules.<system>]: per source, the clinic's
// opening hours with the weekdays it names replaced.
absl::Status ReadSchedules(const TableReader& reader, const OpeningHours& clinic,
                           std::map<std::string, OpeningHours>& schedules) {
  absl::StatusOr<const toml::table*> table = reader.Table("schedules");
  if (!table.ok() || *table == nullptr) return table.status();
  std::map<std::string, OpeningHours> parsed;
  for (const auto& [source, value] : **table) {
    std::string key = StrCat("schedules.", source.str());
    if (!value.is_table()) return reader.Error(key, "must be a table of weekdays");
    OpeningHours hours = clinic;
    if (absl::Status s = ReadOpeningHours(
            TableReader(*value.as_table(), StrCat(reader.path(), ".", key)), hours);
        !s.ok()) {
      return s;
    }
    parsed[std::string(source.str())] = std::move(hours);
  }
  schedules = std::move(parsed);
  return absl::OkStatus();
}

constexpr std::array<std::pair<std::string_view, v1::DataObjectType>, 10> kDataKinds = {{
    {"journal_note", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
    {"image", v1::DATA_OBJECT_TYPE_IMAGE},
    {"contact_details", v1::DATA_OBJECT_TYPE_CONTACT_DETAILS},
    {"invoice", v1::DATA_OBJECT_TYPE_INVOICE},
    {"referral", v1::DATA_OBJECT_TYPE_REFERRAL},
    {"appointment", v1::DATA_OBJECT_TYPE_APPOINTMENT},
    {"treatment_plan", v1::DATA_OBJECT_TYPE_TREATMENT_PLAN},
    {"consent", v1::DATA_OBJECT_TYPE_CONSENT},
    {"web_form", v1::DATA_OBJECT_TYPE_WEB_FORM},
    {"account", v1::DATA_OBJECT_TYPE_ACCOUNT},
}};

constexpr std::array<std::pair<std::string_view, v1::PurposeOfUse>, 9> kPurposes = {{
    {"treatment", v1::PURPOSE_OF_USE_TREATMENT},
    {"emergency", v1::PURPOSE_OF_USE_EMERGENCY},
    {"administration", v1::PURPOSE_OF_USE_ADMINISTRATION},
    {"billing", v1::PURPOSE_OF_USE_BILLING},
    {"quality", v1::PURPOSE_OF_USE_QUALITY},
    {"legal", v1::PURPOSE_OF_USE_LEGAL},
    {"patient_request", v1::PURPOSE_OF_USE_PATIENT_REQUEST},
    {"research", v1::PURPOSE_OF_USE_RESEARCH},
    {"system", v1::PURPOSE_OF_USE_SYSTEM},
}};

// The name for `value` in `table`, or `missing`; and the value of a name.
template <typename Table, typename Value>
std::string_view NameIn(const Table& table, Value value, std::string_view missing) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return missing;
}
template <typename Table>
auto ValueIn(const Table& table, std::string_view name)
    -> std::optional<typename Table::value_type::second_type> {
  for (const auto& [n, value] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

// Checks that each of `names` is a name in `table` (kDataKinds,
// kPurposes): the error names the setting and lists the names there are.
template <typename Table>
absl::Status CheckNames(const TableReader& reader, std::string_view key, std::string_view what,
                        const Table& table, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (ValueIn(table, name)) continue;
    std::string known;
    for (const auto& [known_name, value] : table) {
      known = known.empty() ? std::string(known_name) : StrCat(known, ", ", known_name);
    }
    return reader.Error(key, StrCat(": \"", name, "\" is not a ", what, " (", known, ")"));
  }
  return absl::OkStatus();
}

// A table of role = list of names in `table` (kinds of data, purposes);
// given, it replaces the defaults as a whole.
template <typename Table>
absl::Status ReadRoleLists(const TableReader& reader, std::string_view table_key,
                           std::string_view what, const Table& table,
                           std::map<std::string, std::vector<std::string>>& out) {
  absl::StatusOr<const toml::table*> given = reader.Table(table_key);
  if (!given.ok() || *given == nullptr) return given.status();
  std::map<std::string, std::vector<std::string>> parsed;
  for (const auto& [role, value] : **given) {
    std::string key = StrCat(table_key, ".", role.str());
    std::optional<std::vector<std::string>> list = TableReader::ToStringList(value);
    if (!list) return reader.Error(key, StrCat("must be a list of ", what, "s"));
    if (absl::Status s = CheckNames(reader, key, what, table, *list); !s.ok()) return s;
    parsed[std::string(role.str())] = std::move(*list);
  }
  out = std::move(parsed);
  return absl::OkStatus();
}

absl::Status ReadRoleData(const TableReader& reader,
                          std::map<std::string, std::vector<std::string>>& role_data) {
  return ReadRoleLists(reader, "role_data", "kind of data", kDataKinds, role_data);
}

// clinical_purposes and [role_purposes]: every name a purpose, every role
// in role_data given its purposes, and no role named that is neither
// clinical nor in role_data.
absl::Status ReadPurposes(const TableReader& reader, DetectionOptions& options) {
  if (absl::Status s = FirstError(
          {reader.StringList("clinical_purposes", options.clinical_purposes),
           CheckNames(reader, "clinical_purposes", "purpose", kPurposes, options.clinical_purposes),
           ReadRoleLists(reader, "role_purposes", "purpose", kPurposes, options.role_purposes)});
      !s.ok()) {
    return s;
  }
  // The defaults may name roles a role_data given has left out.
  const std::vector<std::string>& clinical = options.clinical_roles;
  bool given = reader.table().contains("role_purposes");
  for (const auto& [role, purposes] : options.role_purposes) {
    if (!given || options.role_data.contains(role) ||
        std::find(clinical.begin(), clinical.end(), role) != clinical.end()) {
      continue;
    }
    return reader.Error(StrCat("role_purposes.", role),
                        ": is neither in clinical_roles nor in role_data");
  }
  for (const auto& [role, kinds] : options.role_data) {
    if (options.role_purposes.contains(role)) continue;
    return reader.Error("role_purposes", StrCat(": the role \"", role,
                                                "\" in role_data has no purposes here, and "
                                                "would go unchecked"));
  }
  return absl::OkStatus();
}

// The settings of one rule's sub-table beyond `enabled` and `severity`.
absl::Status ReadRuleFields(const TableReader& r, std::string_view rule,
                            DetectionOptions& options) {
  if (rule == "no_care_relationship") {
    auto& o = options.no_care_relationship;
    return FirstError({r.CheckKeys({"enabled", "severity", "days_before", "days_after",
                                    "treatment_days", "referral_days"}),
                       r.Int("days_before", 0, o.days_before), r.Int("days_after", 0, o.days_after),
                       r.Int("treatment_days", 1, o.treatment_days),
                       r.Int("referral_days", 1, o.referral_days)});
  }
  if (rule == "volume_spike") {
    auto& o = options.volume_spike;
    return FirstError({r.CheckKeys({"enabled", "severity", "window_minutes", "floor", "multiplier",
                                    "baseline_days", "min_baseline_hours"}),
                       r.Minutes("window_minutes", o.window), r.Int("floor", 1, o.floor),
                       r.PositiveNumber("multiplier", o.multiplier),
                       r.Int("baseline_days", 1, o.baseline_days),
                       r.Int("min_baseline_hours", 0, o.min_baseline_hours)});
  }
  if (rule == "bulk_export") {
    auto& o = options.bulk_export;
    return FirstError({r.CheckKeys({"enabled", "severity", "max_subjects", "window_minutes"}),
                       r.Int("max_subjects", 1, o.max_subjects),
                       r.Minutes("window_minutes", o.window)});
  }
  if (rule == "login_failures") {
    auto& o = options.login_failures;
    return FirstError({r.CheckKeys({"enabled", "severity", "max_failures", "window_minutes"}),
                       r.Int("max_failures", 1, o.max_failures),
                       r.Minutes("window_minutes", o.window)});
  }
  if (rule == "unknown_or_dormant_actor") {
    auto& o = options.unknown_or_dormant_actor;
    return FirstError({r.CheckKeys({"enabled", "severity", "dormant_days"}),
                       r.Int("dormant_days", 1, o.dormant_days)});
  }
  if (rule == "disallowed_network") {
    return FirstError({r.CheckKeys({"enabled", "severity", "networks"}),
                       ReadNetworks(r, options.disallowed_network.networks_by_source)});
  }
  if (rule == "source_silent") {
    auto& o = options.source_silent;
    return FirstError(
        {r.CheckKeys({"enabled", "severity", "max_silence_minutes", "known_days", "schedules"}),
         r.Minutes("max_silence_minutes", o.max_silence), r.Int("known_days", 1, o.known_days),
         ReadSchedules(r, options.opening_hours, o.schedules)});
  }
  if (rule == "source_sequence_gap") {
    return FirstError({r.CheckKeys({"enabled", "severity", "grace_minutes"}),
                       r.Minutes("grace_minutes", options.source_sequence_gap.grace)});
  }
  return r.CheckKeys({"enabled", "severity"});
}

RuleOptions& CommonOptions(std::string_view rule, DetectionOptions& o) {
  if (rule == "no_care_relationship") return o.no_care_relationship;
  if (rule == "off_hours") return o.off_hours;
  if (rule == "volume_spike") return o.volume_spike;
  if (rule == "self_or_related") return o.self_or_related;
  if (rule == "bulk_export") return o.bulk_export;
  if (rule == "disclosure_without_consent") return o.disclosure_without_consent;
  if (rule == "login_failures") return o.login_failures;
  if (rule == "break_glass") return o.break_glass;
  if (rule == "unknown_or_dormant_actor") return o.unknown_or_dormant_actor;
  if (rule == "disallowed_network") return o.disallowed_network;
  if (rule == "source_silent") return o.source_silent;
  if (rule == "source_sequence_gap") return o.source_sequence_gap;
  if (rule == "role_data_access") return o.role_data_access;
  if (rule == "covering") return o.covering;
  if (rule == "role_purpose") return o.role_purpose;
  return o.verification_failed;
}

absl::Status ReadRules(const TableReader& detection, DetectionOptions& options) {
  for (std::string_view rule : kRuleNames) {
    absl::StatusOr<const toml::table*> table = detection.Table(rule);
    if (!table.ok()) return table.status();
    if (*table == nullptr) continue;
    TableReader reader(**table, StrCat(detection.path(), ".", rule));
    RuleOptions& common = CommonOptions(rule, options);
    if (absl::Status s = FirstError({reader.Bool("enabled", common.enabled),
                                     reader.Severity("severity", common.severity),
                                     ReadRuleFields(reader, rule, options)});
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTopLevel(const TableReader& r, DetectionOptions& options) {
  std::vector<std::string_view> known = {
      "enabled",        "roster_file",       "time_zone",          "closed_dates",
      "clinical_roles", "non_staff_roles",   "replay_window_days", "opening_hours",
      "role_data",      "clinical_purposes", "role_purposes"};
  known.insert(known.end(), kRuleNames.begin(), kRuleNames.end());
  for (const auto& [key, value] : r.table()) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      return absl::InvalidArgumentError(
          StrCat("config: unknown setting ", r.path(), ".", key.str()));
    }
  }
  int replay_days = static_cast<int>(absl::ToInt64Hours(options.replay_window) / 24);
  if (absl::Status s = FirstError({r.Bool("enabled", options.enabled),
                                   r.String("roster_file", options.roster_file),
                                   r.String("time_zone", options.time_zone),
                                   r.StringList("closed_dates", options.closed_dates),
                                   r.StringList("clinical_roles", options.clinical_roles),
                                   r.StringList("non_staff_roles", options.non_staff_roles),
                                   r.Int("replay_window_days", 1, replay_days),
                                   ReadRoleData(r, options.role_data), ReadPurposes(r, options)});
      !s.ok()) {
    return s;
  }
  options.replay_window = absl::Hours(24 * static_cast<int64_t>(replay_days));
  for (const std::string& date : options.closed_dates) {
    if (!internal::ParseLocalDate(date)) {
      return r.Error("closed_dates", StrCat(": \"", date, "\" is not a date (YYYY-MM-DD)"));
    }
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(options.time_zone, &zone)) {
    return r.Error("time_zone", StrCat("\"", options.time_zone, "\" is not a known time zone"));
  }
  absl::StatusOr<const toml::table*> hours = r.Table("opening_hours");
  if (!hours.ok()) return hours.status();
  if (*hours == nullptr) return absl::OkStatus();
  return ReadOpeningHours(TableReader(**hours, StrCat(r.path(), ".opening_hours")),
                          options.opening_hours);
}

}  // namespace

std::optional<v1::PurposeOfUse> PurposeFromName(std::string_view name) {
  return ValueIn(kPurposes, name);
}

std::string_view DataKindName(v1::DataObjectType type) {
  return NameIn(kDataKinds, type, "unspecified");
}

std::optional<v1::DataObjectType> DataKindFromName(std::string_view name) {
  return ValueIn(kDataKinds, name);
}

OpeningHours OpeningHours::Default() {
  constexpr int kWeekdayOpen = 7 * kMinutesPerHour;
  constexpr int kWeekdayClose = 20 * kMinutesPerHour;
  constexpr int kSaturdayOpen = 10 * kMinutesPerHour;
  constexpr int kSaturdayClose = 15 * kMinutesPerHour;
  OpeningHours hours;
  for (int day = 0; day < 5; ++day) hours.days[day] = {{kWeekdayOpen, kWeekdayClose}};
  hours.days[5] = {{kSaturdayOpen, kSaturdayClose}};
  return hours;
}

absl::Status ReadDetectionOptions(const toml::table& detection, DetectionOptions& options) {
  DetectionOptions parsed = options;
  TableReader reader(detection, "detection");
  if (absl::Status s = ReadTopLevel(reader, parsed); !s.ok()) return s;
  if (absl::Status s = ReadRules(reader, parsed); !s.ok()) return s;
  options = std::move(parsed);
  return absl::OkStatus();
}

}  // namespace innsyn::anomaly
