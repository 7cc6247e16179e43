#include "storage/ledger.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/proto_time.h"
#include "base/strings.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/schema.h"

namespace innsyn::storage {

using internal::FromRocks;
using internal::IndexKey;
using internal::ReadBigEndian64;
using internal::SeqKey;
using internal::TreeKey;

namespace {

constexpr size_t kPageTokenBytes = 16;  // time(8) seq(8)
constexpr char kCheckpointKeyFile[] = "checkpoint_key.pem";
constexpr char kVerifierKeyFile[] = "checkpoint_key.pub";
constexpr char kPseudonymKeyFile[] = "pseudonym.key";
constexpr char kDatabaseFolder[] = "ledger";

constexpr double kDedupeBloomBitsPerKey = 10;
constexpr size_t kMemtableBudgetBytes = 64 << 20;

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
    return key.size() >= kLength && key[0] != internal::kAlertIndex;  // alert keys: no pseudonym
  }
};

// `point_lookups`: the family is mostly probed for keys that are absent (the
// dedupe check of every new event), so a Bloom filter saves a disk read.
rocksdb::ColumnFamilyOptions FamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           bool point_lookups, bool pseudonym_keys) {
  rocksdb::ColumnFamilyOptions options;
  if (pseudonym_keys) {
    options.memtable_insert_with_hint_prefix_extractor = std::make_shared<PseudonymPrefix>();
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  if (point_lookups) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kDedupeBloomBitsPerKey));
    options.memtable_whole_key_filtering = true;
    options.memtable_prefix_bloom_size_ratio = 0.02;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.compression = rocksdb::kLZ4Compression;
  options.bottommost_compression = rocksdb::kZSTD;
  return options;
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::PermissionDeniedError(StrCat("cannot write ", path));
  bool ok = std::fputs(text.c_str(), f) >= 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return absl::InternalError(StrCat("cannot write ", path));
  return absl::OkStatus();
}

// A writable ledger signs with the private key (created on first start)
// and publishes its verifier key; a read-only one needs only a verifier key,
// pinned by the caller or read from the folder, and never the private key.
absl::Status LoadCheckpointKeys(const LedgerOptions& options, internal::LedgerImpl& impl) {
  const std::string dir = options.data_dir + "/";
  if (options.read_only) {
    impl.verifier_key = options.verifier_key;
    if (impl.verifier_key.empty()) {
      std::ifstream file(dir + kVerifierKeyFile);
      std::getline(file, impl.verifier_key);
    }
    if (impl.verifier_key.empty()) {
      return absl::NotFoundError(StrCat(dir, kVerifierKeyFile, ": verifier key missing"));
    }
    return ParseVerifierKey(impl.verifier_key).status();
  }
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer =
      CheckpointSigner::Load(dir + kCheckpointKeyFile, options.origin, options.create_if_missing);
  if (!signer.ok()) return signer.status();
  impl.signer = *std::move(signer);
  impl.verifier_key = impl.signer->verifier_key();
  if (!options.verifier_key.empty() && options.verifier_key != impl.verifier_key) {
    return absl::FailedPreconditionError(
        StrCat("the checkpoint key in ", dir, " is not the pinned verifier key"));
  }
  return WriteTextFile(dir + kVerifierKeyFile, impl.verifier_key + "\n");
}

}  // namespace

Ledger::Ledger(std::unique_ptr<internal::LedgerImpl> impl) : impl_(std::move(impl)) {}

