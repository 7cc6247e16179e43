#include "storage/internal/map_store.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "base/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {
namespace {

constexpr size_t kChildBytes = 1 + kHashBytes;
constexpr size_t kLeafChildBytes = kChildBytes + kHashBytes + 16 + kHashBytes;

void AppendChild(std::string& out, const MapChild& child) {
  out.push_back(static_cast<char>(child.type));
  out.append(AsBytes(child.hash));
  if (child.type == MapChild::kLeaf) {
    out.append(AsBytes(child.key));
    AppendMapValue(out, child.value);
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

// A new inner node over `left` and `right`, which it shares with any map
// that holds them too.
MapChild InnerChild(MapChild left, MapChild right) {
  MapChild inner;
  inner.type = MapChild::kInner;
  inner.hash = MapNodeHash(left.hash, right.hash);
  inner.node = std::make_shared<const MapNode>(MapNode{std::move(left), std::move(right)});
  return inner;
}

}  // namespace

std::string HeadKey(std::string_view history_id) {
  std::string key;
  SetHeadKey(key, history_id);
  return key;
}

void SetHeadKey(std::string& out, std::string_view history_id) {
  out.assign(1, kMapHead);
  out.append(history_id);
}

HistoryKey MakeHistoryKey(MapSpace space, std::string_view pseudonym) {
  HistoryKey key;
  // Headers are made by this program, with its pseudonyms: anything else
  // is a defect, not input.
  if (pseudonym.size() != key.size() - 1) std::abort();
  key[0] = static_cast<char>(space);
  std::copy(pseudonym.begin(), pseudonym.end(), key.begin() + 1);
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
  AppendMapValue(out, value);
  return out;
}

void AppendMapValue(std::string& out, const MapValue& value) {
  AppendBigEndian64(out, value.seq);
  AppendBigEndian64(out, value.count);
  out.append(AsBytes(value.entry_hash));
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
  absl::StatusOr<MapRoot> built = Rebuild(root.root.hash, root.tree_size, std::move(heads));
  if (!built.ok()) return built.status();
  return std::unique_ptr<MapWriter>(new MapWriter(*std::move(built)));
}

absl::StatusOr<MapRoot> MapWriter::Rebuild(const Hash& root, uint64_t tree_size,
                                           std::vector<Change> heads) {
  std::sort(heads.begin(), heads.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  for (size_t i = 1; i < heads.size(); ++i) {
    if (heads[i].key == heads[i - 1].key) {
      return absl::DataLossError("the subject map holds two heads of one history");
    }
  }
  MapChild built = Build(0, heads);
  if (built.hash != root) {
    return absl::DataLossError(StrCat(
        "the subject map's ", heads.size(), " stored history heads give the root ",
        ToHex(built.hash), ", not the stored root ", ToHex(root), " of ", tree_size, " entries"));
  }
  return MapRoot{tree_size, std::move(built)};
}

absl::StatusOr<std::vector<MapWriter::Head>> MapWriter::ReadHeads(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* map) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), map));
  std::vector<Head> heads;
  const std::string prefix(1, kMapHead);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::optional<StoredHead> head =
        DecodeHead(std::string_view(it->key().data(), it->key().size()),
                   std::string_view(it->value().data(), it->value().size()));
    if (!head || head->history_id.size() != std::tuple_size_v<HistoryKey>) {
      return absl::DataLossError("a stored head of the subject map is corrupt");
    }
    const std::string_view pseudonym = head->history_id.substr(1);
    heads.push_back({head->space, MakeHistoryKey(head->space, pseudonym),
                     Change{MapKey(head->space, pseudonym), head->value}});
  }
  if (!it->status().ok()) {
    return absl::DataLossError(StrCat("reading the subject map: ", it->status().ToString()));
  }
  return heads;
}

absl::StatusOr<MapWriter::Proof> MapWriter::Prove(const Hash& key) const {
  return ProveIn(Root(), key);
}

absl::StatusOr<MapWriter::Proof> MapWriter::ProveIn(MapRoot root, const Hash& key) {
  Proof out;
  out.root = std::move(root);
  v1::MapProof& proof = out.proof;
  proof.set_key(std::string(AsBytes(key)));
  const MapChild* at = &out.root.root;
  for (int depth = 0; at->type == MapChild::kInner; ++depth) {
    if (depth >= kMapDepth) return absl::DataLossError("the subject map is deeper than 256 levels");
    if (at->node == nullptr) return absl::InternalError("the subject map has no nodes in memory");
    const bool right = MapKeyBit(key, depth);
    proof.add_siblings(std::string(AsBytes(right ? at->node->left.hash : at->node->right.hash)));
    at = right ? &at->node->right : &at->node->left;
  }
  if (at->type == MapChild::kLeaf) {
    v1::MapLeaf& leaf = *proof.mutable_leaf();
    leaf.set_key(std::string(AsBytes(at->key)));
    leaf.set_seq(at->value.seq);
    leaf.set_count(at->value.count);
    leaf.set_entry_hash(std::string(AsBytes(at->value.entry_hash)));
  }
  return out;
}

MapRoot MapWriter::Root() const {
  absl::ReaderMutexLock lock(&mu_);
  return root_;
}

absl::Status MapWriter::Apply(std::vector<Change> updates, uint64_t tree_size,
                              rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta) {
  pending_root_.reset();
  std::sort(updates.begin(), updates.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  // Only this thread changes root_; Root() copies it under the lock, and
  // its nodes never change.
  absl::StatusOr<MapChild> root = Update(0, Root().root, updates);
  if (!root.ok()) return root.status();
  pending_root_ = MapRoot{tree_size, *std::move(root)};
  batch.Put(meta, kMetaMap, EncodeMapRoot(*pending_root_));
  batch.Put(meta, MapRootHistoryKey(tree_size), AsBytes(pending_root_->root.hash));
  return absl::OkStatus();
}

void MapWriter::Commit() {
  if (!pending_root_) return;
  MapRoot before = *std::move(pending_root_);
  pending_root_.reset();
  {
    absl::MutexLock lock(&mu_);
    std::swap(root_, before);
  }
  // The nodes only the map before held are freed here, outside the lock,
  // unless a reader still holds that map.
}

void MapWriter::Abandon() { pending_root_.reset(); }

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
  if (current.node == nullptr) return absl::InternalError("the subject map has no nodes in memory");
  const auto split = std::partition_point(
      updates.begin(), updates.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - updates.begin());
  absl::StatusOr<MapChild> left =
      Update(depth + 1, current.node->left, updates.subspan(0, left_count));
  if (!left.ok()) return left.status();
  absl::StatusOr<MapChild> right =
      Update(depth + 1, current.node->right, updates.subspan(left_count));
  if (!right.ok()) return right.status();
  return InnerChild(*std::move(left), *std::move(right));
}

MapChild MapWriter::Build(int depth, absl::Span<const MapWriter::Change> leaves) {
  if (leaves.empty()) return MapChild{};
  if (leaves.size() == 1) return LeafChild(leaves.front().key, leaves.front().value);
  const auto split = std::partition_point(
      leaves.begin(), leaves.end(),
      [depth](const MapWriter::Change& u) { return !MapKeyBit(u.key, depth); });
  const size_t left_count = static_cast<size_t>(split - leaves.begin());
  return InnerChild(Build(depth + 1, leaves.subspan(0, left_count)),
                    Build(depth + 1, leaves.subspan(left_count)));
}

}  // namespace innsyn::storage::internal
