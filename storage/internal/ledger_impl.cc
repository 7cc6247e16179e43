#include "storage/internal/ledger_impl.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/strings.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "storage/internal/tree_tiles.h"
#include "storage/pseudonym.h"

namespace innsyn::storage::internal {
namespace {

constexpr char kDefaultKekFile[] = "data.kek";
constexpr double kDedupeBloomBitsPerKey = 10;
constexpr size_t kMemtableBudgetBytes = 64 << 20;

// A column family of the ledger, where its handle goes, and how it is read.
struct Family {
  const char* name;
  rocksdb::ColumnFamilyHandle* LedgerImpl::*handle;
  // Mostly probed for keys that are absent (the dedupe check of every new
  // event), so that a Bloom filter saves a disk read.
  bool point_lookups;
  // Keys start with a kind and a pseudonym (see PseudonymPrefix).
  bool pseudonym_keys;
  // Values are hashes (the chain, the tree, the map's nodes), which no
  // compressor shrinks: compressing them at every flush and compaction
  // would only cost CPU.
  bool hashes;
};

constexpr Family kFamilies[] = {
    {kEntriesFamily, &LedgerImpl::entries, false, false, false},
    {kChainFamily, &LedgerImpl::chain, false, false, true},
    {kTreeFamily, &LedgerImpl::tree, false, false, true},
    {kIndexFamily, &LedgerImpl::index, false, true, false},
    {kDedupeFamily, &LedgerImpl::dedupe, true, false, false},
    {kMetaFamily, &LedgerImpl::meta, false, false, false},
    {kMapFamily, &LedgerImpl::map, true, false, true},
};

// Index keys of one subject or actor arrive mostly in time order, so the
// memtable keeps the last insert position per subject or actor (prefix and
// pseudonym) and starts the next insert there, instead of searching its skip
// list from the top for every random pseudonym.
class PseudonymPrefix final : public rocksdb::SliceTransform {
 public:
  static constexpr size_t kLength = 1 + Pseudonymizer::kPseudonymBytes;
  const char* Name() const override { return "innsyn.PseudonymPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kLength);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() >= kLength && key[0] != kAlertIndex;  // alert keys: no pseudonym
  }
};

// `compressed`: LZ4, and ZSTD at the bottom level; off for what does not
// compress.
rocksdb::ColumnFamilyOptions FamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           bool point_lookups, bool pseudonym_keys,
                                           bool compressed) {
  rocksdb::ColumnFamilyOptions options;
  if (pseudonym_keys) {
    options.memtable_insert_with_hint_prefix_extractor = std::make_shared<PseudonymPrefix>();
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  // Filters and indexes in partitions of a few kilobytes, so that a lookup
  // reads (and checksums) one small partition instead of a whole file's
  // filter, and a full cache evicts partitions, not megabytes at a time. The
  // top levels stay pinned, and level 0's (the newest, most probed) whole.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (point_lookups) {
    table.partition_filters = true;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kDedupeBloomBitsPerKey));
    options.memtable_whole_key_filtering = true;
    options.memtable_prefix_bloom_size_ratio = 0.02;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (compressed) {
    options.compression = rocksdb::kLZ4Compression;
    options.bottommost_compression = rocksdb::kZSTD;
  } else {
    options.compression = rocksdb::kNoCompression;
    options.bottommost_compression = rocksdb::kDisableCompressionOption;
  }
  return options;
}

rocksdb::DBOptions DatabaseOptions(const LedgerOptions& options,
                                   const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::WARN_LEVEL;
  db_options.keep_log_file_num = 5;
  // One memtable budget for all families, so that memory stays bounded
  // however the writes spread over them; beyond it the largest is flushed.
  // It is charged to the block cache, which then holds fewer blocks while
  // the memtables are full: the two together stay within the cache's size.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(kMemtableBudgetBytes, cache);
  if (options.env != nullptr) db_options.env = options.env;
  return db_options;
}

uint64_t IntProperty(rocksdb::DB& db, const std::string& name) {
  uint64_t value = 0;
  return db.GetAggregatedIntProperty(name, &value) ? value : 0;
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t bytes = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(path, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) {
      uintmax_t size = it->file_size(size_error);
      if (!size_error) bytes += size;
    }
  }
  return bytes;
}

