// The stored entry format, byte for byte: the test vectors that the README
// ("Checking the ledger without trusting the clinic") gives to independent
// verifiers. Every input is fixed (pseudonyms, data key, nonce, times), so a
// change of any expected string here is a change of the ledger's format.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/hash.h"
#include "storage/internal/derived_keys.h"
#include "storage/internal/entry_codec.h"
#include "storage/pseudonym.h"
#include "storage/sealing.h"
#include "storage/subject_map.h"
#include "tests/support/temp_dir.h"

namespace innsyn::storage::internal {
namespace {

using innsyn::testing::TempDir;

constexpr uint64_t kAccessSeq = 7;
constexpr uint64_t kErasureSeq = 8;
// 2026-03-14T09:59:58Z, committed 2026-03-14T10:00:01.5Z: the access
// event's hour is its occurrence's (09:00), not its commit's.
constexpr int64_t kOccurredAtSeconds = 1'773'482'398;
constexpr int64_t kAccessCommittedAtSeconds = 1'773'482'401;
constexpr int32_t kAccessCommittedAtNanos = 500'000'000;
constexpr int64_t kAccessHourSeconds = 1'773'478'800;  // 2026-03-14T09:00:00Z
// 2026-03-20T13:05:00Z: an erasure's hour is its commit's (13:00).
constexpr int64_t kErasureCommittedAtSeconds = 1'774'011'900;
constexpr int64_t kErasureHourSeconds = 1'774'011'600;

const std::string kSubjectPseudonym(Pseudonymizer::kPseudonymBytes, '\x11');
const std::string kActorPseudonym(Pseudonymizer::kPseudonymBytes, '\x22');
const std::string kEventPseudonym(Pseudonymizer::kPseudonymBytes, '\x33');
const std::string kKeyId = "s.11111111111111111111111111111111/journal_note/2026";

std::string Bytes(std::string_view hex) { return *FromHex(hex); }

// 32 bytes 00 01 .. 1f.
DataKey VectorKey() {
  std::string bytes;
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<char>(i));
  return *DataKey::FromBytes(bytes);
}

const std::string kNonce = Bytes("f0f1f2f3f4f5f6f7f8f9fafb");

v1::LedgerEntry AccessEntry() {
  v1::LedgerEntry entry;
  entry.set_seq(kAccessSeq);
  entry.mutable_committed_at()->set_seconds(kAccessCommittedAtSeconds);
  entry.mutable_committed_at()->set_nanos(kAccessCommittedAtNanos);
  v1::AccessEvent& event = *entry.mutable_access_event();
  event.set_event_id("ev-42");
  event.mutable_source()->set_system("opus-dental");
  event.mutable_source()->set_instance("clinic-1");
  event.mutable_occurred_at()->set_seconds(kOccurredAtSeconds);
  event.mutable_actor()->set_id("dr.lie");
  event.mutable_actor()->set_role("dentist");
  event.mutable_subject()->set_id("patient-1");
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.set_action(v1::ACTION_CODE_READ);
  event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
  event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_JOURNAL_NOTE);
  event.mutable_data_object()->set_id("note-9");
  event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return entry;
}

// The clear header of AccessEntry, with fixed pseudonyms in place of the
// HMACs, so that the vector needs no pseudonym key.
v1::SealedEntry AccessHeader() {
  v1::SealedEntry header;
  header.set_seq(kAccessSeq);
  header.set_kind(v1::ENTRY_KIND_ACCESS_EVENT);
  header.set_hour(kAccessHourSeconds);
  header.set_source_system("opus-dental");
  header.set_subject(kSubjectPseudonym);
  header.set_actor(kActorPseudonym);
  header.set_event(kEventPseudonym);
  // The patient's second entry (after entry 3) and the dentist's first.
  header.set_subject_prev(3);
  header.set_subject_count(2);
  header.set_subject_prev_hash(std::string(32, '\x5a'));
  header.set_actor_count(1);
  return header;
}

v1::LedgerEntry ErasureEntry() {
  v1::LedgerEntry entry;
  entry.set_seq(kErasureSeq);
  entry.mutable_committed_at()->set_seconds(kErasureCommittedAtSeconds);
  v1::Erasure& erasure = *entry.mutable_erasure();
  v1::ShreddedKey& key = *erasure.add_keys();
  key.set_key_id(kKeyId);
  key.set_entries(1);
  erasure.set_reason("GDPR art. 17(1)(a)");
  erasure.set_reference("case 2026-17");
  erasure.set_requested_by("privacy-officer");
  erasure.set_requested_by_role("privacy_officer");
  erasure.set_subject_entries(1);
  erasure.set_subject(std::string(kSubjectPseudonym));
  return entry;
}

