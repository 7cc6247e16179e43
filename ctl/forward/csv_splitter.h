// Splits CSV text into records and fields with libcsv (RFC 4180 quoting:
// a quoted field may hold the delimiter, a doubled quote and line breaks),
// fed one physical line at a time, so that the caller knows the byte
// offset and line number where every record ends. Strict: a quote inside
// an unquoted field, or text after a closing quote, is an error.
// Not thread-safe; one splitter per file.
#ifndef INNSYN_CTL_FORWARD_CSV_SPLITTER_H_
#define INNSYN_CTL_FORWARD_CSV_SPLITTER_H_

#include <csv.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace innsyn::ctl::forward {

class CsvSplitter {
 public:
  explicit CsvSplitter(char delimiter);
  ~CsvSplitter();
  CsvSplitter(const CsvSplitter&) = delete;
  CsvSplitter& operator=(const CsvSplitter&) = delete;

  enum class LineEnd {
    kRecord,       // the line ended a record, whose fields are in fields()
    kBlank,        // nothing but spaces: no record
    kInsideQuote,  // a quoted field goes on in the next line
  };
  // Feeds one line with its line break. After an error the splitter starts
  // afresh with the next line.
  absl::StatusOr<LineEnd> FeedLine(std::string_view line);
  // Ends a record at the end of the file (a last line with no line break).
  absl::StatusOr<bool> Finish();
  // Forgets a record in progress.
  void Reset();

  std::vector<std::string>& fields() { return fields_; }

 private:
  static void OnField(void* data, size_t size, void* self);
  static void OnRecordEnd(int terminator, void* self);

  char delimiter_;
  csv_parser parser_;
  std::vector<std::string> fields_;  // the record being read, then the one ended
  bool record_ended_ = false;
};

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_CSV_SPLITTER_H_