// RocksDB's default family comes first; the ledger keeps nothing in it.
std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors(
    const std::shared_ptr<rocksdb::Cache>& cache, bool sealed) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           FamilyOptions(cache, false, false, /*compressed=*/true));
  for (const Family& family : kFamilies) {
    // Sealed entries are ciphertext and random hashes, which do not
    // compress either (0.5 %, measured).
    const bool compressed = !family.hashes && !(sealed && family.handle == &LedgerImpl::entries);
    descriptors.emplace_back(
        family.name, FamilyOptions(cache, family.point_lookups, family.pseudonym_keys, compressed));
    if (family.handle == &LedgerImpl::tree || family.handle == &LedgerImpl::chain) {
      descriptors.back().options.merge_operator = TileAppend();
    }
  }
  return descriptors;
}

}  // namespace

absl::Status LedgerImpl::OpenDatabase() {
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors =
      FamilyDescriptors(cache, options.seal_entries);
  const rocksdb::DBOptions db_options = DatabaseOptions(options, cache);
  const std::string path = options.data_dir + "/" + kDatabaseFolder;
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &opened, &raw)
                        : rocksdb::DB::Open(db_options, path, descriptors, &opened, &raw);
  if (!s.ok()) return FromRocks(s, StrCat("open ", path));
  db.reset(raw);
  for (rocksdb::ColumnFamilyHandle* handle : opened) handles.emplace_back(handle);
  for (const Family& family : kFamilies) {
    auto named = [&](const auto& handle) { return handle->GetName() == family.name; };
    auto found = std::find_if(handles.begin(), handles.end(), named);
    if (found == handles.end()) {
      return absl::InternalError(StrCat("open ", path, ": no column family ", family.name));
    }
    this->*family.handle = found->get();
  }
  return absl::OkStatus();
}

absl::Status LedgerImpl::LoadCommittedState() {
  uint64_t size = 0;
  if (absl::StatusOr<std::string> stored = Get(meta, kMetaSize); stored.ok()) {
    if (stored->size() != 8) return absl::DataLossError("stored ledger size is corrupt");
    size = ReadBigEndian64(*stored);
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  committed_size.store(size);
  absl::StatusOr<std::string> stored = Get(meta, kMetaCheckpoint);
  if (absl::IsNotFound(stored.status())) return absl::OkStatus();
  if (!stored.ok()) return stored.status();
  v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(*stored)) {
    checkpoint_problem = "the stored checkpoint is unreadable";
    return absl::OkStatus();
  }
  absl::MutexLock lock(&checkpoint_mu);
  latest_checkpoint = std::move(checkpoint);
  return absl::OkStatus();
}

void LedgerImpl::CloseDatabase(bool flush) {
  if (!db) return;
  if (flush) {
    std::vector<rocksdb::ColumnFamilyHandle*> families;
    for (auto& handle : handles) families.push_back(handle.get());
    db->Flush(rocksdb::FlushOptions(), families);
    db->FlushWAL(/*sync=*/true);
  }
  for (auto& handle : handles) db->DestroyColumnFamilyHandle(handle.release());
  db->Close();
}

absl::Status LedgerImpl::CheckAgainstLatestCheckpoint() const {
  std::optional<v1::Checkpoint> latest;
  {
    absl::MutexLock lock(&checkpoint_mu);
    latest = latest_checkpoint;
  }
  if (!latest) return absl::OkStatus();
  const uint64_t size = committed_size.load(std::memory_order_acquire);
  if (latest->tree_size() > size) {
    return absl::DataLossError(StrCat("the ledger has ", size,
                                      " entries but its signed checkpoint says ",
                                      latest->tree_size(), ": entries were removed"));
  }
  absl::StatusOr<Hash> root = TreeRoot(latest->tree_size(), NodeFn());
  if (!root.ok()) return root.status();
  if (AsBytes(*root) != latest->root_hash()) {
    return absl::DataLossError(StrCat("the stored tree no longer has the root signed at size ",
                                      latest->tree_size(), "; run innsynctl verify"));
  }
  return absl::OkStatus();
}

std::string DescribeKey(const rocksdb::ColumnFamilyHandle& family, std::string_view key) {
  if (key.size() == 8) return StrCat(family.GetName(), " key of seq ", ReadBigEndian64(key));
  if (key.size() == 9) {
    return StrCat(family.GetName(), " key of tile (", static_cast<int>(key[0]), ", ",
                  ReadBigEndian64(key.substr(1)), ")");
  }
  return StrCat(family.GetName(), " key ", key);
}

