#include "storage/internal/ledger_impl.h"

#include "base/strings.h"
#include "rocksdb/slice.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {

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

absl::StatusOr<std::string> LedgerImpl::Get(rocksdb::ColumnFamilyHandle* family,
                                            std::string_view key) const {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), family, key, &value);
  if (!s.ok()) return FromRocks(s, "read");
  return value;
}

absl::StatusOr<Hash> LedgerImpl::Node(int level, uint64_t index) const {
  absl::StatusOr<std::string> value = Get(tree, TreeKey(level, index));
  if (!value.ok()) {
    return absl::DataLossError(
        StrCat("tree node (", level, ", ", index, ") unreadable: ", value.status().message()));
  }
  std::optional<Hash> hash = HashFromBytes(*value);
  if (!hash)
    return absl::DataLossError(StrCat("tree node (", level, ", ", index, ") is not 32 bytes"));
  return *hash;
}

absl::StatusOr<v1::AppendReceipt> LedgerImpl::ReceiptFor(uint64_t seq) const {
  absl::StatusOr<std::string> bytes = Get(entries, SeqKey(seq));
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::string> chain_hash = Get(chain, SeqKey(seq));
  if (!chain_hash.ok()) return chain_hash.status();
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return absl::DataLossError(StrCat("entry ", seq, " does not parse"));
  }
  v1::AppendReceipt receipt;
  receipt.set_event_id(entry.access_event().event_id());
  receipt.set_seq(seq);
  receipt.set_leaf_hash(std::string(AsBytes(LeafHash(*bytes))));
  receipt.set_chain_hash(*chain_hash);
  *receipt.mutable_committed_at() = entry.committed_at();
  return receipt;
}

absl::StatusOr<std::vector<StoredEntry>> LedgerImpl::ReadEntries(
    const std::vector<uint64_t>& seqs) const {
  std::vector<std::string> key_storage;
  key_storage.reserve(seqs.size());
  std::vector<rocksdb::Slice> keys;
  for (uint64_t seq : seqs) {
    key_storage.push_back(SeqKey(seq));
    keys.emplace_back(key_storage.back());
  }
  std::vector<rocksdb::PinnableSlice> values(seqs.size());
  std::vector<rocksdb::Status> statuses(seqs.size());
  if (!seqs.empty()) {
    db->MultiGet(rocksdb::ReadOptions(), entries, keys.size(), keys.data(), values.data(),
                 statuses.data());
  }
  std::vector<StoredEntry> out(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!statuses[i].ok()) return FromRocks(statuses[i], StrCat("entry ", seqs[i]));
    // The leaf hash is computed from the bytes returned, so that a reader
    // checks an inclusion proof for exactly what it was given.
    std::string_view bytes(values[i].data(), values[i].size());
    out[i] = StoredEntry{seqs[i], std::string(bytes), LeafHash(bytes)};
  }
  return out;
}

}  // namespace innsyn::storage::internal
