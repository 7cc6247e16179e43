// The subject map: its heads in RocksDB, its inner nodes in memory (see
// storage/subject_map.h for its hashing). Private to storage/.
//
// Layout, in the `map` column family:
//   'H' space(1) pseudonym(16)  -> seq(8) count(8) entry_hash(32): a history's head
// and in `meta`: "map" -> tree size(8) child (the root), "map/" size(8) ->
// the root hash after the group that ended at that size. A child is
// type(1) hash(32), and for a leaf also key(32) seq(8) count(8)
// entry_hash(32); type 0 empty, 1 leaf, 2 inner.
//
// The inner nodes are not stored: the heads hold every leaf, and the inner
// nodes follow from the leaves. The writer builds them when the ledger is
// opened, checks that they give the stored root, and keeps them up to date
// in memory, one group commit at a time. A group's map shares every subtree
// it did not change with the map before it, and no node changes once made,
// so a reader keeps the map it started from for as long as it needs it.
// Leaves are never removed: a history only grows, even when erased.
#ifndef INNSYN_STORAGE_INTERNAL_MAP_STORE_H_
#define INNSYN_STORAGE_INTERNAL_MAP_STORE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/subject_map.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace innsyn::storage::internal {

inline constexpr char kMapFamily[] = "map";
inline constexpr char kMapHead = 'H';
inline constexpr std::string_view kMetaMap = "map";
inline constexpr std::string_view kMetaMapHistory = "map/";

// A history's id, space(1) pseudonym(16), as a value: its head's key
// without the 'H', and the group writer's key of its head in memory. The
// pseudonym is always 16 bytes.
using HistoryKey = std::array<char, 17>;
HistoryKey MakeHistoryKey(MapSpace space, std::string_view pseudonym);
inline std::string_view View(const HistoryKey& key) { return {key.data(), key.size()}; }
// The head's key in the map family: 'H' and the history's id. SetHeadKey
// writes it into `out` (cleared first), for a writer that reuses a buffer.
std::string HeadKey(std::string_view history_id);
void SetHeadKey(std::string& out, std::string_view history_id);
// A stored head: its history's id (a view into the key) and its value.
struct StoredHead {
  std::string_view history_id;
  MapSpace space;
  MapValue value;
};
// A head as the map family stores it (HeadKey, EncodeMapValue), or nullopt
// when the key or the value is not one.
std::optional<StoredHead> DecodeHead(std::string_view key, std::string_view value);
std::string EncodeMapValue(const MapValue& value);
void AppendMapValue(std::string& out, const MapValue& value);
std::optional<MapValue> DecodeMapValue(std::string_view bytes);
std::string MapRootHistoryKey(uint64_t tree_size);

struct MapNode;

// One subtree below an inner node, or the root.
struct MapChild {
  enum Type : uint8_t { kEmpty = 0, kLeaf = 1, kInner = 2 };
  Type type = kEmpty;
  Hash hash{};     // kZeroHash when empty
  Hash key{};      // a leaf's
  MapValue value;  // a leaf's
  // An inner one's two children, in memory; null in a root decoded from
  // its stored bytes.
  std::shared_ptr<const MapNode> node;
};

struct MapNode {
  MapChild left, right;
};

// The stored root ("map" in meta): the tree size it is for, and the child.
struct MapRoot {
  uint64_t tree_size = 0;
  MapChild root;
};
std::string EncodeMapRoot(const MapRoot& root);
absl::StatusOr<MapRoot> DecodeMapRoot(std::string_view bytes);

// Keeps the map, one group commit at a time: written by the committing
// thread alone, which writes groups in order; read by any thread, which
// sees the map as the last committed group left it.
class MapWriter {
 public:
  struct Change {
    Hash key;
    MapValue value;
  };
  // The map of `heads` (any order; one per key), which must give `root`:
  // DataLoss if they do not.
  static absl::StatusOr<std::unique_ptr<MapWriter>> Load(MapRoot root, std::vector<Change> heads);
  // The same map, with its nodes, for the tree of `tree_size` entries.
  static absl::StatusOr<MapRoot> Rebuild(const Hash& root, uint64_t tree_size,
                                         std::vector<Change> heads);

  // Puts into `batch` (family `meta`) the root after `updates` (any order;
  // one per key) for the tree of `tree_size` entries. Nothing changes for
  // readers until Commit().
  absl::Status Apply(std::vector<Change> updates, uint64_t tree_size, rocksdb::WriteBatch& batch,
                     rocksdb::ColumnFamilyHandle* meta);
  // The batch of the last Apply is durable.
  void Commit();
  // It failed: forget what Apply made.
  void Abandon();
  // The committed map's size and root.
  MapRoot Root() const;

  // The committed root, and the path to `key` and what ends it, of one map.
  struct Proof {
    MapRoot root;
    v1::MapProof proof;
  };
  absl::StatusOr<Proof> Prove(const Hash& key) const;
  // The same, in the map `root` (one Rebuild made).
  static absl::StatusOr<Proof> ProveIn(MapRoot root, const Hash& key);
  // Every head stored in the map family `map` of `db`: the change that
  // puts it in the map, its space and its history's id.
  struct Head {
    MapSpace space;
    HistoryKey id;
    Change change;
  };
  static absl::StatusOr<std::vector<Head>> ReadHeads(rocksdb::DB& db,
                                                     rocksdb::ColumnFamilyHandle* map);

 private:
  explicit MapWriter(MapRoot root) : root_(std::move(root)) {}
  static absl::StatusOr<MapChild> Update(int depth, const MapChild& current,
                                         absl::Span<const Change> updates);
  static MapChild Build(int depth, absl::Span<const Change> leaves);

  mutable absl::Mutex mu_;
  // The committed map, whose nodes are never changed: Prove takes a copy
  // of it under the lock and reads its nodes without.
  MapRoot root_ ABSL_GUARDED_BY(mu_);
  // What the current Apply made: the committing thread's alone.
  std::optional<MapRoot> pending_root_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_MAP_STORE_H_
