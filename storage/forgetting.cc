// Ledger's forgetting: erasure on order and the retention job. Both record
// an entry that names the data keys (no personal data), and then shred the
// keys, so that a crash between the two is finished at the next start
// (LedgerImpl::FinishShreds).
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/civil_time.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "rocksdb/slice.h"
#include "storage/hash.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/schema.h"
#include "storage/ledger.h"

namespace innsyn::storage {
namespace {

// Most keys one RetentionRun entry names; a larger run writes several.
constexpr size_t kKeysPerRecord = 1000;

absl::Status NeedsKeyStore(const internal::LedgerImpl& impl) {
  if (impl.writer == nullptr) return absl::FailedPreconditionError("ledger is open read-only");
  if (impl.keys == nullptr) {
    return absl::FailedPreconditionError(
        "entries are stored in the clear: nothing can be shredded");
  }
  return absl::OkStatus();
}

// "s.<hex subject pseudonym>/": the prefix of every key of a subject.
std::string SubjectKeyPrefix(const internal::LedgerImpl& impl, std::string_view subject_id) {
  return StrCat("s.", ToHex(impl.pseudonymizer->Pseudonym(PseudonymDomain::kSubject, subject_id)),
                "/");
}

}  // namespace

bool IsRetentionClass(std::string_view name) {
  if (name == "query" || name == "alert") return true;
  const google::protobuf::EnumDescriptor* types = v1::DataObjectType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    const int number = types->value(i)->number();
    if (number != 0 && internal::DataObjectClass(static_cast<v1::DataObjectType>(number)) == name) {
      return true;
    }
  }
  return false;
}

int RetentionPolicy::YearsFor(std::string_view key_class) const {
  auto it = years_by_class.find(std::string(key_class));
  return it == years_by_class.end() ? default_years : it->second;
}

namespace {

// Most entries one read takes while counting.
constexpr size_t kEntriesPerRead = 1024;

// How often Erase lists a subject's keys again when a key was made meanwhile.
constexpr int kEraseAttempts = 5;

// Counts the committed entries sealed under data keys. An entry that a
// subject index finds has no 'K' key (internal::NeedsDataKeyIndex): for a
// key of a subject, that subject's 'S', 'B' and 'Q' keys in the key's year
// lead to the entries, whose clear headers name their key. One pass over
// a subject's year tallies every key of it, so that a run that shreds a
// subject's keys of several classes reads each entry once. The tallies of
// one subject are kept: the key store lists key ids sorted, so a subject's
// come together.
class KeyEntryCounter {
 public:
  explicit KeyEntryCounter(const internal::LedgerImpl& impl) : impl_(impl) {}

  absl::StatusOr<uint64_t> Count(std::string_view key_id) {
    std::optional<internal::KeyIdParts> parts = internal::ParseKeyId(key_id);
    if (!parts) return absl::DataLossError(StrCat("bad data key id ", key_id));
    std::string prefix;
    internal::AssignDataKeyIndexPrefix(prefix, key_id);
    std::string end = prefix;
    end.back() = '\1';
    ASSIGN_OR_RETURN(std::vector<uint64_t> indexed,
                     impl_.IndexSeqs(prefix, end, prefix.size() + 8));
    uint64_t count = indexed.size();
    if (!parts->owner.starts_with("s.")) return count;
    if (parts->owner != owner_) {
      owner_.clear();
      years_.clear();
      tally_.clear();
    }
    if (!years_.contains(parts->year)) {
      std::optional<std::string> pseudonym = FromHex(parts->owner.substr(2));
      if (!pseudonym || pseudonym->size() != 16) {
        return absl::DataLossError(StrCat("bad data key id ", key_id));
      }
      RETURN_IF_ERROR(TallySubjectYear(*pseudonym, parts->year));
      owner_ = std::string(parts->owner);
      years_.insert(parts->year);
    }
    if (auto it = tally_.find(absl::string_view(key_id.data(), key_id.size()));
        it != tally_.end()) {
      count += it->second;
    }
    return count;
  }

