#include "storage/internal/tree_tiles.h"

#include <utility>

namespace innsyn::storage::internal {

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
    if (!stored || stored->size() < width * kHashBytes) return std::nullopt;
    at.bytes = stored->substr(0, width * kHashBytes);
  }
  return edge;
}

void TileEdge::Add(int tile_level, uint64_t index, const Hash& hash) {
  if (static_cast<size_t>(tile_level) >= edges_.size()) edges_.resize(tile_level + 1);
  Edge& at = edges_[tile_level];
  at.tile_index = index / kTreeTileWidth;
  at.bytes.append(AsBytes(hash));
  at.changed = true;
  if (at.bytes.size() < kFullTileBytes) return;
  filled_.push_back({tile_level, at.tile_index, std::move(at.bytes)});
  at.bytes.clear();
  at.changed = false;
}

void TileEdge::TakeChanged(const std::function<void(int, uint64_t, std::string_view)>& put) {
  for (const Full& full : filled_) put(full.tile_level, full.tile_index, full.bytes);
  filled_.clear();
  for (size_t tile_level = 0; tile_level < edges_.size(); ++tile_level) {
    Edge& at = edges_[tile_level];
    if (!at.changed) continue;
    put(static_cast<int>(tile_level), at.tile_index, at.bytes);
    at.changed = false;
  }
}

}  // namespace innsyn::storage::internal