constexpr std::string_view kAccessContentsHex =
    "0807120c08a1e3d4cd061080cab5ee011a5e0a0565762d343212170a0b6f7075"
    "732d64656e74616c1208636c696e69632d312206089ee3d4cd062a110a066472"
    "2e6c69651a0764656e74697374320d0a0970617469656e742d31100138024001"
    "4a0a080112066e6f74652d3950016001";
constexpr std::string_view kAccessAadHex =
    "696e6e73796e20656e747279200000000000000007732e313131313131313131"
    "31313131313131313131313131313131313131313131312f6a6f75726e616c5f"
    "6e6f74652f32303236";
constexpr std::string_view kAccessEntryHex =
    "080710011890c7d4cd06220b6f7075732d64656e74616c2a1011111111111111"
    "1111111111111111113210222222222222222222222222222222223a10333333"
    "333333333333333333333333334234732e313131313131313131313131313131"
    "31313131313131313131313131313131312f6a6f75726e616c5f6e6f74652f32"
    "3032364a8c01f0f1f2f3f4f5f6f7f8f9fafb6101510c749b31a052f1e71a44ff"
    "8cb70abf53c75d7162ac644424aa525ca2726f3d72e12ef7d0f58a50ad1f7e57"
    "9aece66d25727eeaf35487d044cf576d88d521571ba1216e60125f04441f1dd3"
    "d45b54f157366740ec90d41514b1428f65568cfe5780d8e9acd1f7dd7cd41afc"
    "282314d8cbb26250f8f7ad9982401ec382f9580360026a205a5a5a5a5a5a5a5a"
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a7801";
constexpr std::string_view kAccessLeafHex =
    "4d6bab8500a904e25dcaa6ae2d006c56a72b3ce8a3c6e2a46f782e60d292d2ff";
// SHA-256(0x04 || SHA-256(field 9) || E_7 without field 9): what entry 8
// and the subject map name entry 7 by.
constexpr std::string_view kAccessHeaderHashHex =
    "7b6c03d556520435609aef18c224de35af1ed7e8d7ebbbc545da6a0c2fa97d15";
constexpr std::string_view kErasureEntryHex =
    "0808100518d089f5cd062a1011111111111111111111111111111111529f0108"
    "08120608fc8bf5cd063a92010a380a34732e3131313131313131313131313131"
    "3131313131313131313131313131313131312f6a6f75726e616c5f6e6f74652f"
    "323032361001121247445052206172742e2031372831292861291a0c63617365"
    "20323032362d31372a0f707269766163792d6f666669636572320f7072697661"
    "63795f6f66666963657238014210111111111111111111111111111111115807"
    "60036a207b6c03d556520435609aef18c224de35af1ed7e8d7ebbbc545da6a0c"
    "2fa97d15";
constexpr std::string_view kErasureLeafHex =
    "c61faa621fce6306fe7ee2b9e279dbfef390c8d5bde1375c88c344088f76fa8a";
constexpr std::string_view kErasureHeaderHashHex =
    "a81639273925424609984d285c39868e7d32a4f2626e25c2771645fb2791c347";

// An erasure names the erased subject by pseudonym in its header, so that
// the subject's history shows it; its contents are in the clear.
v1::SealedEntry ErasureHeader() {
  v1::SealedEntry header;
  header.set_seq(kErasureSeq);
  header.set_kind(v1::ENTRY_KIND_ERASURE);
  header.set_hour(kErasureHourSeconds);
  header.set_subject(kSubjectPseudonym);
  // The patient's third entry, after entry 7.
  header.set_subject_prev(kAccessSeq);
  header.set_subject_count(3);
  header.set_subject_prev_hash(*FromHex(kAccessHeaderHashHex));
  return header;
}

EncodedEntry AccessEncoded() {
  return EncodeEntryWithNonce(AccessHeader(), AccessEntry(), kKeyId, VectorKey(), kNonce);
}
std::string AccessEntryBytes() { return AccessEncoded().bytes; }

TEST(EntryFormat, AccessEventContentsAreTheVector) {
  EXPECT_EQ(ToHex(SerializeDeterministic(AccessEntry())), kAccessContentsHex);
}

