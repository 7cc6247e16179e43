#include "ctl/json_events.h"

#include <google/protobuf/util/json_util.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace innsyn::ctl {
namespace {

constexpr size_t kMaxReportedBadLines = 20;

}  // namespace

absl::StatusOr<JsonEvents> ReadJsonEvents(std::istream& in) {
  JsonEvents result;
  std::vector<std::string> errors;
  size_t bad_lines = 0;
  std::string line;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field would be lost silently
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    v1::AccessEvent event;
    auto status = google::protobuf::util::JsonStringToMessage(line, &event, options);
    if (status.ok()) {
      result.events.push_back(std::move(event));
      result.lines.push_back(number);
      continue;
    }
    if (++bad_lines <= kMaxReportedBadLines) {
      // The parser's message continues with the line and a caret; its first
      // line is the reason.
      std::string message(status.message());
      errors.push_back(absl::StrCat("line ", number, ": ", message.substr(0, message.find('\n'))));
    }
  }
  if (bad_lines == 0) return result;
  if (bad_lines > kMaxReportedBadLines) {
    errors.push_back(absl::StrCat("... and ", bad_lines - kMaxReportedBadLines, " more bad lines"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("nothing was sent; stdin has bad events:\n  ", absl::StrJoin(errors, "\n  ")));
}

}  // namespace innsyn::ctl
