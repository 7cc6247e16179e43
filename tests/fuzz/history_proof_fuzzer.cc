// Fuzzes the check of a history's completeness proof, as innsynctl runs it
// on whatever a server sends: the map root, the space, the pseudonym, the
// map proof and the history's entries all come from the input. The check
// must refuse nonsense, never crash.
//
// Input: space (1 byte: odd for an actor) || map root (32) || pseudonym (16)
// || map proof length (2, big-endian) || MapProof || then entries, each as
// contents hash (32) || length (2, big-endian) || header bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/subject_map.h"

namespace {

std::string_view Take(std::string_view& input, size_t n) {
  std::string_view part = input.substr(0, n);
  input.remove_prefix(part.size());
  return part;
}

size_t TakeLength(std::string_view& input) {
  std::string_view bytes = Take(input, 2);
  if (bytes.size() < 2) return 0;
  return static_cast<size_t>(static_cast<uint8_t>(bytes[0])) << 8 | static_cast<uint8_t>(bytes[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using innsyn::storage::MapSpace;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view space = Take(input, 1);
  innsyn::storage::Hash root{};
  const std::string_view root_bytes = Take(input, root.size());
  std::copy(root_bytes.begin(), root_bytes.end(), root.begin());
  const std::string pseudonym(Take(input, 16));
  innsyn::v1::MapProof proof;
  const std::string_view proof_bytes = Take(input, TakeLength(input));
  if (!proof.ParseFromArray(proof_bytes.data(), static_cast<int>(proof_bytes.size()))) return 0;
  std::vector<innsyn::storage::GivenHeader> chain;
  while (!input.empty() && chain.size() < 512) {
    const std::string_view contents_hash = Take(input, 32);
    chain.push_back({Take(input, TakeLength(input)), contents_hash});
  }
  const MapSpace which = !space.empty() && (space[0] & 1) ? MapSpace::kActor : MapSpace::kSubject;
  (void)innsyn::storage::VerifyHistory(root, which, pseudonym, proof, chain);
  std::optional<innsyn::storage::Hash> key = innsyn::storage::HashFromBytes(proof.key());
  if (key) (void)innsyn::storage::VerifyMapProof(root, *key, proof);
  return 0;
}
