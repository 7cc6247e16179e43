#include "storage/internal/history_check.h"

#include <tuple>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "rocksdb/iterator.h"
#include "storage/internal/map_store.h"
#include "storage/pseudonym.h"

namespace innsyn::storage::internal {
namespace {

const char* Whose(MapSpace space) { return space == MapSpace::kSubject ? "subject" : "actor"; }

}  // namespace

std::optional<std::string> HistoryCheck::Link(const v1::SealedEntry& header, MapSpace space,
                                              const Hash& header_hash) {
  const HeaderLinks links = LinksIn(header, space);
  const uint64_t seq = header.seq();
  if (!InHistory(header, space)) {
    if (links.count != 0 || links.prev != 0 || !links.prev_hash.empty()) {
      return StrCat("entry ", seq, " joins no ", Whose(space),
                    "'s history, yet carries a link to one");
    }
    return std::nullopt;
  }
  // An entry's bytes are checked against nothing yet: a header changed on
  // disk is reported, never trusted to be well formed.
  if (links.pseudonym.size() != Pseudonymizer::kPseudonymBytes) {
    return StrCat("entry ", seq, " names its ", Whose(space), " by ", links.pseudonym.size(),
                  " bytes, not a ", Pseudonymizer::kPseudonymBytes, "-byte pseudonym");
  }
  MapValue& head = heads_[MakeHistoryKey(space, links.pseudonym)];  // count 0: not begun
  if (links.count != head.count + 1) {
    return StrCat("entry ", seq, " says it is entry ", links.count, " of its ", Whose(space),
                  "'s history; the entries before it make it entry ", head.count + 1);
  }
  const bool first = head.count == 0;
  if (first ? (links.prev != 0 || !links.prev_hash.empty())
            : (links.prev != head.seq || links.prev_hash != AsBytes(head.entry_hash))) {
    return StrCat("entry ", seq, " links to entry ", links.prev, " in its ", Whose(space),
                  "'s history, but that history's entry before it is ",
                  first ? std::string("none") : StrCat(head.seq));
  }
  head = MapValue{seq, links.count, header_hash};
  return std::nullopt;
}

std::optional<std::string> HistoryCheck::Add(const v1::SealedEntry& header,
                                             std::string_view bytes) {
  // Only an entry that joins a history needs its header hash.
  Hash header_hash = kZeroHash;
  if (InHistory(header, MapSpace::kSubject) || InHistory(header, MapSpace::kActor)) {
    absl::StatusOr<Hash> hash = HeaderHashOf(bytes);
    if (!hash.ok()) return StrCat("entry ", header.seq(), ": ", hash.status().message());
    header_hash = *hash;
  }
  if (std::optional<std::string> problem = Link(header, MapSpace::kSubject, header_hash)) {
    return problem;
  }
  return Link(header, MapSpace::kActor, header_hash);
}

absl::flat_hash_map<Hash, MapValue> HistoryCheck::Leaves() const {
  absl::flat_hash_map<Hash, MapValue> leaves;
  leaves.reserve(heads_.size());
  for (const auto& [id, head] : heads_) {
    leaves.emplace(MapKey(static_cast<MapSpace>(id[0]), View(id).substr(1)), head);
  }
  return leaves;
}

std::optional<std::string> HistoryCheck::CompareStoredHeads(rocksdb::Iterator& map) const {
  // The family holds heads and nothing else: the map's inner nodes are
  // not stored (storage/internal/map_store.h).
  const std::string prefix(1, kMapHead);
  size_t stored = 0;
  for (map.SeekToFirst(); map.Valid(); map.Next()) {
    if (!map.key().starts_with(prefix)) {
      return StrCat("the subject map's family holds a key that is not a history head (",
                    ToHex(std::string_view(map.key().data(), map.key().size())), ")");
    }
    ++stored;
    std::optional<StoredHead> head =
        DecodeHead(std::string_view(map.key().data(), map.key().size()),
                   std::string_view(map.value().data(), map.value().size()));
    if (!head) return StrCat("a stored head of the subject map is corrupt");
    const MapSpace space = head->space;
    const MapValue& value = head->value;
    auto it = head->history_id.size() == std::tuple_size_v<HistoryKey>
                  ? heads_.find(MakeHistoryKey(space, head->history_id.substr(1)))
                  : heads_.end();
    if (it == heads_.end()) {
      return StrCat("the subject map stores a head for a ", Whose(space),
                    "'s history that no entry begins");
    }
    if (it->second != value) {
      return StrCat("the subject map's stored head of a ", Whose(space), "'s history (entry ",
                    value.seq, ", count ", value.count, ") differs from the entries (entry ",
                    it->second.seq, ", count ", it->second.count, ")");
    }
  }
  if (!map.status().ok()) return StrCat("reading the subject map: ", map.status().ToString());
  if (stored != heads_.size()) {
    return StrCat("the subject map stores ", stored, " history heads; the entries begin ",
                  heads_.size(), " histories");
  }
  return std::nullopt;
}

}  // namespace innsyn::storage::internal