// The writer encodes an access event as the entry's body where it lies,
// without copying it into the entry: the bytes are the same, sealed or in
// the clear, map fields included.
TEST(EntryFormat, AnEventEncodedWhereItLiesGivesTheBytesOfItsCopy) {
  const v1::LedgerEntry copied = AccessEntry();
  v1::LedgerEntry bodyless = copied;
  bodyless.clear_access_event();
  const v1::AccessEvent& event = copied.access_event();
  EncodedEntry sealed =
      EncodeEntryWithNonce(AccessHeader(), bodyless, kKeyId, VectorKey(), kNonce, &event);
  EXPECT_EQ(ToHex(sealed.bytes), kAccessEntryHex);
  EXPECT_EQ(ToHex(sealed.header_hash), kAccessHeaderHashHex);

  v1::LedgerEntry with_attributes = copied;
  v1::AccessEvent& attributed = *with_attributes.mutable_access_event();
  for (const char* name : {"room", "appointment", "zone", "chair"}) {
    (*attributed.mutable_attributes())[name] = std::string(name) + "-1";
  }
  EncodedEntry whole = EncodeEntry(AccessHeader(), with_attributes, "", nullptr);
  EncodedEntry in_place = EncodeEntry(AccessHeader(), bodyless, "", nullptr, &attributed);
  EXPECT_EQ(ToHex(in_place.bytes), ToHex(whole.bytes));
  EXPECT_EQ(in_place.header_hash, whole.header_hash);
  absl::StatusOr<v1::SealedEntry> stored = ParseStored(in_place.bytes, kAccessSeq);
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::StatusOr<v1::LedgerEntry> opened = OpenEntry(*stored, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(SerializeDeterministic(*opened), SerializeDeterministic(with_attributes));
}

TEST(EntryFormat, AssociatedDataIsPrefixSeqAndKeyId) {
  EXPECT_EQ(ToHex(EntryAad(kAccessSeq, kKeyId)), kAccessAadHex);
}

TEST(EntryFormat, SealedAccessEventIsTheVector) {
  const std::string bytes = AccessEntryBytes();
  EXPECT_EQ(ToHex(bytes), kAccessEntryHex);
  EXPECT_EQ(ToHex(LeafHash(bytes)), kAccessLeafHex);
  // sealed = nonce || ciphertext || tag, the ciphertext as long as the
  // contents.
  absl::StatusOr<v1::SealedEntry> stored = ParseStored(bytes, kAccessSeq);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->sealed().substr(0, kSealNonceBytes), kNonce);
  EXPECT_EQ(stored->sealed().size(), kAccessContentsHex.size() / 2 + kSealOverheadBytes);
  EXPECT_EQ(stored->key_id(), kKeyId);
  EXPECT_TRUE(stored->clear().empty());
}

// A history links by header hash: computed by the writer, from the stored
// bytes, and from a header given apart from its contents, alike.
TEST(EntryFormat, HeaderHashIsTheVectorHoweverItIsComputed) {
  EXPECT_EQ(ToHex(AccessEncoded().header_hash), kAccessHeaderHashHex);
  absl::StatusOr<EntryHeaderBytes> split = SplitEntry(Bytes(kAccessEntryHex));
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(ToHex(HeaderHash(split->contents_hash, split->header)), kAccessHeaderHashHex);
  // H is E_7 with the field-9 record (tag 0x4a, length 0x8c01, the
  // sealed bytes) cut out, and its contents hash that of the sealed bytes.
  const std::string bytes = Bytes(kAccessEntryHex);
  const v1::SealedEntry stored = *ParseStored(bytes, kAccessSeq);
  const size_t at = bytes.find("\x4a\x8c\x01" + stored.sealed());
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(split->header, bytes.substr(0, at) + bytes.substr(at + 3 + stored.sealed().size()));
  EXPECT_EQ(split->contents_hash, Sha256(stored.sealed()));
  // The erasure's, from its bytes, whose contents are in the clear.
  split = SplitEntry(Bytes(kErasureEntryHex));
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(ToHex(HeaderHash(split->contents_hash, split->header)), kErasureHeaderHashHex);
}

