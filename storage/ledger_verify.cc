// Ledger::Verify: recomputes every hash from the stored entry bytes and
// compares with what is stored and what was signed.
//
// Two threads share the work, one pass each over their column families:
// the reader thread walks the entries, checks that each parses and names its
// own seq, and hashes it into a leaf; the calling thread takes the leaves in
// order, recomputes the chain and the tree, and compares them with the
// stored chain hashes, tree nodes and the latest signed checkpoint. The
// first problem by seq is reported, whichever thread finds it.
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "google/protobuf/arena.h"
#include "openssl/rand.h"
#include "storage/internal/derived_keys.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/schema.h"
#include "storage/internal/siphash.h"

namespace innsyn::storage {
namespace {

using internal::FromRocks;

constexpr size_t kVerifyReadaheadBytes = 1 << 20;
constexpr int kMaxTreeLevels = 64;
constexpr size_t kLeavesPerBatch = 4096;
constexpr size_t kMaxQueuedBatches = 8;
constexpr size_t kParseArenaBytes = 64 << 10;

rocksdb::ReadOptions ScanOptions() {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = kVerifyReadaheadBytes;
  return options;
}

struct Problem {
  std::optional<uint64_t> seq;
  std::string text;
};

// An order-independent digest of a set of keys: the sum of the SipHash-2-4
// values of its keys, and their count. The SipHash key is drawn at random
// for each verification, so a set changed beforehand sums the same only by
// chance (about 2^-64).
struct DigestKeys {
  internal::SipKey key;
};

struct KeySetDigest {
  uint64_t sum = 0;
  uint64_t count = 0;

  void Add(const DigestKeys& keys, std::string_view key) {
    sum += SipHash24(keys.key, key);
    ++count;
  }
  bool operator==(const KeySetDigest&) const = default;
};

DigestKeys RandomDigestKeys() {
  DigestKeys keys;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&keys), sizeof(keys)) != 1) std::abort();
  return keys;
}

using internal::DerivedKind;
using IndexDigests = std::array<KeySetDigest, internal::kDerivedKinds>;

// Pseudonyms of the ids seen so far: a clinic has few actors and each
// patient appears many times, so most HMACs are looked up, not computed.
class PseudonymCache {
 public:
  explicit PseudonymCache(const Pseudonymizer& pseudonymizer) : pseudonymizer_(pseudonymizer) {}
  const std::string& Get(PseudonymDomain domain, const std::string& id) {
    auto& cache = domain == PseudonymDomain::kSubject ? subjects_ : actors_;
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    if (cache.size() >= kMaxCachedIds) cache.clear();
    return cache.emplace(id, pseudonymizer_.Pseudonym(domain, id)).first->second;
  }

 private:
  static constexpr size_t kMaxCachedIds = 1 << 16;
  const Pseudonymizer& pseudonymizer_;
  absl::flat_hash_map<std::string, std::string> subjects_;
  absl::flat_hash_map<std::string, std::string> actors_;
};

// The index and dedupe keys entry `seq` must have, added to `digests`.
// `key` and `key_and_value` are scratch space, reused between entries.
void AddExpectedKeys(const DigestKeys& keys, PseudonymCache& pseudonyms,
                     const v1::LedgerEntry& entry, uint64_t seq, IndexDigests& digests,
                     std::string& key, std::string& key_and_value) {
  internal::ForEachDerivedKey(
      entry, seq,
      [&](PseudonymDomain domain, const std::string& id) -> const std::string& {
        return pseudonyms.Get(domain, id);
      },
      [&](DerivedKind kind, std::string_view derived, std::string_view value) {
        if (value.empty()) {
          digests[kind].Add(keys, derived);
          return;
        }
        key_and_value.assign(derived);
        key_and_value.append(value);
        digests[kind].Add(keys, key_and_value);
      },
      key);
}

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// The index and dedupe keys actually stored for entries below `size`.
absl::StatusOr<IndexDigests> StoredKeys(const internal::LedgerImpl& impl, const DigestKeys& keys,
                                        uint64_t size, const std::atomic<bool>* cancel) {
  IndexDigests digests;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(ScanOptions(), impl.index));
  uint64_t scanned = 0;
  for (it->SeekToFirst(); it->Valid() && (++scanned % kLeavesPerBatch != 0 || !Cancelled(cancel));
       it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() < 1 + 16) return absl::DataLossError("an index key is too short");
    if (internal::ReadBigEndian64(std::string_view(key.data() + key.size() - 8, 8)) >= size) {
      continue;  // written with a group not acknowledged
    }
    DerivedKind kind;
    switch (key[0]) {
      case internal::kSubjectIndex:
        kind = internal::kSubjectKeys;
        break;
      case internal::kActorIndex:
        kind = internal::kActorKeys;
        break;
      case internal::kSubjectQueryIndex:
        kind = internal::kQueryKeys;
        break;
      case internal::kAlertIndex:
        kind = internal::kAlertKeys;
        break;
      default:
        return absl::DataLossError("an index key has an unknown kind");
    }
    digests[kind].Add(keys, std::string_view(key.data(), key.size()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "index scan");
  it.reset(impl.db->NewIterator(ScanOptions(), impl.dedupe));
  std::string key_and_seq;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice value = it->value();
    if (value.size() != 8) return absl::DataLossError("an event-id entry has a bad seq");
    if (internal::ReadBigEndian64(std::string_view(value.data(), 8)) >= size) continue;
    key_and_seq.assign(it->key().data(), it->key().size());
    key_and_seq.append(value.data(), value.size());
    digests[internal::kDedupeKeys].Add(keys, key_and_seq);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "event-id scan");
  return digests;
}

