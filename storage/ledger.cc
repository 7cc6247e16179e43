#include "storage/ledger.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "storage/internal/tree_tiles.h"

namespace innsyn::storage {

using internal::FromRocks;
using internal::IndexKey;
using internal::ReadBigEndian64;
using internal::SeqKey;

namespace {

constexpr size_t kPageTokenBytes = 16;  // time(8) seq(8)
constexpr char kCheckpointKeyFile[] = "checkpoint_key.pem";
constexpr char kVerifierKeyFile[] = "checkpoint_key.pub";
constexpr char kPseudonymKeyFile[] = "pseudonym.key";
constexpr char kKeyStoreBackupFolder[] = "keystore";

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

// A writable ledger creates its folder, owner-only: it holds the keys and
// every patient's history. Any ledger needs it to exist.
absl::Status PrepareDataFolder(const LedgerOptions& options) {
  std::error_code error;
  if (options.create_if_missing && !options.read_only) {
    std::filesystem::create_directories(options.data_dir, error);
    if (::chmod(options.data_dir.c_str(), 0700) != 0) {
      return absl::PermissionDeniedError(StrCat("cannot make ", options.data_dir, " private"));
    }
  }
  if (!std::filesystem::is_directory(options.data_dir, error)) {
    return absl::NotFoundError(StrCat("data folder ", options.data_dir, " does not exist"));
  }
  return absl::OkStatus();
}

absl::Status LoadKeys(internal::LedgerImpl& impl) {
  const LedgerOptions& options = impl.options;
  const bool create_keys = options.create_if_missing && !options.read_only;
  absl::StatusOr<std::unique_ptr<Pseudonymizer>> pseudonymizer =
      Pseudonymizer::Load(options.data_dir + "/" + kPseudonymKeyFile, create_keys);
  // Verification needs no pseudonym key: the entries' clear headers carry
  // the pseudonyms. Without it, a read-only ledger cannot look anyone up.
  if (options.read_only && absl::IsNotFound(pseudonymizer.status())) {
    return LoadCheckpointKeys(options, impl);
  }
  if (!pseudonymizer.ok()) return pseudonymizer.status();
  impl.pseudonymizer = *std::move(pseudonymizer);
  return LoadCheckpointKeys(options, impl);
}

// A writable ledger must still be the one its last checkpoint signed;
// otherwise it would go on to sign a history that contradicts it.
absl::Status CheckStillSigned(const internal::LedgerImpl& impl) {
  if (!impl.checkpoint_problem.empty()) return absl::DataLossError(impl.checkpoint_problem);
  return impl.CheckAgainstLatestCheckpoint();
}

// Why the ledger cannot go on from its last entry, and what to do.
absl::Status CannotContinue(const internal::LedgerImpl& impl, const absl::Status& why) {
  const uint64_t size = impl.committed_size.load();
  return absl::Status(
      why.code(),
      StrCat("cannot go on from the last entry (seq ", size - 1, "): ", why.message(),
             ". The ledger records ", size, " entries; its latest signed checkpoint covers ",
             impl.LatestStoredSize(), ". Run `innsynctl verify --data-dir ", impl.options.data_dir,
             "` to see what is damaged or missing, and restore the newest backup that verifies "
             "(see \"When verification fails\" in the README)"));
}

// The writer goes on from the tree, chain head and commit time of the last
// committed entry.
absl::Status StartWriter(internal::LedgerImpl& impl) {
  const uint64_t size = impl.committed_size.load();
  absl::StatusOr<CompactRange> range = CompactRange::FromNodes(size, impl.NodeFn());
  if (!range.ok()) return range.status();
  Hash chain_head = kZeroHash;
  absl::Time last_commit = absl::UnixEpoch();
  if (size > 0) {
    absl::StatusOr<Hash> head = impl.ChainHead(size - 1, /*last=*/true);
    if (!head.ok()) return head.status();
    chain_head = *head;
    // A damaged last entry (marked so by the read) leaves the ledger open
    // for reads; its commit time then comes from the clock alone.
    absl::StatusOr<v1::AppendReceipt> last = impl.ReceiptFor(size - 1);
    if (last.ok()) {
      last_commit = FromProto(last->committed_at());
    } else if (absl::IsDataLoss(last.status())) {
      impl.NoteDamage(size - 1, std::string(last.status().message()));
    } else {
      return last.status();
    }
  }
  internal::MapRoot map_root;
  if (absl::StatusOr<std::string> stored = impl.Get(impl.meta, internal::kMetaMap); stored.ok()) {
    absl::StatusOr<internal::MapRoot> decoded = internal::DecodeMapRoot(*stored);
    if (!decoded.ok()) return decoded.status();
    map_root = *decoded;
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  if (map_root.tree_size != size) {
    return absl::DataLossError(StrCat("the subject map is of a tree of ", map_root.tree_size,
                                      " entries, but the ledger has ", size));
  }
  // A ledger written before innsyn kept the map's inner nodes in memory
  // stored them as 'N' depth prefix keys beside the heads: they are
  // dropped, once, so that the map family holds heads only, as the
  // verifier requires.
  {
    std::unique_ptr<rocksdb::Iterator> old_nodes(
        impl.db->NewIterator(rocksdb::ReadOptions(), impl.map));
    old_nodes->Seek("N");
    const bool any = old_nodes->Valid() && old_nodes->key().starts_with("N");
    if (!old_nodes->status().ok()) return FromRocks(old_nodes->status(), "read the subject map");
    old_nodes.reset();
    if (any) {
      rocksdb::WriteOptions sync;
      sync.sync = true;
      RETURN_IF_ERROR(FromRocks(impl.db->DeleteRange(sync, impl.map, "N", "O"),
                                "drop the subject map's stored inner nodes"));
    }
  }
  // The map's inner nodes, built from its stored heads, which must give
  // its stored root.
  absl::StatusOr<std::vector<internal::MapWriter::Head>> heads =
      internal::MapWriter::ReadHeads(*impl.db, impl.map);
  if (!heads.ok()) return heads.status();
  std::vector<internal::MapWriter::Change> changes;
  changes.reserve(heads->size());
  for (internal::MapWriter::Head& head : *heads) changes.push_back(std::move(head.change));
  absl::StatusOr<std::unique_ptr<internal::MapWriter>> map =
      internal::MapWriter::Load(std::move(map_root), std::move(changes));
  if (!map.ok()) return map.status();
  std::optional<internal::TileEdge> tiles = internal::TileEdge::ForSize(
      size, [&impl](int tile_level, uint64_t tile_index) -> std::optional<std::string> {
        absl::StatusOr<std::string> tile =
            impl.Get(impl.tree, internal::TileKey(tile_level, tile_index));
        if (!tile.ok()) return std::nullopt;
        return *std::move(tile);
      });
  if (!tiles) {
    return absl::DataLossError(StrCat("a partial tile of the tree of ", size,
                                      " entries is missing or not as wide as that size implies"));
  }
  impl.writer = std::make_unique<internal::GroupWriter>(impl, *std::move(range), *std::move(tiles),
                                                        chain_head, last_commit, *std::move(map));
  return absl::OkStatus();
}

}  // namespace

Ledger::Ledger(std::unique_ptr<internal::LedgerImpl> impl) : impl_(std::move(impl)) {}

Ledger::~Ledger() {
  impl_->writer.reset();  // drains the queue
  const bool writable = !impl_->options.read_only && !impl_->write_failed.load();
  // Sign what was appended, so that the next start checks against it; not
  // over a damaged or not yet verified ledger.
  const Integrity integrity = GetIntegrity();
  const bool may_sign =
      !integrity.damaged && (integrity.verified || !impl_->options.sign_after_verification);
  if (writable && may_sign && impl_->signer && impl_->db) (void)Checkpoint();
  impl_->CloseDatabase(/*flush=*/writable);
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is required");
  if (absl::Status s = PrepareDataFolder(options); !s.ok()) return s;
  auto impl = std::make_unique<internal::LedgerImpl>();
  impl->options = options;
  if (absl::Status s = LoadKeys(*impl); !s.ok()) return s;
  if (absl::Status s = impl->OpenDatabase(); !s.ok()) return s;
  if (absl::Status s = impl->LoadCommittedState(); !s.ok()) return s;
  if (absl::Status s = impl->CheckFormat(); !s.ok()) return s;
  if (absl::Status s = impl->OpenKeyStore(); !s.ok()) return s;
  if (options.read_only) return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
  if (absl::Status s = CheckStillSigned(*impl); !s.ok()) return s;
  if (absl::Status s = impl->FinishShreds(); !s.ok()) return s;
  if (absl::Status s = StartWriter(*impl); !s.ok()) return CannotContinue(*impl, s);
  // Every writable ledger has a signed checkpoint from its first start on,
  // so that a missing one means it was removed. Entries beyond the latest
  // one wait for the verification at start, if the options say so.
  auto ledger = std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
  if (ledger->Size() == 0) ledger->MarkVerified();  // nothing to verify
  const bool sign_now =
      !options.sign_after_verification || ledger->Size() <= ledger->impl_->LatestStoredSize();
  if (sign_now && !ledger->GetIntegrity().damaged) {
    if (absl::StatusOr<v1::Checkpoint> signed_now = ledger->Checkpoint(); !signed_now.ok()) {
      return signed_now.status();
    }
  }
  return ledger;
}

namespace {

template <typename Events>
absl::StatusOr<std::vector<v1::AppendReceipt>> AppendAll(const internal::LedgerImpl& impl,
                                                         const Events& events,
                                                         const v1::Baseline* baseline = nullptr) {
  internal::GroupWriter* writer = impl.writer.get();
  if (writer == nullptr) return absl::FailedPreconditionError("ledger is open read-only");
  if (absl::Status s = impl.DamageError("no events are taken"); !s.ok()) return s;
  if (events.empty()) return std::vector<v1::AppendReceipt>{};
  std::vector<const v1::AccessEvent*> pointers;
  pointers.reserve(events.size());
  for (const v1::AccessEvent& event : events) pointers.push_back(&event);
  return writer->AppendEvents(std::move(pointers), baseline);
}

}  // namespace

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendEvents(
    absl::Span<const v1::AccessEvent> events) {
  return AppendAll(*impl_, events);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendEvents(
    const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events) {
  return AppendAll(*impl_, events);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> Ledger::AppendBaseline(
    const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events,
    const v1::Baseline& imported) {
  v1::Baseline about = imported;
  about.clear_event();
  return AppendAll(*impl_, events, &about);
}

absl::Status Ledger::AppendEventsAsync(
    const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events, AppendDone done) {
  if (!impl_->writer) return absl::FailedPreconditionError("ledger is open read-only");
  if (absl::Status s = impl_->DamageError("no events are taken"); !s.ok()) return s;
  std::vector<const v1::AccessEvent*> pointers;
  pointers.reserve(static_cast<size_t>(events.size()));
  for (const v1::AccessEvent& event : events) pointers.push_back(&event);
  return impl_->writer->AppendEventsAsync(std::move(pointers), std::move(done));
}

absl::Status Ledger::AppendQueryAsync(const v1::QueryRecord& query, AppendDone done) {
  if (!impl_->writer) return absl::FailedPreconditionError("ledger is open read-only");
  auto record = std::make_unique<v1::LedgerEntry>();
  *record->mutable_query_record() = query;
  return impl_->writer->AppendRecordAsync(std::move(record), std::move(done));
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

size_t Ledger::QueuedEvents() const { return impl_->writer ? impl_->writer->QueuedEvents() : 0; }

absl::StatusOr<std::vector<StoredEntry>> Ledger::GetEntries(uint64_t from_seq, size_t count) const {
  uint64_t size = Size();
  std::vector<uint64_t> seqs;
  for (uint64_t seq = from_seq; seq < size && seqs.size() < count; ++seq) seqs.push_back(seq);
  return impl_->ReadEntries(seqs);
}

namespace {

// The stored hashes [from, end) of tree level 8 × `tile_level`, in order,
// each passed to `take` as its 32 bytes, from the tiles that hold them.
absl::Status ReadTileLevel(const internal::LedgerImpl& impl, int tile_level, uint64_t from,
                           uint64_t end, const std::function<void(std::string_view)>& take) {
  if (from >= end) return absl::OkStatus();
  const uint64_t first_tile = from / internal::kTreeTileWidth;
  const uint64_t last_tile = (end - 1) / internal::kTreeTileWidth;
  const std::string bound = internal::TileKey(tile_level, last_tile + 1);
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(bound);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read_options, impl.tree));
  uint64_t index = from;
  auto missing = [&] {
    return absl::DataLossError(StrCat(tile_level == 0
                                          ? StrCat("leaf ", index)
                                          : StrCat("tree node (", 8 * tile_level, ", ", index, ")"),
                                      " is missing"));
  };
  it->Seek(internal::TileKey(tile_level, first_tile));
  for (uint64_t tile = first_tile; tile <= last_tile; ++tile, it->Next()) {
    if (!it->Valid()) {
      if (!it->status().ok()) return FromRocks(it->status(), "read");
      return missing();
    }
    if (it->key() != internal::TileKey(tile_level, tile)) return missing();
    const std::string_view bytes(it->value().data(), it->value().size());
    if (bytes.size() % kHashBytes != 0) {
      return absl::DataLossError(
          StrCat("tree tile (", tile_level, ", ", tile, ") is not whole hashes"));
    }
    const uint64_t tile_start = tile * internal::kTreeTileWidth;
    const uint64_t stop = std::min(end, tile_start + internal::kTreeTileWidth);
    for (; index < stop; ++index) {
      const uint64_t offset = (index - tile_start) * kHashBytes;
      if (offset >= bytes.size()) return missing();
      take(bytes.substr(offset, kHashBytes));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Hash>> Ledger::LeafHashes(uint64_t from_seq, size_t count) const {
  const uint64_t size = Size();
  std::vector<Hash> hashes;
  if (from_seq >= size) return hashes;
  const uint64_t end = from_seq + std::min<uint64_t>(count, size - from_seq);
  RETURN_IF_ERROR(ReadTileLevel(*impl_, 0, from_seq, end, [&](std::string_view bytes) {
    hashes.push_back(*HashFromBytes(bytes));
  }));
  return hashes;
}

absl::StatusOr<std::string> Ledger::Tile(int level, uint64_t index, int width) const {
  if (level < 0 || level > kMaxTileLevel) {
    return absl::InvalidArgumentError(
        StrCat("tile level ", level, " is not between 0 and ", kMaxTileLevel));
  }
  if (width < 1 || width > kTileWidth) {
    return absl::InvalidArgumentError(
        StrCat("tile width ", width, " is not between 1 and ", kTileWidth));
  }
  const int tree_level = kTileHeight * level;
  // Node n of tree level 8L is complete once the tree holds (n + 1) << 8L
  // leaves; the index is bounded so that this cannot overflow.
  const uint64_t nodes_at_level = Size() >> tree_level;
  if (index >= nodes_at_level / kTileWidth + 1 ||
      index * kTileWidth + static_cast<uint64_t>(width) > nodes_at_level) {
    return absl::NotFoundError(StrCat("tile ", level, "/", index, " of width ", width,
                                      " is beyond the tree of ", Size(), " entries"));
  }
  std::string tile;
  tile.reserve(static_cast<size_t>(width) * kHashBytes);
  const uint64_t from = index * kTileWidth;
  RETURN_IF_ERROR(ReadTileLevel(*impl_, level, from, from + static_cast<uint64_t>(width),
                                [&](std::string_view bytes) { tile.append(bytes); }));
  return tile;
}

namespace {

// Index keys carry the hour of an entry, not its time: a scan reads the
// hours that overlap [from, to) and keeps the entries whose time (once
// opened) falls inside. An erased entry is kept if its hour overlaps.
absl::Time HourFloor(absl::Time time) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return time;
  const int64_t seconds = absl::ToUnixSeconds(time);
  return absl::FromUnixSeconds(seconds - ((seconds % 3600) + 3600) % 3600);
}

absl::Time HourCeil(absl::Time time) {
  const absl::Time floor = HourFloor(time);
  return floor == time ? time : floor + absl::Hours(1);
}

bool InRange(const StoredEntry& stored, const IndexQuery& query) {
  absl::Time when;
  if (!stored.erased && stored.entry.has_access_event()) {
    when = FromProto(stored.entry.access_event().occurred_at());
  } else if (!stored.erased && stored.entry.has_baseline()) {
    when = FromProto(stored.entry.baseline().event().occurred_at());
  } else if (!stored.erased) {
    when = FromProto(stored.entry.committed_at());
  } else {
    const absl::Time hour = absl::FromUnixSeconds(stored.header.hour());
    return (!query.from || hour + absl::Hours(1) > *query.from) && (!query.to || hour < *query.to);
  }
  return (!query.from || when >= *query.from) && (!query.to || when < *query.to);
}

absl::StatusOr<IndexPage> ScanIndex(const internal::LedgerImpl& impl, char prefix,
                                    std::string_view pseudonym, const IndexQuery& query,
                                    uint64_t size) {
  std::string start =
      IndexKey(prefix, pseudonym, HourFloor(query.from.value_or(absl::InfinitePast())), 0);
  std::string end =
      IndexKey(prefix, pseudonym, HourCeil(query.to.value_or(absl::InfiniteFuture())), 0);
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
  IndexPage page;
  it->Seek(start);
  // Candidates are read a page at a time until the page is full of entries
  // in range; the token then names the first candidate not taken.
  while (page.entries.size() < query.limit && it->Valid()) {
    std::vector<uint64_t> seqs;
    std::vector<std::string> tails;
    for (; it->Valid() && seqs.size() < query.limit - page.entries.size(); it->Next()) {
      rocksdb::Slice key = it->key();
      if (key.size() != key_bytes) return absl::DataLossError("index key has the wrong length");
      uint64_t seq = ReadBigEndian64(std::string_view(key.data() + key.size() - 8, 8));
      if (seq >= size) continue;  // written with a group not yet acknowledged
      seqs.push_back(seq);
      tails.emplace_back(key.data() + 1 + pseudonym.size(), kPageTokenBytes);
    }
    if (absl::Status s = FromRocks(it->status(), "index scan"); !s.ok()) return s;
    absl::StatusOr<std::vector<StoredEntry>> entries = impl.ReadEntries(seqs);
    if (!entries.ok()) return entries.status();
    for (StoredEntry& stored : *entries) {
      if (InRange(stored, query)) page.entries.push_back(std::move(stored));
    }
  }
  for (; it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != key_bytes) return absl::DataLossError("index key has the wrong length");
    if (ReadBigEndian64(std::string_view(key.data() + key.size() - 8, 8)) >= size) continue;
    page.next_page_token =
        Base64Encode(std::string_view(key.data() + 1 + pseudonym.size(), kPageTokenBytes));
    break;
  }
  if (absl::Status s = FromRocks(it->status(), "index scan"); !s.ok()) return s;
  return page;
}

uint64_t AnswerSize(const IndexQuery& query, uint64_t size) {
  return query.tree_size == 0 ? size : std::min(query.tree_size, size);
}

absl::Status NeedsPseudonyms(const internal::LedgerImpl& impl) {
  if (impl.pseudonymizer != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "the pseudonym key is not in the data folder: no one can be looked up");
}

}  // namespace

absl::StatusOr<IndexPage> Ledger::ListSubject(const IndexQuery& query) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  std::string pseudonym = impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, query.id);
  return ScanIndex(*impl_, internal::kSubjectIndex, pseudonym, query, AnswerSize(query, Size()));
}

absl::StatusOr<IndexPage> Ledger::ListActor(const IndexQuery& query) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  std::string pseudonym = impl_->pseudonymizer->Pseudonym(PseudonymDomain::kActor, query.id);
  return ScanIndex(*impl_, internal::kActorIndex, pseudonym, query, AnswerSize(query, Size()));
}

absl::StatusOr<IndexPage> Ledger::ListSubjectBaseline(const IndexQuery& query) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  std::string pseudonym = impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, query.id);
  return ScanIndex(*impl_, internal::kBaselineIndex, pseudonym, query, AnswerSize(query, Size()));
}