TEST(EntryFormat, SealedAccessEventOpensWithItsKeyOnly) {
  absl::StatusOr<v1::SealedEntry> stored = ParseStored(Bytes(kAccessEntryHex), kAccessSeq);
  ASSERT_TRUE(stored.ok()) << stored.status();
  const DataKey key = VectorKey();
  absl::StatusOr<v1::LedgerEntry> opened = OpenEntry(*stored, &key);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(ToHex(SerializeDeterministic(*opened)), kAccessContentsHex);

  std::string wrong_bytes(key.bytes());
  wrong_bytes[31] ^= 1;
  const DataKey wrong = *DataKey::FromBytes(wrong_bytes);
  EXPECT_TRUE(absl::IsDataLoss(OpenEntry(*stored, &wrong).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(OpenEntry(*stored, nullptr).status()));
}

TEST(EntryFormat, SealedContentsAreBoundToTheirSeqAndKeyId) {
  const std::string bytes = Bytes(kAccessEntryHex);
  EXPECT_TRUE(absl::IsDataLoss(ParseStored(bytes, kAccessSeq + 1).status()));
  const DataKey key = VectorKey();
  v1::SealedEntry moved = *ParseStored(bytes, kAccessSeq);
  moved.set_seq(kAccessSeq + 1);  // the same sealed bytes, claimed for entry 8
  EXPECT_TRUE(absl::IsDataLoss(OpenEntry(moved, &key).status()));
  v1::SealedEntry renamed = *ParseStored(bytes, kAccessSeq);
  renamed.set_key_id("s.11111111111111111111111111111111/journal_note/2026#2");
  EXPECT_TRUE(absl::IsDataLoss(OpenEntry(renamed, &key).status()));
}

TEST(EntryFormat, ErasureIsStoredInTheClear) {
  const EncodedEntry encoded = EncodeEntry(ErasureHeader(), ErasureEntry(), "", nullptr);
  const std::string& bytes = encoded.bytes;
  EXPECT_EQ(ToHex(bytes), kErasureEntryHex);
  EXPECT_EQ(ToHex(LeafHash(bytes)), kErasureLeafHex);
  EXPECT_EQ(ToHex(encoded.header_hash), kErasureHeaderHashHex);
  absl::StatusOr<v1::SealedEntry> stored = ParseStored(bytes, kErasureSeq);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->key_id().empty());
  EXPECT_TRUE(stored->sealed().empty());
  EXPECT_EQ(stored->clear(), SerializeDeterministic(ErasureEntry()));
  absl::StatusOr<v1::LedgerEntry> opened = OpenEntry(*stored, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->erasure().reason(), "GDPR art. 17(1)(a)");
}

// The vectors' headers follow the writer's rules: the hour, the kind, the
// source and the key id's grammar are what DescribeEntry derives; only the
// pseudonyms are fixed instead of HMACs under a pseudonym key.
class EntryFormatDescribeTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_ =
      *Pseudonymizer::Load(dir_.path() + "/pseudonym.key", /*create=*/true);
};

TEST_F(EntryFormatDescribeTest, AccessEventHeaderIsWhatTheWriterDerives) {
  const EntryHeader described = DescribeEntry(AccessEntry(), *pseudonymizer_);
  const v1::SealedEntry& header = described.header;
  EXPECT_EQ(header.kind(), v1::ENTRY_KIND_ACCESS_EVENT);
  EXPECT_EQ(header.hour(), kAccessHourSeconds);
  EXPECT_EQ(header.source_system(), "opus-dental");
  EXPECT_EQ(header.subject(), pseudonymizer_->Pseudonym(PseudonymDomain::kSubject, "patient-1"));
  EXPECT_EQ(header.actor(), pseudonymizer_->Pseudonym(PseudonymDomain::kActor, "dr.lie"));
  EXPECT_EQ(header.event(),
            pseudonymizer_->Pseudonym(PseudonymDomain::kEvent,
                                      std::string("opus-dental/clinic-1") + '\0' + "ev-42"));
  EXPECT_EQ(described.key_base, "s." + ToHex(header.subject()) + "/journal_note/2026");
  EXPECT_EQ(header.seq(), 0u);  // the writer sets it
  EXPECT_TRUE(header.key_id().empty());
}

TEST_F(EntryFormatDescribeTest, ErasureHeaderHasTheCommitsHourAndNoKey) {
  const EntryHeader described = DescribeEntry(ErasureEntry(), *pseudonymizer_);
  EXPECT_EQ(described.header.kind(), v1::ENTRY_KIND_ERASURE);
  EXPECT_EQ(described.header.hour(), kErasureHourSeconds);
  EXPECT_TRUE(described.key_base.empty());
}

std::vector<std::pair<std::string, std::string>> DerivedKeysHex(std::string_view entry_hex,
                                                                uint64_t seq) {
  std::vector<std::pair<std::string, std::string>> keys;
  std::string scratch;
  ForEachDerivedKey(
      *ParseStored(Bytes(entry_hex), seq),
      [&](DerivedKind, std::string_view key, std::string_view value) {
        keys.emplace_back(ToHex(key), ToHex(value));
      },
      scratch);
  return keys;
}

