// Where `innsynctl forward` got to in the file it follows, kept in a small
// JSON state file that is replaced atomically (written to a temporary file,
// fsynced, renamed over the old one, the folder fsynced), and only after
// innsynd has acknowledged the batch it covers: after a crash the file says
// either the old position or the new one, and nothing acknowledged is
// sent again but as a duplicate that innsynd recognises.
#ifndef INNSYN_CTL_FORWARD_POSITION_H_
#define INNSYN_CTL_FORWARD_POSITION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "ctl/forward/record_file.h"

namespace innsyn::ctl::forward {

struct Position {
  std::string path;         // the followed file's name when the position was saved
  FileIdentity identity;    // its device and inode
  std::string fingerprint;  // its first data record's hash; empty if none was read yet
  Start start;              // the first byte and line not yet acknowledged
  uint64_t events = 0;      // events acknowledged in total, for the record
  uint64_t rejected = 0;    // bad records set aside in total
};

// nullopt if there is no state file yet; an error if it cannot be read.
absl::StatusOr<std::optional<Position>> LoadPosition(const std::string& state_path);
absl::Status SavePosition(const std::string& state_path, const Position& position);

// Appends `text` to `path` and fsyncs it, creating the file if needed.
absl::Status AppendDurably(const std::string& path, std::string_view text);

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_POSITION_H_
