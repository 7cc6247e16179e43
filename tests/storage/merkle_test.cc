#include "storage/merkle.h"

#include <gtest/gtest.h>

#include <map>

namespace innsyn::storage {
namespace {

// RFC 6962 section 2.1 written out literally over a list of leaf hashes:
// the reference the stored-node implementation is checked against.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash ReferenceRoot(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end - begin == 1) return leaves[begin];
  uint64_t k = Split(end - begin);
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

std::vector<Hash> ReferencePath(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                                uint64_t end) {
  if (end - begin == 1) return {};
  uint64_t k = Split(end - begin);
  std::vector<Hash> path;
  if (m < k) {
    path = ReferencePath(leaves, m, begin, begin + k);
    path.push_back(ReferenceRoot(leaves, begin + k, end));
  } else {
    path = ReferencePath(leaves, m - k, begin + k, end);
    path.push_back(ReferenceRoot(leaves, begin, begin + k));
  }
  return path;
}

std::vector<Hash> ReferenceSubProof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                                    uint64_t end, bool whole) {
  uint64_t n = end - begin;
  if (m == n) {
    if (whole) return {};
    return {ReferenceRoot(leaves, begin, end)};
  }
  uint64_t k = Split(n);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = ReferenceSubProof(leaves, m, begin, begin + k, whole);
    proof.push_back(ReferenceRoot(leaves, begin + k, end));
  } else {
    proof = ReferenceSubProof(leaves, m - k, begin + k, end, false);
    proof.push_back(ReferenceRoot(leaves, begin, begin + k));
  }
  return proof;
}

// A tree whose perfect subtrees are kept in a map, as the ledger keeps them
// in RocksDB; counts how many nodes a proof reads.
class StoredTree {
 public:
  void Append(const Hash& leaf) {
    leaves_.push_back(leaf);
    for (const CompactRange::Node& node : range_.Append(leaf)) {
      nodes_[{node.level, node.index}] = node.hash;
    }
  }
  SubtreeHashFn NodeFn() {
    return [this](int level, uint64_t index) -> absl::StatusOr<Hash> {
      ++reads_;
      auto it = nodes_.find({level, index});
      if (it == nodes_.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
  const std::vector<Hash>& leaves() const { return leaves_; }
  int reads_ = 0;

 private:
  CompactRange range_;
  std::vector<Hash> leaves_;
  std::map<std::pair<int, uint64_t>, Hash> nodes_;
};

constexpr uint64_t kMaxTreeSize = 70;

class MerkleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t i = 0; i < kMaxTreeSize; ++i) {
      tree_.Append(LeafHash("leaf " + std::to_string(i)));
    }
  }
  StoredTree tree_;
};

TEST_F(MerkleTest, RootOfEveryPrefixMatchesTheReference) {
  EXPECT_EQ(*TreeRoot(0, tree_.NodeFn()), EmptyTreeRoot());
  for (uint64_t n = 1; n <= kMaxTreeSize; ++n) {
    EXPECT_EQ(*TreeRoot(n, tree_.NodeFn()), ReferenceRoot(tree_.leaves(), 0, n)) << n;
  }
}

TEST_F(MerkleTest, InclusionProofForEverySizeAndLeafMatchesAndVerifies) {
  for (uint64_t n = 1; n <= kMaxTreeSize; ++n) {
    Hash root = ReferenceRoot(tree_.leaves(), 0, n);
    for (uint64_t m = 0; m < n; ++m) {
      absl::StatusOr<std::vector<Hash>> path = InclusionPath(m, n, tree_.NodeFn());
      ASSERT_TRUE(path.ok()) << path.status();
      EXPECT_EQ(*path, ReferencePath(tree_.leaves(), m, 0, n)) << m << " in " << n;
      EXPECT_TRUE(VerifyInclusion(m, n, tree_.leaves()[m], *path, root).ok()) << m << " in " << n;
      // The same proof must not prove another leaf or another position.
      uint64_t other = (m + 1) % n;
      if (other != m) {
        EXPECT_FALSE(VerifyInclusion(m, n, tree_.leaves()[other], *path, root).ok());
        EXPECT_FALSE(VerifyInclusion(other, n, tree_.leaves()[m], *path, root).ok());
      }
    }
  }
}

