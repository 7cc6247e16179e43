#include "storage/subject_map.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "absl/types/span.h"
#include "base/strings.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/schema.h"

namespace innsyn::storage {
namespace {

constexpr char kMapLeafPrefix = 0x02;
constexpr char kMapNodePrefix = 0x03;
constexpr char kHeaderPrefix = 0x04;

// Whether `a` and `b` agree on their first `bits` bits.
bool SamePrefix(const Hash& a, const Hash& b, int bits) {
  for (int i = 0; i < bits; ++i) {
    if (MapKeyBit(a, i) != MapKeyBit(b, i)) return false;
  }
  return true;
}

Hash SubtreeRoot(absl::Span<const std::pair<Hash, MapValue>> sorted, int depth) {
  if (sorted.empty()) return kZeroHash;
  if (sorted.size() == 1) return MapLeafHash(sorted.front().first, sorted.front().second);
  const auto split = std::partition_point(
      sorted.begin(), sorted.end(),
      [depth](const auto& history) { return !MapKeyBit(history.first, depth); });
  const size_t left = static_cast<size_t>(split - sorted.begin());
  return MapNodeHash(SubtreeRoot(sorted.subspan(0, left), depth + 1),
                     SubtreeRoot(sorted.subspan(left), depth + 1));
}

// Where E_seq's contents lie: its field 9 or 10 record (tag, length and
// value) from `begin` to `end`, its value from `value`. A record absent:
// all three at the end.
struct ContentsRecord {
  size_t begin = 0, value = 0, end = 0;
};

std::optional<uint64_t> ReadVarint(std::string_view bytes, size_t& at) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[at++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return value;
  }
  return std::nullopt;
}

absl::StatusOr<ContentsRecord> FindContents(std::string_view bytes) {
  constexpr int kSealedField = 9, kClearField = 10;
  ContentsRecord found{bytes.size(), bytes.size(), bytes.size()};
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t begin = at;
    std::optional<uint64_t> tag = ReadVarint(bytes, at);
    if (!tag) return absl::InvalidArgumentError("entry bytes hold a broken field tag");
    uint64_t skip = 0;
    switch (*tag & 7) {
      case 0:
        if (!ReadVarint(bytes, at)) return absl::InvalidArgumentError("entry bytes end early");
        break;
      case 1: skip = 8; break;
      case 2: {
        std::optional<uint64_t> length = ReadVarint(bytes, at);
        if (!length) return absl::InvalidArgumentError("entry bytes end early");
        skip = *length;
        break;
      }
      case 5: skip = 4; break;
      default:
        return absl::InvalidArgumentError("entry bytes hold a field of an unknown wire type");
    }
    if (skip > bytes.size() - at) return absl::InvalidArgumentError("entry bytes end early");
    const uint64_t field = *tag >> 3;
    if ((field == kSealedField || field == kClearField) && (*tag & 7) == 2) {
      found = {begin, at, at + static_cast<size_t>(skip)};
    }
    at += static_cast<size_t>(skip);
  }
  return found;
}

// SHA-256(0x04 || contents_hash || H), H given as the two parts of E_seq
// around its contents' record.
Hash HeaderDigest(const Hash& contents_hash, std::string_view before, std::string_view after) {
  const char prefix = kHeaderPrefix;
  return Sha256({std::string_view(&prefix, 1), AsBytes(contents_hash), before, after});
}

Hash ContentsHash(std::string_view entry_bytes, const ContentsRecord& contents) {
  return Sha256(entry_bytes.substr(contents.value, contents.end - contents.value));
}

}  // namespace