absl::StatusOr<std::string> LedgerImpl::Get(rocksdb::ColumnFamilyHandle* family,
                                            std::string_view key) const {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), family, key, &value);
  if (!s.ok()) return FromRocks(s, DescribeKey(*family, key));
  return value;
}

absl::StatusOr<Hash> LedgerImpl::ChainHead(uint64_t seq, bool last) const {
  const std::string key = ChainTileKey(seq);
  rocksdb::PinnableSlice tile;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), chain, key, &tile);
  const size_t offset = seq % kChainTileWidth * kHashBytes;
  if (s.IsNotFound() || (s.ok() && tile.size() < offset + kHashBytes)) {
    return absl::NotFoundError(StrCat("the chain hash of seq ", seq, " is missing"));
  }
  if (!s.ok()) return FromRocks(s, StrCat("read the chain hash of seq ", seq));
  if (tile.size() % kHashBytes != 0) {
    return absl::DataLossError(
        StrCat("the chain tile of seq ", seq, " is ", tile.size(), " bytes, not whole hashes"));
  }
  if (last && tile.size() != offset + kHashBytes) {
    return absl::DataLossError(StrCat("the chain tile of seq ", seq, " holds ",
                                      tile.size() / kHashBytes, " hashes; a ledger of ", seq + 1,
                                      " entries ends it with ", offset / kHashBytes + 1));
  }
  return *HashFromBytes(std::string_view(tile.data() + offset, kHashBytes));
}

absl::StatusOr<Hash> LedgerImpl::Node(int level, uint64_t index) const {
  const TileSpan span = LocateNode(level, index);
  const std::string key = TileKey(span.tile_level, span.tile_index);
  rocksdb::PinnableSlice tile;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), tree, key, &tile);
  if (!s.ok()) {
    return absl::DataLossError(StrCat("tree node (", level, ", ", index, ") unreadable: ",
                                      FromRocks(s, DescribeKey(*tree, key)).message()));
  }
  std::optional<Hash> hash = SubtreeInTile(std::string_view(tile.data(), tile.size()), span);
  if (!hash) {
    return absl::DataLossError(StrCat("tree node (", level, ", ", index, ") is not in its tile (",
                                      span.tile_level, ", ", span.tile_index, ")"));
  }
  return *hash;
}

absl::Status LedgerImpl::DamageError(std::string_view refused) const {
  absl::MutexLock lock(&integrity_mu);
  if (!integrity.damaged) return absl::OkStatus();
  return absl::UnavailableError(StrCat(
      refused, ": the ledger failed verification",
      integrity.damaged_seq ? StrCat(" at entry ", *integrity.damaged_seq) : std::string(), " (",
      integrity.problem,
      "); innsynd serves reads only until it is repaired (see \"When verification fails\" in "
      "the README)"));
}

void LedgerImpl::NoteDamage(std::optional<uint64_t> seq, std::string problem) const {
  absl::MutexLock lock(&integrity_mu);
  if (integrity.damaged) return;  // the first finding names the damage
  integrity.damaged = true;
  integrity.damaged_seq = seq;
  integrity.problem = std::move(problem);
}

std::optional<v1::Checkpoint> LedgerImpl::StoredCheckpoint(uint64_t tree_size) const {
  {
    absl::MutexLock lock(&checkpoint_mu);
    if (latest_checkpoint && latest_checkpoint->tree_size() == tree_size) return latest_checkpoint;
  }
  absl::StatusOr<std::string> stored = Get(meta, CheckpointHistoryKey(tree_size));
  v1::Checkpoint checkpoint;
  if (!stored.ok() || !checkpoint.ParseFromString(*stored)) return std::nullopt;
  return checkpoint;
}

uint64_t LedgerImpl::LatestStoredSize() const {
  absl::MutexLock lock(&checkpoint_mu);
  return latest_checkpoint ? latest_checkpoint->tree_size() : 0;
}

