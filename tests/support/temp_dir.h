// A fresh folder under $TMPDIR, removed with everything in it when the
// object goes out of scope; and reading a file the tests made there.
#ifndef INNSYN_TESTS_SUPPORT_TEMP_DIR_H_
#define INNSYN_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace innsyn::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole of the file at `path`, as bytes; empty if it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_TEMP_DIR_H_
