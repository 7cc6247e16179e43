// The Merkle tree stored as C2SP tlog-tiles lays it out: tile (L, N) holds
// the hashes at tree level 8L from node 256N on, 1 to 256 of them, each the
// root of a perfect subtree of 256^L leaves. The levels between are not
// stored: a node there is hashed from the tile below it on demand (at most
// 255 hashes). A group commit appends to a few tile keys, not a key per
// node: the tree family's merge operator (TileAppend) joins the hashes a
// group adds to those stored, so a partial tile is never written again
// whole. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_TREE_TILES_H_
#define INNSYN_STORAGE_INTERNAL_TREE_TILES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb/merge_operator.h"
#include "storage/hash.h"
#include "storage/ledger.h"

namespace innsyn::storage::internal {

// The tiles stored are the tiles served (Ledger::Tile).
inline constexpr int kTreeTileHeight = Ledger::kTileHeight;
inline constexpr uint64_t kTreeTileWidth = Ledger::kTileWidth;
inline constexpr size_t kFullTileBytes = kTreeTileWidth * kHashBytes;

// Where the perfect subtree (level, index) lies: the `count` (2^(level mod
// 8)) hashes of tile (tile_level, tile_index) from hash `first` on.
struct TileSpan {
  int tile_level = 0;
  uint64_t tile_index = 0;
  uint64_t first = 0;
  uint64_t count = 1;
};
TileSpan LocateNode(int level, uint64_t index);

// The root of the perfect subtree over `span`'s hashes in `tile`, the stored
// bytes of its tile; nullopt if the tile is not whole hashes or too short.
std::optional<Hash> SubtreeInTile(std::string_view tile, const TileSpan& span);

// The tree family's merge operator: an operand is hashes to append to the
// tile, which is their concatenation in order. Reads and compactions see
// the joined tile.
std::shared_ptr<rocksdb::MergeOperator> TileAppend();

// The tiles at the tree's right edge: the partial tile of each tile level,
// which the next nodes extend. The group writer adds each node a group
// completes at a level that is a multiple of 8, then appends what the group
// added to each tile it changed, under the key of the tile's full form.
class TileEdge {
 public:
  // The edge of a tree of `size` leaves; `read(tile_level, tile_index)`
  // gives a stored tile's bytes, asked only for partial tiles. nullopt if
  // a partial tile is missing or not exactly as wide as `size` implies.
  using ReadTile = std::function<std::optional<std::string>(int, uint64_t)>;
  static std::optional<TileEdge> ForSize(uint64_t size, const ReadTile& read);

  // Node `index` of tree level 8 × `tile_level`, the next one of its level.
  void Add(int tile_level, uint64_t index, const Hash& hash);
  // The hashes added to each tile since the last call, as (tile level, tile
  // index, the hashes to append); then forgets them.
  void TakeAdded(const std::function<void(int, uint64_t, std::string_view)>& append);

 private:
  struct Edge {
    uint64_t tile_index = 0;
    std::string bytes;  // its hashes so far
    size_t taken = 0;   // of `bytes`, those given to TakeAdded already
  };
  std::vector<Edge> edges_;  // by tile level
  struct Filled {
    int tile_level;
    uint64_t tile_index;
    std::string added;  // its hashes not yet taken
  };
  std::vector<Filled> filled_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_TREE_TILES_H_
