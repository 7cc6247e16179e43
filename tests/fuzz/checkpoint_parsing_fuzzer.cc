// Fuzzes checkpoint parsing: a signed note checked against a verifier key,
// and verifier keys themselves, both taken from untrusted files and servers.
// The input is split at its first 0xff byte: a key before, a note after;
// without one the whole input is tried as a note against a fixed key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/checkpoint.h"

namespace {

// A well-formed key (Go's sumdb/note test vector), so that notes get past
// key parsing and into the signature and body checks.
constexpr std::string_view kVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\xff');
  if (split == std::string_view::npos) {
    (void)innsyn::storage::VerifyCheckpointNote(input, kVerifierKey);
    return 0;
  }
  std::string_view key = input.substr(0, split);
  std::string_view note = input.substr(split + 1);
  (void)innsyn::storage::ParseVerifierKey(key);
  (void)innsyn::storage::VerifyCheckpointNote(note, key);
  return 0;
}
