// Ledger::Verify: recomputes every hash from the stored entry bytes, in one
// sequential pass, and compares with what is stored and what was signed.
#include <chrono>

#include "storage/strings.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/schema.h"

namespace innsyn::storage {
namespace {

constexpr size_t kVerifyReadaheadBytes = 4 << 20;
constexpr int kMaxTreeLevels = 64;

class Verifier {
 public:
  explicit Verifier(const Ledger::Impl& impl) : impl_(impl) {
    read_options_.fill_cache = false;
    read_options_.readahead_size = kVerifyReadaheadBytes;
    levels_.resize(kMaxTreeLevels);
  }

  VerifyReport Run();

 private:
  bool Fail(std::optional<uint64_t> seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  }
  bool LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size);
  bool CheckEntry(uint64_t seq, std::string_view key, std::string_view bytes);
  bool CheckNode(const CompactRange::Node& node, uint64_t seq);
  bool CheckCheckpoint();

  const Ledger::Impl& impl_;
  rocksdb::ReadOptions read_options_;
  std::unique_ptr<rocksdb::Iterator> chain_it_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels_;
  CompactRange range_;
  Hash chain_ = kZeroHash;
  std::optional<CheckpointBody> checkpoint_;
  v1::LedgerEntry entry_;
  VerifyReport report_;
};

bool Verifier::LoadCheckpoint(const std::optional<v1::Checkpoint>& stored, uint64_t size) {
  if (!stored) return true;
  absl::StatusOr<CheckpointBody> body =
      VerifyCheckpointNote(stored->note(), impl_.signer->verifier_key());
  if (!body.ok()) {
    return Fail(std::nullopt, StrCat("stored checkpoint: ", body.status().message()));
  }
  if (body->tree_size > size) {
    return Fail(size, StrCat("the ledger has ", size, " entries but a signed checkpoint says ",
                                   body->tree_size, ": entries were removed"));
  }
  checkpoint_ = *body;
  report_.checkpoint_size = body->tree_size;
  return true;
}

bool Verifier::CheckEntry(uint64_t seq, std::string_view key, std::string_view bytes) {
  if (key != internal::SeqKey(seq)) {
    return Fail(seq, StrCat("entry ", seq, " is missing"));
  }
  if (!entry_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Fail(seq, "entry bytes do not parse as a LedgerEntry");
  }
  if (entry_.seq() != seq) {
    return Fail(seq, StrCat("entry says it is seq ", entry_.seq()));
  }
  Hash leaf = LeafHash(bytes);
  chain_ = ChainHash(chain_, leaf);
  if (!chain_it_->Valid() || chain_it_->key() != rocksdb::Slice(key.data(), key.size())) {
    return Fail(seq, "chain hash is missing");
  }
  std::vector<CompactRange::Node> nodes = range_.Append(leaf);
  // Level 0 first: a changed entry shows as a leaf that no longer matches.
  for (const CompactRange::Node& node : nodes) {
    if (!CheckNode(node, seq)) return false;
  }
  if (chain_it_->value() != rocksdb::Slice(reinterpret_cast<const char*>(chain_.data()), kHashBytes)) {
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
    if (checkpoint_ && checkpoint_->tree_size == 0 && checkpoint_->root_hash != EmptyTreeRoot()) {
      Fail(std::nullopt, "signed checkpoint of the empty ledger has a wrong root");
    }
    chain_it_.reset(impl_.db->NewIterator(read_options_, impl_.chain));
    chain_it_->SeekToFirst();
    std::unique_ptr<rocksdb::Iterator> it(impl_.db->NewIterator(read_options_, impl_.entries));
    uint64_t seq = 0;
    for (it->SeekToFirst(); it->Valid() && seq < size; it->Next(), ++seq) {
      rocksdb::Slice key = it->key();
      rocksdb::Slice value = it->value();
      if (!CheckEntry(seq, std::string_view(key.data(), key.size()),
                      std::string_view(value.data(), value.size()))) {
        break;
      }
    }
    report_.entries_checked = seq;
    if (report_.ok && !it->status().ok()) Fail(seq, it->status().ToString());
    if (report_.ok && seq < size) {
      Fail(seq, StrCat("ledger size is ", size, " but entries end at ", seq));
    }
  }
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

}  // namespace

VerifyReport Ledger::Verify() const { return Verifier(*impl_).Run(); }

}  // namespace innsyn::storage
