// How innsynctl names things and lays them out: enum labels as users type
// them ("read", "journal_note"), times, aligned text tables and JSON lines.
// Enum labels come from the proto descriptors, so a value added to the
// proto is accepted and shown without touching this code.
// All functions are pure apart from Table::Print.
#ifndef INNSYN_CTL_FORMAT_H_
#define INNSYN_CTL_FORMAT_H_

#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace innsyn::ctl {

// The label of an enum value: its name without the enum's prefix, in lower
// case ("ACTION_SUBTYPE_LOGIN_FAILED" -> "login_failed"); "?" for a number
// the descriptor does not know (a newer server).
std::string EnumLabel(const google::protobuf::EnumDescriptor& descriptor, int value);
// The labels of every value but UNSPECIFIED, in declaration order.
std::vector<std::string> EnumLabels(const google::protobuf::EnumDescriptor& descriptor);
// The value with this label, case-insensitive; nullopt if none.
std::optional<int> ParseEnumLabel(const google::protobuf::EnumDescriptor& descriptor,
                                  std::string_view label);

template <typename Enum>
std::string Label(Enum value) {
  return EnumLabel(*google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}

template <typename Enum>
std::vector<std::string> Labels() {
  return EnumLabels(*google::protobuf::GetEnumDescriptor<Enum>());
}

template <typename Enum>
std::optional<Enum> ParseLabel(std::string_view label) {
  std::optional<int> value = ParseEnumLabel(*google::protobuf::GetEnumDescriptor<Enum>(), label);
  if (!value) return std::nullopt;
  return static_cast<Enum>(*value);
}

// Accepts RFC 3339 ("2024-05-01T08:30:00Z", "...+02:00", with fractions) and,
// for people typing at a terminal, local "2024-05-01" or "2024-05-01T08:30".
absl::StatusOr<absl::Time> ParseUserTime(std::string_view text);
// The time a flag gives, or nullopt when it is unset; errors name `flag`.
absl::StatusOr<std::optional<google::protobuf::Timestamp>> ParseTimeFlag(const char* flag,
                                                                         const std::string& text);
// "YYYY-MM-DD HH:MM" in the local time zone; "-" for an unset timestamp.
std::string LocalMinute(const google::protobuf::Timestamp& timestamp);

// One line of the proto3 JSON mapping, with the proto field names.
std::string ToJsonLine(const google::protobuf::Message& message);

// A text table whose columns are as wide as their widest cell, counted in
// characters (UTF-8), so that "Ødegård" lines up with "Olsen".
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void Print(std::FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_FORMAT_H_
