#include "storage/internal/map_store.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"
#include "rocksdb/iterator.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {
namespace {

constexpr size_t kChildBytes = 1 + kHashBytes;
constexpr size_t kLeafChildBytes = kChildBytes + kHashBytes + 16 + kHashBytes;

// An inner node's key in memory: depth(1) prefix, the prefix the first
// ceil(depth/8) bytes of its keys, the bits from `depth` on zeroed.
std::string NodeKey(int depth, const Hash& some_key) {
  std::string key(1, static_cast<char>(depth));
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

std::optional<StoredHead> DecodeHead(std::string_view key, std::string_view value) {
  if (key.size() < 2 || key[0] != kMapHead) return std::nullopt;
  const std::string_view id = key.substr(1);
  if (id[0] != static_cast<char>(MapSpace::kSubject) &&
      id[0] != static_cast<char>(MapSpace::kActor)) {
    return std::nullopt;
  }
  std::optional<MapValue> decoded = DecodeMapValue(value);
  if (!decoded) return std::nullopt;
  return StoredHead{id, static_cast<MapSpace>(id[0]), *decoded};
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

absl::StatusOr<std::unique_ptr<MapWriter>> MapWriter::Load(MapRoot root,
                                                           std::vector<Change> heads) {
  std::unique_ptr<MapWriter> map(new MapWriter(MapRoot{}));
  const Hash stored = root.root.hash;
  const uint64_t tree_size = root.tree_size;
  std::sort(heads.begin(), heads.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  for (size_t i = 1; i < heads.size(); ++i) {
    if (heads[i].key == heads[i - 1].key) {
      return absl::DataLossError("the subject map holds two heads of one history");
    }
  }
  MapChild built = map->Build(0, heads);
  if (built.hash != stored) {
    return absl::DataLossError(StrCat(
        "the subject map's ", heads.size(), " stored history heads give the root ",
        ToHex(built.hash), ", not the stored root ", ToHex(stored), " of ", tree_size, " entries"));
  }
  absl::MutexLock lock(&map->mu_);
  map->root_ = MapRoot{tree_size, built};
  map->nodes_ = std::move(map->written_);
  map->written_.clear();
  return map;
}

absl::StatusOr<std::vector<MapWriter::Change>> MapWriter::ReadHeads(rocksdb::Iterator& map) {
  std::vector<Change> heads;
  const std::string prefix(1, kMapHead);
  for (map.Seek(prefix); map.Valid() && map.key().starts_with(prefix); map.Next()) {
    std::optional<StoredHead> head =
        DecodeHead(std::string_view(map.key().data(), map.key().size()),
                   std::string_view(map.value().data(), map.value().size()));
    if (!head) return absl::DataLossError("a stored head of the subject map is corrupt");
    heads.push_back({MapKey(head->space, head->history_id.substr(1)), head->value});
  }
  if (!map.status().ok()) {
    return absl::DataLossError(StrCat("reading the subject map: ", map.status().ToString()));
  }
  return heads;
}

absl::StatusOr<MapWriter::Proof> MapWriter::Prove(const Hash& key) const {
  absl::ReaderMutexLock lock(&mu_);
  Proof out;
  out.root = root_;
  v1::MapProof& proof = out.proof;
  proof.set_key(std::string(AsBytes(key)));
  MapChild at = root_.root;
  for (int depth = 0; at.type == MapChild::kInner; ++depth) {
    if (depth >= kMapDepth) return absl::DataLossError("the subject map is deeper than 256 levels");
    absl::StatusOr<const Node*> node = FindNode(depth, key);
    if (!node.ok()) return node.status();
    const bool right = MapKeyBit(key, depth);
    proof.add_siblings(std::string(AsBytes(right ? (*node)->left.hash : (*node)->right.hash)));
    at = right ? (*node)->right : (*node)->left;
  }
  if (at.type == MapChild::kLeaf) {
    v1::MapLeaf& leaf = *proof.mutable_leaf();
    leaf.set_key(std::string(AsBytes(at.key)));
    leaf.set_seq(at.value.seq);
    leaf.set_count(at.value.count);
    leaf.set_entry_hash(std::string(AsBytes(at.value.entry_hash)));
  }
  return out;
}

absl::Status MapWriter::Apply(std::vector<Change> updates, uint64_t tree_size,
                              rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta) {
  written_.clear();
  pending_root_.reset();
  std::sort(updates.begin(), updates.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  absl::StatusOr<MapChild> root;
  {
    // Only this thread changes the committed map, so the lock is for the
    // analysis: readers hold it shared too.
    absl::ReaderMutexLock lock(&mu_);
    root = Update(0, root_.root, updates);
  }
  if (!root.ok()) {
    written_.clear();
    return root.status();
  }
  pending_root_ = MapRoot{tree_size, *root};
  batch.Put(meta, kMetaMap, EncodeMapRoot(*pending_root_));
  batch.Put(meta, MapRootHistoryKey(tree_size), AsBytes(root->hash));
  return absl::OkStatus();
}

void MapWriter::Commit() {
  absl::MutexLock lock(&mu_);
  if (pending_root_) root_ = *std::move(pending_root_);
  pending_root_.reset();
  for (auto& [key, node] : written_) nodes_.insert_or_assign(key, std::move(node));
  written_.clear();
}

void MapWriter::Abandon() {
  pending_root_.reset();
  written_.clear();
}

absl::StatusOr<const MapWriter::Node*> MapWriter::FindNode(int depth, const Hash& some_key) const {
  // The committed map only: an Apply visits each node once, and a reader
  // must not see what the committing thread is making (written_).
  const std::string key = NodeKey(depth, some_key);
  if (auto it = nodes_.find(key); it != nodes_.end()) return &it->second;
  return absl::DataLossError(StrCat("the subject map lacks inner node ", ToHex(key)));
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
  absl::StatusOr<const Node*> found = FindNode(depth, updates.front().key);
  if (!found.ok()) return found.status();
  // A copy: Store below may replace the node it points to.
  const Node node = **found;
  const auto split = std::partition_point(
      updates.begin(), updates.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - updates.begin());
  absl::StatusOr<MapChild> left = Update(depth + 1, node.left, updates.subspan(0, left_count));
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right = Update(depth + 1, node.right, updates.subspan(left_count));
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
