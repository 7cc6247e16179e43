#include "ctl/forward/csv_splitter.h"

#include "base/strings.h"

namespace innsyn::ctl::forward {

CsvSplitter::CsvSplitter(char delimiter) : delimiter_(delimiter) {
  csv_init(&parser_, CSV_STRICT | CSV_STRICT_FINI);
  csv_set_delim(&parser_, static_cast<unsigned char>(delimiter_));
}

CsvSplitter::~CsvSplitter() { csv_free(&parser_); }

void CsvSplitter::Reset() {
  csv_free(&parser_);
  csv_init(&parser_, CSV_STRICT | CSV_STRICT_FINI);
  csv_set_delim(&parser_, static_cast<unsigned char>(delimiter_));
  fields_.clear();
  record_ended_ = false;
}

void CsvSplitter::OnField(void* data, size_t size, void* self) {
  auto* splitter = static_cast<CsvSplitter*>(self);
  if (splitter->record_ended_) {
    splitter->fields_.clear();
    splitter->record_ended_ = false;
  }
  splitter->fields_.emplace_back(static_cast<const char*>(data), size);
}

void CsvSplitter::OnRecordEnd(int /*terminator*/, void* self) {
  static_cast<CsvSplitter*>(self)->record_ended_ = true;
}

absl::StatusOr<CsvSplitter::LineEnd> CsvSplitter::FeedLine(std::string_view line) {
  if (record_ended_) {
    fields_.clear();
    record_ended_ = false;
  }
  size_t parsed = csv_parse(&parser_, line.data(), line.size(), &CsvSplitter::OnField,
                            &CsvSplitter::OnRecordEnd, this);
  if (parsed != line.size()) {
    std::string reason = csv_strerror(csv_error(&parser_));
    Reset();
    return absl::InvalidArgumentError(
        StrCat("malformed CSV (", reason, ") at character ", parsed + 1, " of the line"));
  }
  if (record_ended_) return LineEnd::kRecord;
  // libcsv's state 0 (ROW_NOT_BEGIN): nothing of a record has been read.
  return parser_.pstate == 0 ? LineEnd::kBlank : LineEnd::kInsideQuote;
}

absl::StatusOr<bool> CsvSplitter::Finish() {
  if (record_ended_) {
    fields_.clear();
    record_ended_ = false;
  }
  if (csv_fini(&parser_, &CsvSplitter::OnField, &CsvSplitter::OnRecordEnd, this) != 0) {
    std::string reason = csv_strerror(csv_error(&parser_));
    Reset();
    return absl::InvalidArgumentError(
        StrCat("malformed CSV at the end of the file (", reason, ")"));
  }
  bool ended = record_ended_;
  csv_free(&parser_);
  csv_init(&parser_, CSV_STRICT | CSV_STRICT_FINI);
  csv_set_delim(&parser_, static_cast<unsigned char>(delimiter_));
  return ended;
}

}  // namespace innsyn::ctl::forward
