// What the writer kept for the histories, recomputed from the entries'
// clear headers in seq order: each history's head, the links each entry
// must carry, and the subject map's root. The verifier's full pass uses it
// to check that every link, every stored head and the stored and signed map
// roots are what the entries imply, so that a damaged head (which would
// mislink every later entry of that history) or map is found by innsynd
// before a client finds it (README, "Complete answers").
//
// Not thread-safe. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_HISTORY_CHECK_H_
#define INNSYN_STORAGE_INTERNAL_HISTORY_CHECK_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/internal/map_store.h"
#include "storage/subject_map.h"

namespace rocksdb {
class Iterator;
}  // namespace rocksdb

namespace innsyn::storage::internal {

class HistoryCheck {
 public:
  // Checks the links of the next entry (`header`, parsed from its stored
  // bytes `bytes`) and makes it the head of the histories it joins, by its
  // header hash. Returns what is wrong, if its links are not what the
  // entries before it imply.
  std::optional<std::string> Add(const v1::SealedEntry& header, std::string_view bytes);
  // Compares the heads stored in the map family (read with `map`, an
  // iterator over that family) with the recomputed ones: what differs, or
  // nullopt.
  std::optional<std::string> CompareStoredHeads(rocksdb::Iterator& map) const;
  size_t histories() const { return heads_.size(); }
  // The heads by their map keys, as the map's leaves must hold them.
  absl::flat_hash_map<Hash, MapValue> Leaves() const;

 private:
  std::optional<std::string> Link(const v1::SealedEntry& header, MapSpace space,
                                  const Hash& header_hash);

  // By history id (space and pseudonym): the map key, a hash, is computed
  // for Leaves() only, not for every entry. The id is held in the table,
  // not behind a pointer: a lookup for every entry then touches one slot.
  absl::flat_hash_map<HistoryKey, MapValue> heads_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_HISTORY_CHECK_H_