 private:
  absl::Status TallySubjectYear(const std::string& pseudonym, int year) {
    const absl::Time start = absl::FromCivil(absl::CivilYear(year), absl::UTCTimeZone());
    const absl::Time end = internal::PeriodEnd(year);
    std::vector<uint64_t> seqs;
    for (char index :
         {internal::kSubjectIndex, internal::kBaselineIndex, internal::kSubjectQueryIndex}) {
      const std::string from = internal::IndexKey(index, pseudonym, start, 0);
      ASSIGN_OR_RETURN(
          std::vector<uint64_t> found,
          impl_.IndexSeqs(from, internal::IndexKey(index, pseudonym, end, 0), from.size()));
      seqs.insert(seqs.end(), found.begin(), found.end());
    }
    for (size_t i = 0; i < seqs.size(); i += kEntriesPerRead) {
      const std::vector<uint64_t> part(seqs.begin() + i,
                                       seqs.begin() + std::min(seqs.size(), i + kEntriesPerRead));
      ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, impl_.ReadEntries(part, /*open=*/false));
      for (const StoredEntry& entry : entries) {
        if (!entry.header.key_id().empty()) ++tally_[std::string(entry.header.key_id())];
      }
    }
    return absl::OkStatus();
  }

  const internal::LedgerImpl& impl_;
  // The entries of each key of `owner_`'s `years_`.
  std::string owner_;
  absl::flat_hash_set<int> years_;
  absl::flat_hash_map<std::string, uint64_t> tally_;
};

}  // namespace

absl::StatusOr<uint64_t> Ledger::CountEntriesUnderKey(std::string_view key_id) const {
  return KeyEntryCounter(*impl_).Count(key_id);
}

absl::StatusOr<Ledger::KeyCounts> Ledger::CountKeys() const {
  KeyCounts counts;
  if (impl_->keys == nullptr) return counts;
  absl::StatusOr<std::vector<std::string>> live = impl_->keys->ListIds();
  if (!live.ok()) return live.status();
  absl::StatusOr<std::vector<std::string>> shredded = impl_->keys->ListShredded();
  if (!shredded.ok()) return shredded.status();
  counts.live = live->size();
  counts.shredded = shredded->size();
  return counts;
}

absl::StatusOr<v1::AppendReceipt> Ledger::AppendShredRecord(const v1::LedgerEntry& record,
                                                            std::vector<std::string> key_ids) {
  return impl_->writer->AppendShredRecord(record, std::move(key_ids));
}

absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> Ledger::Erase(const ErasureOrder& order) {
  if (absl::Status s = NeedsKeyStore(*impl_); !s.ok()) return s;
  if (order.subject_id.empty()) return absl::InvalidArgumentError("subject_id is required");
  if (order.reason.empty()) {
    return absl::InvalidArgumentError(
        "reason is required: the legal ground, for example \"GDPR art. 17(1)(a)\" (no personal "
        "data: it is kept in the clear)");
  }
  const absl::Time now = Now();
  if (order.before && *order.before > now) {
    return absl::InvalidArgumentError(StrCat("before is in the future (",
                                             absl::FormatTime(*order.before),
                                             "); only periods that have ended can be erased"));
  }
  // One erasure at a time, so that two orders never name the same key.
  static absl::Mutex erase_mu(absl::kConstInit);
  absl::MutexLock lock(&erase_mu);
  const std::string prefix = SubjectKeyPrefix(*impl_, order.subject_id);
  // The keys of the periods the order covers.
  auto due = [&order](const std::string& id) {
    std::optional<internal::KeyIdParts> parts = internal::ParseKeyId(id);
    return parts && !(order.before && internal::PeriodEnd(parts->year) > *order.before);
  };
  // A group queued before the record may make a key of the subject after
  // the keys are listed (its first entry of a class and year): the writer
  // then refuses the record (Aborted), and the keys are listed again.
  auto erase_listed = [&]() -> absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> {
    absl::StatusOr<std::vector<std::string>> live = impl_->keys->ListIds(prefix);
    if (!live.ok()) return live.status();
    v1::Erasure erasure;
    std::vector<std::string> ids;
    KeyEntryCounter counter(*impl_);
    for (const std::string& id : *live) {
      std::optional<internal::KeyIdParts> parts = internal::ParseKeyId(id);
      if (!parts) return absl::DataLossError(StrCat("the key store holds a bad key id ", id));
      if (!due(id)) continue;
      absl::StatusOr<uint64_t> entries = counter.Count(id);
      if (!entries.ok()) return entries.status();
      v1::ShreddedKey* key = erasure.add_keys();
      key->set_key_id(id);
      key->set_entries(*entries);
      erasure.set_subject_entries(erasure.subject_entries() + *entries);
      ids.push_back(id);
    }
    if (ids.empty()) {
      absl::StatusOr<std::vector<std::string>> shredded = impl_->keys->ListShredded();
      if (!shredded.ok()) return shredded.status();
      const bool any_shredded =
          std::any_of(shredded->begin(), shredded->end(),
                      [&](const std::string& id) { return id.starts_with(prefix); });
      if (any_shredded) {
        return absl::FailedPreconditionError(
            order.before ? "nothing of this subject from before that date is left to erase"
                         : "everything recorded about this subject is already erased");
      }
      if (!live->empty()) {
        return absl::FailedPreconditionError(
            "no period of this subject ended before that date; its newer entries are kept");
      }
      return absl::NotFoundError("no entry about this subject_id is recorded");
    }
    erasure.set_reason(order.reason);
    erasure.set_reference(order.reference);
    if (order.before) *erasure.mutable_before() = ToProto(*order.before);
    erasure.set_requested_by(order.requested_by);
    erasure.set_requested_by_role(order.requested_by_role);
    erasure.set_subject(
        impl_->pseudonymizer->Pseudonym(PseudonymDomain::kSubject, order.subject_id));
    v1::LedgerEntry record;
    *record.mutable_erasure() = erasure;
    // The erasure record carries the subject's pseudonym in its clear header,
    // so that the subject's history shows it.
    absl::StatusOr<v1::AppendReceipt> receipt = impl_->writer->AppendShredRecord(
        record, ids, internal::GroupWriter::ShredScope{prefix, due});
    if (!receipt.ok()) return receipt.status();
    return std::make_pair(*std::move(receipt), std::move(erasure));
  };
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased = erase_listed();
    if (!absl::IsAborted(erased.status()) || attempt == kEraseAttempts) return erased;
  }
}

absl::StatusOr<RetentionResult> Ledger::RunRetention(const RetentionPolicy& policy,
                                                     absl::Time now) {
  if (absl::Status s = NeedsKeyStore(*impl_); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> live = impl_->keys->ListIds();
  if (!live.ok()) return live.status();
  RetentionResult result;
  v1::LedgerEntry record;
  std::vector<std::string> ids;
  KeyEntryCounter counter(*impl_);
  auto flush = [&]() -> absl::Status {
    if (ids.empty()) return absl::OkStatus();
    *record.mutable_retention_run()->mutable_ran_at() = ToProto(now);
    absl::StatusOr<v1::AppendReceipt> receipt = impl_->writer->AppendShredRecord(record, ids);
    if (!receipt.ok()) return receipt.status();
    result.keys_shredded += ids.size();
    result.receipt = *std::move(receipt);
    record.Clear();
    ids.clear();
    return absl::OkStatus();
  };
  for (const std::string& id : *live) {
    std::optional<internal::KeyIdParts> parts = internal::ParseKeyId(id);
    if (!parts) return absl::DataLossError(StrCat("the key store holds a bad key id ", id));
    const int years = policy.YearsFor(parts->key_class);
    if (years <= 0) continue;
    const absl::Time expires =
        absl::FromCivil(absl::CivilYear(parts->year + 1 + years), absl::UTCTimeZone());
    if (expires > now) continue;
    absl::StatusOr<uint64_t> entries = counter.Count(id);
    if (!entries.ok()) return entries.status();
    v1::ShreddedKey* key = record.mutable_retention_run()->add_keys();
    key->set_key_id(id);
    key->set_entries(*entries);
    key->set_rule(StrCat(parts->key_class, ": ", years, years == 1 ? " year" : " years"));
    result.entries_erased += *entries;
    ids.push_back(id);
    if (ids.size() == kKeysPerRecord) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  return result;
}

}  // namespace innsyn::storage
