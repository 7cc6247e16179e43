// The subject map and the per-subject and per-actor histories: every
// history proven complete against the map root a checkpoint signs, across
// group commits and restarts; tampering caught by the check a client runs;
// and the README's test vectors, which tests/storage/vectors/subject_map.py
// computes independently.
#include "storage/subject_map.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "rocksdb/write_batch.h"
#include "storage/checkpoint.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/history_check.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;

Hash H(uint8_t byte) {
  Hash hash;
  hash.fill(byte);
  return hash;
}

std::vector<GivenHeader> ChainBytes(const HistoryProof& proof) {
  std::vector<GivenHeader> given;
  for (const HistoryProof::Link& link : proof.chain) {
    given.push_back({link.bytes.header, AsBytes(link.bytes.contents_hash)});
  }
  return given;
}

// The map root computed from scratch, the simplest way: a subtree of one
// leaf is that leaf, of none is zero, else a node over its two halves.
Hash ReferenceRoot(const std::map<Hash, Hash>& leaves, int depth = 0) {
  if (leaves.empty()) return kZeroHash;
  if (leaves.size() == 1) return leaves.begin()->second;
  std::map<Hash, Hash> left, right;
  for (const auto& [key, leaf] : leaves) (MapKeyBit(key, depth) ? right : left).emplace(key, leaf);
  return MapNodeHash(ReferenceRoot(left, depth + 1), ReferenceRoot(right, depth + 1));
}

class SubjectMapTest : public innsyn::testing::LedgerFixture {
 protected:
  // Appends events of `patients` subjects by `doctors` actors, in groups of
  // `per_group`, remembering each history's seqs.
  void AppendSpread(int count, int patients, int doctors, int per_group) {
    for (int done = 0; done < count; done += per_group) {
      std::vector<v1::AccessEvent> events;
      for (int i = done; i < std::min(count, done + per_group); ++i) {
        const int n = next_event_++;
        const std::string subject = "patient-" + std::to_string((n * 7 + n / 5) % patients);
        const std::string actor = "dr-" + std::to_string(n % doctors);
        events.push_back(JournalRead(n, subject, actor));
      }
      std::vector<v1::AppendReceipt> receipts = Append(events);
      for (size_t i = 0; i < events.size(); ++i) {
        subjects_[events[i].subject().id()].push_back(receipts[i].seq());
        actors_[events[i].actor().id()].push_back(receipts[i].seq());
      }
    }
  }

  using Histories = std::map<std::string, std::vector<uint64_t>>;
  // Checks every remembered history against the checkpoint of `tree_size`
  // (0: the newest), and the map root against one computed from scratch.
  // `subjects` and `actors` are the histories as of that tree, if not the
  // newest.
  void CheckEveryHistory(uint64_t tree_size = 0, const Histories* subjects = nullptr,
                         const Histories* actors = nullptr) {
    v1::Checkpoint checkpoint = *ledger_->Checkpoint(tree_size);
    absl::StatusOr<CheckpointBody> body =
        VerifyCheckpointNote(checkpoint.note(), ledger_->VerifierKey());
    ASSERT_TRUE(body.ok()) << body.status();
    ASSERT_TRUE(body->map_root.has_value()) << checkpoint.note();
    std::map<Hash, Hash> leaves;
    auto check = [&](MapSpace space, const Histories& histories) {
      for (const auto& [id, seqs] : histories) {
        absl::StatusOr<HistoryProof> proof = space == MapSpace::kSubject
                                                 ? ledger_->ProveSubjectHistory(id, tree_size)
                                                 : ledger_->ProveActorHistory(id, tree_size);
        ASSERT_TRUE(proof.ok()) << proof.status();
        ASSERT_EQ(proof->tree_size, body->tree_size);
        ASSERT_EQ(proof->map_root, *body->map_root);
        absl::StatusOr<std::vector<HistoryLink>> links =
            VerifyHistory(*body->map_root, space, proof->pseudonym, proof->map, ChainBytes(*proof));
        ASSERT_TRUE(links.ok()) << id << ": " << links.status();
        std::vector<uint64_t> got;
        for (const HistoryLink& link : *links) got.insert(got.begin(), link.seq);
        EXPECT_EQ(got, seqs) << id;
        const Hash key = MapKey(space, proof->pseudonym);
        leaves[key] = MapLeafHash(key, {seqs.back(), seqs.size(), links->front().header_hash});
      }
    };
    check(MapSpace::kSubject, subjects != nullptr ? *subjects : subjects_);
    check(MapSpace::kActor, actors != nullptr ? *actors : actors_);
    EXPECT_EQ(ReferenceRoot(leaves), *body->map_root);
  }