absl::Status LedgerImpl::MaySign() const {
  if (absl::Status damage = DamageError("no checkpoint is signed"); !damage.ok()) {
    return absl::FailedPreconditionError(damage.message());
  }
  if (!options.sign_after_verification) return absl::OkStatus();
  absl::MutexLock lock(&integrity_mu);
  auto decided = [this]() ABSL_SHARED_LOCKS_REQUIRED(integrity_mu) {
    return integrity.verified || integrity.damaged;
  };
  integrity_mu.AwaitWithTimeout(absl::Condition(&decided), options.verification_wait);
  if (integrity.damaged) {
    return absl::FailedPreconditionError(StrCat(
        "no checkpoint is signed: the ledger failed verification (", integrity.problem, ")"));
  }
  if (!integrity.verified) {
    return absl::UnavailableError(
        "no checkpoint is signed yet: the full verification at start is still running");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::AppendReceipt> LedgerImpl::ReceiptFor(uint64_t seq,
                                                         v1::LedgerEntry* entry_out) const {
  absl::StatusOr<std::vector<StoredEntry>> stored = ReadEntries({seq});
  if (!stored.ok()) return stored.status();
  absl::StatusOr<Hash> chain_hash = ChainHead(seq);
  if (!chain_hash.ok()) return chain_hash.status();
  StoredEntry& found = stored->front();
  v1::AppendReceipt receipt;
  receipt.set_event_id(found.entry.has_baseline() ? found.entry.baseline().event().event_id()
                                                  : found.entry.access_event().event_id());
  receipt.set_seq(seq);
  receipt.set_leaf_hash(std::string(AsBytes(found.leaf_hash)));
  receipt.set_chain_hash(std::string(AsBytes(*chain_hash)));
  // An erased entry's commit time went with its key; its hour remains.
  if (found.erased) {
    receipt.mutable_committed_at()->set_seconds(found.header.hour());
  } else {
    *receipt.mutable_committed_at() = found.entry.committed_at();
  }
  if (entry_out != nullptr) *entry_out = std::move(found.entry);
  return receipt;
}

absl::StatusOr<std::vector<StoredEntry>> LedgerImpl::ReadEntries(const std::vector<uint64_t>& seqs,
                                                                 bool open) const {
  // Each entry and the level 0 tile with its stored leaf hash, in one
  // MultiGet a family.
  std::vector<std::string> key_storage;
  key_storage.reserve(2 * seqs.size());
  std::vector<rocksdb::Slice> entry_keys;
  std::vector<rocksdb::Slice> tile_keys;
  absl::flat_hash_map<uint64_t, size_t> tile_of;  // tile index -> place in tile_keys
  for (uint64_t seq : seqs) {
    key_storage.push_back(SeqKey(seq));
    entry_keys.emplace_back(key_storage.back());
    if (tile_of.try_emplace(seq / kTreeTileWidth, tile_keys.size()).second) {
      key_storage.push_back(TileKey(0, seq / kTreeTileWidth));
      tile_keys.emplace_back(key_storage.back());
    }
  }
  std::vector<rocksdb::PinnableSlice> values(seqs.size());
  std::vector<rocksdb::PinnableSlice> tiles(tile_keys.size());
  std::vector<rocksdb::Status> statuses(seqs.size());
  std::vector<rocksdb::Status> tile_statuses(tile_keys.size());
  if (!seqs.empty()) {
    db->MultiGet(rocksdb::ReadOptions(), entries, entry_keys.size(), entry_keys.data(),
                 values.data(), statuses.data());
    db->MultiGet(rocksdb::ReadOptions(), tree, tile_keys.size(), tile_keys.data(), tiles.data(),
                 tile_statuses.data());
  }
  std::vector<StoredEntry> out(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!statuses[i].ok()) return FromRocks(statuses[i], StrCat("entry ", seqs[i]));
    const size_t t = tile_of.at(seqs[i] / kTreeTileWidth);
    if (!tile_statuses[t].ok()) return FromRocks(tile_statuses[t], StrCat("leaf ", seqs[i]));
    const std::string_view tile(tiles[t].data(), tiles[t].size());
    const size_t offset = seqs[i] % kTreeTileWidth * kHashBytes;
    const std::string_view stored_leaf =
        offset + kHashBytes <= tile.size() ? tile.substr(offset, kHashBytes) : std::string_view();
    // Every entry read is checked against the leaf hash stored when it was
    // written (and covered by the signed tree): bytes changed on disk are
    // an error naming the entry, never an answer.
    std::string_view bytes(values[i].data(), values[i].size());
    const Hash leaf = LeafHash(bytes);
    if (stored_leaf != AsBytes(leaf)) {
      const std::string problem = StrCat("entry ", seqs[i], " does not match its stored leaf hash");
      NoteDamage(seqs[i], problem);
      return absl::DataLossError(StrCat(problem,
                                        ": the ledger was changed outside innsyn (see \"When "
                                        "verification fails\" in the README)"));
    }
    out[i].seq = seqs[i];
    out[i].bytes = std::string(bytes);
    out[i].leaf_hash = leaf;
    if (absl::Status s = OpenStored(out[i], open); !s.ok()) return s;
  }
  return out;
}

absl::Status LedgerImpl::OpenStored(StoredEntry& stored, bool open) const {
  absl::StatusOr<v1::SealedEntry> header = ParseStored(stored.bytes, stored.seq);
  if (!header.ok()) return header.status();
  stored.header = *std::move(header);
  std::shared_ptr<const DataKey> key;
  if (open && !stored.header.key_id().empty()) {
    if (keys == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("entry ", stored.seq,
                 " is sealed and the key store is not open (its key-encryption "
                 "key is needed to read entries)"));
    }
    absl::StatusOr<std::shared_ptr<const DataKey>> found = keys->Get(stored.header.key_id());
    if (absl::IsNotFound(found.status()) && keys->IsShredded(stored.header.key_id())) {
      stored.erased = true;
    } else if (absl::IsNotFound(found.status())) {
      return absl::DataLossError(
          StrCat("entry ", stored.seq, ": its data key ", stored.header.key_id(),
                 " is missing from the key store, though never shredded; restore the key store "
                 "from its newest backup (see \"Backups\" in the README)"));
    } else if (!found.ok()) {
      return found.status();
    } else {
      key = *std::move(found);
    }
  }
  if (open && !stored.erased) {
    absl::StatusOr<v1::LedgerEntry> entry = OpenEntry(stored.header, key.get());
    if (!entry.ok()) return entry.status();
    stored.entry = *std::move(entry);
  } else {
    stored.entry.set_seq(stored.seq);
  }
  stored.header.clear_sealed();
  stored.header.clear_clear();
  return absl::OkStatus();
}