Hash MapRootOf(std::vector<std::pair<Hash, MapValue>> histories) {
  std::sort(histories.begin(), histories.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return SubtreeRoot(histories, 0);
}

// Each is hashed from a buffer on the stack: the map hashes a leaf and
// about ten nodes a history with every group commit.
Hash MapKey(MapSpace space, std::string_view pseudonym) {
  const char tag = static_cast<char>(space);
  return Sha256({std::string_view(&tag, 1), pseudonym});
}

Hash MapLeafHash(const Hash& key, const MapValue& value) {
  std::array<char, 1 + kHashBytes + 16 + kHashBytes> input;
  input[0] = kMapLeafPrefix;
  std::memcpy(&input[1], key.data(), kHashBytes);
  for (int i = 0; i < 8; ++i) {
    input[1 + kHashBytes + i] = static_cast<char>(value.seq >> (56 - 8 * i));
    input[1 + kHashBytes + 8 + i] = static_cast<char>(value.count >> (56 - 8 * i));
  }
  std::memcpy(&input[1 + kHashBytes + 16], value.entry_hash.data(), kHashBytes);
  return Sha256(std::string_view(input.data(), input.size()));
}

Hash MapNodeHash(const Hash& left, const Hash& right) {
  std::array<char, 1 + 2 * kHashBytes> input;
  input[0] = kMapNodePrefix;
  std::memcpy(&input[1], left.data(), kHashBytes);
  std::memcpy(&input[1 + kHashBytes], right.data(), kHashBytes);
  return Sha256(std::string_view(input.data(), input.size()));
}

absl::StatusOr<std::optional<MapValue>> VerifyMapProof(const Hash& root, const Hash& key,
                                                       const v1::MapProof& proof) {
  const int depth = proof.siblings_size();
  if (depth > kMapDepth) {
    return absl::InvalidArgumentError(
        StrCat("map proof has ", depth, " siblings, more than the map's ", kMapDepth, " levels"));
  }
  Hash hash = kZeroHash;
  std::optional<MapValue> value;
  if (proof.has_leaf()) {
    const v1::MapLeaf& leaf = proof.leaf();
    std::optional<Hash> leaf_key = HashFromBytes(leaf.key());
    std::optional<Hash> entry_hash = HashFromBytes(leaf.entry_hash());
    if (!leaf_key || !entry_hash) {
      return absl::InvalidArgumentError("map proof leaf needs a 32-byte key and entry hash");
    }
    if (!SamePrefix(*leaf_key, key, depth)) {
      return absl::FailedPreconditionError(StrCat(
          "map proof ends in a leaf whose key does not share the path's first ", depth, " bits"));
    }
    const MapValue leaf_value{leaf.seq(), leaf.count(), *entry_hash};
    if (leaf_value.count == 0) {
      return absl::FailedPreconditionError("map proof leaf says its history has no entries");
    }
    hash = MapLeafHash(*leaf_key, leaf_value);
    if (*leaf_key == key) value = leaf_value;
  }
  for (int i = depth - 1; i >= 0; --i) {
    std::optional<Hash> sibling = HashFromBytes(proof.siblings(i));
    if (!sibling) {
      return absl::InvalidArgumentError(StrCat("map proof sibling ", i, " is not 32 bytes"));
    }
    hash = MapKeyBit(key, i) ? MapNodeHash(*sibling, hash) : MapNodeHash(hash, *sibling);
  }
  if (hash != root) {
    return absl::FailedPreconditionError(
        StrCat("map proof leads to root ", ToHex(hash), ", not the signed map root ", ToHex(root)));
  }
  return value;
}

Hash HeaderHash(const Hash& contents_hash, std::string_view header_bytes) {
  return HeaderDigest(contents_hash, header_bytes, "");
}

absl::StatusOr<EntryHeaderBytes> SplitEntry(std::string_view entry_bytes) {
  absl::StatusOr<ContentsRecord> contents = FindContents(entry_bytes);
  if (!contents.ok()) return contents.status();
  EntryHeaderBytes out;
  out.contents_hash = ContentsHash(entry_bytes, *contents);
  out.header = StrCat(entry_bytes.substr(0, contents->begin), entry_bytes.substr(contents->end));
  return out;
}

absl::StatusOr<Hash> HeaderHashOf(std::string_view entry_bytes) {
  absl::StatusOr<ContentsRecord> contents = FindContents(entry_bytes);
  if (!contents.ok()) return contents.status();
  return HeaderDigest(ContentsHash(entry_bytes, *contents), entry_bytes.substr(0, contents->begin),
                      entry_bytes.substr(contents->end));
}

HeaderLinks LinksIn(const v1::SealedEntry& header, MapSpace space) {
  if (space == MapSpace::kSubject) {
    return {header.subject(), header.subject_count(), header.subject_prev(),
            header.subject_prev_hash()};
  }
  return {header.actor(), header.actor_count(), header.actor_prev(), header.actor_prev_hash()};
}

bool InHistory(const v1::SealedEntry& header, MapSpace space) {
  if (space == MapSpace::kSubject) {
    return !header.subject().empty() && (header.kind() == v1::ENTRY_KIND_ACCESS_EVENT ||
                                         header.kind() == v1::ENTRY_KIND_ERASURE);
  }
  return !header.actor().empty() && header.kind() == v1::ENTRY_KIND_ACCESS_EVENT;
}

void LinkAfter(v1::SealedEntry& header, MapSpace space, const MapValue& head) {
  const bool subject = space == MapSpace::kSubject;
  if (head.count > 0) {
    std::string hash(AsBytes(head.entry_hash));
    if (subject) {
      header.set_subject_prev(head.seq);
      header.set_subject_prev_hash(std::move(hash));
    } else {
      header.set_actor_prev(head.seq);
      header.set_actor_prev_hash(std::move(hash));
    }
  }
  if (subject) {
    header.set_subject_count(head.count + 1);
  } else {
    header.set_actor_count(head.count + 1);
  }
}

absl::StatusOr<std::vector<HistoryLink>> VerifyHistory(const Hash& map_root, MapSpace space,
                                                       std::string_view pseudonym,
                                                       const v1::MapProof& proof,
                                                       const std::vector<GivenHeader>& chain) {
  const bool subject = space == MapSpace::kSubject;
  const char* whose = subject ? "subject" : "actor";
  const Hash key = MapKey(space, pseudonym);
  if (proof.key() != AsBytes(key)) {
    return absl::FailedPreconditionError(
        StrCat("the map proof is for another key than the ", whose, "'s"));
  }
  absl::StatusOr<std::optional<MapValue>> value = VerifyMapProof(map_root, key, proof);
  if (!value.ok()) return value.status();
  std::vector<HistoryLink> links;
  if (!value->has_value()) {
    if (!chain.empty()) {
      return absl::FailedPreconditionError(StrCat("the map shows no history for the ", whose,
                                                  ", yet ", chain.size(),
                                                  " entries were given as its history"));
    }
    return links;
  }
  const MapValue& head = **value;
  if (chain.size() != head.count) {
    return absl::FailedPreconditionError(StrCat("the signed map says the ", whose, " has ",
                                                head.count, " entries, but ", chain.size(),
                                                " were given"));
  }
  uint64_t seq = head.seq;
  Hash expected = head.entry_hash;
  for (size_t i = 0; i < chain.size(); ++i) {
    const uint64_t count = head.count - i;
    HistoryLink link;
    link.seq = seq;
    std::optional<Hash> contents_hash = HashFromBytes(chain[i].contents_hash);
    if (!contents_hash) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " is given without the 32-byte hash of its contents"));
    }
    link.header_hash = HeaderHash(*contents_hash, chain[i].header);
    if (link.header_hash != expected) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " given does not hash to what ",
                 i == 0 ? "the signed map" : StrCat("entry ", links.back().seq), " names (",
                 ToHex(expected).substr(0, 16), "…): the history was changed"));
    }
    absl::StatusOr<v1::SealedEntry> header = internal::ParseStored(chain[i].header, seq);
    if (!header.ok()) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " does not parse: ", header.status().message()));
    }
    if (!header->sealed().empty() || !header->clear().empty()) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " is given with its contents, where only its header belongs"));
    }
    const HeaderLinks fields = LinksIn(*header, space);
    if (!InHistory(*header, space) || fields.pseudonym != pseudonym) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " is not about this ", whose, ": another's entry was put in"));
    }
    const uint64_t stated = fields.count;
    const uint64_t prev = fields.prev;
    const std::string prev_hash(fields.prev_hash);
    if (stated != count) {
      return absl::FailedPreconditionError(StrCat("entry ", seq, " says it is number ", stated,
                                                  " of the history, where ", count,
                                                  " was expected"));
    }
    if (count == 1 ? (prev != 0 || !prev_hash.empty())
                   : (prev >= seq || !HashFromBytes(prev_hash))) {
      return absl::FailedPreconditionError(
          StrCat("entry ", seq, " does not link properly to the entry before it"));
    }
    link.header = *std::move(header);
    links.push_back(std::move(link));
    if (count > 1) {
      seq = prev;
      expected = *HashFromBytes(prev_hash);
    }
  }
  return links;
}

}  // namespace innsyn::storage
