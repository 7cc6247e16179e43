#include "storage/internal/map_store.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {
namespace {

// Inner nodes kept in memory by the writer; about 170 bytes each.
constexpr size_t kMaxCachedNodes = 1 << 17;
constexpr size_t kChildBytes = 1 + kHashBytes;
constexpr size_t kLeafChildBytes = kChildBytes + kHashBytes + 16 + kHashBytes;

std::string NodeKey(int depth, const Hash& some_key) {
  std::string key(1, kMapNode);
  key.push_back(static_cast<char>(depth));
  const int bytes = (depth + 7) / 8;
  key.append(reinterpret_cast<const char*>(some_key.data()), bytes);
  if (depth % 8 != 0) key.back() = static_cast<char>(key.back() & (0xff << (8 - depth % 8)));
  return key;
}

void AppendChild(std::string& out, const MapChild& child) {
  out.push_back(static_cast<char>(child.type));
  out.append(AsBytes(child.hash));
  if (child.type == MapChild::kLeaf) {
    out.append(AsBytes(child.key));
    out.append(EncodeMapValue(child.value));
  }
}

// Reads one child from the front of `bytes`, and drops it from there.
absl::StatusOr<MapChild> TakeChild(std::string_view& bytes) {
  auto corrupt = [] { return absl::DataLossError("a stored node of the subject map is corrupt"); };
  if (bytes.size() < kChildBytes) return corrupt();
  MapChild child;
  const uint8_t type = static_cast<uint8_t>(bytes[0]);
  if (type > MapChild::kInner) return corrupt();
  child.type = static_cast<MapChild::Type>(type);
  child.hash = *HashFromBytes(bytes.substr(1, kHashBytes));
  if (child.type != MapChild::kLeaf) {
    bytes.remove_prefix(kChildBytes);
    return child;
  }
  if (bytes.size() < kLeafChildBytes) return corrupt();
  child.key = *HashFromBytes(bytes.substr(kChildBytes, kHashBytes));
  std::optional<MapValue> value = DecodeMapValue(bytes.substr(kChildBytes + kHashBytes, 48));
  if (!value) return corrupt();
  child.value = *value;
  bytes.remove_prefix(kLeafChildBytes);
  return child;
}

MapChild LeafChild(const Hash& key, const MapValue& value) {
  MapChild child;
  child.type = MapChild::kLeaf;
  child.key = key;
  child.value = value;
  child.hash = MapLeafHash(key, value);
  return child;
}

}  // namespace

std::string HeadKey(std::string_view history_id) {
  std::string key(1, kMapHead);
  key.append(history_id);
  return key;
}

std::string EncodeMapValue(const MapValue& value) {
  std::string out;
  AppendBigEndian64(out, value.seq);
  AppendBigEndian64(out, value.count);
  out.append(AsBytes(value.entry_hash));
  return out;
}

std::optional<MapValue> DecodeMapValue(std::string_view bytes) {
  if (bytes.size() != 16 + kHashBytes) return std::nullopt;
  MapValue value;
  value.seq = ReadBigEndian64(bytes);
  value.count = ReadBigEndian64(bytes.substr(8));
  value.entry_hash = *HashFromBytes(bytes.substr(16));
  return value;
}

std::string MapRootHistoryKey(uint64_t tree_size) {
  std::string key(kMetaMapHistory);
  AppendBigEndian64(key, tree_size);
  return key;
}

std::string EncodeMapRoot(const MapRoot& root) {
  std::string out;
  AppendBigEndian64(out, root.tree_size);
  AppendChild(out, root.root);
  return out;
}

absl::StatusOr<MapRoot> DecodeMapRoot(std::string_view bytes) {
  if (bytes.size() < 8) return absl::DataLossError("the stored subject map root is corrupt");
  MapRoot root;
  root.tree_size = ReadBigEndian64(bytes);
  bytes.remove_prefix(8);
  absl::StatusOr<MapChild> child = TakeChild(bytes);
  if (!child.ok()) return child.status();
  if (!bytes.empty()) return absl::DataLossError("the stored subject map root is corrupt");
  root.root = *child;
  return root;
}

namespace {

absl::StatusOr<std::pair<MapChild, MapChild>> ReadStoredNode(const MapReader& read,
                                                             const std::string& node_key) {
  absl::StatusOr<std::string> stored = read(node_key);
  if (absl::IsNotFound(stored.status())) {
    return absl::DataLossError(StrCat("the subject map lacks inner node ", ToHex(node_key)));
  }
  if (!stored.ok()) return stored.status();
  std::string_view bytes = *stored;
  absl::StatusOr<MapChild> left = TakeChild(bytes);
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right = TakeChild(bytes);
  if (!right.ok()) return right.status();
  if (!bytes.empty()) return absl::DataLossError("a stored node of the subject map is corrupt");
  return std::make_pair(*left, *right);
}

// The walk of CheckStoredNodes.
class NodeWalk {
 public:
  NodeWalk(const MapReader& read, const absl::flat_hash_map<Hash, MapValue>& expected)
      : read_(read), expected_(expected) {}