// Index keys in hex: prefix, pseudonym, hour as nanoseconds with the sign
// bit flipped, seq.
TEST(EntryFormat, IndexKeysComeFromTheClearHeaderAlone) {
  using Keys = std::vector<std::pair<std::string, std::string>>;
  const std::string subject = ToHex(kSubjectPseudonym);
  const std::string actor = ToHex(kActorPseudonym);
  const std::string access_hour = "989ca99282afa000";   // 2026-03-14T09:00:00Z
  const std::string erasure_hour = "989e8e26ad6c2000";  // 2026-03-20T13:00:00Z
  const std::string seq7 = "0000000000000007";
  const std::string seq8 = "0000000000000008";
  const Keys access_keys = {
      {"53" + subject + access_hour + seq7, ""},  // 'S'
      {"41" + actor + access_hour + seq7, ""},    // 'A'
      {ToHex(kEventPseudonym), seq7},             // dedupe
  };
  EXPECT_EQ(DerivedKeysHex(kAccessEntryHex, kAccessSeq), access_keys);
  const Keys erasure_keys = {
      {"53" + subject + erasure_hour + seq8, ""},  // 'S'
      {"45" + erasure_hour + seq8, ""},            // 'E'
  };
  EXPECT_EQ(DerivedKeysHex(kErasureEntryHex, kErasureSeq), erasure_keys);
}

// An alert about the patient, entry 9, committed in the access event's
// hour: sealed under the subject's alert key, but the alert index is by
// hour only, so it has a 'K' key, which spells out the key id in ASCII.
TEST(EntryFormat, AnAlertAboutASubjectHasADataKeyIndexKey) {
  v1::SealedEntry header;
  header.set_seq(9);
  header.set_kind(v1::ENTRY_KIND_ALERT);
  header.set_hour(kAccessHourSeconds);
  header.set_subject(kSubjectPseudonym);
  header.set_key_id("s.11111111111111111111111111111111/alert/2026");
  std::vector<std::pair<std::string, std::string>> keys;
  std::string scratch;
  ForEachDerivedKey(
      header,
      [&](DerivedKind, std::string_view key, std::string_view value) {
        keys.emplace_back(ToHex(key), ToHex(value));
      },
      scratch);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"4c989ca99282afa0000000000000000009", ""},  // 'L'
      {"4b732e31313131313131313131313131313131313131313131313131313131313131312f616c657274"
       "2f3230323600"
       "0000000000000009",
       ""},  // 'K'
  };
  EXPECT_EQ(keys, expected);
}

// The same checks with independent code: Python's hashlib and the
// `cryptography` package's AES-GCM, on a protobuf parse by hand.
constexpr std::string_view kPythonCheck = R"(import hashlib, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
entry, key, contents, leaf, header_hash = (bytes.fromhex(a) for a in sys.argv[1:6])
def varint(b, i):
    value = shift = 0
    while True:
        value |= (b[i] & 0x7f) << shift
        shift += 7
        i += 1
        if b[i - 1] < 0x80:
            return value, i
fields, i = {}, 0
while i < len(entry):
    tag, i = varint(entry, i)
    if tag & 7 == 0:
        fields[tag >> 3], i = varint(entry, i)
    elif tag & 7 == 2:
        n, i = varint(entry, i)
        fields[tag >> 3] = entry[i:i + n]
        i += n
    else:
        sys.exit("unexpected wire type")
aad = b"innsyn entry " + fields[1].to_bytes(8, "big") + fields[8]
sealed = fields[9]
opened = AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
if opened != contents:
    sys.exit("contents differ")
if hashlib.sha256(b"\0" + entry).digest() != leaf:
    sys.exit("leaf hash differs")
start = entry.index(bytes([9 << 3 | 2]) + b"\x8c\x01" + sealed)
header = entry[:start] + entry[start + 3 + len(sealed):]
if hashlib.sha256(b"\4" + hashlib.sha256(sealed).digest() + header).digest() != header_hash:
    sys.exit("header hash differs")
)";

TEST(EntryFormat, PythonCryptographyOpensTheVector) {
  if (std::system("python3 -c 'import cryptography' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 with the cryptography package is not installed";
  }
  TempDir dir;
  const std::string script = dir.path() + "/check.py";
  std::ofstream(script) << kPythonCheck;
  const std::string command = "python3 " + script + " " + std::string(kAccessEntryHex) + " " +
                              ToHex(VectorKey().bytes()) + " " + std::string(kAccessContentsHex) +
                              " " + std::string(kAccessLeafHex) + " " +
                              std::string(kAccessHeaderHashHex);
  EXPECT_EQ(std::system(command.c_str()), 0);
}

}  // namespace
}  // namespace innsyn::storage::internal
