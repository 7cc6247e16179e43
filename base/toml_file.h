// Reads a TOML file (the config, the roster) into a table, or says which
// file and line it could not read, as one InvalidArgument for every reader.
#ifndef INNSYN_BASE_TOML_FILE_H_
#define INNSYN_BASE_TOML_FILE_H_

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/strings.h"

namespace innsyn {

// `what` names the file's role in the message: "config /etc/innsyn/innsynd.toml:
// Error while parsing key: expected bare key starting character at line 3".
inline absl::StatusOr<toml::table> ParseTomlFile(std::string_view what, const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        StrCat(what, " ", path, ": ", e.description(), " at line ", e.source().begin.line));
  }
}

}  // namespace innsyn

#endif  // INNSYN_BASE_TOML_FILE_H_