Ledger::~Ledger() {
  impl_->writer.reset();  // drains the queue
  const bool writable = !impl_->options.read_only && !impl_->write_failed.load();
  // Sign what was appended, so that the next start checks against it.
  if (writable && impl_->signer && impl_->db) (void)Checkpoint();
  if (impl_->db) {
    if (writable) {
      // Flushing the memtables spares the next start a replay of the WAL.
      std::vector<rocksdb::ColumnFamilyHandle*> families;
      for (auto& handle : impl_->handles) families.push_back(handle.get());
      impl_->db->Flush(rocksdb::FlushOptions(), families);
      impl_->db->FlushWAL(/*sync=*/true);
    }
    for (auto& handle : impl_->handles) impl_->db->DestroyColumnFamilyHandle(handle.release());
    impl_->db->Close();
  }
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is required");
  auto impl = std::make_unique<internal::LedgerImpl>();
  impl->options = options;
  std::error_code error;
  if (options.create_if_missing && !options.read_only) {
    std::filesystem::create_directories(options.data_dir, error);
    // The folder holds the keys and every patient's history: owner only.
    if (::chmod(options.data_dir.c_str(), 0700) != 0) {
      return absl::PermissionDeniedError(StrCat("cannot make ", options.data_dir, " private"));
    }
  }
  if (!std::filesystem::is_directory(options.data_dir, error)) {
    return absl::NotFoundError(StrCat("data folder ", options.data_dir, " does not exist"));
  }
  const bool create_keys = options.create_if_missing && !options.read_only;
  const std::string dir = options.data_dir + "/";
  absl::StatusOr<std::unique_ptr<Pseudonymizer>> pseudonymizer =
      Pseudonymizer::Load(dir + kPseudonymKeyFile, create_keys);
  if (!pseudonymizer.ok()) return pseudonymizer.status();
  impl->pseudonymizer = *std::move(pseudonymizer);
  if (absl::Status s = LoadCheckpointKeys(options, *impl); !s.ok()) return s;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::WARN_LEVEL;
  db_options.keep_log_file_num = 5;
  // One memtable budget for all families, so that memory stays bounded
  // however the writes spread over them; beyond it the largest is flushed.
  db_options.db_write_buffer_size = kMemtableBudgetBytes;
  if (options.env != nullptr) db_options.env = options.env;
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), internal::kEntriesFamily,
                           internal::kChainFamily, internal::kTreeFamily, internal::kIndexFamily,
                           internal::kDedupeFamily, internal::kMetaFamily}) {
    families.emplace_back(name, FamilyOptions(cache, name == std::string(internal::kDedupeFamily),
                                              name == std::string(internal::kIndexFamily)));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const std::string db_path = dir + kDatabaseFolder;
  rocksdb::Status s =
      options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, db_path, families, &handles, &db)
                        : rocksdb::DB::Open(db_options, db_path, families, &handles, &db);
  if (!s.ok()) return FromRocks(s, StrCat("open ", db_path));
  impl->db.reset(db);
  for (rocksdb::ColumnFamilyHandle* handle : handles) impl->handles.emplace_back(handle);
  impl->entries = handles[1];
  impl->chain = handles[2];
  impl->tree = handles[3];
  impl->index = handles[4];
  impl->dedupe = handles[5];
  impl->meta = handles[6];

  uint64_t size = 0;
  if (absl::StatusOr<std::string> stored = impl->Get(impl->meta, internal::kMetaSize);
      stored.ok()) {
    if (stored->size() != 8) return absl::DataLossError("stored ledger size is corrupt");
    size = ReadBigEndian64(*stored);
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  impl->committed_size.store(size);
  if (absl::StatusOr<std::string> stored = impl->Get(impl->meta, internal::kMetaCheckpoint);
      stored.ok()) {
    v1::Checkpoint checkpoint;
    if (checkpoint.ParseFromString(*stored)) {
      absl::MutexLock lock(&impl->checkpoint_mu);
      impl->latest_checkpoint = std::move(checkpoint);
    } else {
      impl->checkpoint_problem = "the stored checkpoint is unreadable";
    }
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  if (options.read_only) return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
  // A writable ledger must still be the one its last checkpoint signed;
  // otherwise it would go on to sign a history that contradicts it.
  if (!impl->checkpoint_problem.empty()) return absl::DataLossError(impl->checkpoint_problem);
  if (absl::Status s = impl->CheckAgainstLatestCheckpoint(); !s.ok()) return s;

  absl::StatusOr<CompactRange> range = CompactRange::FromNodes(size, impl->NodeFn());
  if (!range.ok()) return range.status();
  Hash chain_head = kZeroHash;
  absl::Time last_commit = absl::UnixEpoch();
  if (size > 0) {
    absl::StatusOr<v1::AppendReceipt> last = impl->ReceiptFor(size - 1);
    if (!last.ok()) return last.status();
    chain_head = *HashFromBytes(last->chain_hash());
    last_commit = FromProto(last->committed_at());
  }
  impl->writer =
      std::make_unique<internal::GroupWriter>(*impl, *std::move(range), chain_head, last_commit);
  // Every writable ledger has a signed checkpoint from its first start on,
  // so that a missing one means it was removed.
  auto ledger = std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
  if (absl::StatusOr<v1::Checkpoint> signed_now = ledger->Checkpoint(); !signed_now.ok()) {
    return signed_now.status();
  }
  return ledger;
}

namespace {

template <typename Events>
absl::StatusOr<std::vector<v1::AppendReceipt>> AppendAll(internal::GroupWriter* writer,
                                                         const Events& events) {
  if (writer == nullptr) return absl::FailedPreconditionError("ledger is open read-only");
  if (events.empty()) return std::vector<v1::AppendReceipt>{};
  std::vector<const v1::AccessEvent*> pointers;
  pointers.reserve(events.size());
  for (const v1::AccessEvent& event : events) pointers.push_back(&event);
  return writer->AppendEvents(std::move(pointers));
}

}  // namespace

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendEvents(
    absl::Span<const v1::AccessEvent> events) {
  return AppendAll(impl_->writer.get(), events);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendEvents(
    const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events) {
  return AppendAll(impl_->writer.get(), events);
}

absl::Status Ledger::AppendEventsAsync(
    const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events, AppendDone done) {
  if (!impl_->writer) return absl::FailedPreconditionError("ledger is open read-only");
  std::vector<const v1::AccessEvent*> pointers;
  pointers.reserve(static_cast<size_t>(events.size()));
  for (const v1::AccessEvent& event : events) pointers.push_back(&event);
  return impl_->writer->AppendEventsAsync(std::move(pointers), std::move(done));
}

absl::StatusOr<v1::AppendReceipt> Ledger::AppendQuery(const v1::QueryRecord& query) {
  v1::LedgerEntry record;
  *record.mutable_query_record() = query;
  return AppendRecord(record);
}

absl::StatusOr<v1::AppendReceipt> Ledger::AppendAlert(const v1::Alert& alert) {
  v1::LedgerEntry record;
  *record.mutable_alert() = alert;
  return AppendRecord(record);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendAlerts(
    absl::Span<const v1::Alert> alerts) {
  if (!impl_->writer) return absl::FailedPreconditionError("ledger is open read-only");
  std::vector<v1::LedgerEntry> records(alerts.size());
  std::vector<const v1::LedgerEntry*> pointers;
  for (size_t i = 0; i < alerts.size(); ++i) {
    *records[i].mutable_alert() = alerts[i];
    pointers.push_back(&records[i]);
  }
  if (pointers.empty()) return std::vector<v1::AppendReceipt>();
  return impl_->writer->AppendRecords(std::move(pointers));
}

absl::StatusOr<v1::AppendReceipt> Ledger::AppendAlertDecision(const v1::AlertDecision& decision) {
  v1::LedgerEntry record;
  *record.mutable_alert_decision() = decision;
  return AppendRecord(record);
}

absl::StatusOr<v1::AppendReceipt> Ledger::AppendRecord(const v1::LedgerEntry& record) {
  if (!impl_->writer) return absl::FailedPreconditionError("ledger is open read-only");
  return impl_->writer->AppendRecord(record);
}

uint64_t Ledger::Size() const { return impl_->committed_size.load(std::memory_order_acquire); }

absl::StatusOr<std::vector<StoredEntry>> Ledger::GetEntries(uint64_t from_seq, size_t count) const {
  uint64_t size = Size();
  std::vector<uint64_t> seqs;
  for (uint64_t seq = from_seq; seq < size && seqs.size() < count; ++seq) seqs.push_back(seq);
  return impl_->ReadEntries(seqs);
}

absl::StatusOr<std::vector<Hash>> Ledger::LeafHashes(uint64_t from_seq, size_t count) const {
  const uint64_t size = Size();
  std::vector<Hash> hashes;
  if (from_seq >= size) return hashes;
  const uint64_t end = from_seq + std::min<uint64_t>(count, size - from_seq);
  const std::string last = TreeKey(0, end);
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(last);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->tree));
  uint64_t seq = from_seq;
  for (it->Seek(TreeKey(0, from_seq)); it->Valid(); it->Next(), ++seq) {
    std::optional<Hash> hash =
        HashFromBytes(std::string_view(it->value().data(), it->value().size()));
    if (it->key().ToString() != TreeKey(0, seq) || !hash) {
      return absl::DataLossError(StrCat("leaf ", seq, " is missing or not 32 bytes"));
    }
    hashes.push_back(*hash);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read");
  if (seq != end) return absl::DataLossError(StrCat("leaf ", seq, " is missing"));
  return hashes;
}

namespace {

absl::StatusOr<IndexPage> ScanIndex(const internal::LedgerImpl& impl, char prefix,
                                    std::string_view pseudonym, const IndexQuery& query,
                                    uint64_t size) {
  std::string start = IndexKey(prefix, pseudonym, query.from.value_or(absl::InfinitePast()), 0);
  std::string end = IndexKey(prefix, pseudonym, query.to.value_or(absl::InfiniteFuture()), 0);
  if (!query.page_token.empty()) {
    std::optional<std::string> token = Base64Decode(query.page_token);
    if (!token || token->size() != kPageTokenBytes) {
      return absl::InvalidArgumentError("page_token is not one this server issued");
    }
    std::string resume = std::string(1, prefix) + std::string(pseudonym) + *token;
    if (resume > start) start = std::move(resume);
  }
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read_options, impl.index));
  const size_t key_bytes = 1 + pseudonym.size() + kPageTokenBytes;
  std::vector<uint64_t> seqs;
  IndexPage page;
  for (it->Seek(start); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != key_bytes) return absl::DataLossError("index key has the wrong length");
    uint64_t seq = ReadBigEndian64(std::string_view(key.data() + key.size() - 8, 8));
    if (seq >= size) continue;  // written with a group not yet acknowledged
    if (seqs.size() == query.limit) {
      page.next_page_token =
          Base64Encode(std::string_view(key.data() + 1 + pseudonym.size(), kPageTokenBytes));
      break;
    }
    seqs.push_back(seq);
  }
  if (absl::Status s = FromRocks(it->status(), "index scan"); !s.ok()) return s;
  absl::StatusOr<std::vector<StoredEntry>> entries = impl.ReadEntries(seqs);
  if (!entries.ok()) return entries.status();
  page.entries = *std::move(entries);
  return page;
}

}  // namespace

