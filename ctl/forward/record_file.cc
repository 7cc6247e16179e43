#include "ctl/forward/record_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/strings.h"
#include "storage/hash.h"

namespace innsyn::ctl::forward {
namespace {

constexpr size_t kReadBytes = 1 << 20;
// A quoted CSV field left open would otherwise swallow the rest of the file.
constexpr size_t kMaxRecordBytes = 1 << 20;

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

RecordFile::RecordFile(std::string path, int fd, const Mapping& mapping)
    : path_(std::move(path)), fd_(fd), mapping_(mapping), csv_(mapping.delimiter) {}

RecordFile::~RecordFile() { close(fd_); }

absl::StatusOr<std::unique_ptr<RecordFile>> RecordFile::Open(const std::string& path,
                                                             const Mapping& mapping, Start start) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(StrCat("no file ", path));
    return ErrnoError("cannot open", path);
  }
  std::unique_ptr<RecordFile> file(new RecordFile(path, fd, mapping));
  struct stat info;
  if (fstat(fd, &info) != 0) return ErrnoError("cannot stat", path);
  file->identity_ = {info.st_dev, info.st_ino};
  if (start.offset > 0) {
    if (absl::Status s = file->ReadPreamble(); !s.ok()) return s;
    file->buffer_.clear();
    file->buffer_offset_ = file->offset_ = file->cursor_ = start.offset;
    file->line_ = file->cursor_line_ = start.line;
    file->csv_.Reset();
  }
  return file;
}

absl::Status RecordFile::ReadPreamble() {
  while (fingerprint_.empty()) {
    absl::StatusOr<std::optional<Record>> record = Next(/*final=*/false);
    if (!record.ok()) return record.status();
    if (!record->has_value()) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RecordFile::Size() const {
  struct stat info;
  if (fstat(fd_, &info) != 0) return ErrnoError("cannot stat", path_);
  return static_cast<uint64_t>(info.st_size);
}

uint64_t RecordFile::LinesBetween(uint64_t from, uint64_t to) const {
  to = std::min(to, from + kMaxLinesScanBytes);
  std::string chunk(kReadBytes, '\0');
  uint64_t lines = 0;
  while (from < to) {
    ssize_t n = pread(fd_, chunk.data(), std::min<uint64_t>(kReadBytes, to - from), from);
    if (n <= 0) break;
    lines += std::count(chunk.begin(), chunk.begin() + n, '\n');
    from += static_cast<uint64_t>(n);
  }
  return lines;
}

absl::StatusOr<std::optional<std::string_view>> RecordFile::NextLine(bool final) {
  while (true) {
    const size_t from = cursor_ - buffer_offset_;
    size_t newline = buffer_.find('\n', from);
    if (newline != std::string::npos) {
      std::string_view line(buffer_.data() + from, newline + 1 - from);
      cursor_ += line.size();
      ++cursor_line_;
      return line;
    }
    // Keep what the record in progress may need again; read more.
    buffer_.erase(0, offset_ - buffer_offset_);
    buffer_offset_ = offset_;
    const size_t had = buffer_.size();
    buffer_.resize(had + kReadBytes);
    ssize_t n = pread(fd_, buffer_.data() + had, kReadBytes, buffer_offset_ + had);
    if (n < 0) return ErrnoError("cannot read", path_);
    buffer_.resize(had + static_cast<size_t>(n));
    if (n > 0) continue;
    const size_t rest = buffer_.size() - (cursor_ - buffer_offset_);
    if (!final || rest == 0) return std::nullopt;
    std::string_view line(buffer_.data() + (cursor_ - buffer_offset_), rest);
    cursor_ += rest;
    ++cursor_line_;
    return line;
  }
}

absl::StatusOr<std::optional<Record>> RecordFile::NextCsvRecord(bool final) {
  Record record;
  record.begin = offset_;
  record.line = line_;
  while (true) {
    absl::StatusOr<std::optional<std::string_view>> line = NextLine(final);
    if (!line.ok()) return line.status();
    if (!line->has_value()) {
      if (final && !record.text.empty()) {
        absl::StatusOr<bool> ended = csv_.Finish();
        if (!ended.ok()) record.error = ended.status();
        if (ended.ok() && *ended) record.fields = std::move(csv_.fields());
        break;
      }
      // The record is not all written yet: read it again from its start.
      csv_.Reset();
      cursor_ = offset_;
      cursor_line_ = line_;
      return std::nullopt;
    }
    record.text.append(**line);
    absl::StatusOr<CsvSplitter::LineEnd> end = csv_.FeedLine(**line);
    if (!end.ok()) {
      record.error = end.status();
      break;
    }
    if (*end == CsvSplitter::LineEnd::kRecord) {
      record.fields = std::move(csv_.fields());
      break;
    }
    if (*end == CsvSplitter::LineEnd::kBlank) {
      record.text.clear();
      offset_ = record.begin = cursor_;
      line_ = record.line = cursor_line_;
      continue;
    }
    if (record.text.size() > kMaxRecordBytes) {
      csv_.Reset();
      record.error = absl::InvalidArgumentError(
          StrCat("a quoted field is not closed within ", kMaxRecordBytes, " bytes"));
      break;
    }
  }
  offset_ = record.end = cursor_;
  line_ = cursor_line_;
  return record;
}

absl::StatusOr<std::optional<Record>> RecordFile::NextRecord(bool final) {
  if (mapping_.format == FileFormat::kCsv) return NextCsvRecord(final);
  while (true) {
    absl::StatusOr<std::optional<std::string_view>> line = NextLine(final);
    if (!line.ok()) return line.status();
    if (!line->has_value()) return std::nullopt;
    Record record;
    record.begin = offset_;
    record.line = line_;
    record.text = std::string(**line);
    offset_ = record.end = cursor_;
    line_ = cursor_line_;
    if (record.text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    return record;
  }
}

absl::StatusOr<std::optional<Record>> RecordFile::Next(bool final) {
  while (true) {
    absl::StatusOr<std::optional<Record>> record = NextRecord(final);
    if (!record.ok() || !record->has_value()) return record;
    if (mapping_.format == FileFormat::kCsv && mapping_.header && !header_read_) {
      if (!(*record)->error.ok()) {
        return absl::InvalidArgumentError(
            StrCat(path_, " line ", (*record)->line, ": the header: ", (*record)->error.message()));
      }
      header_ = std::move((*record)->fields);
      header_read_ = true;
      continue;
    }
    if (fingerprint_.empty()) fingerprint_ = storage::ToHex(storage::Sha256((*record)->text));
    return record;
  }
}

}  // namespace innsyn::ctl::forward
