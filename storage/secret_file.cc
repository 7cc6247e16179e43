#include "storage/internal/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/strings.h"

namespace innsyn::storage::internal {
namespace {

constexpr mode_t kSecretMode = 0600;
constexpr mode_t kGroupOrOtherBits = 0077;

std::string Folder(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

bool WriteAll(int fd, const std::string& contents) {
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(StrCat(path, " does not exist"));
    return absl::PermissionDeniedError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::PermissionDeniedError(StrCat(path, " is not a regular file"));
  }
  if ((info.st_mode & kGroupOrOtherBits) != 0) {
    ::close(fd);
    return absl::PermissionDeniedError(StrCat(path, " may be read by others (mode ",
                                              fmt::format("{:04o}", info.st_mode & 07777),
                                              "); make it 0600"));
  }
  std::string contents(kMaxSecretFileBytes, '\0');
  ssize_t n = ::read(fd, contents.data(), contents.size());
  ::close(fd);
  if (n < 0) return absl::DataLossError(StrCat("cannot read ", path));
  contents.resize(static_cast<size_t>(n));
  return contents;
}

absl::Status WriteSecretFile(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover must not lend its mode or target
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kSecretMode);
  if (fd < 0) {
    return absl::PermissionDeniedError(StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  bool written = ::fchmod(fd, kSecretMode) == 0 && WriteAll(fd, contents) && ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  int dir = ::open(Folder(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace innsyn::storage::internal
