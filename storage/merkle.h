// The RFC 6962 / RFC 9162 Merkle tree: proof construction over a tree whose
// perfect subtrees are stored, and proof verification as in RFC 9162
// sections 2.1.3.2 and 2.1.4.2.
//
// Construction asks a SubtreeHashFn for the hash of the perfect subtree at
// (level, index), covering leaves [index * 2^level, (index + 1) * 2^level).
// A proof for a tree of n leaves reads O(log^2 n) such nodes at most, never
// all leaves. Functions are pure; thread safety is that of the callback.
#ifndef INNSYN_STORAGE_MERKLE_H_
#define INNSYN_STORAGE_MERKLE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "storage/hash.h"

namespace innsyn::storage {

using SubtreeHashFn = std::function<absl::StatusOr<Hash>(int level, uint64_t index)>;

// MTH(D[0:tree_size]).
absl::StatusOr<Hash> TreeRoot(uint64_t tree_size, const SubtreeHashFn& node);
// PATH(leaf_index, D[0:tree_size]).
absl::StatusOr<std::vector<Hash>> InclusionPath(uint64_t leaf_index, uint64_t tree_size,
                                                const SubtreeHashFn& node);
// PROOF(first_size, D[0:second_size]); 0 < first_size <= second_size.
absl::StatusOr<std::vector<Hash>> ConsistencyPath(uint64_t first_size, uint64_t second_size,
                                                  const SubtreeHashFn& node);

// OK if `path` proves that `leaf_hash` is leaf `leaf_index` of the tree of
// `tree_size` leaves with root `root`.
absl::Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                             absl::Span<const Hash> path, const Hash& root);
// OK if `path` proves that the tree (first_size, first_root) is a prefix of
// the tree (second_size, second_root).
absl::Status VerifyConsistency(uint64_t first_size, uint64_t second_size, const Hash& first_root,
                               const Hash& second_root, absl::Span<const Hash> path);

// The right edge of a growing tree: the roots of its perfect subtrees, one
// per set bit of its size. Appending a leaf yields the nodes it completes.
class CompactRange {
 public:
  CompactRange() = default;
  // `roots[level]` for each set bit of `size`, highest level first.
  static absl::StatusOr<CompactRange> FromNodes(uint64_t size, const SubtreeHashFn& node);

  struct Node {
    int level;
    uint64_t index;
    Hash hash;
  };
  // Adds leaf `size()` and returns every node it completes, the leaf itself
  // (level 0) first.
  std::vector<Node> Append(const Hash& leaf);
  uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> waiting_;  // indexed by level; valid where size_ has the bit
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_MERKLE_H_
