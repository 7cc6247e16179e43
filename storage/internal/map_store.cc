#include "storage/internal/map_store.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {
namespace {

constexpr size_t kChildBytes = 1 + kHashBytes;
constexpr size_t kLeafChildBytes = kChildBytes + kHashBytes + 16 + kHashBytes;

// The depth of the top of the tile that holds the node at `depth`.
int TileTop(int depth) { return depth - depth % kMapTileLevels; }

std::string TileKeyOf(int depth, const Hash& some_key) {
  const int top = TileTop(depth);
  std::string key(1, kMapTile);
  key.push_back(static_cast<char>(top));
  const int bytes = (top + 7) / 8;
  key.append(reinterpret_cast<const char*>(some_key.data()), bytes);
  if (top % 8 != 0) key.back() = static_cast<char>(key.back() & (0xff << (8 - top % 8)));
  return key;
}

// The node's place in its tile: 2^r - 1 + the r bits of its path below the
// tile's top, r = depth - top (0 .. kMapTileLevels - 1).
int TileSlot(int depth, const Hash& some_key) {
  const int top = TileTop(depth);
  int path = 0;
  for (int d = top; d < depth; ++d) path = path << 1 | (MapKeyBit(some_key, d) ? 1 : 0);
  return (1 << (depth - top)) - 1 + path;
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

const MapNode* MapTile::Find(int slot) const {
  for (const auto& [at, node] : nodes) {
    if (at == slot) return &node;
  }
  return nullptr;
}

void MapTile::Set(int slot, MapNode node) {
  auto at = std::lower_bound(nodes.begin(), nodes.end(), slot,
                             [](const auto& entry, int s) { return entry.first < s; });
  if (at != nodes.end() && at->first == slot) {
    at->second = std::move(node);
  } else {
    nodes.emplace(at, static_cast<uint8_t>(slot), std::move(node));
  }
}

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

// A stored tile, or NotFound.
absl::StatusOr<MapTile> ReadTile(const MapReader& read, const std::string& tile_key) {
  absl::StatusOr<std::string> stored = read(tile_key);
  if (!stored.ok()) return stored.status();
  auto corrupt = [&] {
    return absl::DataLossError(StrCat("the subject map's tile ", ToHex(tile_key), " is corrupt"));
  };
  std::string_view bytes = *stored;
  MapTile tile;
  int last = -1;
  while (!bytes.empty()) {
    const int slot = static_cast<uint8_t>(bytes[0]);
    if (slot <= last || slot >= kMapTileSlots) return corrupt();
    bytes.remove_prefix(1);
    absl::StatusOr<MapChild> left = TakeChild(bytes);
    if (!left.ok()) return corrupt();
    absl::StatusOr<MapChild> right = TakeChild(bytes);
    if (!right.ok()) return corrupt();
    tile.nodes.emplace_back(static_cast<uint8_t>(slot),
                            MapNode{*std::move(left), *std::move(right)});
    last = slot;
  }
  if (last < 0) return corrupt();
  return tile;
}

std::string EncodeTile(const MapTile& tile) {
  std::string out;
  for (const auto& [slot, node] : tile.nodes) {
    out.push_back(static_cast<char>(slot));
    AppendChild(out, node.left);
    AppendChild(out, node.right);
  }
  return out;
}

absl::Status MissingNode(int depth, const Hash& some_key) {
  return absl::DataLossError(StrCat("the subject map lacks the inner node at depth ", depth,
                                    " in tile ", ToHex(TileKeyOf(depth, some_key))));
}

// The walk of CheckStoredTiles.
class TileWalk {
 public:
  TileWalk(const MapReader& read, const absl::flat_hash_map<Hash, MapValue>& expected)
      : read_(read), expected_(expected) {}

  // The tile being walked, and how many of its nodes the walk has reached.
  struct Open {
    MapTile tile;
    size_t reached = 0;
  };

  std::optional<std::string> Child(const MapChild& child, int depth, Open* open) {
    switch (child.type) {
      case MapChild::kEmpty:
        if (child.hash != kZeroHash) return Where(depth, "an empty subtree's hash is not zero");
        return std::nullopt;
      case MapChild::kLeaf: return Leaf(child, depth);
      case MapChild::kInner: return Inner(child, depth, open);
    }
    return Where(depth, "a child of unknown type");
  }

  size_t tiles() const { return tiles_; }
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

  std::optional<std::string> Inner(const MapChild& child, int depth, Open* open) {
    if (depth >= kMapDepth) return Where(depth, "the map is deeper than 256 levels");
    std::optional<Open> here;
    if (depth % kMapTileLevels == 0) {
      absl::StatusOr<MapTile> tile = ReadTile(read_, TileKeyOf(depth, path_));
      if (absl::IsNotFound(tile.status())) return std::string(MissingNode(depth, path_).message());
      if (!tile.ok()) return std::string(tile.status().message());
      ++tiles_;
      here.emplace(Open{*std::move(tile), 0});
      open = &*here;
    }
    const MapNode* node = open->tile.Find(TileSlot(depth, path_));
    if (node == nullptr) return std::string(MissingNode(depth, path_).message());
    ++open->reached;
    if (MapNodeHash(node->left.hash, node->right.hash) != child.hash) {
      return Where(depth, "an inner node's hash is not its children's");
    }
    const MapNode copy = *node;  // `open` may be read again below
    if (std::optional<std::string> left = Child(copy.left, depth + 1, open)) return left;
    SetBit(depth, true);
    std::optional<std::string> right = Child(copy.right, depth + 1, open);
    SetBit(depth, false);
    if (right) return right;
    if (here && here->reached != here->tile.nodes.size()) {
      return Where(
          depth, StrCat("tile ", ToHex(TileKeyOf(depth, path_)), " holds ", here->tile.nodes.size(),
                        " nodes, of which ", here->reached, " are on the map's paths"));
    }
    return std::nullopt;
  }

  void SetBit(int depth, bool one) {
    uint8_t& byte = path_[static_cast<size_t>(depth / 8)];
    const uint8_t bit = static_cast<uint8_t>(0x80 >> (depth % 8));
    byte = one ? (byte | bit) : (byte & static_cast<uint8_t>(~bit));
  }

  std::string Where(int depth, std::string_view problem) const {
    return StrCat("the subject map's stored tiles: ", problem, " (depth ", depth, ", tile ",
                  ToHex(TileKeyOf(depth, path_)), ")");
  }

  const MapReader& read_;
  const absl::flat_hash_map<Hash, MapValue>& expected_;
  Hash path_{};
  size_t tiles_ = 0;
  size_t leaves_ = 0;
};

}  // namespace

std::optional<std::string> CheckStoredTiles(const MapChild& root, const MapReader& read,
                                            const absl::flat_hash_map<Hash, MapValue>& expected,
                                            size_t stored_tiles) {
  TileWalk walk(read, expected);
  if (std::optional<std::string> problem = walk.Child(root, 0, nullptr)) return problem;
  if (walk.leaves() != expected.size()) {
    return StrCat("the subject map's stored tiles hold ", walk.leaves(),
                  " histories; the entries begin ", expected.size());
  }
  if (walk.tiles() != stored_tiles) {
    return StrCat("the subject map stores ", stored_tiles, " tiles, of which ", walk.tiles(),
                  " are on its paths");
  }
  return std::nullopt;
}

absl::StatusOr<v1::MapProof> ProveMapKey(const MapChild& root, const Hash& key,
                                         const MapReader& read) {
  v1::MapProof proof;
  proof.set_key(std::string(AsBytes(key)));
  MapChild at = root;
  std::optional<MapTile> tile;
  for (int depth = 0; at.type == MapChild::kInner; ++depth) {
    if (depth >= kMapDepth) return absl::DataLossError("the subject map is deeper than 256 levels");
    if (depth % kMapTileLevels == 0) {
      absl::StatusOr<MapTile> read_tile = ReadTile(read, TileKeyOf(depth, key));
      if (absl::IsNotFound(read_tile.status())) return MissingNode(depth, key);
      if (!read_tile.ok()) return read_tile.status();
      tile = *std::move(read_tile);
    }
    const MapNode* node = tile->Find(TileSlot(depth, key));
    if (node == nullptr) return MissingNode(depth, key);
    const bool right = MapKeyBit(key, depth);
    proof.add_siblings(std::string(AsBytes(right ? node->left.hash : node->right.hash)));
    at = right ? node->right : node->left;
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
  std::vector<std::pair<std::string_view, const MapTile*>> tiles;
  tiles.reserve(written_.size());
  for (const auto& [key, tile] : written_) tiles.emplace_back(key, &tile);
  std::sort(tiles.begin(), tiles.end());
  for (const auto& [key, tile] : tiles) batch.Put(map, key, EncodeTile(*tile));
  pending_root_ = MapRoot{tree_size, *root};
  batch.Put(meta, kMetaMap, EncodeMapRoot(*pending_root_));
  batch.Put(meta, MapRootHistoryKey(tree_size), AsBytes(root->hash));
  return absl::OkStatus();
}

void MapWriter::Commit() {
  if (pending_root_) root_ = *std::move(pending_root_);
  pending_root_.reset();
  if (cache_.size() + written_.size() > max_cached_tiles_) cache_.clear();
  for (auto& [key, tile] : written_) cache_.insert_or_assign(key, std::move(tile));
  written_.clear();
}

void MapWriter::Abandon() {
  pending_root_.reset();
  written_.clear();
}

absl::StatusOr<const MapTile*> MapWriter::Tile(const std::string& tile_key, bool create) {
  if (auto it = written_.find(tile_key); it != written_.end()) return &it->second;
  if (auto it = cache_.find(tile_key); it != cache_.end()) return &it->second;
  absl::StatusOr<MapTile> stored = ReadTile(read_, tile_key);
  if (absl::IsNotFound(stored.status()) && create) return &written_[tile_key];
  if (!stored.ok()) return stored.status();
  if (cache_.size() >= max_cached_tiles_) cache_.clear();
  return &cache_.emplace(tile_key, *std::move(stored)).first->second;
}

absl::StatusOr<MapNode> MapWriter::ReadNode(int depth, const Hash& some_key) {
  absl::StatusOr<const MapTile*> tile = Tile(TileKeyOf(depth, some_key), /*create=*/false);
  if (absl::IsNotFound(tile.status())) return MissingNode(depth, some_key);
  if (!tile.ok()) return tile.status();
  const MapNode* node = (*tile)->Find(TileSlot(depth, some_key));
  if (node == nullptr) return MissingNode(depth, some_key);
  return *node;
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
  absl::StatusOr<MapNode> node = ReadNode(depth, updates.front().key);
  if (!node.ok()) return node.status();
  const auto split = std::partition_point(
      updates.begin(), updates.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - updates.begin());
  absl::StatusOr<MapChild> left = Update(depth + 1, node->left, updates.subspan(0, left_count));
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right = Update(depth + 1, node->right, updates.subspan(left_count));
  if (!right.ok()) return right.status();
  return Store(depth, updates.front().key, *std::move(left), *std::move(right));
}

absl::StatusOr<MapChild> MapWriter::Build(int depth, absl::Span<const MapWriter::Change> leaves) {
  if (leaves.empty()) return MapChild{};
  if (leaves.size() == 1) return LeafChild(leaves.front().key, leaves.front().value);
  const auto split = std::partition_point(
      leaves.begin(), leaves.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - leaves.begin());
  absl::StatusOr<MapChild> left = Build(depth + 1, leaves.subspan(0, left_count));
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right = Build(depth + 1, leaves.subspan(left_count));
  if (!right.ok()) return right.status();
  return Store(depth, leaves.front().key, *std::move(left), *std::move(right));
}

absl::StatusOr<MapChild> MapWriter::Store(int depth, const Hash& some_key, MapChild left,
                                          MapChild right) {
  MapChild inner;
  inner.type = MapChild::kInner;
  inner.hash = MapNodeHash(left.hash, right.hash);
  // The tile as this Apply leaves it: its other nodes as stored, or as an
  // earlier Store of this Apply left them.
  const std::string tile_key = TileKeyOf(depth, some_key);
  auto written = written_.find(tile_key);
  if (written == written_.end()) {
    absl::StatusOr<const MapTile*> tile = Tile(tile_key, /*create=*/true);
    if (!tile.ok()) return tile.status();
    written = written_.find(tile_key);
    if (written == written_.end()) written = written_.emplace(tile_key, **tile).first;
  }
  written->second.Set(TileSlot(depth, some_key), MapNode{std::move(left), std::move(right)});
  return inner;
}

}  // namespace innsyn::storage::internal
