#include "ctl/forward/position.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/strings.h"

namespace innsyn::ctl::forward {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", path);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyncFolder(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  int fd = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open folder", folder);
  int synced = fsync(fd);
  close(fd);
  if (synced != 0) return ErrnoError("cannot fsync folder", folder);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<Position>> LoadPosition(const std::string& state_path) {
  if (!std::filesystem::exists(state_path)) return std::nullopt;
  std::ifstream in(state_path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) return ErrnoError("cannot read", state_path);
  try {
    nlohmann::json json = nlohmann::json::parse(text.str());
    Position position;
    position.path = json.at("path").get<std::string>();
    position.identity.device = json.at("device").get<dev_t>();
    position.identity.inode = json.at("inode").get<ino_t>();
    position.fingerprint = json.at("fingerprint").get<std::string>();
    position.start.offset = json.at("offset").get<uint64_t>();
    position.start.line = json.at("line").get<uint64_t>();
    position.events = json.at("events").get<uint64_t>();
    position.rejected = json.at("rejected").get<uint64_t>();
    return position;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(StrCat("state file ", state_path, " is damaged: ", e.what()));
  }
}

absl::Status SavePosition(const std::string& state_path, const Position& position) {
  nlohmann::json json = {{"path", position.path},
                         {"device", position.identity.device},
                         {"inode", position.identity.inode},
                         {"fingerprint", position.fingerprint},
                         {"offset", position.start.offset},
                         {"line", position.start.line},
                         {"events", position.events},
                         {"rejected", position.rejected}};
  const std::string temporary = state_path + ".tmp";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  absl::Status written = WriteAll(fd, json.dump() + "\n", temporary);
  if (written.ok() && fsync(fd) != 0) written = ErrnoError("cannot fsync", temporary);
  close(fd);
  if (!written.ok()) return written;
  if (rename(temporary.c_str(), state_path.c_str()) != 0) {
    return ErrnoError("cannot rename over", state_path);
  }
  return SyncFolder(state_path);
}

absl::Status AppendDurably(const std::string& path, std::string_view text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot open", path);
  absl::Status written = WriteAll(fd, text, path);
  if (written.ok() && fsync(fd) != 0) written = ErrnoError("cannot fsync", path);
  close(fd);
  return written;
}

}  // namespace innsyn::ctl::forward