// Leaves for seqs [first_seq, first_seq + leaves.size()), then possibly the
// problem that stopped the reader right after them.
struct LeafBatch {
  uint64_t first_seq = 0;
  std::vector<Hash> leaves;
  std::optional<Problem> problem;
  bool last = false;
};

// Reads entries [from, size) on its own thread into a bounded queue of
// batches.
class LeafReader {
 public:
  // With `digest_keys`, also derives the index keys the entries imply.
  LeafReader(const internal::LedgerImpl& impl, uint64_t from, uint64_t size,
             const DigestKeys* digest_keys)
      : impl_(impl),
        from_(from),
        size_(size),
        digest_keys_(digest_keys),
        pseudonyms_(*impl.pseudonymizer),
        thread_([this] { Run(); }) {}
  ~LeafReader() {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    thread_.join();
  }

  // The keys the entries read imply; complete once the last batch is taken.
  const IndexDigests& expected_keys() const { return expected_keys_; }

  LeafBatch Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::deque<LeafBatch>* queue) { return !queue->empty(); }, &queue_));
    LeafBatch batch = std::move(queue_.front());
    queue_.pop_front();
    return batch;
  }

 private:
  // Returns false if the consumer has given up.
  bool Push(LeafBatch batch) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &LeafReader::HasRoom));
    if (cancelled_) return false;
    queue_.push_back(std::move(batch));
    return true;
  }
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return cancelled_ || queue_.size() < kMaxQueuedBatches;
  }

  void Run() {
    std::unique_ptr<rocksdb::Iterator> it(impl_.db->NewIterator(ScanOptions(), impl_.entries));
    // Each entry is parsed into an arena that is reset after it: the parse
    // then allocates nothing from the heap.
    std::vector<char> arena_block(kParseArenaBytes);
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = arena_block.data();
    arena_options.initial_block_size = arena_block.size();
    google::protobuf::Arena arena(arena_options);
    LeafBatch batch;
    batch.first_seq = from_;
    uint64_t seq = from_;
    it->Seek(internal::SeqKey(from_));
    while (seq < size_) {
      if (!it->Valid() || it->key() != internal::SeqKey(seq)) {
        batch.problem = Problem{seq, it->status().ok() ? StrCat("entry ", seq, " is missing")
                                                       : it->status().ToString()};
        break;
      }
      rocksdb::Slice bytes = it->value();
      auto* entry = google::protobuf::Arena::CreateMessage<v1::LedgerEntry>(&arena);
      if (!entry->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        batch.problem = Problem{seq, "entry bytes do not parse as a LedgerEntry"};
        break;
      }
      if (entry->seq() != seq) {
        batch.problem = Problem{seq, StrCat("entry says it is seq ", entry->seq())};
        break;
      }
      batch.leaves.push_back(LeafHash(std::string_view(bytes.data(), bytes.size())));
      if (digest_keys_) {
        AddExpectedKeys(*digest_keys_, pseudonyms_, *entry, seq, expected_keys_, scratch_key_,
                        scratch_key_and_value_);
      }
      arena.Reset();  // `entry` is gone from here on
      ++seq;
      it->Next();
      if (batch.leaves.size() == kLeavesPerBatch) {
        uint64_t next_first = batch.first_seq + kLeavesPerBatch;
        if (!Push(std::move(batch))) return;
        batch = LeafBatch{};
        batch.first_seq = next_first;
        batch.leaves.reserve(kLeavesPerBatch);
      }
    }
    batch.last = true;
    Push(std::move(batch));
  }

  const internal::LedgerImpl& impl_;
  const uint64_t from_;
  const uint64_t size_;
  const DigestKeys* const digest_keys_;
  PseudonymCache pseudonyms_;  // reader thread
  std::string scratch_key_;    // reader thread
  std::string scratch_key_and_value_;
  IndexDigests expected_keys_;  // reader thread, until the last batch
  absl::Mutex mu_;
  std::deque<LeafBatch> queue_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Recomputes entries [start.range.size(), committed size) from `start`