  std::optional<std::string> Child(const MapChild& child, int depth) {
    switch (child.type) {
      case MapChild::kEmpty:
        if (child.hash != kZeroHash) return Where(depth, "an empty subtree's hash is not zero");
        return std::nullopt;
      case MapChild::kLeaf: return Leaf(child, depth);
      case MapChild::kInner: return Inner(child, depth);
    }
    return Where(depth, "a child of unknown type");
  }

  size_t nodes() const { return nodes_; }
  size_t leaves() const { return leaves_; }

 private:
  std::optional<std::string> Leaf(const MapChild& child, int depth) {
    if (MapLeafHash(child.key, child.value) != child.hash) {
      return Where(depth, "a leaf's hash is not its key's and value's");
    }
    for (int d = 0; d < depth; ++d) {
      if (MapKeyBit(child.key, d) != MapKeyBit(path_, d)) {
        return Where(depth, "a leaf lies off its key's path");
      }
    }
    auto it = expected_.find(child.key);
    if (it == expected_.end()) return Where(depth, "a leaf no history has");
    if (it->second != child.value) {
      return Where(depth, StrCat("a leaf holds entry ", child.value.seq, ", count ",
                                 child.value.count, "; its history's head is entry ",
                                 it->second.seq, ", count ", it->second.count));
    }
    ++leaves_;
    return std::nullopt;
  }

  std::optional<std::string> Inner(const MapChild& child, int depth) {
    if (depth >= kMapDepth) return Where(depth, "the map is deeper than 256 levels");
    absl::StatusOr<std::pair<MapChild, MapChild>> node =
        ReadStoredNode(read_, NodeKey(depth, path_));
    if (!node.ok()) return StrCat(node.status().message());
    ++nodes_;
    if (MapNodeHash(node->first.hash, node->second.hash) != child.hash) {
      return Where(depth, "an inner node's hash is not its children's");
    }
    if (std::optional<std::string> left = Child(node->first, depth + 1)) return left;
    SetBit(depth, true);
    std::optional<std::string> right = Child(node->second, depth + 1);
    SetBit(depth, false);
    return right;
  }

  void SetBit(int depth, bool one) {
    uint8_t& byte = path_[static_cast<size_t>(depth / 8)];
    const uint8_t bit = static_cast<uint8_t>(0x80 >> (depth % 8));
    byte = one ? (byte | bit) : (byte & static_cast<uint8_t>(~bit));
  }

  std::string Where(int depth, std::string_view problem) const {
    return StrCat("the subject map's stored nodes: ", problem, " (depth ", depth, ", node ",
                  ToHex(NodeKey(depth, path_)), ")");
  }

  const MapReader& read_;
  const absl::flat_hash_map<Hash, MapValue>& expected_;
  Hash path_{};
  size_t nodes_ = 0;
  size_t leaves_ = 0;
};

}  // namespace

std::optional<std::string> CheckStoredNodes(const MapChild& root, const MapReader& read,
                                            const absl::flat_hash_map<Hash, MapValue>& expected,
                                            size_t stored_nodes) {
  NodeWalk walk(read, expected);
  if (std::optional<std::string> problem = walk.Child(root, 0)) return problem;
  if (walk.leaves() != expected.size()) {
    return StrCat("the subject map's stored nodes hold ", walk.leaves(),
                  " histories; the entries begin ", expected.size());
  }
  if (walk.nodes() != stored_nodes) {
    return StrCat("the subject map stores ", stored_nodes, " inner nodes, of which ", walk.nodes(),
                  " are on its paths");
  }
  return std::nullopt;
}

absl::StatusOr<v1::MapProof> ProveMapKey(const MapChild& root, const Hash& key,
                                         const MapReader& read) {
  v1::MapProof proof;
  proof.set_key(std::string(AsBytes(key)));
  MapChild at = root;
  for (int depth = 0; at.type == MapChild::kInner; ++depth) {
    if (depth >= kMapDepth) return absl::DataLossError("the subject map is deeper than 256 levels");
    absl::StatusOr<std::pair<MapChild, MapChild>> node = ReadStoredNode(read, NodeKey(depth, key));
    if (!node.ok()) return node.status();
    const bool right = MapKeyBit(key, depth);
    proof.add_siblings(std::string(AsBytes(right ? node->first.hash : node->second.hash)));
    at = right ? node->second : node->first;
  }
  if (at.type == MapChild::kLeaf) {
    v1::MapLeaf& leaf = *proof.mutable_leaf();
    leaf.set_key(std::string(AsBytes(at.key)));
    leaf.set_seq(at.value.seq);
    leaf.set_count(at.value.count);
    leaf.set_entry_hash(std::string(AsBytes(at.value.entry_hash)));
  }
  return proof;
}

