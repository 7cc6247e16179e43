// The subject map: a sparse Merkle tree that commits, in every signed
// checkpoint, to the latest entry of each subject's history and of each
// actor's, so that an answer to "who accessed my data" can be proven
// complete (README, "Complete answers"). This header holds what a verifier
// needs: the map's hashing and the check of a proof. All functions are pure
// and thread-safe.
//
//   key   = SHA-256(space || pseudonym)        space 'S' (subject) or 'A' (actor)
//   leaf  = SHA-256(0x02 || key || seq (8, big-endian) || count (8) || entry_hash)
//   node  = SHA-256(0x03 || left || right)
//   empty = 32 zero bytes
//
// A history links its entries, and the map names its newest, by header
// hash, which a client computes from the clear header and a hash of the
// contents, without the contents themselves:
//   header hash = SHA-256(0x04 || SHA-256(contents) || H)
// where contents is the value of E_seq's field 9 (sealed) or 10 (clear) and
// H is E_seq without that field.
//
// The tree is 256 levels deep, bit 0 of the key (its first byte's highest
// bit) choosing the side at the root. A subtree that holds one leaf hashes
// to that leaf's hash (it is not extended to the bottom); one that holds
// none is empty.
#ifndef INNSYN_STORAGE_SUBJECT_MAP_H_
#define INNSYN_STORAGE_SUBJECT_MAP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"

namespace innsyn::storage {

// Whose history a map key stands for.
enum class MapSpace : char { kSubject = 'S', kActor = 'A' };

// A history's state: its latest entry (seq and header hash) and its length.
struct MapValue {
  uint64_t seq = 0;
  uint64_t count = 0;
  Hash entry_hash{};
  friend bool operator==(const MapValue&, const MapValue&) = default;
};

inline constexpr int kMapDepth = 256;

Hash MapKey(MapSpace space, std::string_view pseudonym);
Hash MapLeafHash(const Hash& key, const MapValue& value);
Hash MapNodeHash(const Hash& left, const Hash& right);
// Bit `depth` of `key`: 0 goes left, 1 right.
inline bool MapKeyBit(const Hash& key, int depth) {
  return (key[depth / 8] >> (7 - depth % 8)) & 1;
}

// The root of the map holding exactly `histories` (map key and value, in
// any order; keys distinct).
Hash MapRootOf(std::vector<std::pair<Hash, MapValue>> histories);

// Checks `proof` for `key` against the map root `root`: the key's value if
// the proof shows it present, nullopt if it shows it absent, or an error
// (InvalidArgument for a malformed proof, FailedPrecondition for one that
// does not lead to `root`) saying what did not match.
absl::StatusOr<std::optional<MapValue>> VerifyMapProof(const Hash& root, const Hash& key,
                                                       const v1::MapProof& proof);

// An entry split as a history proof carries it: H, and the contents' hash.
struct EntryHeaderBytes {
  std::string header;  // E_seq without field 9 or 10
  Hash contents_hash{};
};
Hash HeaderHash(const Hash& contents_hash, std::string_view header_bytes);
// From E_seq's bytes; InvalidArgument if they are not protobuf wire format.
absl::StatusOr<EntryHeaderBytes> SplitEntry(std::string_view entry_bytes);
// The header hash of E_seq's bytes, cut where they lie without copying
// them; InvalidArgument if they are not protobuf wire format.
absl::StatusOr<Hash> HeaderHashOf(std::string_view entry_bytes);

// A header's link fields for one history: the pseudonym it names there,
// its count, and the seq and header hash of the entry before it.
struct HeaderLinks {
  std::string_view pseudonym;
  uint64_t count = 0;
  uint64_t prev = 0;
  std::string_view prev_hash;
};
HeaderLinks LinksIn(const v1::SealedEntry& header, MapSpace space);
// Whether the entry joins that history: access events join their subject's
// and their actor's, erasures their subject's; other kinds join none.
bool InHistory(const v1::SealedEntry& header, MapSpace space);
// Makes `header` the next entry of a history whose head was `head` (count
// 0: a history not begun).
void LinkAfter(v1::SealedEntry& header, MapSpace space, const MapValue& head);

// One entry of a history, checked.
struct HistoryLink {
  uint64_t seq = 0;
  Hash header_hash{};
  v1::SealedEntry header;  // its clear header (`sealed` and `clear` absent)
};

// An entry of a history as a proof gives it: H (E_seq without its
// contents) and the hash of the contents.
struct GivenHeader {
  std::string_view header;
  std::string_view contents_hash;
};

// Checks a whole history against the map root of a signed checkpoint: the
// map proof for (space, pseudonym), then each entry in `chain` (newest
// first), which must hash to what the map leaf or the entry after it names,
// say the seq and count expected, name the pseudonym, and link to the next,
// down to the history's first entry. Returns the entries, newest first
// (none when the proof shows the history absent), or FailedPrecondition
// saying what did not match.
absl::StatusOr<std::vector<HistoryLink>> VerifyHistory(const Hash& map_root, MapSpace space,
                                                       std::string_view pseudonym,
                                                       const v1::MapProof& proof,
                                                       const std::vector<GivenHeader>& chain);

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_SUBJECT_MAP_H_
