// The index and event-id keys the ledger stores for an entry. The writer
// puts exactly these, and verification derives them again from the stored
// entries to check that the stored keys are complete, so both call this one
// function. Every key comes from the entry's clear header: verification
// needs neither the pseudonym key nor any data key. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_
#define INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {

enum DerivedKind {
  kSubjectKeys,
  kActorKeys,
  kQueryKeys,
  kAlertKeys,
  kDataKeyKeys,
  kErasureKeys,
  kDedupeKeys,
  kBaselineKeys,
  kDerivedKinds
};
inline constexpr const char* kDerivedKindNames[kDerivedKinds] = {
    "subject index",  "actor index",   "query index",    "alert index",
    "data-key index", "erasure index", "event-id table", "baseline index"};

// Whether a sealed entry needs a 'K' index key to be found by its data key.
// One that a subject index finds ('S', 'B', or 'Q' with its subject's
// pseudonym and hour) is sealed under a key of that subject and of its
// hour's year, so counting a key's entries reads the subject's index and
// the headers it leads to instead (Ledger::CountEntriesUnderKey): most
// entries are access events, and a key for each would be one more random
// insert into the index for every event.
inline bool NeedsDataKeyIndex(const v1::SealedEntry& header) {
  if (header.key_id().empty()) return false;
  if (header.subject().empty()) return true;
  switch (header.kind()) {
    case v1::ENTRY_KIND_ACCESS_EVENT:
    case v1::ENTRY_KIND_BASELINE:
    case v1::ENTRY_KIND_QUERY_RECORD: return false;
    default: return true;
  }
}

// Calls `emit(kind, key, value)` for each key stored for the entry whose
// clear header is `header`: in the index family (empty value) and the
// dedupe family (value: the seq). `key` is scratch space, reused so that
// building a key need not allocate.
template <typename EmitFn>
void ForEachDerivedKey(const v1::SealedEntry& header, EmitFn&& emit, std::string& key) {
  const uint64_t seq = header.seq();
  const absl::Time hour = absl::FromUnixSeconds(header.hour());
  auto index_key = [&](DerivedKind kind, char prefix, std::string_view name) {
    key.assign(1, prefix);
    key.append(name);
    AppendBigEndian64(key, SortableTime(hour));
    AppendBigEndian64(key, seq);
    emit(kind, std::string_view(key), std::string_view());
  };
  switch (header.kind()) {
    case v1::ENTRY_KIND_ACCESS_EVENT: {
      index_key(kSubjectKeys, kSubjectIndex, header.subject());
      index_key(kActorKeys, kActorIndex, header.actor());
      const std::string value = SeqKey(seq);  // 8 bytes: no allocation
      emit(kDedupeKeys, std::string_view(header.event()), std::string_view(value));
      break;
    }
    case v1::ENTRY_KIND_BASELINE: {
      // Go-live state: found by subject for the detectors and explanations,
      // but in the 'B' index, never in the subject's or actor's ('S', 'A').
      index_key(kBaselineKeys, kBaselineIndex, header.subject());
      const std::string value = SeqKey(seq);
      emit(kDedupeKeys, std::string_view(header.event()), std::string_view(value));
      break;
    }
    case v1::ENTRY_KIND_QUERY_RECORD:
      if (!header.subject().empty()) index_key(kQueryKeys, kSubjectQueryIndex, header.subject());
      break;
    case v1::ENTRY_KIND_ALERT:
    case v1::ENTRY_KIND_ALERT_DECISION:
      index_key(kAlertKeys, kAlertIndex, std::string_view());
      break;
    case v1::ENTRY_KIND_ERASURE:
      index_key(kSubjectKeys, kSubjectIndex, header.subject());
      index_key(kErasureKeys, kErasureIndex, std::string_view());
      break;
    case v1::ENTRY_KIND_RETENTION_RUN:
      index_key(kErasureKeys, kErasureIndex, std::string_view());
      break;
    default: break;
  }
  if (NeedsDataKeyIndex(header)) {
    AssignDataKeyIndexPrefix(key, header.key_id());
    AppendBigEndian64(key, seq);
    emit(kDataKeyKeys, std::string_view(key), std::string_view());
  }
}

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_