absl::StatusOr<IndexPage> Ledger::ListSubject(const IndexQuery& query) const {
  std::string pseudonym = impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, query.id);
  return ScanIndex(*impl_, internal::kSubjectIndex, pseudonym, query, Size());
}

absl::StatusOr<std::vector<StoredEntry>> Ledger::ListAlertRecords(uint64_t from_seq) const {
  const uint64_t size = Size();
  const std::string start(1, internal::kAlertIndex);
  const std::string end(1, internal::kAlertIndex + 1);
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->index));
  std::vector<uint64_t> seqs;
  for (it->Seek(start); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != 1 + 16) return absl::DataLossError("alert index key has the wrong length");
    uint64_t seq = ReadBigEndian64(std::string_view(key.data() + 9, 8));
    if (seq >= from_seq && seq < size) seqs.push_back(seq);
  }
  if (absl::Status s = FromRocks(it->status(), "alert index scan"); !s.ok()) return s;
  std::sort(seqs.begin(), seqs.end());
  return impl_->ReadEntries(seqs);
}

absl::StatusOr<IndexPage> Ledger::ListActor(const IndexQuery& query) const {
  std::string pseudonym = impl_->pseudonymizer->Pseudonym(PseudonymDomain::kActor, query.id);
  return ScanIndex(*impl_, internal::kActorIndex, pseudonym, query, Size());
}