// (empty for a full pass).
class Verifier {
 public:
  Verifier(const internal::LedgerImpl& impl, bool check_indexes,
           const Ledger::VerifyProgress& start, const std::atomic<bool>* cancel)
      : impl_(impl),
        check_indexes_(check_indexes),
        cancel_(cancel),
        read_options_(ScanOptions()),
        start_(start.range.size()),
        range_(start.range),
        chain_(start.chain) {
    levels_.resize(kMaxTreeLevels);
  }

  VerifyReport Run();
  // Where the pass ended; meaningful if it succeeded.
  Ledger::VerifyProgress progress() const { return {range_, chain_}; }

 private:
  bool Fail(std::optional<uint64_t> seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  }
  bool LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size);
  bool CheckLeaf(uint64_t seq, const Hash& leaf);
  bool CheckNode(const CompactRange::Node& node, uint64_t seq);
  bool CheckCheckpoint();

  bool CheckIndexes(const IndexDigests& expected, const absl::StatusOr<IndexDigests>& stored);
  bool CheckEarlierCheckpoint();

  const internal::LedgerImpl& impl_;
  const bool check_indexes_;
  const std::atomic<bool>* const cancel_;  // may be null
  rocksdb::ReadOptions read_options_;
  const uint64_t start_;
  std::unique_ptr<rocksdb::Iterator> chain_it_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels_;
  CompactRange range_;
  Hash chain_;
  std::optional<CheckpointBody> checkpoint_;
  VerifyReport report_;
};

bool Verifier::LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size) {
  if (!impl_.checkpoint_problem.empty()) return Fail(std::nullopt, impl_.checkpoint_problem);
  if (!stored) {
    if (size == 0) return true;
    return Fail(std::nullopt, StrCat("no signed checkpoint covers the ", size,
                                     " entries: the stored checkpoint was removed"));
  }
  absl::StatusOr<CheckpointBody> body = VerifyCheckpointNote(stored->note(), impl_.verifier_key);
  if (!body.ok()) {
    return Fail(std::nullopt, StrCat("stored checkpoint: ", body.status().message()));
  }
  if (body->origin != impl_.options.origin) {
    return Fail(std::nullopt, StrCat("stored checkpoint is for origin ", body->origin, ", not ",
                                     impl_.options.origin));
  }
  if (body->tree_size > size) {
    return Fail(size, StrCat("the ledger has ", size, " entries but a signed checkpoint says ",
                             body->tree_size, ": entries were removed"));
  }
  if (body->tree_size == 0 && body->root_hash != EmptyTreeRoot()) {
    return Fail(std::nullopt, "signed checkpoint of the empty ledger has a wrong root");
  }
  checkpoint_ = *body;
  report_.checkpoint_size = body->tree_size;
  if (start_ == 0) return true;
  if (start_ > size) return Fail(std::nullopt, "the ledger is shorter than already verified");
  return CheckCheckpoint() && CheckEarlierCheckpoint();
}

// An incremental pass starts past a checkpoint signed while the previous
// pass read the size. Its root is then checked against the stored tree,
// which the previous passes recomputed; the next full pass reads it all.
bool Verifier::CheckEarlierCheckpoint() {
  if (checkpoint_->tree_size >= start_) return true;
  absl::StatusOr<Hash> root = TreeRoot(checkpoint_->tree_size, impl_.NodeFn());
  if (!root.ok()) return Fail(std::nullopt, std::string(root.status().message()));
  if (*root != checkpoint_->root_hash) {
    return Fail(std::nullopt, StrCat("the stored tree at size ", checkpoint_->tree_size,
                                     " differs from the signed checkpoint"));
  }
  return true;
}

bool Verifier::CheckLeaf(uint64_t seq, const Hash& leaf) {
  std::string key = internal::SeqKey(seq);
  if (!chain_it_->Valid() || chain_it_->key() != key) {
    return Fail(seq, "chain hash is missing");
  }
  chain_ = ChainHash(chain_, leaf);
  // Level 0 first: a changed entry shows as a leaf that no longer matches.
  for (const CompactRange::Node& node : range_.Append(leaf)) {
    if (!CheckNode(node, seq)) return false;
  }
  if (chain_it_->value() != AsBytes(chain_)) {
    return Fail(seq, "stored chain hash differs from the recomputed chain");
  }
  chain_it_->Next();
  return CheckCheckpoint();
}

