// The stored form of an entry, E_n: a v1::SealedEntry with a clear header
// and the v1::LedgerEntry sealed under a data key (see ledger.proto and the
// README's "Checking the ledger without trusting the clinic"). The writer
// encodes with these functions and every reader opens with them. Private to
// storage/.
#ifndef INNSYN_STORAGE_INTERNAL_ENTRY_CODEC_H_
#define INNSYN_STORAGE_INTERNAL_ENTRY_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/pseudonym.h"
#include "storage/sealing.h"

namespace innsyn::storage::internal {

// The serialisation innsyn hashes: deterministic, so that the same message
// always gives the same bytes.
std::string SerializeDeterministic(const google::protobuf::MessageLite& message);

// What the clear header of `entry` says, and under which data key its
// contents are sealed. `entry` must have its committed_at set.
struct EntryHeader {
  v1::SealedEntry header;  // seq, sealed and clear unset
  // "<owner>/<class>/<year>": the data key's id before any generation
  // suffix; empty for an entry stored in the clear.
  std::string key_base;
};
EntryHeader DescribeEntry(const v1::LedgerEntry& entry, const Pseudonymizer& pseudonymizer);
// The same for an access event (or, with `baseline`, a baseline entry's
// event), without a copy of it into a LedgerEntry.
EntryHeader DescribeEvent(const v1::AccessEvent& event, bool baseline,
                          const Pseudonymizer& pseudonymizer);

// "journal_note" for DATA_OBJECT_TYPE_JOURNAL_NOTE: the class of an access
// event's data key.
std::string DataObjectClass(v1::DataObjectType type);

// The key id's parts.
struct KeyIdParts {
  std::string_view owner;      // "s.<hex>", "a.<hex>" or "clinic"
  std::string_view key_class;  // "journal_note", "query", "alert", ...
  int year = 0;
  int generation = 1;  // "#2" and later after a shred
};
std::optional<KeyIdParts> ParseKeyId(std::string_view key_id);
// The first instant after the key's period (its year, UTC).
absl::Time PeriodEnd(int year);

// "innsyn entry " || seq (8 bytes, big-endian) || key_id.
std::string EntryAad(uint64_t seq, std::string_view key_id);

// E_n for `entry` (whose seq is `header.seq`): sealed under `key` with id
// `key_id`, or in the clear when `key` is null; and its header hash, by
// which a history links to it (subject_map.h).
struct EncodedEntry {
  std::string bytes;
  Hash header_hash{};
};
// With `access_event`, the entry's body is that event, and `entry` must
// have no body: the bytes are those of `entry` with the event copied into
// `access_event`, without the copy (the group writer encodes each event
// it was given so).
EncodedEntry EncodeEntry(v1::SealedEntry header, const v1::LedgerEntry& entry,
                         std::string_view key_id, const DataKey* key,
                         const v1::AccessEvent* access_event = nullptr);
// The same with a given nonce, for test vectors.
EncodedEntry EncodeEntryWithNonce(v1::SealedEntry header, const v1::LedgerEntry& entry,
                                  std::string_view key_id, const DataKey& key,
                                  std::string_view nonce,
                                  const v1::AccessEvent* access_event = nullptr);

// Parses E_n. DataLoss if it does not parse or says another seq.
absl::StatusOr<v1::SealedEntry> ParseStored(std::string_view bytes, uint64_t seq);
// The contents of a stored entry: from `clear`, or opened with `key` (null:
// the key is gone, an error). DataLoss when the key does not open it.
absl::StatusOr<v1::LedgerEntry> OpenEntry(const v1::SealedEntry& stored, const DataKey* key);

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_ENTRY_CODEC_H_
