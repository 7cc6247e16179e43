// The subject map in RocksDB (see storage/subject_map.h for its hashing).
// Private to storage/.
//
// Layout, in the `map` column family:
//   'H' space(1) pseudonym(16)  -> seq(8) count(8) entry_hash(32): a history's head
//   'N' depth(1) prefix         -> the two children of an inner node
// and in `meta`: "map" -> tree size(8) child (the root), "map/" size(8) ->
// the root hash after the group that ended at that size.
// A node's prefix is the first ceil(depth/8) bytes of its keys, the bits
// from `depth` on zeroed. A child is type(1) hash(32), and for a leaf also
// key(32) seq(8) count(8) entry_hash(32); type 0 empty, 1 leaf, 2 inner.
// Leaves are never removed: a history only grows, even when erased.
#ifndef INNSYN_STORAGE_INTERNAL_MAP_STORE_H_
#define INNSYN_STORAGE_INTERNAL_MAP_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/subject_map.h"

namespace rocksdb {
class WriteBatch;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace innsyn::storage::internal {

inline constexpr char kMapFamily[] = "map";
inline constexpr char kMapHead = 'H';
inline constexpr char kMapNode = 'N';
inline constexpr std::string_view kMetaMap = "map";
inline constexpr std::string_view kMetaMapHistory = "map/";

// The head key of a history: space(1) pseudonym(16), without the 'H'.
inline std::string HistoryId(MapSpace space, std::string_view pseudonym) {
  std::string id(1, static_cast<char>(space));
  id.append(pseudonym);
  return id;
}
std::string HeadKey(std::string_view history_id);
std::string EncodeMapValue(const MapValue& value);
std::optional<MapValue> DecodeMapValue(std::string_view bytes);
std::string MapRootHistoryKey(uint64_t tree_size);

// One subtree below an inner node, or the root.
struct MapChild {
  enum Type : uint8_t { kEmpty = 0, kLeaf = 1, kInner = 2 };
  Type type = kEmpty;
  Hash hash{};     // kZeroHash when empty
  Hash key{};      // a leaf's
  MapValue value;  // a leaf's
};

// Reads a stored value of the map family ("" key suffix included), or
// NotFound.
using MapReader = std::function<absl::StatusOr<std::string>(std::string_view key)>;

// The stored root ("map" in meta): the tree size it is for, and the child.
struct MapRoot {
  uint64_t tree_size = 0;
  MapChild root;
};
std::string EncodeMapRoot(const MapRoot& root);
absl::StatusOr<MapRoot> DecodeMapRoot(std::string_view bytes);

// The path to `key` and what ends it, read through `read` (a snapshot's
// reads, so that every node is of the same tree as `root`).
absl::StatusOr<v1::MapProof> ProveMapKey(const MapChild& root, const Hash& key,
                                         const MapReader& read);

// Walks the stored inner nodes from `root` through `read` (a snapshot's
// reads): every inner node's hash is its children's, every leaf's its key's
// and value's, each leaf lies on its key's path and holds the value
// `expected` has for its key, every key of `expected` is a leaf, and the
// walk reaches all `stored_nodes` inner nodes the map family holds. What is
// wrong first, or nullopt.
std::optional<std::string> CheckStoredNodes(const MapChild& root, const MapReader& read,
                                            const absl::flat_hash_map<Hash, MapValue>& expected,
                                            size_t stored_nodes);

// Keeps the map up to date, one group commit at a time. Used by the
// committing thread alone, which writes groups in order, so that every node
// it reads is of the tree as the group before left it. Inner nodes are kept
// in memory once read or written, up to a bound.
class MapWriter {
 public:
  MapWriter(MapRoot root, MapReader read) : root_(std::move(root)), read_(std::move(read)) {}

  struct Change {
    Hash key;
    MapValue value;
  };
  // Puts into `batch` (family `map`, and `meta`) the nodes and the root
  // after `updates` (any order; one per key) for the tree of `tree_size`
  // entries. Nothing changes in memory until Commit().
  absl::Status Apply(std::vector<Change> updates, uint64_t tree_size, rocksdb::WriteBatch& batch,
                     rocksdb::ColumnFamilyHandle* map, rocksdb::ColumnFamilyHandle* meta);
  // The batch of the last Apply is durable.
  void Commit();
  // It failed: forget what Apply cached.
  void Abandon();
  const MapRoot& root() const { return root_; }

 private:
  struct Node {
    MapChild left, right;
  };
  absl::StatusOr<MapChild> Update(int depth, const MapChild& current,
                                  absl::Span<const Change> updates);
  MapChild Build(int depth, absl::Span<const Change> leaves);
  MapChild Store(int depth, const Hash& some_key, MapChild left, MapChild right);
  absl::StatusOr<Node> ReadNode(int depth, const Hash& some_key);

  MapRoot root_;
  MapReader read_;
  absl::flat_hash_map<std::string, Node> cache_;
  // What the current Apply writes, by node key.
  absl::flat_hash_map<std::string, Node> written_;
  std::optional<MapRoot> pending_root_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_MAP_STORE_H_