absl::Status MapWriter::Apply(std::vector<Change> updates, uint64_t tree_size,
                              rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* map,
                              rocksdb::ColumnFamilyHandle* meta) {
  written_.clear();
  pending_root_.reset();
  std::sort(updates.begin(), updates.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  absl::StatusOr<MapChild> root = Update(0, root_.root, updates);
  if (!root.ok()) {
    written_.clear();
    return root.status();
  }
  std::vector<std::pair<std::string, const Node*>> nodes;
  nodes.reserve(written_.size());
  for (const auto& [key, node] : written_) nodes.emplace_back(key, &node);
  std::sort(nodes.begin(), nodes.end());
  std::string value;
  for (const auto& [key, node] : nodes) {
    value.clear();
    AppendChild(value, node->left);
    AppendChild(value, node->right);
    batch.Put(map, key, value);
  }
  pending_root_ = MapRoot{tree_size, *root};
  batch.Put(meta, kMetaMap, EncodeMapRoot(*pending_root_));
  batch.Put(meta, MapRootHistoryKey(tree_size), AsBytes(root->hash));
  return absl::OkStatus();
}

void MapWriter::Commit() {
  if (pending_root_) root_ = *std::move(pending_root_);
  pending_root_.reset();
  if (cache_.size() + written_.size() > kMaxCachedNodes) cache_.clear();
  for (auto& [key, node] : written_) cache_.insert_or_assign(key, node);
  written_.clear();
}

void MapWriter::Abandon() {
  pending_root_.reset();
  written_.clear();
}

absl::StatusOr<MapWriter::Node> MapWriter::ReadNode(int depth, const Hash& some_key) {
  const std::string key = NodeKey(depth, some_key);
  if (auto it = written_.find(key); it != written_.end()) return it->second;
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  absl::StatusOr<std::pair<MapChild, MapChild>> stored = ReadStoredNode(read_, key);
  if (!stored.ok()) return stored.status();
  Node node{stored->first, stored->second};
  if (cache_.size() >= kMaxCachedNodes) cache_.clear();
  cache_.emplace(key, node);
  return node;
}

absl::StatusOr<MapChild> MapWriter::Update(int depth, const MapChild& current,
                                           absl::Span<const MapWriter::Change> updates) {
  if (updates.empty()) return current;
  if (current.type != MapChild::kInner) {
    // An empty subtree or a single leaf: built anew from the updates and the
    // leaf that was there, unless it is one of them.
    std::vector<MapWriter::Change> leaves(updates.begin(), updates.end());
    if (current.type == MapChild::kLeaf) {
      auto at =
          std::lower_bound(leaves.begin(), leaves.end(), current.key,
                           [](const MapWriter::Change& u, const Hash& key) { return u.key < key; });
      if (at == leaves.end() || at->key != current.key) {
        leaves.insert(at, MapWriter::Change{current.key, current.value});
      }
    }
    return Build(depth, leaves);
  }
  if (depth >= kMapDepth) return absl::DataLossError("the subject map is deeper than 256 levels");
  absl::StatusOr<Node> node = ReadNode(depth, updates.front().key);
  if (!node.ok()) return node.status();
  const auto split = std::partition_point(
      updates.begin(), updates.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - updates.begin());
  absl::StatusOr<MapChild> left = Update(depth + 1, node->left, updates.subspan(0, left_count));
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right = Update(depth + 1, node->right, updates.subspan(left_count));
  if (!right.ok()) return right.status();
  return Store(depth, updates.front().key, *left, *right);
}

MapChild MapWriter::Build(int depth, absl::Span<const MapWriter::Change> leaves) {
  if (leaves.empty()) return MapChild{};
  if (leaves.size() == 1) return LeafChild(leaves.front().key, leaves.front().value);
  const auto split = std::partition_point(
      leaves.begin(), leaves.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - leaves.begin());
  MapChild left = Build(depth + 1, leaves.subspan(0, left_count));
  MapChild right = Build(depth + 1, leaves.subspan(left_count));
  return Store(depth, leaves.front().key, left, right);
}

MapChild MapWriter::Store(int depth, const Hash& some_key, MapChild left, MapChild right) {
  MapChild inner;
  inner.type = MapChild::kInner;
  inner.hash = MapNodeHash(left.hash, right.hash);
  written_.insert_or_assign(NodeKey(depth, some_key), Node{std::move(left), std::move(right)});
  return inner;
}

}  // namespace innsyn::storage::internal
