#include "storage/merkle.h"

#include <bit>

#include "base/strings.h"

namespace innsyn::storage {
namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[begin:end]). In RFC 6962's recursion every range starts at a
// multiple of its largest power-of-two part, so each step is one stored node.
absl::StatusOr<Hash> RangeHash(uint64_t begin, uint64_t end, const SubtreeHashFn& node) {
  uint64_t n = end - begin;
  if (n == 0) return EmptyTreeRoot();
  if (std::has_single_bit(n)) {
    if (begin % n != 0) {
      return absl::InternalError(StrCat("unaligned range ", begin, "..", end));
    }
    return node(std::countr_zero(n), begin / n);
  }
  uint64_t k = SplitPoint(n);
  absl::StatusOr<Hash> left = RangeHash(begin, begin + k, node);
  if (!left.ok()) return left.status();
  absl::StatusOr<Hash> right = RangeHash(begin + k, end, node);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

absl::Status Path(uint64_t m, uint64_t begin, uint64_t end, const SubtreeHashFn& node,
                  std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (n == 1) return absl::OkStatus();
  uint64_t k = SplitPoint(n);
  absl::StatusOr<Hash> sibling;
  if (m < begin + k) {
    if (absl::Status s = Path(m, begin, begin + k, node, out); !s.ok()) return s;
    sibling = RangeHash(begin + k, end, node);
  } else {
    if (absl::Status s = Path(m, begin + k, end, node, out); !s.ok()) return s;
    sibling = RangeHash(begin, begin + k, node);
  }
  if (!sibling.ok()) return sibling.status();
  out.push_back(*sibling);
  return absl::OkStatus();
}

absl::Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole,
                      const SubtreeHashFn& node, std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (whole) return absl::OkStatus();
    absl::StatusOr<Hash> h = RangeHash(begin, end, node);
    if (!h.ok()) return h.status();
    out.push_back(*h);
    return absl::OkStatus();
  }
  uint64_t k = SplitPoint(n);
  absl::StatusOr<Hash> sibling;
  if (m <= k) {
    if (absl::Status s = SubProof(m, begin, begin + k, whole, node, out); !s.ok()) return s;
    sibling = RangeHash(begin + k, end, node);
  } else {
    if (absl::Status s = SubProof(m - k, begin + k, end, false, node, out); !s.ok()) return s;
    sibling = RangeHash(begin, begin + k, node);
  }
  if (!sibling.ok()) return sibling.status();
  out.push_back(*sibling);
  return absl::OkStatus();
}

bool Lsb(uint64_t x) { return (x & 1) != 0; }

}  // namespace

absl::StatusOr<Hash> TreeRoot(uint64_t tree_size, const SubtreeHashFn& node) {
  return RangeHash(0, tree_size, node);
}

absl::StatusOr<std::vector<Hash>> InclusionPath(uint64_t leaf_index, uint64_t tree_size,
                                                const SubtreeHashFn& node) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        StrCat("seq ", leaf_index, " is not in a tree of size ", tree_size));
  }
  std::vector<Hash> out;
  if (absl::Status s = Path(leaf_index, 0, tree_size, node, out); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Hash>> ConsistencyPath(uint64_t first_size, uint64_t second_size,
                                                  const SubtreeHashFn& node) {
  if (first_size == 0 || first_size > second_size) {
    return absl::InvalidArgumentError(
        StrCat("first_size must be in 1..second_size (", second_size, "), got ", first_size));
  }
  std::vector<Hash> out;
  if (first_size == second_size) return out;
  if (absl::Status s = SubProof(first_size, 0, second_size, true, node, out); !s.ok()) {
    return s;
  }
  return out;
}

absl::Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                             absl::Span<const Hash> path, const Hash& root) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError("leaf index is not below the tree size");
  }
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : path) {
    if (sn == 0) return absl::DataLossError("inclusion proof is too long");
    if (Lsb(fn) || fn == sn) {
      r = NodeHash(p, r);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::DataLossError("inclusion proof is too short");
  if (r != root) return absl::DataLossError("inclusion proof does not lead to the root");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t first_size, uint64_t second_size, const Hash& first_root,
                               const Hash& second_root, absl::Span<const Hash> path) {
  if (first_size == 0 || first_size > second_size) {
    return absl::InvalidArgumentError("first size must be in 1..second size");
  }
  if (first_size == second_size) {
    if (!path.empty()) return absl::DataLossError("consistency proof should be empty");
    if (first_root != second_root) return absl::DataLossError("roots differ at equal sizes");
    return absl::OkStatus();
  }
  if (path.empty()) return absl::DataLossError("consistency proof is empty");
  std::vector<Hash> proof;
  if (std::has_single_bit(first_size)) proof.push_back(first_root);
  proof.insert(proof.end(), path.begin(), path.end());
  uint64_t fn = first_size - 1;
  uint64_t sn = second_size - 1;
  while (Lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = proof[0];
  Hash sr = proof[0];
  for (size_t i = 1; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (sn == 0) return absl::DataLossError("consistency proof is too long");
    if (Lsb(fn) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::DataLossError("consistency proof is too short");
  if (fr != first_root)
    return absl::DataLossError("consistency proof does not lead to the first root");
  if (sr != second_root)
    return absl::DataLossError("consistency proof does not lead to the second root");
  return absl::OkStatus();
}

absl::StatusOr<CompactRange> CompactRange::FromNodes(uint64_t size, const SubtreeHashFn& node) {
  CompactRange range;
  range.size_ = size;
  range.waiting_.resize(64);
  for (int level = 0; level < 64; ++level) {
    if ((size >> level & 1) == 0) continue;
    absl::StatusOr<Hash> h = node(level, (size >> level) - 1);
    if (!h.ok()) return h.status();
    range.waiting_[level] = *h;
  }
  return range;
}

std::vector<CompactRange::Node> CompactRange::Append(const Hash& leaf) {
  if (waiting_.empty()) waiting_.resize(64);
  std::vector<Node> completed;
  uint64_t index = size_;
  Hash hash = leaf;
  int level = 0;
  completed.push_back({0, index, hash});
  // A node with an odd index is a right child: its left sibling is waiting.
  while (Lsb(index)) {
    hash = NodeHash(waiting_[level], hash);
    ++level;
    index >>= 1;
    completed.push_back({level, index, hash});
  }
  waiting_[level] = hash;
  ++size_;
  return completed;
}

Hash CompactRange::Root() const {
  if (size_ == 0) return EmptyTreeRoot();
  std::optional<Hash> root;
  for (int level = 0; level < 64; ++level) {
    if ((size_ >> level & 1) == 0) continue;
    root = root ? NodeHash(waiting_[level], *root) : waiting_[level];
  }
  return *root;
}

}  // namespace innsyn::storage