std::string LedgerImpl::LiveKeyId(const std::string& base) const {
  absl::MutexLock lock(&retiring_mu);
  std::string id = base;
  for (int generation = 2; keys->IsShredded(id) || retiring.contains(id); ++generation) {
    id = StrCat(base, "#", generation);
  }
  return id;
}

absl::StatusOr<std::optional<Hash>> LedgerImpl::MapRootAt(uint64_t tree_size) const {
  if (tree_size == 0) return std::optional<Hash>(kZeroHash);
  absl::StatusOr<std::string> stored = Get(meta, MapRootHistoryKey(tree_size));
  if (absl::IsNotFound(stored.status())) return std::optional<Hash>();
  if (!stored.ok()) return stored.status();
  std::optional<Hash> root = HashFromBytes(*stored);
  if (!root)
    return absl::DataLossError(StrCat("the subject map root of size ", tree_size, " is corrupt"));
  return root;
}

absl::StatusOr<MapRoot> LedgerImpl::PastMap(uint64_t tree_size) const {
  absl::StatusOr<std::optional<Hash>> root = MapRootAt(tree_size);
  if (!root.ok()) return root.status();
  if (!*root) {
    return absl::FailedPreconditionError(
        StrCat("no subject map root was kept for a tree of ", tree_size,
               " entries: one is kept where a group commit ends, and a checkpoint with a map "
               "line is of such a size"));
  }
  // One rebuild at a time, and the map kept before is let go first: each
  // holds a whole map in memory.
  absl::MutexLock lock(&past_map_mu);
  if (past_map && past_map->tree_size == tree_size) return *past_map;
  past_map.reset();
  absl::StatusOr<std::vector<MapWriter::Head>> heads = MapWriter::ReadHeads(*db, map);
  if (!heads.ok()) return heads.status();
  // A head at or past `tree_size` is what the history became since. The
  // history's first entry at or past `tree_size` says what it was before:
  // its clear header names the entry before it, that entry's header hash,
  // and its own number in the history (1: the history began there, and is
  // left out). So the entries from `tree_size` on are read once, in order,
  // until every such head is settled.
  // (The heads may be of a group whose size is not yet published: its
  // entries are written with them.)
  absl::flat_hash_map<HistoryKey, size_t> unsettled;
  uint64_t end = tree_size;
  for (size_t i = 0; i < heads->size(); ++i) {
    const MapWriter::Head& head = (*heads)[i];
    if (head.change.value.seq < tree_size) continue;
    unsettled.emplace(head.id, i);
    end = std::max(end, head.change.value.seq + 1);
  }
  constexpr uint64_t kReadsPerCall = 4096;
  for (uint64_t from = tree_size; !unsettled.empty(); from += kReadsPerCall) {
    if (from >= end) {
      return absl::DataLossError(StrCat(unsettled.size(),
                                        " history heads name no entry of their history from ",
                                        tree_size, " on"));
    }
    std::vector<uint64_t> seqs;
    for (uint64_t seq = from; seq < std::min(end, from + kReadsPerCall); ++seq) {
      seqs.push_back(seq);
    }
    absl::StatusOr<std::vector<StoredEntry>> read = ReadEntries(seqs, /*open=*/false);
    if (absl::IsNotFound(read.status())) {
      return absl::DataLossError(StrCat("an entry from ", from, " on is missing"));
    }
    if (!read.ok()) return read.status();
    for (const StoredEntry& entry : *read) {
      for (MapSpace space : {MapSpace::kSubject, MapSpace::kActor}) {
        if (!InHistory(entry.header, space)) continue;
        const HeaderLinks links = LinksIn(entry.header, space);
        if (links.pseudonym.size() != Pseudonymizer::kPseudonymBytes) continue;
        auto found = unsettled.find(MakeHistoryKey(space, links.pseudonym));
        if (found == unsettled.end()) continue;
        MapValue& value = (*heads)[found->second].change.value;
        std::optional<Hash> prev_hash = HashFromBytes(links.prev_hash);
        if (links.count == 0 || links.count > value.count ||
            (links.count > 1 && (links.prev >= entry.seq || !prev_hash))) {
          return absl::DataLossError(
              StrCat("entry ", entry.seq, " does not link into its history as its head says"));
        }
        value = links.count == 1 ? MapValue{} : MapValue{links.prev, links.count - 1, *prev_hash};
        unsettled.erase(found);
      }
    }
  }
  std::vector<MapWriter::Change> changes;
  for (MapWriter::Head& head : *heads) {
    if (head.change.value.count > 0) changes.push_back(std::move(head.change));
  }
  absl::StatusOr<MapRoot> rebuilt = MapWriter::Rebuild(**root, tree_size, std::move(changes));
  if (!rebuilt.ok()) return rebuilt.status();
  past_map = *rebuilt;
  return rebuilt;
}

