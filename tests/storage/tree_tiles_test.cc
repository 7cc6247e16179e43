// The tree's tiles on their own: where a node lies, its hash from a tile,
// and the edge that a group writer extends and writes.
#include "storage/internal/tree_tiles.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "storage/merkle.h"

namespace innsyn::storage::internal {
namespace {

Hash Leaf(uint64_t i) { return LeafHash(std::to_string(i)); }

// The root of the perfect subtree over leaves [first, first + count).
Hash Root(uint64_t first, uint64_t count) {
  if (count == 1) return Leaf(first);
  return NodeHash(Root(first, count / 2), Root(first + count / 2, count / 2));
}

std::string LeafTile(uint64_t first, uint64_t width) {
  std::string tile;
  for (uint64_t i = first; i < first + width; ++i) tile.append(AsBytes(Leaf(i)));
  return tile;
}

TEST(TreeTilesTest, ANodeLiesInTheTileOfItsFirstHashAtTheLevelBelow) {
  auto at = [](int level, uint64_t index) {
    TileSpan span = LocateNode(level, index);
    return std::tuple(span.tile_level, span.tile_index, span.first, span.count);
  };
  EXPECT_EQ(at(0, 300), std::tuple(0, 1u, 44u, 1u));
  EXPECT_EQ(at(3, 40), std::tuple(0, 1u, 64u, 8u));
  EXPECT_EQ(at(7, 3), std::tuple(0, 1u, 128u, 128u));
  EXPECT_EQ(at(8, 5), std::tuple(1, 0u, 5u, 1u));
  EXPECT_EQ(at(10, 70), std::tuple(1, 1u, 24u, 4u));
  EXPECT_EQ(at(16, 0), std::tuple(2, 0u, 0u, 1u));
}

TEST(TreeTilesTest, EveryNodeBetweenTilesIsHashedFromTheTileBelow) {
  const std::string tile = LeafTile(256, 256);
  for (int level = 0; level < kTreeTileHeight; ++level) {
    for (uint64_t index = uint64_t{256} >> level; index < (uint64_t{512} >> level); ++index) {
      std::optional<Hash> hash = SubtreeInTile(tile, LocateNode(level, index));
      ASSERT_TRUE(hash.has_value()) << level << " " << index;
      EXPECT_EQ(*hash, Root(index << level, uint64_t{1} << level)) << level << " " << index;
    }
  }
}

TEST(TreeTilesTest, ATileTooShortOrNotWholeHashesGivesNoNode) {
  const std::string partial = LeafTile(0, 10);
  EXPECT_TRUE(SubtreeInTile(partial, LocateNode(1, 4)).has_value());   // leaves 8 and 9
  EXPECT_FALSE(SubtreeInTile(partial, LocateNode(1, 5)).has_value());  // leaves 10 and 11
  EXPECT_FALSE(SubtreeInTile(partial, LocateNode(0, 10)).has_value());
  EXPECT_FALSE(SubtreeInTile(partial.substr(1), LocateNode(0, 0)).has_value());
}

// The tree family's merge operator joins a stored tile and the hashes
// appended to it, in order, also operands that RocksDB joins first.
TEST(TreeTilesTest, TheMergeOperatorAppendsOperandsInOrder) {
  std::shared_ptr<rocksdb::MergeOperator> append = TileAppend();
  const std::string stored = LeafTile(0, 2);
  const std::string third = LeafTile(2, 1);
  const std::string fourth_to_sixth = LeafTile(3, 3);
  const std::vector<rocksdb::Slice> operands = {third, fourth_to_sixth};
  std::string merged;
  rocksdb::Slice existing(stored);
  rocksdb::MergeOperator::MergeOperationInput in("key", &existing, operands, nullptr);
  rocksdb::Slice unused;
  rocksdb::MergeOperator::MergeOperationOutput out(merged, unused);
  ASSERT_TRUE(append->FullMergeV2(in, &out));
  EXPECT_EQ(merged, LeafTile(0, 6));
  rocksdb::MergeOperator::MergeOperationInput first_write("key", nullptr, operands, nullptr);
  ASSERT_TRUE(append->FullMergeV2(first_write, &out));
  EXPECT_EQ(merged, LeafTile(2, 4));
  std::string joined;
  ASSERT_TRUE(
      append->PartialMergeMulti("key", {operands.begin(), operands.end()}, &joined, nullptr));
  EXPECT_EQ(joined, LeafTile(2, 4));
}

// Appends leaves [from, to) as the writer does, the completed nodes at
// tile levels into `edge`, then appends what the edge says was added to the
// stored tiles, as the tree family's merge operator does.
void Grow(CompactRange& range, TileEdge& edge, uint64_t from, uint64_t to,
          std::map<std::pair<int, uint64_t>, std::string>& store, size_t* puts = nullptr) {
  for (uint64_t i = from; i < to; ++i) {
    for (const CompactRange::Node& node : range.Append(Leaf(i))) {
      if (node.level % kTreeTileHeight == 0) {
        edge.Add(node.level / kTreeTileHeight, node.index, node.hash);
      }
    }
  }
  edge.TakeAdded([&](int tile_level, uint64_t tile_index, std::string_view hashes) {
    store[{tile_level, tile_index}].append(hashes);
    if (puts != nullptr) ++*puts;
  });
}

TEST(TreeTilesTest, TheEdgeAppendsWhatEachGroupAddsToEachTile) {
  CompactRange range;
  TileEdge edge = *TileEdge::ForSize(0, [](int, uint64_t) { return std::nullopt; });
  std::map<std::pair<int, uint64_t>, std::string> store;
  size_t puts = 0;
  Grow(range, edge, 0, 1000, store, &puts);
  // Tiles 0/0 to 0/2 filled, 0/3 partial, and 1/0 with three nodes.
  EXPECT_EQ(puts, 5u);
  Grow(range, edge, 1000, 1001, store, &puts);
  EXPECT_EQ(puts, 6u);  // one leaf: only tile 0/3 changed
  ASSERT_EQ(store.size(), 5u);
  EXPECT_EQ(store.at({0, 0}), LeafTile(0, 256));
  EXPECT_EQ(store.at({0, 3}), LeafTile(768, 233));
  std::string level_one;
  for (uint64_t first : {0, 256, 512}) level_one.append(AsBytes(Root(first, 256)));
  EXPECT_EQ(store.at({1, 0}), level_one);
}

// A writer that starts again from the stored tiles (as after a restart in
// the middle of a tile) writes what one that never stopped writes.
TEST(TreeTilesTest, AnEdgeReadFromTheStoredTilesGoesOnAsBefore) {
  std::map<std::pair<int, uint64_t>, std::string> straight, restarted;
  {
    CompactRange range;
    TileEdge edge = *TileEdge::ForSize(0, [](int, uint64_t) { return std::nullopt; });
    Grow(range, edge, 0, 70000, straight);
  }
  CompactRange range;
  TileEdge edge = *TileEdge::ForSize(0, [](int, uint64_t) { return std::nullopt; });
  Grow(range, edge, 0, 66000, restarted);
  const std::map<std::pair<int, uint64_t>, std::string> before_restart = restarted;
  auto read = [&](int tile_level, uint64_t tile_index) -> std::optional<std::string> {
    auto it = before_restart.find({tile_level, tile_index});
    if (it == before_restart.end()) return std::nullopt;
    return it->second;
  };
  std::optional<TileEdge> reread = TileEdge::ForSize(66000, read);
  ASSERT_TRUE(reread.has_value());
  Grow(range, *reread, 66000, 70000, restarted);
  EXPECT_EQ(restarted, straight);
  EXPECT_EQ(straight.at({2, 0}).size(), kHashBytes);  // 65,536 leaves make one level 16 node
  // A partial tile missing, or shorter or longer than the size says, is no
  // edge.
  for (int change : {-1, 1}) {
    auto resized = [&](int tile_level, uint64_t tile_index) -> std::optional<std::string> {
      std::optional<std::string> tile = read(tile_level, tile_index);
      if (tile && tile_level == 0) tile->resize(tile->size() + change * kHashBytes);
      return tile;
    };
    EXPECT_FALSE(TileEdge::ForSize(66000, resized).has_value()) << change;
  }
  EXPECT_FALSE(TileEdge::ForSize(66000, [](int, uint64_t) { return std::nullopt; }).has_value());
}

}  // namespace
}  // namespace innsyn::storage::internal
