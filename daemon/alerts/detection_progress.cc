#include "daemon/alerts/detection_progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/strings.h"
#include "storage/hash.h"

namespace innsyn::daemon {
namespace {

absl::Status WriteDurably(const std::string& path, const std::string& contents) {
  const std::string temporary = path + ".tmp";
  const int fd =
      open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::UnavailableError(StrCat("cannot write ", temporary, ": ", strerror(errno)));
  const bool written =
      write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      fsync(fd) == 0;
  close(fd);
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

DetectionProgress::DetectionProgress(std::string path, const storage::Ledger& ledger)
    : path_(std::move(path)), ledger_(ledger) {}

absl::StatusOr<uint64_t> DetectionProgress::Load() const {
  std::ifstream in(path_);
  if (path_.empty() || !in) return absl::NotFoundError(StrCat("no detection mark in ", path_));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string_view> fields = Split(text, ' ');
  std::optional<uint64_t> seq = fields.size() == 2 ? ParseDecimal(fields[0]) : std::nullopt;
  std::string_view hash = fields.size() == 2 ? fields[1] : std::string_view();
  if (!hash.empty() && hash.back() == '\n') hash.remove_suffix(1);
  if (!seq || hash.size() != 64) {
    return absl::FailedPreconditionError(StrCat(path_, " is not a detection mark"));
  }
  if (*seq == 0) return 0;
  if (*seq > ledger_.Size()) {
    return absl::FailedPreconditionError(
        StrCat(path_, " marks entry ", *seq, " judged, but the ledger has ", ledger_.Size()));
  }
  absl::StatusOr<std::vector<storage::Hash>> leaf = ledger_.LeafHashes(*seq - 1, 1);
  if (!leaf.ok()) return leaf.status();
  if (leaf->size() != 1 || storage::ToHex(leaf->front()) != hash) {
    return absl::FailedPreconditionError(
        StrCat(path_, " belongs to another ledger: entry ", *seq - 1, "'s leaf hash differs"));
  }
  return *seq;
}

absl::Status DetectionProgress::Save(uint64_t judged_through, absl::Time now,
                                     absl::Duration interval, bool force) {
  if (path_.empty() || judged_through == saved_) return absl::OkStatus();
  if (!force && now - last_save_ < interval) return absl::OkStatus();
  last_save_ = now;
  std::string hash(64, '0');
  if (judged_through > 0) {
    absl::StatusOr<std::vector<storage::Hash>> leaf = ledger_.LeafHashes(judged_through - 1, 1);
    if (!leaf.ok()) return leaf.status();
    if (leaf->size() != 1) return absl::OutOfRangeError(StrCat("no entry ", judged_through - 1));
    hash = storage::ToHex(leaf->front());
  }
  if (absl::Status s = WriteDurably(path_, StrCat(judged_through, " ", hash, "\n")); !s.ok()) {
    return s;
  }
  saved_ = judged_through;
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