absl::Status LedgerImpl::CheckFormat() {
  absl::StatusOr<std::string> format = Get(meta, kMetaFormat);
  if (format.ok() && *format == kEntryFormat) return absl::OkStatus();
  if (!format.ok() && !absl::IsNotFound(format.status())) return format.status();
  if (format.ok()) {
    return absl::FailedPreconditionError(StrCat("the ledger in ", options.data_dir,
                                                " has entry format ", *format,
                                                "; this innsyn reads format ", kEntryFormat));
  }
  if (committed_size.load() > 0) {
    return absl::FailedPreconditionError(
        StrCat("the ledger in ", options.data_dir,
               " was written by an earlier innsyn that stored entries in the clear; this version "
               "seals every entry and does not read that format. Keep the old folder with the old "
               "version for reading, and start this one on a new data folder"));
  }
  if (options.read_only) return absl::OkStatus();
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return FromRocks(db->Put(write_options, meta, kMetaFormat, kEntryFormat), "store format");
}

absl::StatusOr<std::vector<uint64_t>> LedgerImpl::IndexSeqs(std::string_view from,
                                                            std::string_view to,
                                                            size_t key_bytes) const {
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(to.data(), to.size());
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, index));
  const uint64_t size = committed_size.load(std::memory_order_acquire);
  std::vector<uint64_t> seqs;
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != key_bytes) return absl::DataLossError("index key has the wrong length");
    uint64_t seq = ReadBigEndian64(std::string_view(key.data() + key_bytes - 8, 8));
    if (seq < size) seqs.push_back(seq);  // else written with a group not yet acknowledged
  }
  if (absl::Status s = FromRocks(it->status(), "index scan"); !s.ok()) return s;
  return seqs;
}