bool Verifier::CheckNode(const CompactRange::Node& node, uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator>& it = levels_[node.level];
  std::string key = internal::TreeKey(node.level, node.index);
  if (!it) {
    it.reset(impl_.db->NewIterator(read_options_, impl_.tree));
    it->Seek(key);
  }
  if (!it->Valid() || it->key() != key) {
    return Fail(seq, StrCat("tree node (", node.level, ", ", node.index, ") is missing"));
  }
  if (it->value() != AsBytes(node.hash)) {
    if (node.level == 0) return Fail(seq, "entry bytes do not match the stored leaf hash");
    return Fail(seq, StrCat("tree node (", node.level, ", ", node.index,
                            ") differs from the recomputed tree"));
  }
  it->Next();
  return true;
}

bool Verifier::CheckCheckpoint() {
  if (!checkpoint_ || range_.size() != checkpoint_->tree_size) return true;
  if (range_.Root() != checkpoint_->root_hash) {
    return Fail(std::nullopt, StrCat("root of the first ", checkpoint_->tree_size,
                                     " entries differs from the signed checkpoint"));
  }
  if (chain_ != checkpoint_->chain_head) {
    return Fail(std::nullopt, StrCat("chain head at ", checkpoint_->tree_size,
                                     " differs from the signed checkpoint"));
  }
  return true;
}

bool Verifier::CheckIndexes(const IndexDigests& expected,
                            const absl::StatusOr<IndexDigests>& stored) {
  if (!stored.ok()) return Fail(std::nullopt, std::string(stored.status().message()));
  for (int kind = 0; kind < internal::kDerivedKinds; ++kind) {
    if (expected[kind] == (*stored)[kind]) continue;
    return Fail(std::nullopt,
                StrCat("the ", internal::kDerivedKindNames[kind], " does not match the entries (",
                       expected[kind].count, " keys expected, ", (*stored)[kind].count,
                       " found): keys were removed, added or changed"));
  }
  report_.indexes_checked = true;
  return true;
}

VerifyReport Verifier::Run() {
  auto start = std::chrono::steady_clock::now();
  // The checkpoint is read before the size: a checkpoint signed meanwhile
  // can then only be for a size this pass covers.
  std::optional<v1::Checkpoint> stored;
  {
    absl::MutexLock lock(&impl_.checkpoint_mu);
    stored = impl_.latest_checkpoint;
  }
  const uint64_t size = impl_.committed_size.load(std::memory_order_acquire);
  if (LoadCheckpoint(stored, size)) {
    chain_it_.reset(impl_.db->NewIterator(read_options_, impl_.chain));
    chain_it_->Seek(internal::SeqKey(start_));
    // The stored index keys are read on a thread of their own meanwhile.
    const DigestKeys digest_keys = RandomDigestKeys();
    absl::StatusOr<IndexDigests> stored_keys = IndexDigests{};
    std::thread index_scan;
    if (check_indexes_) {
      index_scan =
          std::thread([&] { stored_keys = StoredKeys(impl_, digest_keys, size, cancel_); });
    }
    LeafReader reader(impl_, start_, size, check_indexes_ ? &digest_keys : nullptr);
    bool going = true;
    while (going) {
      LeafBatch batch = reader.Next();
      for (size_t i = 0; i < batch.leaves.size() && going; ++i) {
        going = CheckLeaf(batch.first_seq + i, batch.leaves[i]);
      }
      if (going && batch.problem) going = Fail(batch.problem->seq, batch.problem->text);
      if (batch.last) break;
      if (going && Cancelled(cancel_)) {
        going = Fail(std::nullopt, "cancelled");
        report_.cancelled = true;
      }
    }
    report_.entries_checked = range_.size() - start_;
    if (index_scan.joinable()) index_scan.join();
    if (going && check_indexes_ && Cancelled(cancel_)) {
      going = Fail(std::nullopt, "cancelled");
      report_.cancelled = true;
    }
    if (going && check_indexes_) CheckIndexes(reader.expected_keys(), stored_keys);
  }
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

}  // namespace

VerifyReport Ledger::Verify(bool check_indexes) const {
  return Verifier(*impl_, check_indexes, VerifyProgress{}, nullptr).Run();
}

VerifyReport Ledger::Verify(bool check_indexes, VerifyProgress& progress,
                            const std::atomic<bool>* cancel) const {
  Verifier verifier(*impl_, check_indexes, VerifyProgress{}, cancel);
  VerifyReport report = verifier.Run();
  if (report.ok) progress = verifier.progress();
  return report;
}

VerifyReport Ledger::VerifyIncremental(VerifyProgress& progress,
                                       const std::atomic<bool>* cancel) const {
  Verifier verifier(*impl_, /*check_indexes=*/false, progress, cancel);
  VerifyReport report = verifier.Run();
  if (report.ok) progress = verifier.progress();
  return report;
}

}  // namespace innsyn::storage
