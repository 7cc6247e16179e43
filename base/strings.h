// Small string helpers shared by innsyn's modules. Debian's Abseil is built
// with its own string_view type, so absl::StrCat and absl::StrSplit do not
// take std::string_view; these do, and format absl::string_view too.
#ifndef INNSYN_BASE_STRINGS_H_
#define INNSYN_BASE_STRINGS_H_

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(absl::string_view text, Context& context) const {
    return fmt::formatter<std::string_view>::format(std::string_view(text.data(), text.size()),
                                                    context);
  }
};

namespace innsyn {

// Concatenates the text form of each argument.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

// Splits at every `separator`; keeps empty pieces.
inline std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// A decimal number with nothing else around it and no leading zero.
inline std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace innsyn

#endif  // INNSYN_BASE_STRINGS_H_