absl::StatusOr<std::vector<uint64_t>> LedgerImpl::ScanTimeIndex(char prefix,
                                                                uint64_t from_seq) const {
  const std::string start(1, prefix);
  const std::string end(1, static_cast<char>(prefix + 1));
  absl::StatusOr<std::vector<uint64_t>> seqs = IndexSeqs(start, end, 1 + 8 + 8);
  if (!seqs.ok()) return seqs.status();
  std::erase_if(*seqs, [&](uint64_t seq) { return seq < from_seq; });
  std::sort(seqs->begin(), seqs->end());
  return seqs;
}

absl::Status LedgerImpl::FinishShreds() {
  if (keys == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<uint64_t>> seqs = ScanTimeIndex(kErasureIndex, 0);
  if (!seqs.ok()) return seqs.status();
  absl::StatusOr<std::vector<StoredEntry>> records = ReadEntries(*seqs);
  if (!records.ok()) return records.status();
  std::vector<std::string> unfinished;
  for (const StoredEntry& record : *records) {
    const auto& named = record.entry.has_erasure() ? record.entry.erasure().keys()
                                                   : record.entry.retention_run().keys();
    for (const v1::ShreddedKey& key : named) {
      if (!keys->IsShredded(key.key_id())) unfinished.push_back(key.key_id());
    }
  }
  // A shred the key store began and did not finish, it finished when it
  // opened (its purge-pending mark).
  if (!unfinished.empty()) return keys->Shred(unfinished).status();
  return absl::OkStatus();
}

absl::Status LedgerImpl::OpenKeyStore() {
  if (!options.seal_entries && !options.read_only) return absl::OkStatus();
  KeyStoreOptions key_options;
  key_options.dir = StrCat(options.data_dir, "/", kKeyStoreFolder);
  key_options.kek_file =
      options.kek_file.empty() ? StrCat(options.data_dir, "/", kDefaultKekFile) : options.kek_file;
  key_options.create_if_missing =
      options.create_if_missing && !options.read_only && committed_size.load() == 0;
  key_options.read_only = options.read_only;
  key_options.env = options.env;
  absl::StatusOr<std::unique_ptr<KeyStore>> opened = KeyStore::Open(key_options);
  if (!opened.ok()) {
    // Verification needs no data key: a read-only ledger opens without them.
    if (options.read_only) return absl::OkStatus();
    return opened.status();
  }
  keys = *std::move(opened);
  return absl::OkStatus();
}

Ledger::StorageStats LedgerImpl::ReadStorageStats() const {
  Ledger::StorageStats stats;
  stats.disk_bytes = FolderBytes(db->GetName());
  struct statvfs filesystem {};
  if (::statvfs(options.data_dir.c_str(), &filesystem) == 0) {
    stats.filesystem_bytes = static_cast<uint64_t>(filesystem.f_blocks) * filesystem.f_frsize;
    stats.filesystem_avail_bytes = static_cast<uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
  }
  stats.pending_compaction_bytes =
      IntProperty(*db, rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  stats.running_compactions = IntProperty(*db, rocksdb::DB::Properties::kNumRunningCompactions);
  stats.memtable_bytes = IntProperty(*db, rocksdb::DB::Properties::kCurSizeAllMemTables);
  stats.table_readers_bytes = IntProperty(*db, rocksdb::DB::Properties::kEstimateTableReadersMem);
  if (keys != nullptr) {
    const KeyStore::MemoryStats key_memory = keys->Memory();
    stats.key_store_memtable_bytes = key_memory.memtable_bytes;
    stats.cached_data_keys = key_memory.cached_keys;
  }
  uint64_t value = 0;
  // One cache is shared by every family: read through one, not summed.
  if (db->GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage, &value)) {
    stats.block_cache_bytes = value;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kBlockCacheCapacity, &value)) {
    stats.block_cache_capacity_bytes = value;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors, &value)) {
    stats.background_errors = value;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
    stats.write_stopped = value != 0;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &value)) {
    stats.delayed_write_rate = value;
  }
  // Stall counts are kept per column family.
  for (const auto& handle : handles) {
    std::map<std::string, std::string> cf_stats;
    if (!db->GetMapProperty(handle.get(), rocksdb::DB::Properties::kCFStats, &cf_stats)) continue;
    stats.write_stall_stops += ParseDecimal(cf_stats["io_stalls.total_stop"]).value_or(0);
    stats.write_stall_slowdowns += ParseDecimal(cf_stats["io_stalls.total_slowdown"]).value_or(0);
  }
  return stats;
}

}  // namespace innsyn::storage::internal
