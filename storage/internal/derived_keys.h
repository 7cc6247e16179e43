// The index and event-id keys the ledger stores for an entry. The writer
// puts exactly these, and verification derives them again from the entries
// to check that the stored keys are complete, so both call this one
// function. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_
#define INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_

#include <string>
#include <string_view>

#include "base/proto_time.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/internal/schema.h"
#include "storage/pseudonym.h"

namespace innsyn::storage::internal {

enum DerivedKind { kSubjectKeys, kActorKeys, kQueryKeys, kAlertKeys, kDedupeKeys, kDerivedKinds };
inline constexpr const char* kDerivedKindNames[kDerivedKinds] = {
    "subject index", "actor index", "query index", "alert index", "event-id table"};

// Calls `emit(kind, key, value)` for each key stored for entry `seq`: in the
// index family (empty value) and the dedupe family (value: the seq).
// `pseudonym(domain, id)` returns the id's HMAC pseudonym. `key` is scratch
// space, reused so that building a key need not allocate.
template <typename PseudonymFn, typename EmitFn>
void ForEachDerivedKey(const v1::LedgerEntry& entry, uint64_t seq, PseudonymFn&& pseudonym,
                       EmitFn&& emit, std::string& key) {
  auto index_key = [&](DerivedKind kind, char prefix, std::string_view name, absl::Time time) {
    key.assign(1, prefix);
    key.append(name);
    AppendBigEndian64(key, SortableTime(time));
    AppendBigEndian64(key, seq);
    emit(kind, std::string_view(key), std::string_view());
  };
  if (entry.has_access_event()) {
    const v1::AccessEvent& event = entry.access_event();
    const absl::Time occurred_at = FromProto(event.occurred_at());
    index_key(kSubjectKeys, kSubjectIndex,
              pseudonym(PseudonymDomain::kSubject, event.subject().id()), occurred_at);
    index_key(kActorKeys, kActorIndex, pseudonym(PseudonymDomain::kActor, event.actor().id()),
              occurred_at);
    key.clear();
    AppendDedupeKey(key, event.source().system(), event.source().instance(), event.event_id());
    const std::string value = SeqKey(seq);  // 8 bytes: no allocation
    emit(kDedupeKeys, std::string_view(key), std::string_view(value));
  } else if (entry.has_query_record() && !entry.query_record().subject_id().empty()) {
    index_key(kQueryKeys, kSubjectQueryIndex,
              pseudonym(PseudonymDomain::kSubject, entry.query_record().subject_id()),
              FromProto(entry.committed_at()));
  } else if (entry.has_alert() || entry.has_alert_decision()) {
    index_key(kAlertKeys, kAlertIndex, std::string_view(), FromProto(entry.committed_at()));
  }
}

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_DERIVED_KEYS_H_
