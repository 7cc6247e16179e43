// A CSV or JSON-lines file read record by record from a byte offset, as a
// journal system or web server writes it: only complete lines are read
// (a line still being written waits for its line break, unless the caller
// says the file is final), each record with the line it starts on and the
// byte offsets it spans, so that a forwarder can say exactly how far it got.
//
// The file is known by its first data record: `fingerprint` is the SHA-256
// of that record's bytes (after a CSV header), the same for a renamed or
// copied file and different for the file that replaces it at rotation.
// Not thread-safe; one reader per file.
#ifndef INNSYN_CTL_FORWARD_RECORD_FILE_H_
#define INNSYN_CTL_FORWARD_RECORD_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/forward/csv_splitter.h"
#include "ctl/forward/mapping.h"

namespace innsyn::ctl::forward {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

inline constexpr uint64_t kMaxLinesScanBytes = 4 << 20;  // a few ms, four times a second

struct Record {
  uint64_t line = 0;                // the line it starts on, from 1
  uint64_t begin = 0;               // byte offset of its first byte
  uint64_t end = 0;                 // byte offset just after its last line break
  std::string text;                 // its bytes, line breaks included
  std::vector<std::string> fields;  // CSV: its fields
  absl::Status error;               // malformed CSV: why (the record is read all the same)
};

// Where to start: the byte offset of the start of a line, and that line.
struct Start {
  uint64_t offset = 0;
  uint64_t line = 1;
};

class RecordFile {
 public:
  // Opens `path`; NotFound if it is not there. Reading starts at `start`;
  // a CSV header is read from the top of the file all the same.
  static absl::StatusOr<std::unique_ptr<RecordFile>> Open(const std::string& path,
                                                          const Mapping& mapping, Start start);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // The next record, or nullopt when no complete one is written yet. With
  // `final`, a last line without a line break is a record too. An error
  // here is one the file cannot go on after (it cannot be read, its CSV
  // header is malformed); a malformed record comes back with its `error`.
  absl::StatusOr<std::optional<Record>> Next(bool final);

  // Where the next record starts.
  Start position() const { return {offset_, line_}; }
  const std::string& path() const { return path_; }
  FileIdentity identity() const { return identity_; }
  // The file's size now (it may grow as it is read).
  absl::StatusOr<uint64_t> Size() const;
  // Line breaks in [from, to), counting at most kMaxLinesScanBytes bytes.
  uint64_t LinesBetween(uint64_t from, uint64_t to) const;
  // The CSV header's fields once read; empty without a header.
  const std::vector<std::string>& header() const { return header_; }
  bool header_read() const { return header_read_; }
  // Hex SHA-256 of the first data record; empty until it is read.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  RecordFile(std::string path, int fd, const Mapping& mapping);

  // The next complete line from offset_, or nullopt; `final`: up to the end.
  absl::StatusOr<std::optional<std::string_view>> NextLine(bool final);
  absl::StatusOr<std::optional<Record>> NextRecord(bool final);
  absl::StatusOr<std::optional<Record>> NextCsvRecord(bool final);
  // Reads the header and the first data record from the top of the file.
  absl::Status ReadPreamble();

  std::string path_;
  int fd_;
  const Mapping& mapping_;
  FileIdentity identity_;
  CsvSplitter csv_;
  std::string buffer_;  // bytes read from the file from buffer_offset_ on
  uint64_t buffer_offset_ = 0;
  uint64_t offset_ = 0;  // where the next record starts
  uint64_t line_ = 1;    // the line it starts on
  uint64_t cursor_ = 0;  // the next line to read, past offset_ inside a quoted CSV field
  uint64_t cursor_line_ = 1;
  std::vector<std::string> header_;
  bool header_read_ = false;
  std::string fingerprint_;
};

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_RECORD_FILE_H_