absl::StatusOr<std::string> Ledger::SubjectPseudonym(std::string_view subject_id) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  return impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, subject_id);
}

namespace {

absl::StatusOr<HistoryProof> ProveHistory(const internal::LedgerImpl& impl, MapSpace space,
                                          std::string pseudonym, uint64_t tree_size) {
  if (impl.writer == nullptr) {
    return absl::FailedPreconditionError(
        "the subject map is kept by a writable ledger; this one is open read-only");
  }
  const Hash key = MapKey(space, pseudonym);
  // The root and the path are of one map, the last committed group's (or
  // the one rebuilt for an older tree); the entries they lead to are all
  // committed, and never change.
  absl::StatusOr<internal::MapWriter::Proof> map = impl.writer->map().Prove(key);
  // The ledger's size is published just before its map: a tree that
  // Size() already holds is the map's a moment later.
  for (int tries = 0; map.ok() && tree_size > map->root.tree_size &&
                      tree_size <= impl.committed_size.load() && tries < 1000;
       ++tries) {
    absl::SleepFor(absl::Microseconds(100));
    map = impl.writer->map().Prove(key);
  }
  if (!map.ok()) return map.status();
  if (tree_size != 0 && tree_size != map->root.tree_size) {
    if (tree_size > map->root.tree_size) {
      const uint64_t size = impl.committed_size.load();
      if (tree_size <= size) {
        return absl::UnavailableError(StrCat("the subject map of the tree of ", tree_size,
                                             " entries is not ready yet; ask again"));
      }
      return absl::OutOfRangeError(
          StrCat("tree_size ", tree_size, " is beyond the ledger's ", size, " entries"));
    }
    absl::StatusOr<internal::MapRoot> past = impl.PastMap(tree_size);
    if (!past.ok()) return past.status();
    map = internal::MapWriter::ProveIn(*std::move(past), key);
    if (!map.ok()) return map.status();
  }
  HistoryProof proof;
  proof.tree_size = map->root.tree_size;
  proof.map_root = map->root.root.hash;
  proof.pseudonym = std::move(pseudonym);
  proof.map = std::move(map->proof);
  if (!proof.map.has_leaf() || proof.map.leaf().key() != AsBytes(key)) return proof;
  // The history, from its head back to its first entry, by the links in
  // the entries' clear headers.
  uint64_t seq = proof.map.leaf().seq();
  for (uint64_t left = proof.map.leaf().count(); left > 0; --left) {
    absl::StatusOr<std::vector<StoredEntry>> read_entry = impl.ReadEntries({seq}, /*open=*/false);
    if (!read_entry.ok()) return read_entry.status();
    // ReadEntries has checked the bytes against their leaf hash and parsed them.
    absl::StatusOr<EntryHeaderBytes> split = SplitEntry(read_entry->front().bytes);
    if (!split.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, ": ", split.status().message()));
    }
    HistoryProof::Link link;
    link.seq = seq;
    link.header = std::move(read_entry->front().header);  // without its contents
    link.bytes = *std::move(split);
    const HeaderLinks links = LinksIn(link.header, space);
    const uint64_t count = links.count;
    const uint64_t prev = links.prev;
    if (count != left) {
      return absl::DataLossError(StrCat("entry ", seq, " says it is number ", count,
                                        " of its history, where ", left, " was expected"));
    }
    proof.chain.push_back(std::move(link));
    if (left > 1 && prev >= seq) {
      return absl::DataLossError(
          StrCat("entry ", seq, " names entry ", prev, " before it in its history"));
    }
    seq = prev;
  }
  return proof;
}

}  // namespace