namespace {

absl::Status CheckSize(uint64_t tree_size, uint64_t committed) {
  if (tree_size > committed) {
    return absl::OutOfRangeError(
        StrCat("tree size ", tree_size, " is beyond the ledger size ", committed));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Hash> Ledger::RootAt(uint64_t tree_size) const {
  if (absl::Status s = CheckSize(tree_size, Size()); !s.ok()) return s;
  return TreeRoot(tree_size, impl_->NodeFn());
}

absl::StatusOr<Hash> Ledger::ChainAt(uint64_t tree_size) const {
  if (absl::Status s = CheckSize(tree_size, Size()); !s.ok()) return s;
  if (tree_size == 0) return kZeroHash;
  absl::StatusOr<std::string> value = impl_->Get(impl_->chain, SeqKey(tree_size - 1));
  if (!value.ok()) return value.status();
  std::optional<Hash> hash = HashFromBytes(*value);
  if (!hash) return absl::DataLossError(StrCat("chain ", tree_size - 1, " is not 32 bytes"));
  return *hash;
}

absl::StatusOr<std::vector<Hash>> Ledger::InclusionProof(uint64_t seq, uint64_t tree_size) const {
  if (absl::Status s = CheckSize(tree_size, Size()); !s.ok()) return s;
  return InclusionPath(seq, tree_size, impl_->NodeFn());
}

absl::StatusOr<std::vector<Hash>> Ledger::ConsistencyProof(uint64_t first_size,
                                                           uint64_t second_size) const {
  if (absl::Status s = CheckSize(second_size, Size()); !s.ok()) return s;
  return ConsistencyPath(first_size, second_size, impl_->NodeFn());
}

absl::StatusOr<v1::Checkpoint> Ledger::Checkpoint(uint64_t tree_size) {
  if (!impl_->signer) return absl::FailedPreconditionError("ledger is open read-only");
  // Never sign a tree that contradicts the last signed one.
  if (absl::Status s = impl_->CheckAgainstLatestCheckpoint(); !s.ok()) return s;
  const bool latest = tree_size == 0;
  if (latest) tree_size = Size();
  CheckpointBody body;
  body.origin = impl_->options.origin;
  body.tree_size = tree_size;
  absl::StatusOr<Hash> root = RootAt(tree_size);
  if (!root.ok()) return root.status();
  absl::StatusOr<Hash> chain_head = ChainAt(tree_size);
  if (!chain_head.ok()) return chain_head.status();
  body.root_hash = *root;
  body.chain_head = *chain_head;
  absl::StatusOr<std::string> note = impl_->signer->Sign(body);
  if (!note.ok()) return note.status();
  v1::Checkpoint checkpoint;
  checkpoint.set_note(*note);
  checkpoint.set_origin(body.origin);
  checkpoint.set_tree_size(tree_size);
  checkpoint.set_root_hash(std::string(AsBytes(body.root_hash)));
  checkpoint.set_chain_head(std::string(AsBytes(body.chain_head)));
  checkpoint.set_verifier_key(impl_->verifier_key);
  if (!latest) return checkpoint;
  if (impl_->write_failed.load()) {
    return absl::UnavailableError("an earlier ledger write failed; checkpoint not stored");
  }

  absl::MutexLock lock(&impl_->checkpoint_mu);
  if (impl_->latest_checkpoint && impl_->latest_checkpoint->tree_size() >= tree_size) {
    return checkpoint;
  }
  // The latest, and every one by size: a history an auditor can replay.
  rocksdb::WriteBatch batch;
  std::string serialized = checkpoint.SerializeAsString();
  batch.Put(impl_->meta, internal::kMetaCheckpoint, serialized);
  batch.Put(impl_->meta, internal::CheckpointHistoryKey(tree_size), serialized);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  if (absl::Status s = FromRocks(impl_->db->Write(write_options, &batch), "store checkpoint");
      !s.ok()) {
    return s;
  }
  impl_->latest_checkpoint = checkpoint;
  return checkpoint;
}

std::optional<v1::Checkpoint> Ledger::LatestStoredCheckpoint() const {
  absl::MutexLock lock(&impl_->checkpoint_mu);
  return impl_->latest_checkpoint;
}

const std::string& Ledger::VerifierKey() const { return impl_->verifier_key; }

}  // namespace innsyn::storage
