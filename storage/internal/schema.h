// The ledger's RocksDB layout. Private to storage/.
//
// Column families (all keys big-endian so that they sort by number):
//   entries  seq(8)                         -> E_seq, the exact hashed bytes
//   chain    tile-index(8)                  -> chain_seq of every seq from
//            256 × tile-index on, concatenated (32 bytes each, 1 to 256 of
//            them); grows by appends like a tree tile
//   tree     tile-level(1) tile-index(8)    -> a C2SP tlog-tiles tile: the
//            hashes at tree level 8 × tile-level from node 256 × tile-index
//            on, concatenated (32 bytes each, 1 to 256 of them); a tile
//            grows under its key by appends, merge operands that the
//            family's operator joins (tree_tiles.h)
//   index    'S' subject-pseudonym(16) hour(8) seq(8) -> ""  (access events, erasures)
//            'A' actor-pseudonym(16)   hour(8) seq(8) -> ""
//            'Q' subject-pseudonym(16) hour(8) seq(8) -> ""  (queries about a subject)
//            'L' hour(8) seq(8) -> ""  (alerts and their decisions)
//            'E' hour(8) seq(8) -> ""  (erasures and retention runs)
//            'K' key-id '\0' seq(8) -> ""  (sealed entries no subject index finds)
//   dedupe   event-pseudonym(16)                     -> seq(8)
//   meta     "size" -> tree size(8); "checkpoint" -> the latest v1::Checkpoint;
//            "checkpoint/" size(8) -> every checkpoint stored, by tree size;
//            "format" -> the entry format's version (kEntryFormat);
//            "map", "map/" size(8) -> the subject map's root (map_store.h)
//   map      the subject map's heads and nodes (map_store.h)
// Hours are the clear header's (SealedEntry.hour), as nanoseconds since the
// epoch with the sign bit flipped, like every time in a key.
#ifndef INNSYN_STORAGE_INTERNAL_SCHEMA_H_
#define INNSYN_STORAGE_INTERNAL_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace innsyn::storage::internal {

// Folders in the data folder: the ledger's RocksDB and the key store's.
inline constexpr char kDatabaseFolder[] = "ledger";
inline constexpr char kKeyStoreFolder[] = "keystore";

inline constexpr char kEntriesFamily[] = "entries";
inline constexpr char kChainFamily[] = "chain";
inline constexpr char kTreeFamily[] = "tree";
inline constexpr char kIndexFamily[] = "index";
inline constexpr char kDedupeFamily[] = "dedupe";
inline constexpr char kMetaFamily[] = "meta";

inline constexpr char kSubjectIndex = 'S';
inline constexpr char kActorIndex = 'A';
inline constexpr char kSubjectQueryIndex = 'Q';
inline constexpr char kAlertIndex = 'L';
inline constexpr char kErasureIndex = 'E';
inline constexpr char kDataKeyIndex = 'K';
inline constexpr char kBaselineIndex = 'B';

inline constexpr std::string_view kMetaSize = "size";
inline constexpr std::string_view kMetaCheckpoint = "checkpoint";
inline constexpr std::string_view kMetaCheckpointHistory = "checkpoint/";
inline constexpr std::string_view kMetaFormat = "format";
// Entries are SealedEntry messages with their subject's and actor's
// history links, by header hash, and the subject map is kept. A ledger
// without this mark holds plain LedgerEntry messages; format 2 had no
// history links, format 3 linked by leaf hash, format 4 gave every sealed
// entry a 'K' index key, format 5 stored the tree one key per node, format 6
// stored a chain key per entry. This version reads none of them.
inline constexpr std::string_view kEntryFormat = "7";

// Chain hashes per key of the chain family: a group appends to one or two
// keys instead of putting a key per entry.
inline constexpr uint64_t kChainTileWidth = 256;

inline void AppendBigEndian64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(value >> shift & 0xff));
  }
}

inline uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline std::string SeqKey(uint64_t seq) {
  std::string key;
  AppendBigEndian64(key, seq);
  return key;
}

// The chain family's key that holds chain_seq.
inline std::string ChainTileKey(uint64_t seq) { return SeqKey(seq / kChainTileWidth); }

inline std::string CheckpointHistoryKey(uint64_t tree_size) {
  std::string key(kMetaCheckpointHistory);
  AppendBigEndian64(key, tree_size);
  return key;
}

inline std::string TileKey(int tile_level, uint64_t tile_index) {
  std::string key(1, static_cast<char>(tile_level));
  AppendBigEndian64(key, tile_index);
  return key;
}

inline uint64_t SortableTime(absl::Time time) {
  return static_cast<uint64_t>(absl::ToUnixNanos(time)) ^ (uint64_t{1} << 63);
}

// prefix(1) [pseudonym(16)] time(8) seq(8)
inline std::string IndexKey(char prefix, std::string_view pseudonym, absl::Time time,
                            uint64_t seq) {
  std::string key(1, prefix);
  key.append(pseudonym);
  AppendBigEndian64(key, SortableTime(time));
  AppendBigEndian64(key, seq);
  return key;
}

// 'K' key-id '\0': the start of the data-key index keys of `key_id`.
inline void AssignDataKeyIndexPrefix(std::string& out, std::string_view key_id) {
  out.assign(1, kDataKeyIndex);
  out.append(key_id);
  out.push_back('\0');
}

inline void AppendDedupeKey(std::string& out, std::string_view system, std::string_view instance,
                            std::string_view event_id) {
  out.append(system);
  out.push_back('/');
  out.append(instance);
  out.push_back('\0');
  out.append(event_id);
}

inline std::string DedupeKey(std::string_view system, std::string_view instance,
                             std::string_view event_id) {
  std::string key;
  AppendDedupeKey(key, system, instance, event_id);
  return key;
}

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_SCHEMA_H_