TEST_F(MerkleTest, ConsistencyProofForEveryPairMatchesAndVerifies) {
  for (uint64_t n = 1; n <= kMaxTreeSize; ++n) {
    Hash second = ReferenceRoot(tree_.leaves(), 0, n);
    for (uint64_t m = 1; m <= n; ++m) {
      Hash first = ReferenceRoot(tree_.leaves(), 0, m);
      absl::StatusOr<std::vector<Hash>> proof = ConsistencyPath(m, n, tree_.NodeFn());
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(*proof, ReferenceSubProof(tree_.leaves(), m, 0, n, true)) << m << " to " << n;
      EXPECT_TRUE(VerifyConsistency(m, n, first, second, *proof).ok()) << m << " to " << n;
      if (m < n) {
        Hash wrong = LeafHash("not the root");
        EXPECT_FALSE(VerifyConsistency(m, n, wrong, second, *proof).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, first, wrong, *proof).ok());
      }
    }
  }
}

TEST_F(MerkleTest, TamperedProofHashIsRejected) {
  uint64_t n = 37;
  Hash root = ReferenceRoot(tree_.leaves(), 0, n);
  std::vector<Hash> path = *InclusionPath(5, n, tree_.NodeFn());
  for (size_t i = 0; i < path.size(); ++i) {
    std::vector<Hash> bad = path;
    bad[i][0] ^= 1;
    EXPECT_FALSE(VerifyInclusion(5, n, tree_.leaves()[5], bad, root).ok()) << i;
  }
  std::vector<Hash> longer = path;
  longer.push_back(root);
  EXPECT_FALSE(VerifyInclusion(5, n, tree_.leaves()[5], longer, root).ok());
  path.pop_back();
  EXPECT_FALSE(VerifyInclusion(5, n, tree_.leaves()[5], path, root).ok());
}

TEST_F(MerkleTest, ProofsReadLogarithmicallyManyStoredNodes) {
  // Never all leaves: at most (log2 n)^2 node reads for a proof.
  tree_.reads_ = 0;
  ASSERT_TRUE(InclusionPath(3, kMaxTreeSize, tree_.NodeFn()).ok());
  EXPECT_LE(tree_.reads_, 7 * 7);
  tree_.reads_ = 0;
  ASSERT_TRUE(ConsistencyPath(13, kMaxTreeSize, tree_.NodeFn()).ok());
  EXPECT_LE(tree_.reads_, 7 * 7);
}

TEST_F(MerkleTest, InvalidSizesAreRejected) {
  EXPECT_FALSE(InclusionPath(5, 5, tree_.NodeFn()).ok());
  EXPECT_FALSE(ConsistencyPath(0, 5, tree_.NodeFn()).ok());
  EXPECT_FALSE(ConsistencyPath(6, 5, tree_.NodeFn()).ok());
}

TEST_F(MerkleTest, CompactRangeRebuiltFromStoredNodesContinuesTheTree) {
  for (uint64_t n = 0; n <= kMaxTreeSize; ++n) {
    absl::StatusOr<CompactRange> range = CompactRange::FromNodes(n, tree_.NodeFn());
    ASSERT_TRUE(range.ok()) << range.status();
    if (n > 0) {
      EXPECT_EQ(range->Root(), ReferenceRoot(tree_.leaves(), 0, n));
    }
    if (n < kMaxTreeSize) {
      range->Append(tree_.leaves()[n]);
      EXPECT_EQ(range->Root(), ReferenceRoot(tree_.leaves(), 0, n + 1));
    }
  }
}

}  // namespace
}  // namespace innsyn::storage