  int next_event_ = 0;
  std::map<std::string, std::vector<uint64_t>> subjects_, actors_;
};

TEST_F(SubjectMapTest, EveryHistoryIsProvenCompleteAcrossGroupsAndRestarts) {
  AppendSpread(300, 40, 5, 1);
  AppendSpread(700, 60, 7, 100);
  CheckEveryHistory();
  Reopen();
  AppendSpread(500, 90, 9, 250);
  CheckEveryHistory();
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(SubjectMapTest, AnOlderTreeIsProvenAgainstItsOwnMap) {
  AppendSpread(300, 40, 5, 10);
  const uint64_t old_size = ledger_->Size();
  const v1::Checkpoint old_checkpoint = *ledger_->Checkpoint();
  const Histories old_subjects = subjects_, old_actors = actors_;
  // The histories grow, new ones begin (more patients and doctors), across
  // a restart, which rebuilds the newest map from the heads.
  AppendSpread(400, 60, 7, 50);
  Reopen();
  AppendSpread(200, 70, 8, 25);
  ASSERT_NE(ledger_->Checkpoint()->map_root(), old_checkpoint.map_root());
  // Every history as it was, proven against the old checkpoint's map line,
  // whose root matches one computed from scratch from those histories.
  CheckEveryHistory(old_size, &old_subjects, &old_actors);
  // A history begun after that tree is proven absent from it.
  ASSERT_FALSE(old_subjects.contains("patient-65"));
  ASSERT_TRUE(subjects_.contains("patient-65"));
  HistoryProof absent = *ledger_->ProveSubjectHistory("patient-65", old_size);
  EXPECT_EQ(absent.tree_size, old_size);
  EXPECT_TRUE(absent.chain.empty());
  absl::StatusOr<std::vector<HistoryLink>> none =
      VerifyHistory(*HashFromBytes(old_checkpoint.map_root()), MapSpace::kSubject, absent.pseudonym,
                    absent.map, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  // The newest tree is still proven as before, and the older one again.
  CheckEveryHistory();
  CheckEveryHistory(old_size, &old_subjects, &old_actors);

  // A size inside a group has no map, and one beyond the ledger no tree.
  absl::StatusOr<HistoryProof> inside = ledger_->ProveSubjectHistory("patient-1", old_size - 3);
  EXPECT_EQ(inside.status().code(), absl::StatusCode::kFailedPrecondition) << inside.status();
  EXPECT_NE(inside.status().message().find("no subject map root was kept for a tree of"),
            std::string::npos)
      << inside.status();
  absl::StatusOr<HistoryProof> beyond =
      ledger_->ProveSubjectHistory("patient-1", ledger_->Size() + 10);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kOutOfRange) << beyond.status();
}

TEST_F(SubjectMapTest, ConcurrentAppendsKeepEveryHistoryLinked) {
  // Many requests at once: groups are prepared while the one before is
  // written, so a history's next entry links to one not yet durable.
  std::vector<std::thread> threads;
  std::mutex mu;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 25; ++r) {
        std::vector<v1::AccessEvent> events;
        for (int i = 0; i < 20; ++i) {
          const int n = 10000 + t * 1000 + r * 20 + i;
          events.push_back(
              JournalRead(n, "patient-" + std::to_string(n % 13), "dr-" + std::to_string(n % 4)));
        }
        absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_->AppendEvents(events);
        ASSERT_TRUE(receipts.ok()) << receipts.status();
        std::lock_guard<std::mutex> lock(mu);
        for (size_t i = 0; i < events.size(); ++i) {
          subjects_[events[i].subject().id()].push_back((*receipts)[i].seq());
          actors_[events[i].actor().id()].push_back((*receipts)[i].seq());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (auto* histories : {&subjects_, &actors_}) {
    for (auto& [id, seqs] : *histories) std::sort(seqs.begin(), seqs.end());
  }
  CheckEveryHistory();
}

// Proofs taken while groups commit are each of one map: the root they
// name, the path and the chain agree, and the tree is one the ledger holds.
TEST_F(SubjectMapTest, ProofsTakenWhileGroupsCommitAreEachOfOneMap) {
  AppendSpread(40, 13, 4, 10);
  std::atomic<bool> appending{true};
  std::thread writer([&] {
    for (int r = 0; r < 60; ++r) {
      std::vector<v1::AccessEvent> events;
      for (int i = 0; i < 10; ++i) {
        const int n = 20000 + r * 10 + i;
        events.push_back(
            JournalRead(n, "patient-" + std::to_string(n % 13), "dr-" + std::to_string(n % 4)));
      }
      ASSERT_TRUE(ledger_->AppendEvents(events).ok());
    }
    appending = false;
  });
  int proofs = 0;
  while (appending.load() || proofs < 13) {
    const std::string id = "patient-" + std::to_string(proofs % 13);
    absl::StatusOr<HistoryProof> proof = ledger_->ProveSubjectHistory(id);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_LE(proof->tree_size, ledger_->Size());
    absl::StatusOr<std::vector<HistoryLink>> links = VerifyHistory(
        proof->map_root, MapSpace::kSubject, proof->pseudonym, proof->map, ChainBytes(*proof));
    ASSERT_TRUE(links.ok()) << id << " at " << proof->tree_size << ": " << links.status();
    ++proofs;
  }
  writer.join();
}

TEST_F(SubjectMapTest, NoHistoryIsProvenAbsent) {
  AppendSpread(50, 5, 2, 50);
  v1::Checkpoint checkpoint = *ledger_->Checkpoint();
  const Hash root = *HashFromBytes(checkpoint.map_root());
  absl::StatusOr<HistoryProof> proof = ledger_->ProveSubjectHistory("never-seen");
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(proof->chain.empty());
  absl::StatusOr<std::vector<HistoryLink>> links =
      VerifyHistory(root, MapSpace::kSubject, proof->pseudonym, proof->map, {});
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_TRUE(links->empty());
  // A server cannot claim "no one" for a subject that has a history: the
  // absence proof of another key does not verify for this one, and this
  // one's own proof shows its leaf.
  absl::StatusOr<HistoryProof> real = ledger_->ProveSubjectHistory("patient-1");
  ASSERT_TRUE(real.ok());
  v1::MapProof swapped = proof->map;
  swapped.set_key(real->map.key());
  absl::StatusOr<std::optional<MapValue>> lie =
      VerifyMapProof(root, *HashFromBytes(real->map.key()), swapped);
  EXPECT_FALSE(lie.ok() && !lie->has_value());
}

TEST_F(SubjectMapTest, AChangedHistoryIsCaughtWithAMessageThatSaysHow) {
  AppendSpread(200, 6, 3, 40);
  v1::Checkpoint checkpoint = *ledger_->Checkpoint();
  const Hash root = *HashFromBytes(checkpoint.map_root());
  HistoryProof proof = *ledger_->ProveSubjectHistory("patient-2");
  HistoryProof other = *ledger_->ProveSubjectHistory("patient-3");
  ASSERT_GE(proof.chain.size(), 5u);
  auto verify = [&](const std::vector<GivenHeader>& chain, const v1::MapProof& map,
                    const Hash& against) {
    return VerifyHistory(against, MapSpace::kSubject, proof.pseudonym, map, chain).status();
  };
  const std::vector<GivenHeader> chain = ChainBytes(proof);
  ASSERT_TRUE(verify(chain, proof.map, root).ok());

  std::vector<GivenHeader> dropped = chain;
  dropped.erase(dropped.begin() + 2);
  EXPECT_NE(verify(dropped, proof.map, root).message().find("entries, but"), std::string::npos);

  std::vector<GivenHeader> reordered = chain;
  std::swap(reordered[1], reordered[2]);
  EXPECT_NE(verify(reordered, proof.map, root).message().find("does not hash to what entry"),
            std::string::npos)
      << verify(reordered, proof.map, root);

  std::vector<GivenHeader> substituted = chain;
  substituted[3] = ChainBytes(other)[0];
  EXPECT_NE(verify(substituted, proof.map, root).message().find("does not hash"),
            std::string::npos);

  // Other contents under the same header: the contents' hash is bound.
  std::vector<GivenHeader> recontented = chain;
  const std::string other_contents(AsBytes(H(0x5c)));
  recontented[2].contents_hash = other_contents;
  EXPECT_NE(verify(recontented, proof.map, root)
                .message()
                .find("entry " + std::to_string(proof.chain[2].seq) + " given does not hash"),
            std::string::npos);

  // The whole entry, contents and all, where the header alone belongs.
  HistoryProof::Link whole = proof.chain[1];
  std::optional<StoredEntry> stored;
  {
    absl::StatusOr<std::vector<StoredEntry>> read = ledger_->GetEntries(whole.seq, 1);
    ASSERT_TRUE(read.ok()) << read.status();
    stored = read->front();
  }
  std::vector<GivenHeader> with_contents = chain;
  with_contents[1].header = stored->bytes;
  EXPECT_FALSE(verify(with_contents, proof.map, root).ok());

  // Another subject's whole (valid) history, offered as this one's.
  absl::Status swapped = verify(ChainBytes(other), other.map, root);
  EXPECT_NE(swapped.message().find("another key"), std::string::npos) << swapped;

  // An old tree's root (a replayed checkpoint) does not match the proof.
  AppendSpread(10, 6, 3, 10);
  HistoryProof newer = *ledger_->ProveSubjectHistory("patient-2");
  absl::Status replayed = verify(ChainBytes(newer), newer.map, root);
  EXPECT_NE(replayed.message().find("map proof leads to root"), std::string::npos) << replayed;
}

TEST_F(SubjectMapTest, AnErasureJoinsTheHistoryAndErasedEntriesStillLink) {
  AppendSpread(60, 3, 2, 20);
  const size_t before = subjects_["patient-1"].size();
  ErasureOrder order;
  order.subject_id = "patient-1";
  order.reason = "GDPR art. 17(1)(a)";
  order.requested_by = "privacy-officer";
  ASSERT_TRUE(ledger_->Erase(order).ok());
  v1::Checkpoint checkpoint = *ledger_->Checkpoint();
  HistoryProof proof = *ledger_->ProveSubjectHistory("patient-1");
  absl::StatusOr<std::vector<HistoryLink>> links =
      VerifyHistory(*HashFromBytes(checkpoint.map_root()), MapSpace::kSubject, proof.pseudonym,
                    proof.map, ChainBytes(proof));
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->size(), before + 1);
  EXPECT_EQ(links->front().header.kind(), v1::ENTRY_KIND_ERASURE);
  EXPECT_EQ(links->back().seq, subjects_["patient-1"].front());
}

TEST_F(SubjectMapTest, CheckpointsNameTheMapRootOfTheirTree) {
  AppendSpread(30, 4, 2, 10);
  v1::Checkpoint first = *ledger_->Checkpoint();
  AppendSpread(30, 4, 2, 10);
  v1::Checkpoint second = *ledger_->Checkpoint();
  EXPECT_NE(first.map_root(), second.map_root());
  // An older tree signed later still carries the root it had.
  v1::Checkpoint again = *ledger_->Checkpoint(first.tree_size());
  EXPECT_EQ(again.map_root(), first.map_root());
  EXPECT_NE(first.note().find("\nmap "), std::string::npos) << first.note();
}

// The vectors of the README, from tests/storage/vectors/subject_map.py.
// The verifier's recomputation of the histories: each entry must carry
// the count and the link that the entries before it imply, and an entry
// of a kind that joins no history must carry none.
TEST(HistoryCheck, FindsEveryLinkThatTheEntriesBeforeItDoNotImply) {
  const std::string patient(16, 'P'), actor(16, 'A');
  auto access = [&](uint64_t seq, uint64_t count, uint64_t prev, const std::string& prev_hash) {
    v1::SealedEntry header;
    header.set_seq(seq);
    header.set_kind(v1::ENTRY_KIND_ACCESS_EVENT);
    header.set_subject(patient);
    header.set_actor(actor);
    header.set_subject_count(count);
    header.set_subject_prev(prev);
    header.set_subject_prev_hash(prev_hash);
    header.set_actor_count(count);
    header.set_actor_prev(prev);
    header.set_actor_prev_hash(prev_hash);
    return header;
  };
  // Each entry is added with its contents; a history links by header hash.
  auto with_contents = [](v1::SealedEntry header) {
    header.set_sealed("sealed contents of entry " + std::to_string(header.seq()));
    return header;
  };
  auto bytes = [](const v1::SealedEntry& entry) { return internal::SerializeDeterministic(entry); };
  const v1::SealedEntry first = with_contents(access(0, 1, 0, ""));
  const std::string hash0(AsBytes(*HeaderHashOf(bytes(first))));
  const v1::SealedEntry second = with_contents(access(1, 2, 0, hash0));
  const Hash hash1 = *HeaderHashOf(bytes(second));
  EXPECT_NE(AsBytes(hash1), hash0);
  auto two = [&] {
    auto check = std::make_unique<internal::HistoryCheck>();
    EXPECT_EQ(check->Add(first, bytes(first)), std::nullopt);
    EXPECT_EQ(check->Add(second, bytes(second)), std::nullopt);
    return check;
  };
  auto add_third = [&](v1::SealedEntry header) {
    const v1::SealedEntry third = with_contents(std::move(header));
    return two()->Add(third, bytes(third));
  };
  EXPECT_EQ(two()->histories(), 2u);
  const absl::flat_hash_map<Hash, MapValue> heads = {
      {MapKey(MapSpace::kSubject, patient), {1, 2, hash1}},
      {MapKey(MapSpace::kActor, actor), {1, 2, hash1}}};
  EXPECT_EQ(two()->Leaves(), heads);
  EXPECT_EQ(add_third(access(2, 3, 1, std::string(AsBytes(hash1)))), std::nullopt);
  EXPECT_EQ(add_third(access(2, 3, 0, hash0)),
            "entry 2 links to entry 0 in its subject's history, but that history's entry before "
            "it is 1");
  EXPECT_EQ(add_third(access(2, 5, 1, std::string(AsBytes(hash1)))),
            "entry 2 says it is entry 5 of its subject's history; the entries before it make it "
            "entry 3");
  EXPECT_EQ(add_third(access(2, 3, 1, hash0)),
            "entry 2 links to entry 1 in its subject's history, but that history's entry before "
            "it is 1");  // the right seq, another entry's hash
  // Entry 1's leaf hash (of its whole bytes) is not its header hash.
  EXPECT_NE(add_third(access(2, 3, 1, std::string(AsBytes(LeafHash(bytes(second)))))),
            std::nullopt);
  v1::SealedEntry query = access(2, 3, 1, std::string(AsBytes(hash1)));
  query.set_kind(v1::ENTRY_KIND_QUERY_RECORD);
  EXPECT_EQ(add_third(query), "entry 2 joins no subject's history, yet carries a link to one");
  // A header changed on disk is reported, whatever its pseudonym's length.
  v1::SealedEntry short_name = access(2, 3, 1, std::string(AsBytes(hash1)));
  short_name.set_subject(std::string(15, 'P'));
  EXPECT_EQ(add_third(short_name),
            "entry 2 names its subject by 15 bytes, not a 16-byte pseudonym");
}

TEST(SubjectMapVectors, RootAndProofsMatchAnIndependentImplementation) {
  struct History {
    MapSpace space;
    uint8_t pseudonym;
    MapValue value;
  };
  const std::vector<History> histories = {
      {MapSpace::kSubject, 0x11, {7, 1, H(0xa1)}},  {MapSpace::kActor, 0x22, {7, 1, H(0xa1)}},
      {MapSpace::kSubject, 0x44, {12, 3, H(0xb2)}}, {MapSpace::kSubject, 0x55, {30, 2, H(0xc3)}},
      {MapSpace::kActor, 0x66, {31, 9, H(0xd4)}},
  };
  auto key_of = [](MapSpace space, uint8_t byte) {
    return MapKey(space, std::string(16, static_cast<char>(byte)));
  };
  EXPECT_EQ(ToHex(key_of(MapSpace::kSubject, 0x11)),
            "d244522d152d0113a92802eeab0fd906eab485fc39398685c2a9dcab8bb56101");
  EXPECT_EQ(ToHex(MapLeafHash(key_of(MapSpace::kSubject, 0x11), histories[0].value)),
            "2425bf7416f1ba4415d119be8449a4a39dd14171bf74184974e02d6006a47626");
  // Made as the writer makes it, in two group commits.
  std::unique_ptr<internal::MapWriter> writer = *internal::MapWriter::Load(internal::MapRoot{}, {});
  std::vector<internal::MapWriter::Change> heads;
  for (auto [from, to] : {std::pair<size_t, size_t>{0, 2}, {2, 5}}) {
    std::vector<internal::MapWriter::Change> changes;
    for (size_t i = from; i < to; ++i) {
      changes.push_back({key_of(histories[i].space, histories[i].pseudonym), histories[i].value});
    }
    heads.insert(heads.end(), changes.begin(), changes.end());
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(writer->Apply(changes, to, batch, nullptr).ok());
    writer->Commit();
  }
  const internal::MapRoot made = writer->Prove(kZeroHash)->root;
  const Hash root = made.root.hash;
  EXPECT_EQ(made.tree_size, 5u);
  EXPECT_EQ(ToHex(root), "5a46db5f9279cad0bc7db5c7b6aca8c3a76c4d5391df243f4095f9963706177e");
  // The same root from the histories alone, as the verifier computes it.
  std::vector<std::pair<Hash, MapValue>> all;
  for (const History& history : histories) {
    all.emplace_back(key_of(history.space, history.pseudonym), history.value);
  }
  EXPECT_EQ(MapRootOf(all), root);
  EXPECT_EQ(MapRootOf({}), kZeroHash);

  // The same map, loaded from its heads as a ledger opens it, proves alike;
  // loaded against another root, it is refused.
  std::unique_ptr<internal::MapWriter> loaded = *internal::MapWriter::Load(made, heads);
  internal::MapRoot other = made;
  other.root.hash[0] ^= 1;
  EXPECT_EQ(internal::MapWriter::Load(other, heads).status().code(), absl::StatusCode::kDataLoss);

  absl::StatusOr<internal::MapWriter::Proof> proven =
      writer->Prove(key_of(MapSpace::kSubject, 0x44));
  ASSERT_TRUE(proven.ok()) << proven.status();
  const v1::MapProof* present = &proven->proof;
  EXPECT_EQ(loaded->Prove(key_of(MapSpace::kSubject, 0x44))->proof.SerializeAsString(),
            present->SerializeAsString());
  ASSERT_EQ(present->siblings_size(), 2);
  EXPECT_EQ(ToHex(present->siblings(0)),
            "129796f3f31c2b31a9abf518aa97b4710225f61f2702983413ff5dcb2f280b94");
  EXPECT_EQ(ToHex(present->siblings(1)),
            "eb7e9b12bb71643e6a5acb1fcb6faf1c105d6a69a74329b127cfbdb994b82c7a");
  absl::StatusOr<std::optional<MapValue>> value =
      VerifyMapProof(root, key_of(MapSpace::kSubject, 0x44), *present);
  ASSERT_TRUE(value.ok() && value->has_value()) << value.status();
  EXPECT_EQ(**value, histories[2].value);

  absl::StatusOr<internal::MapWriter::Proof> proven_absent =
      writer->Prove(key_of(MapSpace::kSubject, 0x77));
  ASSERT_TRUE(proven_absent.ok());
  const v1::MapProof* absent = &proven_absent->proof;
  EXPECT_EQ(loaded->Prove(key_of(MapSpace::kSubject, 0x77))->proof.SerializeAsString(),
            absent->SerializeAsString());
  ASSERT_EQ(absent->siblings_size(), 2);
  EXPECT_EQ(ToHex(absent->siblings(0)),
            "8e7a358bf83e9d2cc6a5e5be5baf667811d47d1470373e7e1673d3fb6e772893");
  EXPECT_EQ(ToHex(absent->siblings(1)),
            "2dda55eaadc33cb7f933eb8e973399380b8e7f528359b057517f7fe82b274d9a");
  EXPECT_FALSE(absent->has_leaf());
  value = VerifyMapProof(root, key_of(MapSpace::kSubject, 0x77), *absent);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_FALSE(value->has_value());
  // The absence proof does not verify for a key that is there.
  EXPECT_FALSE(VerifyMapProof(root, key_of(MapSpace::kSubject, 0x44), *absent).ok());
}

}  // namespace
}  // namespace innsyn::storage
