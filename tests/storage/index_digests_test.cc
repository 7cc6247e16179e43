// The key-set digests that verification compares: the same for the same keys
// in any order, different once a key is missing or changed; and the keys
// each kind of entry implies.
#include "storage/internal/index_digests.h"

#include <gtest/gtest.h>

#include <memory>

#include "storage/internal/entry_codec.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage::internal {
namespace {

using innsyn::testing::JournalRead;
using innsyn::testing::TempDir;

KeySetDigest DigestOf(const SipKey& key, std::initializer_list<std::string_view> members) {
  KeySetDigest digest;
  for (std::string_view member : members) digest.Add(key, member);
  return digest;
}

TEST(KeySetDigest, IsTheSameForTheSameKeysInAnyOrder) {
  const SipKey key = RandomDigestKey();
  EXPECT_EQ(DigestOf(key, {"a", "b", "c"}), DigestOf(key, {"c", "a", "b"}));
  EXPECT_EQ(DigestOf(key, {"a", "b", "c"}).count, 3u);
}

TEST(KeySetDigest, DiffersOnceAKeyIsMissingAddedOrChanged) {
  const SipKey key = RandomDigestKey();
  const KeySetDigest stored = DigestOf(key, {"a", "b", "c"});
  EXPECT_NE(stored, DigestOf(key, {"a", "b"}));
  EXPECT_NE(stored, DigestOf(key, {"a", "b", "c", "d"}));
  EXPECT_NE(stored, DigestOf(key, {"a", "b", "x"}));
}

TEST(IndexKeyKind, NamesTheKindOfEachIndexPrefix) {
  EXPECT_EQ(IndexKeyKind(kSubjectIndex), kSubjectKeys);
  EXPECT_EQ(IndexKeyKind(kActorIndex), kActorKeys);
  EXPECT_EQ(IndexKeyKind(kSubjectQueryIndex), kQueryKeys);
  EXPECT_EQ(IndexKeyKind(kAlertIndex), kAlertKeys);
  EXPECT_EQ(IndexKeyKind(kDataKeyIndex), kDataKeyKeys);
  EXPECT_EQ(IndexKeyKind(kErasureIndex), kErasureKeys);
  EXPECT_EQ(IndexKeyKind('x'), std::nullopt);
}

class ExpectedKeysTest : public ::testing::Test {
 protected:
  // How many keys of each kind `entry`, as seq 7 sealed under a data key
  // (when it has personal data), implies.
  std::array<uint64_t, kDerivedKinds> KeysOf(const v1::LedgerEntry& entry) {
    EntryHeader described = DescribeEntry(entry, *pseudonymizer_);
    described.header.set_seq(7);
    if (!described.key_base.empty()) described.header.set_key_id(described.key_base);
    ExpectedKeys expected(RandomDigestKey());
    expected.Add(described.header);
    std::array<uint64_t, kDerivedKinds> counts{};
    for (int kind = 0; kind < kDerivedKinds; ++kind) counts[kind] = expected.digests()[kind].count;
    return counts;
  }

  TempDir dir_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_ =
      *Pseudonymizer::Load(dir_.path() + "/pseudonym.key", /*create=*/true);
};

TEST_F(ExpectedKeysTest, AnAccessIsIndexedBySubjectAndActorWithItsEventId) {
  v1::LedgerEntry entry;
  *entry.mutable_access_event() = JournalRead(1, "patient-1", "dr-1");
  std::array<uint64_t, kDerivedKinds> keys = KeysOf(entry);
  EXPECT_EQ(keys[kSubjectKeys], 1u);
  EXPECT_EQ(keys[kActorKeys], 1u);
  EXPECT_EQ(keys[kDedupeKeys], 1u);
  // Sealed under a key of its subject's, and found by it through the
  // subject index: no data-key index key.
  EXPECT_EQ(keys[kDataKeyKeys], 0u);
  EXPECT_EQ(keys[kQueryKeys] + keys[kAlertKeys] + keys[kErasureKeys], 0u);
}

TEST_F(ExpectedKeysTest, AnErasureIsInTheSubjectsHistoryAndTheErasureIndexAndIsNotSealed) {
  v1::LedgerEntry erasure;
  erasure.mutable_erasure()->set_reason("GDPR art. 17(1)(a)");
  EntryHeader described = DescribeEntry(erasure, *pseudonymizer_);
  EXPECT_TRUE(described.key_base.empty());
  described.header.set_subject(std::string(16, 's'));
  ExpectedKeys expected(RandomDigestKey());
  expected.Add(described.header);
  EXPECT_EQ(expected.digests()[kSubjectKeys].count, 1u);
  EXPECT_EQ(expected.digests()[kErasureKeys].count, 1u);
  EXPECT_EQ(expected.digests()[kDataKeyKeys].count, 0u);
}

TEST_F(ExpectedKeysTest, QueriesAboutASubjectAndAlertsHaveAnIndexKeyOfTheirOwn) {
  v1::LedgerEntry query;
  query.mutable_query_record()->set_subject_id("patient-1");
  EXPECT_EQ(KeysOf(query)[kQueryKeys], 1u);
  EXPECT_EQ(KeysOf(query)[kDataKeyKeys], 0u);  // the 'Q' index finds it by its subject
  v1::LedgerEntry alert;
  alert.mutable_alert()->set_alert_id("break_glass/7");
  EXPECT_EQ(KeysOf(alert)[kAlertKeys], 1u);
  EXPECT_EQ(KeysOf(alert)[kDataKeyKeys], 1u);
  // An alert about a subject is sealed under the subject's key, but the
  // alert index is by hour only: only its data-key index key finds it.
  alert.mutable_alert()->set_subject_id("patient-1");
  EXPECT_EQ(KeysOf(alert)[kDataKeyKeys], 1u);
  v1::LedgerEntry other_query;
  other_query.mutable_query_record()->set_method("GetCheckpoint");
  std::array<uint64_t, kDerivedKinds> sealed_only{};
  sealed_only[kDataKeyKeys] = 1;  // sealed under the clinic's query key
  EXPECT_EQ(KeysOf(other_query), sealed_only);
}

}  // namespace
}  // namespace innsyn::storage::internal
