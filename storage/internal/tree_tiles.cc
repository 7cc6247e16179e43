#include "storage/internal/tree_tiles.h"

#include <deque>
#include <utility>

namespace innsyn::storage::internal {
namespace {

// Joins all operands in one pass (an associative operator would join them
// two at a time, copying the tile once per operand).
class TileAppendOperator final : public rocksdb::MergeOperator {
 public:
  const char* Name() const override { return "innsyn.TileAppend"; }
  bool FullMergeV2(const MergeOperationInput& merge_in,
                   MergeOperationOutput* merge_out) const override {
    std::string& tile = merge_out->new_value;
    size_t size = merge_in.existing_value != nullptr ? merge_in.existing_value->size() : 0;
    for (const rocksdb::Slice& operand : merge_in.operand_list) size += operand.size();
    tile.clear();
    tile.reserve(size);
    if (merge_in.existing_value != nullptr) {
      tile.append(merge_in.existing_value->data(), merge_in.existing_value->size());
    }
    for (const rocksdb::Slice& operand : merge_in.operand_list) {
      tile.append(operand.data(), operand.size());
    }
    return true;
  }
  bool PartialMergeMulti(const rocksdb::Slice& /*key*/, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger* /*logger*/) const override {
    new_value->clear();
    for (const rocksdb::Slice& operand : operands)
      new_value->append(operand.data(), operand.size());
    return true;
  }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> TileAppend() {
  return std::make_shared<TileAppendOperator>();
}

TileSpan LocateNode(int level, uint64_t index) {
  TileSpan span;
  span.tile_level = level / kTreeTileHeight;
  const int below = level % kTreeTileHeight;
  const uint64_t first = index << below;  // the node's first hash at tree level 8L
  span.tile_index = first / kTreeTileWidth;
  span.first = first % kTreeTileWidth;
  span.count = uint64_t{1} << below;
  return span;
}

std::optional<Hash> SubtreeInTile(std::string_view tile, const TileSpan& span) {
  if (tile.size() % kHashBytes != 0 || tile.size() / kHashBytes < span.first + span.count) {
    return std::nullopt;
  }
  std::vector<Hash> level(span.count);
  for (uint64_t i = 0; i < span.count; ++i) {
    level[i] = *HashFromBytes(tile.substr((span.first + i) * kHashBytes, kHashBytes));
  }
  for (size_t width = level.size(); width > 1; width /= 2) {
    for (size_t i = 0; i < width / 2; ++i) level[i] = NodeHash(level[2 * i], level[2 * i + 1]);
  }
  return level[0];
}

std::optional<TileEdge> TileEdge::ForSize(uint64_t size, const ReadTile& read) {
  TileEdge edge;
  for (int tile_level = 0; (size >> (kTreeTileHeight * tile_level)) > 0; ++tile_level) {
    const uint64_t nodes = size >> (kTreeTileHeight * tile_level);
    Edge& at = edge.edges_.emplace_back();
    at.tile_index = nodes / kTreeTileWidth;
    const uint64_t width = nodes % kTreeTileWidth;
    if (width == 0) continue;
    std::optional<std::string> stored = read(tile_level, at.tile_index);
    // Exactly the committed width: the next group appends to it.
    if (!stored || stored->size() != width * kHashBytes) return std::nullopt;
    at.bytes = *std::move(stored);
    at.taken = at.bytes.size();
  }
  return edge;
}

void TileEdge::Add(int tile_level, uint64_t index, const Hash& hash) {
  if (static_cast<size_t>(tile_level) >= edges_.size()) edges_.resize(tile_level + 1);
  Edge& at = edges_[tile_level];
  at.tile_index = index / kTreeTileWidth;
  at.bytes.append(AsBytes(hash));
  if (at.bytes.size() < kFullTileBytes) return;
  filled_.push_back({tile_level, at.tile_index, at.bytes.substr(at.taken)});
  at.bytes.clear();
  at.taken = 0;
}

void TileEdge::TakeAdded(const std::function<void(int, uint64_t, std::string_view)>& append) {
  for (const Filled& filled : filled_) append(filled.tile_level, filled.tile_index, filled.added);
  filled_.clear();
  for (size_t tile_level = 0; tile_level < edges_.size(); ++tile_level) {
    Edge& at = edges_[tile_level];
    if (at.taken == at.bytes.size()) continue;
    append(static_cast<int>(tile_level), at.tile_index,
           std::string_view(at.bytes).substr(at.taken));
    at.taken = at.bytes.size();
  }
}

}  // namespace innsyn::storage::internal
