#include "ctl/format.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/proto_time.h"

namespace innsyn::ctl {
namespace {

constexpr absl::string_view kUnspecifiedSuffix = "UNSPECIFIED";
constexpr std::string_view kColumnGap = "  ";

// The prefix every value name of the enum carries, from its UNSPECIFIED
// value ("ACTION_CODE_"); empty if the enum has none.
absl::string_view EnumPrefix(const google::protobuf::EnumDescriptor& descriptor) {
  const google::protobuf::EnumValueDescriptor* zero = descriptor.FindValueByNumber(0);
  if (zero == nullptr || !absl::EndsWith(zero->name(), kUnspecifiedSuffix)) return "";
  absl::string_view name = zero->name();
  name.remove_suffix(kUnspecifiedSuffix.size());
  return name;
}

std::string ValueLabel(const google::protobuf::EnumValueDescriptor& value) {
  absl::string_view name = value.name();
  absl::ConsumePrefix(&name, EnumPrefix(*value.type()));
  return absl::AsciiStrToLower(name);
}

// Characters, not bytes: UTF-8 continuation bytes do not start a character.
size_t DisplayWidth(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace

std::string EnumLabel(const google::protobuf::EnumDescriptor& descriptor, int value) {
  const google::protobuf::EnumValueDescriptor* found = descriptor.FindValueByNumber(value);
  return found == nullptr ? "?" : ValueLabel(*found);
}

std::vector<std::string> EnumLabels(const google::protobuf::EnumDescriptor& descriptor) {
  std::vector<std::string> labels;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    if (descriptor.value(i)->number() == 0) continue;
    labels.push_back(ValueLabel(*descriptor.value(i)));
  }
  return labels;
}

std::optional<int> ParseEnumLabel(const google::protobuf::EnumDescriptor& descriptor,
                                  std::string_view label) {
  std::string name =
      absl::StrCat(EnumPrefix(descriptor), absl::AsciiStrToUpper(std::string(label)));
  const google::protobuf::EnumValueDescriptor* found = descriptor.FindValueByName(name);
  if (found == nullptr || found->number() == 0) return std::nullopt;
  return found->number();
}

absl::StatusOr<absl::Time> ParseUserTime(std::string_view user_text) {
  const std::string text(user_text);
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  // Without an offset, a person means their own clock.
  static constexpr std::array<const char*, 4> kLocalFormats = {
      "%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"};
  for (const char* format : kLocalFormats) {
    std::string ignored;
    if (absl::ParseTime(format, text, absl::LocalTimeZone(), &time, &ignored)) return time;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text,
                   "\" is not a time: want RFC 3339 such as 2024-05-01T08:30:00Z, or a local "
                   "2024-05-01 or 2024-05-01T08:30"));
}

absl::StatusOr<std::optional<google::protobuf::Timestamp>> ParseTimeFlag(const char* flag,
                                                                         const std::string& text) {
  if (text.empty()) return std::nullopt;
  absl::StatusOr<absl::Time> time = ParseUserTime(text);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", time.status().message()));
  }
  return ToProto(*time);
}

std::string LocalMinute(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M", FromProto(timestamp), absl::LocalTimeZone());
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Our own messages always convert; a failure would leave the line empty.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

Table::Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void Table::Print(std::FILE* out) const {
  std::vector<size_t> widths;
  for (const std::vector<std::string>& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  for (const std::vector<std::string>& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 == row.size()) break;  // no trailing blanks
      line.append(widths[i] - DisplayWidth(row[i]), ' ');
      line += kColumnGap;
    }
    fmt::print(out, "{}\n", line);
  }
}

}  // namespace innsyn::ctl