absl::StatusOr<HistoryProof> Ledger::ProveSubjectHistory(std::string_view subject_id,
                                                         uint64_t tree_size) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  return ProveHistory(*impl_, MapSpace::kSubject,
                      impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, subject_id),
                      tree_size);
}

absl::StatusOr<HistoryProof> Ledger::ProveActorHistory(std::string_view actor_id,
                                                       uint64_t tree_size) const {
  if (absl::Status s = NeedsPseudonyms(*impl_); !s.ok()) return s;
  return ProveHistory(*impl_, MapSpace::kActor,
                      impl_->pseudonymizer->Pseudonym(PseudonymDomain::kActor, actor_id),
                      tree_size);
}

absl::StatusOr<std::vector<StoredEntry>> Ledger::ListAlertRecords(uint64_t from_seq) const {
  absl::StatusOr<std::vector<uint64_t>> seqs =
      impl_->ScanTimeIndex(internal::kAlertIndex, from_seq);
  if (!seqs.ok()) return seqs.status();
  return impl_->ReadEntries(*seqs);
}

absl::StatusOr<std::vector<StoredEntry>> Ledger::ListErasures() const {
  absl::StatusOr<std::vector<uint64_t>> seqs = impl_->ScanTimeIndex(internal::kErasureIndex, 0);
  if (!seqs.ok()) return seqs.status();
  return impl_->ReadEntries(*seqs);
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
  return impl_->ChainHead(tree_size - 1);
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

namespace {

// Stores `checkpoint`, of the current size, as the latest unless one as
// large is stored already; the latest, and every one by size: a history an
// auditor can replay.
absl::Status StoreLatestCheckpoint(internal::LedgerImpl& impl, const v1::Checkpoint& checkpoint) {
  if (impl.write_failed.load()) {
    return absl::UnavailableError("an earlier ledger write failed; checkpoint not stored");
  }
  absl::MutexLock lock(&impl.checkpoint_mu);
  if (impl.latest_checkpoint && impl.latest_checkpoint->tree_size() >= checkpoint.tree_size()) {
    return absl::OkStatus();
  }
  rocksdb::WriteBatch batch;
  std::string serialized = checkpoint.SerializeAsString();
  batch.Put(impl.meta, internal::kMetaCheckpoint, serialized);
  batch.Put(impl.meta, internal::CheckpointHistoryKey(checkpoint.tree_size()), serialized);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  if (absl::Status s = FromRocks(impl.db->Write(write_options, &batch), "store checkpoint");
      !s.ok()) {
    return s;
  }
  impl.latest_checkpoint = checkpoint;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Checkpoint> Ledger::Checkpoint(uint64_t tree_size) {
  if (!impl_->signer) return absl::FailedPreconditionError("ledger is open read-only");
  // Never sign a tree that contradicts the last signed one.
  if (absl::Status s = impl_->CheckAgainstLatestCheckpoint(); !s.ok()) return s;
  const bool latest = tree_size == 0;
  if (latest) tree_size = Size();
  // A tree head signed and stored before is given as stored, never signed
  // again from a root and chain that may have changed since.
  if (std::optional<v1::Checkpoint> stored = impl_->StoredCheckpoint(tree_size)) return *stored;
  if (absl::Status s = impl_->MaySign(); !s.ok()) return s;
  CheckpointBody body;
  body.origin = impl_->options.origin;
  body.tree_size = tree_size;
  absl::StatusOr<Hash> root = RootAt(tree_size);
  if (!root.ok()) return root.status();
  absl::StatusOr<Hash> chain_head = ChainAt(tree_size);
  if (!chain_head.ok()) return chain_head.status();
  body.root_hash = *root;
  body.chain_head = *chain_head;
  absl::StatusOr<std::optional<Hash>> map_root = impl_->MapRootAt(tree_size);
  if (!map_root.ok()) return map_root.status();
  body.map_root = *map_root;
  absl::StatusOr<std::string> note = impl_->signer->Sign(body);
  if (!note.ok()) return note.status();
  v1::Checkpoint checkpoint;
  checkpoint.set_note(*note);
  checkpoint.set_origin(body.origin);
  checkpoint.set_tree_size(tree_size);
  checkpoint.set_root_hash(std::string(AsBytes(body.root_hash)));
  checkpoint.set_chain_head(std::string(AsBytes(body.chain_head)));
  if (body.map_root) checkpoint.set_map_root(std::string(AsBytes(*body.map_root)));
  checkpoint.set_verifier_key(impl_->verifier_key);
  if (!latest) return checkpoint;
  if (absl::Status s = StoreLatestCheckpoint(*impl_, checkpoint); !s.ok()) return s;
  return checkpoint;
}

std::optional<v1::Checkpoint> Ledger::LatestStoredCheckpoint() const {
  absl::MutexLock lock(&impl_->checkpoint_mu);
  return impl_->latest_checkpoint;
}

const std::string& Ledger::VerifierKey() const { return impl_->verifier_key; }

absl::StatusOr<std::string> Ledger::SignStatement(std::string_view text) const {
  if (!impl_->signer) return absl::FailedPreconditionError("ledger is open read-only");
  if (absl::Status s = impl_->MaySign(); !s.ok()) return s;
  return impl_->signer->SignStatement(text);
}

const std::string& Ledger::Origin() const { return impl_->options.origin; }

void Ledger::MarkVerified() {
  absl::MutexLock lock(&impl_->integrity_mu);
  impl_->integrity.verified = true;
}

void Ledger::MarkDamaged(std::optional<uint64_t> first_bad_seq, std::string problem) {
  impl_->NoteDamage(first_bad_seq, std::move(problem));
}

Ledger::Integrity Ledger::GetIntegrity() const {
  absl::MutexLock lock(&impl_->integrity_mu);
  return impl_->integrity;
}

Ledger::StorageStats Ledger::GetStorageStats() const { return impl_->ReadStorageStats(); }

absl::StatusOr<BackupInfo> Ledger::Backup(const std::string& backup_dir, uint32_t keep) {
  absl::StatusOr<std::unique_ptr<BackupFolder>> folder = BackupFolder::OpenForBackup(backup_dir);
  if (!folder.ok()) return folder.status();
  // A checkpoint signed now is stored before the backup starts, so that the
  // backup carries a signed tree head over everything committed so far.
  // Groups committed while it runs may be included too, beyond that head.
  // A damaged ledger is still backed up, for the investigation, and one
  // not yet verified at start too, each under its latest stored checkpoint.
  const Integrity integrity = GetIntegrity();
  const bool may_sign =
      !integrity.damaged && (integrity.verified || !impl_->options.sign_after_verification);
  absl::StatusOr<v1::Checkpoint> head =
      may_sign ? Checkpoint() : absl::StatusOr<v1::Checkpoint>(absl::UnavailableError("unsigned"));
  if (!head.ok() && may_sign) return head.status();
  const uint64_t head_size = head.ok() ? head->tree_size() : impl_->LatestStoredSize();
  absl::StatusOr<BackupInfo> info =
      (*folder)->Add(*impl_->db, impl_->options.data_dir, head_size, keep);
  if (!info.ok()) return info.status();
  // The key store after the ledger: keys only leave it by being shredded,
  // so it then holds the key of every entry in the ledger backup (or the
  // mark that it was shredded since).
  if (impl_->keys != nullptr) {
    absl::StatusOr<uint32_t> keys = impl_->keys->Backup(
        StrCat(backup_dir, "/", kKeyStoreBackupFolder), impl_->options.key_backup_keep, Now());
    if (!keys.ok()) return keys.status();
  }
  return info;
}

absl::StatusOr<std::vector<BackupInfo>> Ledger::ListBackups(const std::string& backup_dir) {
  return BackupFolder::List(backup_dir);
}

absl::StatusOr<BackupInfo> Ledger::Restore(const std::string& backup_dir, uint32_t backup_id,
                                           const std::string& data_dir,
                                           absl::Span<const std::string> shredded_since) {
  absl::StatusOr<BackupInfo> restored = BackupFolder::Restore(backup_dir, backup_id, data_dir);
  if (!restored.ok()) return restored.status();
  // The newest key-store backup holds the keys of every older ledger
  // backup, but for those shredded since; the restored ledger's own
  // erasure records shred those again when it opens (FinishShreds).
  const std::string key_backups = StrCat(backup_dir, "/", kKeyStoreBackupFolder);
  std::error_code error;
  if (std::filesystem::exists(key_backups, error)) {
    absl::Status keys = KeyStore::Restore(
        key_backups, StrCat(data_dir, "/", internal::kKeyStoreFolder), shredded_since);
    if (!keys.ok()) return keys;
  }
  return restored;
}

VerifyReport Ledger::Verify(bool check_indexes) const {
  return LedgerVerifier(*impl_).Verify(check_indexes);
}

VerifyReport Ledger::Verify(bool check_indexes, VerifyProgress& progress,
                            const std::atomic<bool>* cancel) const {
  return LedgerVerifier(*impl_).Verify(check_indexes, &progress, cancel);
}

VerifyReport Ledger::VerifyIncremental(VerifyProgress& progress,
                                       const std::atomic<bool>* cancel) const {
  return LedgerVerifier(*impl_).VerifyIncremental(progress, cancel);
}

}  // namespace innsyn::storage
