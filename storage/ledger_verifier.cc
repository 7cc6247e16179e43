// A verification pass in two threads, one pass each over their column
// families: the reader thread walks the entries, checks that each parses,
// names its own seq and links into its histories, and passes its bytes on;
// the calling thread hashes them into leaves in order, recomputes the chain
// and the tree, and compares them with the stored chain tiles, tree tiles
// and the latest signed checkpoint. The
// first problem by seq is reported, whichever thread finds it. With index
// checking, a third thread digests the stored index and event-id keys
// meanwhile, to compare with the digest of those the entries imply (see
// internal/index_digests.h).
#include "storage/ledger_verifier.h"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/strings.h"
#include "google/protobuf/arena.h"
#include "rocksdb/db.h"
#include "storage/checkpoint.h"
#include "storage/internal/history_check.h"
#include "storage/internal/index_digests.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "storage/internal/tree_tiles.h"

namespace innsyn::storage {
namespace {

using internal::ExpectedKeys;
using internal::FromRocks;
using internal::IndexDigests;
using internal::LedgerImpl;

constexpr size_t kVerifyReadaheadBytes = 1 << 20;
constexpr int kMaxTreeLevels = 64;
constexpr size_t kLeavesPerBatch = 4096;
// A batch of entries ends at this many bytes too: the queue then holds at
// most kMaxQueuedBatches MiB of entries, however large they are.
constexpr size_t kBatchBytes = size_t{1} << 20;
constexpr size_t kMaxQueuedBatches = 8;
constexpr size_t kParseArenaBytes = 64 << 10;

rocksdb::ReadOptions ScanOptions() {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = kVerifyReadaheadBytes;
  return options;
}

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// The digests of the index and event-id keys stored for entries below
// `size`. Stops early, with what it has, once `*cancel` is true.
absl::StatusOr<IndexDigests> StoredKeys(const LedgerImpl& ledger, const internal::SipKey& key,
                                        uint64_t size, const std::atomic<bool>* cancel) {
  IndexDigests digests;
  std::unique_ptr<rocksdb::Iterator> it(ledger.db->NewIterator(ScanOptions(), ledger.index));
  uint64_t scanned = 0;
  for (it->SeekToFirst(); it->Valid() && (++scanned % kLeavesPerBatch != 0 || !Cancelled(cancel));
       it->Next()) {
    rocksdb::Slice stored = it->key();
    if (stored.size() < 1 + 16) return absl::DataLossError("an index key is too short");
    if (internal::ReadBigEndian64(std::string_view(stored.data() + stored.size() - 8, 8)) >= size) {
      continue;  // written with a group not acknowledged
    }
    std::optional<internal::DerivedKind> kind = internal::IndexKeyKind(stored[0]);
    if (!kind) return absl::DataLossError("an index key has an unknown kind");
    digests[*kind].Add(key, std::string_view(stored.data(), stored.size()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "index scan");
  it.reset(ledger.db->NewIterator(ScanOptions(), ledger.dedupe));
  std::string key_and_seq;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice value = it->value();
    if (value.size() != 8) return absl::DataLossError("an event-id entry has a bad seq");
    if (internal::ReadBigEndian64(std::string_view(value.data(), 8)) >= size) continue;
    key_and_seq.assign(it->key().data(), it->key().size());
    key_and_seq.append(value.data(), value.size());
    digests[internal::kDedupeKeys].Add(key, key_and_seq);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "event-id scan");
  return digests;
}

// A pass reads the chain's tiles, and each tree level's, in order, with an
// iterator at the tile of the hash before. If the next hash is in the next
// tile, moves there; the size of the tile it leaves, if that is not full
// (`full_bytes`).
std::optional<size_t> StepToTile(rocksdb::Iterator& it, std::string_view key, size_t full_bytes) {
  if (!it.Valid() || it.key() == key) return std::nullopt;
  if (it.value().size() != full_bytes) return it.value().size();
  it.Next();
  return std::nullopt;
}

// The hash at byte `offset` of tile `key`, if `it` is at that tile and the
// tile reaches it. Valid until `it` moves.
std::optional<std::string_view> HashInTile(const rocksdb::Iterator& it, std::string_view key,
                                           size_t offset) {
  if (!it.Valid() || it.key() != key || it.value().size() < offset + kHashBytes) {
    return std::nullopt;
  }
  return std::string_view(it.value().data() + offset, kHashBytes);
}

struct Problem {
  std::optional<uint64_t> seq;
  std::string text;
};

// The stored bytes of entries [first_seq, first_seq + ends.size()), then
// possibly the problem that stopped the reader right after them. Entry i
// is `bytes` from ends[i - 1] (0 for the first) to ends[i]: the consumer
// hashes them into leaves, which takes that work off the reader.
struct LeafBatch {
  uint64_t first_seq = 0;
  std::string bytes;
  std::vector<size_t> ends;
  std::optional<Problem> problem;
  bool last = false;

  size_t size() const { return ends.size(); }
  std::string_view entry(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
};

// A full pass's check of the histories and the subject map: the links of
// every entry, and at two tree sizes the map the entries imply against what
// is stored (the heads and root of one snapshot) and what is signed.
struct MapChecks {
  explicit MapChecks(rocksdb::DB& db) : db(db), snapshot(db.GetSnapshot()) {}
  // Outlives the reader that uses the snapshot.
  ~MapChecks() { db.ReleaseSnapshot(snapshot); }
  MapChecks(const MapChecks&) = delete;
  MapChecks& operator=(const MapChecks&) = delete;

  internal::HistoryCheck histories;
  rocksdb::DB& db;
  // The stored map, read from `snapshot`, for the tree of `stored_size`
  // entries; none if no tree of the pass's has one.
  const rocksdb::Snapshot* const snapshot;
  uint64_t stored_size = 0;
  internal::MapChild stored_root;
  // The signed checkpoint's map line and its tree size, if it has one.
  uint64_t signed_size = 0;
  std::optional<Hash> signed_root;
};

// Reads entries [from, size) on its own thread into a bounded queue of
// batches.
class LeafReader {
 public:
  // With `digest_key`, also derives the index keys the entries imply; with
  // `maps` (from seq 0 only), also checks the histories and the map.
  LeafReader(const LedgerImpl& ledger, uint64_t from, uint64_t size,
             const internal::SipKey* digest_key, MapChecks* maps = nullptr)
      : ledger_(ledger), from_(from), size_(size), maps_(maps) {
    if (digest_key) expected_.emplace(*digest_key);
    thread_ = std::thread([this] { Run(); });
  }
  ~LeafReader() {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    thread_.join();
  }

  // The keys the entries read imply, given a digest key; complete once the
  // last batch is taken.
  const IndexDigests& expected_keys() const { return expected_->digests(); }

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

  void Run();
  // After entry `seq`: what the map checks find wrong, if anything.
  std::optional<Problem> CheckMapAfter(uint64_t seq);

  const LedgerImpl& ledger_;
  const uint64_t from_;
  const uint64_t size_;
  MapChecks* const maps_;
  std::optional<ExpectedKeys> expected_;  // reader thread, until the last batch
  absl::Mutex mu_;
  std::deque<LeafBatch> queue_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

void LeafReader::Run() {
  std::unique_ptr<rocksdb::Iterator> it(ledger_.db->NewIterator(ScanOptions(), ledger_.entries));
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
      batch.problem = Problem{
          seq, it->status().ok() ? StrCat("entry ", seq, " is missing") : it->status().ToString()};
      break;
    }
    rocksdb::Slice bytes = it->value();
    auto* entry = google::protobuf::Arena::CreateMessage<v1::SealedEntry>(&arena);
    if (!entry->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      batch.problem = Problem{seq, "entry bytes do not parse as a SealedEntry"};
      break;
    }
    if (entry->seq() != seq) {
      batch.problem = Problem{seq, StrCat("entry says it is seq ", entry->seq())};
      break;
    }
    batch.bytes.append(bytes.data(), bytes.size());
    batch.ends.push_back(batch.bytes.size());
    if (expected_) expected_->Add(*entry);
    if (maps_ != nullptr) {
      if (std::optional<std::string> links =
              maps_->histories.Add(*entry, std::string_view(bytes.data(), bytes.size()))) {
        batch.problem = Problem{seq, *std::move(links)};
        break;
      }
      if (std::optional<Problem> problem = CheckMapAfter(seq)) {
        batch.problem = std::move(problem);
        break;
      }
    }
    arena.Reset();  // `entry` is gone from here on
    ++seq;
    it->Next();
    if (batch.size() == kLeavesPerBatch || batch.bytes.size() >= kBatchBytes) {
      const uint64_t next_first = batch.first_seq + batch.size();
      if (!Push(std::move(batch))) return;
      batch = LeafBatch{};
      batch.first_seq = next_first;
      batch.bytes.reserve(kBatchBytes + kBatchBytes / 4);
      batch.ends.reserve(kLeavesPerBatch);
    }
  }
  batch.last = true;
  Push(std::move(batch));
}

std::optional<Problem> LeafReader::CheckMapAfter(uint64_t seq) {
  const uint64_t tree_size = seq + 1;
  if (tree_size != maps_->stored_size && tree_size != maps_->signed_size) return std::nullopt;
  // The heads by map key, as the map's leaves.
  const absl::flat_hash_map<Hash, MapValue> leaves = maps_->histories.Leaves();
  const Hash root = MapRootOf(std::vector<std::pair<Hash, MapValue>>(leaves.begin(), leaves.end()));
  if (tree_size == maps_->signed_size && maps_->signed_root && *maps_->signed_root != root) {
    return Problem{std::nullopt, StrCat("the signed checkpoint's map root at ", tree_size,
                                        " entries differs from the map the entries imply")};
  }
  if (tree_size != maps_->stored_size) return std::nullopt;
  if (maps_->stored_root.hash != root) {
    return Problem{std::nullopt, StrCat("the stored map root at ", tree_size,
                                        " entries differs from the map the entries imply")};
  }
  rocksdb::ReadOptions options = ScanOptions();
  options.snapshot = maps_->snapshot;
  std::unique_ptr<rocksdb::Iterator> map(ledger_.db->NewIterator(options, ledger_.map));
  if (std::optional<std::string> heads = maps_->histories.CompareStoredHeads(*map)) {
    return Problem{std::nullopt, StrCat(*heads, " (at ", tree_size, " entries)")};
  }
  return std::nullopt;
}

// One pass: recomputes entries [start.range.size(), committed size) from
// `start` (empty for a full pass).
class Pass {
 public:
  Pass(const LedgerImpl& ledger, bool check_indexes, const VerifyProgress& start,
       const std::atomic<bool>* cancel)
      : ledger_(ledger),
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
  VerifyProgress progress() const { return {range_, chain_}; }

 private:
  bool Fail(std::optional<uint64_t> seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  }
  bool Cancel() {
    Fail(std::nullopt, "cancelled");
    report_.cancelled = true;
    return false;
  }
  bool LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size);
  bool CheckEarlierCheckpoint();
  void CheckEntries(uint64_t size);
  std::unique_ptr<MapChecks> MapChecksFor(uint64_t size);
  bool CheckLeaves(LeafReader& reader);
  bool CheckLeaf(uint64_t seq, const Hash& leaf);
  bool CheckNode(const CompactRange::Node& node, uint64_t seq);
  bool CheckCheckpoint();
  bool CheckIndexes(const IndexDigests& expected, const absl::StatusOr<IndexDigests>& stored);

  const LedgerImpl& ledger_;
  const bool check_indexes_;
  const std::atomic<bool>* const cancel_;  // may be null
  rocksdb::ReadOptions read_options_;
  const uint64_t start_;
  std::unique_ptr<rocksdb::Iterator> chain_it_;
  // By tile level: at the tile holding the next node of its tree level.
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels_;
  CompactRange range_;
  Hash chain_;
  std::optional<CheckpointBody> checkpoint_;
  VerifyReport report_;
};

bool Pass::LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size) {
  if (!ledger_.checkpoint_problem.empty()) return Fail(std::nullopt, ledger_.checkpoint_problem);
  if (!stored) {
    if (size == 0) return true;
    return Fail(std::nullopt, StrCat("no signed checkpoint covers the ", size,
                                     " entries: the stored checkpoint was removed"));
  }
  absl::StatusOr<CheckpointBody> body = VerifyCheckpointNote(stored->note(), ledger_.verifier_key);
  if (!body.ok()) {
    return Fail(std::nullopt, StrCat("stored checkpoint: ", body.status().message()));
  }
  if (body->origin != ledger_.options.origin) {
    return Fail(std::nullopt, StrCat("stored checkpoint is for origin ", body->origin, ", not ",
                                     ledger_.options.origin));
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
bool Pass::CheckEarlierCheckpoint() {
  if (checkpoint_->tree_size >= start_) return true;
  absl::StatusOr<Hash> root = TreeRoot(checkpoint_->tree_size, ledger_.NodeFn());
  if (!root.ok()) return Fail(std::nullopt, std::string(root.status().message()));
  if (*root != checkpoint_->root_hash) {
    return Fail(std::nullopt, StrCat("the stored tree at size ", checkpoint_->tree_size,
                                     " differs from the signed checkpoint"));
  }
  return true;
}

// The entries, and meanwhile on a thread of its own the stored index keys.
void Pass::CheckEntries(uint64_t size) {
  chain_it_.reset(ledger_.db->NewIterator(read_options_, ledger_.chain));
  chain_it_->Seek(internal::ChainTileKey(start_));
  const internal::SipKey digest_key = internal::RandomDigestKey();
  absl::StatusOr<IndexDigests> stored_keys = IndexDigests{};
  std::thread index_scan;
  if (check_indexes_) {
    index_scan = std::thread([&] { stored_keys = StoredKeys(ledger_, digest_key, size, cancel_); });
  }
  // Declared before the reader, so destroyed after its thread has ended.
  std::unique_ptr<MapChecks> maps = MapChecksFor(size);
  LeafReader reader(ledger_, start_, size, check_indexes_ ? &digest_key : nullptr, maps.get());
  bool going = CheckLeaves(reader);
  report_.entries_checked = range_.size() - start_;
  if (index_scan.joinable()) index_scan.join();
  if (going && check_indexes_ && Cancelled(cancel_)) going = Cancel();
  if (going && check_indexes_) CheckIndexes(reader.expected_keys(), stored_keys);
}

// What a pass from the first entry checks of the histories and the map:
// the stored map of a snapshot taken now, if its tree is one the pass
// covers (a group committed since `size` was read is not), and the signed
// checkpoint's map line.
std::unique_ptr<MapChecks> Pass::MapChecksFor(uint64_t size) {
  if (start_ != 0 || !ledger_.options.keep_histories) return nullptr;
  auto maps = std::make_unique<MapChecks>(*ledger_.db);
  if (checkpoint_ && checkpoint_->map_root) {
    maps->signed_size = checkpoint_->tree_size;
    maps->signed_root = checkpoint_->map_root;
  }
  rocksdb::ReadOptions options;
  options.snapshot = maps->snapshot;
  std::string stored;
  if (ledger_.db->Get(options, ledger_.meta, internal::kMetaMap, &stored).ok()) {
    if (absl::StatusOr<internal::MapRoot> root = internal::DecodeMapRoot(stored);
        root.ok() && root->tree_size <= size) {
      maps->stored_size = root->tree_size;
      maps->stored_root = root->root;
    }
  }
  return maps;
}

// Takes the reader's batches until the last one, a problem or a cancel.
bool Pass::CheckLeaves(LeafReader& reader) {
  bool going = true;
  while (going) {
    LeafBatch batch = reader.Next();
    for (size_t i = 0; i < batch.size() && going; ++i) {
      going = CheckLeaf(batch.first_seq + i, LeafHash(batch.entry(i)));
    }
    if (going && batch.problem) going = Fail(batch.problem->seq, batch.problem->text);
    if (batch.last) break;
    if (going && Cancelled(cancel_)) going = Cancel();
  }
  return going;
}

bool Pass::CheckLeaf(uint64_t seq, const Hash& leaf) {
  const std::string key = internal::ChainTileKey(seq);
  constexpr size_t kFullChainTile = internal::kChainTileWidth * kHashBytes;
  if (std::optional<size_t> short_tile = StepToTile(*chain_it_, key, kFullChainTile)) {
    return Fail(seq, StrCat("chain tile ", seq / internal::kChainTileWidth - 1, " holds ",
                            *short_tile, " bytes, not a full tile's ", kFullChainTile));
  }
  const std::optional<std::string_view> stored =
      HashInTile(*chain_it_, key, seq % internal::kChainTileWidth * kHashBytes);
  if (!stored) return Fail(seq, "chain hash is missing");
  chain_ = ChainHash(chain_, leaf);
  // Level 0 first: a changed entry shows as a leaf that no longer matches.
  for (const CompactRange::Node& node : range_.Append(leaf)) {
    if (!CheckNode(node, seq)) return false;
  }
  if (*stored != AsBytes(chain_)) {
    return Fail(seq, "stored chain hash differs from the recomputed chain");
  }
  return CheckCheckpoint();
}

bool Pass::CheckNode(const CompactRange::Node& node, uint64_t seq) {
  // The levels between tiles are not stored: they are hashed from the tile
  // below, which is checked.
  if (node.level % internal::kTreeTileHeight != 0) return true;
  const int tile_level = node.level / internal::kTreeTileHeight;
  const uint64_t tile_index = node.index / internal::kTreeTileWidth;
  std::unique_ptr<rocksdb::Iterator>& it = levels_[tile_level];
  const std::string key = internal::TileKey(tile_level, tile_index);
  if (!it) {
    it.reset(ledger_.db->NewIterator(read_options_, ledger_.tree));
    it->Seek(key);
  } else if (std::optional<size_t> short_tile = StepToTile(*it, key, internal::kFullTileBytes)) {
    return Fail(seq, StrCat("tree tile (", tile_level, ", ", tile_index - 1, ") holds ",
                            *short_tile, " bytes, not a full tile's ", internal::kFullTileBytes));
  }
  const std::optional<std::string_view> stored =
      HashInTile(*it, key, node.index % internal::kTreeTileWidth * kHashBytes);
  if (!stored) {
    return Fail(seq, StrCat("tree node (", node.level, ", ", node.index, ") is missing"));
  }
  if (*stored != AsBytes(node.hash)) {
    if (node.level == 0) return Fail(seq, "entry bytes do not match the stored leaf hash");
    return Fail(seq, StrCat("tree node (", node.level, ", ", node.index,
                            ") differs from the recomputed tree"));
  }
  return true;
}

bool Pass::CheckCheckpoint() {
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

bool Pass::CheckIndexes(const IndexDigests& expected, const absl::StatusOr<IndexDigests>& stored) {
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

VerifyReport Pass::Run() {
  auto start = std::chrono::steady_clock::now();
  // The checkpoint is read before the size: a checkpoint signed meanwhile
  // can then only be for a size this pass covers.
  std::optional<v1::Checkpoint> stored;
  {
    absl::MutexLock lock(&ledger_.checkpoint_mu);
    stored = ledger_.latest_checkpoint;
  }
  const uint64_t size = ledger_.committed_size.load(std::memory_order_acquire);
  if (LoadCheckpoint(stored, size)) CheckEntries(size);
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

}  // namespace

VerifyReport LedgerVerifier::Verify(bool check_indexes, VerifyProgress* progress,
                                    const std::atomic<bool>* cancel) const {
  Pass pass(ledger_, check_indexes, VerifyProgress{}, cancel);
  VerifyReport report = pass.Run();
  if (report.ok && progress != nullptr) *progress = pass.progress();
  return report;
}

VerifyReport LedgerVerifier::VerifyIncremental(VerifyProgress& progress,
                                               const std::atomic<bool>* cancel) const {
  Pass pass(ledger_, /*check_indexes=*/false, progress, cancel);
  VerifyReport report = pass.Run();
  if (report.ok) progress = pass.progress();
  return report;
}

}  // namespace innsyn::storage
