#include "storage/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_split.h"
#include "tests/support/temp_dir.h"

namespace innsyn::storage {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = dir_.path() + "/key.pem";
    signer_ = *CheckpointSigner::Load(key_path_, "clinic.example/innsyn", /*create=*/true);
    body_.origin = "clinic.example/innsyn";
    body_.tree_size = 42;
    body_.root_hash = Sha256("root");
    body_.chain_head = Sha256("chain");
  }
  testing::TempDir dir_;
  std::string key_path_;
  std::unique_ptr<CheckpointSigner> signer_;
  CheckpointBody body_;
};

TEST_F(CheckpointTest, BodyIsTlogCheckpointText) {
  EXPECT_EQ(FormatCheckpointBody(body_), "clinic.example/innsyn\n42\n" +
                                             Base64Encode(AsBytes(body_.root_hash)) + "\nchain " +
                                             Base64Encode(AsBytes(body_.chain_head)) + "\n");
}

TEST_F(CheckpointTest, SignedNoteVerifiesAndRoundTrips) {
  std::string note = *signer_->Sign(body_);
  absl::StatusOr<CheckpointBody> parsed = VerifyCheckpointNote(note, signer_->verifier_key());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->origin, body_.origin);
  EXPECT_EQ(parsed->tree_size, 42u);
  EXPECT_EQ(parsed->root_hash, body_.root_hash);
  EXPECT_EQ(parsed->chain_head, body_.chain_head);
}

TEST_F(CheckpointTest, NoteHasOneSignatureLineWithKeyIdAndEd25519Signature) {
  std::string note = *signer_->Sign(body_);
  std::vector<std::string> parts = absl::StrSplit(note, "\n\n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0] + "\n", FormatCheckpointBody(body_));
  std::string prefix = "\xe2\x80\x94 clinic.example/innsyn ";
  ASSERT_TRUE(parts[1].starts_with(prefix));
  std::string blob = parts[1].substr(prefix.size());
  blob.pop_back();  // newline
  EXPECT_EQ(Base64Decode(blob)->size(), 4u + 64u);
  // name+<8 hex digits>+<base64 of 33 bytes>
  std::vector<std::string> key = absl::StrSplit(signer_->verifier_key(), absl::MaxSplits('+', 2));
  ASSERT_EQ(key.size(), 3u);
  EXPECT_EQ(key[0], "clinic.example/innsyn");
  EXPECT_EQ(key[1].size(), 8u);
  EXPECT_EQ(Base64Decode(key[2])->size(), 33u);
}

TEST_F(CheckpointTest, ChangedTreeSizeFailsTheSignature) {
  std::string note = *signer_->Sign(body_);
  note.replace(note.find("\n42\n"), 4, "\n43\n");
  EXPECT_EQ(VerifyCheckpointNote(note, signer_->verifier_key()).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(CheckpointTest, OtherKeyIsNotAccepted) {
  testing::TempDir other_dir;
  auto other = *CheckpointSigner::Load(other_dir.path() + "/k.pem", "clinic.example/innsyn", true);
  std::string note = *signer_->Sign(body_);
  EXPECT_FALSE(VerifyCheckpointNote(note, other->verifier_key()).ok());
}

TEST_F(CheckpointTest, KeyFileIsPrivateAndReloadsTheSameKey) {
  struct stat info;
  ASSERT_EQ(::stat(key_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto reloaded = *CheckpointSigner::Load(key_path_, "clinic.example/innsyn", false);
  EXPECT_EQ(reloaded->verifier_key(), signer_->verifier_key());
}

TEST_F(CheckpointTest, VerifierKeyParsesAndMalformedKeysAreRejected) {
  absl::StatusOr<VerifierKey> key = ParseVerifierKey(signer_->verifier_key());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->name, "clinic.example/innsyn");
  EXPECT_EQ(key->key_id.size(), 4u);
  EXPECT_EQ(key->public_key.size(), 32u);
  std::string text = signer_->verifier_key();
  EXPECT_FALSE(ParseVerifierKey("no-plus-signs").ok());
  EXPECT_FALSE(ParseVerifierKey("+" + text).ok());
  // Another name does not match the key id.
  EXPECT_FALSE(ParseVerifierKey("other" + text.substr(text.find('+'))).ok());
  // A changed key id does not match.
  std::string wrong_id = text;
  wrong_id[text.find('+') + 1] = wrong_id[text.find('+') + 1] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseVerifierKey(wrong_id).ok());
}

TEST_F(CheckpointTest, KeyFileReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod(key_path_.c_str(), 0644), 0);
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> loaded =
      CheckpointSigner::Load(key_path_, "clinic.example/innsyn", false);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("0644"), std::string::npos) << loaded.status();
}

TEST_F(CheckpointTest, KeyIsNeverWrittenThroughASymlink) {
  testing::TempDir other;
  std::string planted = other.path() + "/stolen";
  std::string path = dir_.path() + "/new.pem";
  ASSERT_EQ(::symlink(planted.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_TRUE(CheckpointSigner::Load(path, "clinic.example/innsyn", true).ok());
  struct stat info;
  EXPECT_NE(::stat(planted.c_str(), &info), 0);  // nothing written there
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(CheckpointKey, GoNoteVerifierKeyVectorParses) {
  // The verifier key of golang.org/x/mod/sumdb/note's tests: its key id is
  // SHA-256(name || 0x0A || 0x01 || key)[:4], computed by independent code.
  absl::StatusOr<VerifierKey> key =
      ParseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->name, "PeterNeumann");
  EXPECT_EQ(ToHex(key->key_id), "c74f20a3");
  EXPECT_FALSE(
      ParseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").ok());
}

TEST(CheckpointKey, GoSignedNoteVectorSignatureVerifies) {
  // The signed note of the same tests. Its text is no checkpoint, so the
  // parse after the signature check fails; a bad signature would fail first.
  const std::string note =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n"
      "\n"
      "\xe2\x80\x94 PeterNeumann "
      "x08go/ZJkuBS9UG/"
      "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  const std::string key = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  absl::Status status = VerifyCheckpointNote(note, key).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("checkpoint needs"), std::string::npos) << status;
  std::string altered = note;
  altered[3] = 'X';
  EXPECT_EQ(VerifyCheckpointNote(altered, key).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CheckpointTest, MissingKeyWithoutCreateIsAnError) {
  EXPECT_FALSE(CheckpointSigner::Load(dir_.path() + "/none.pem", "x", false).ok());
}

}  // namespace
}  // namespace innsyn::storage
