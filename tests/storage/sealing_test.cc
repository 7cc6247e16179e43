// AES-256-GCM sealing: known answers from the GCM specification, round
// trips, and refusals of anything changed.
#include "storage/sealing.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace innsyn::storage {
namespace {

std::string FromHex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

DataKey KeyOf(std::string_view hex) { return *DataKey::FromBytes(FromHex(hex)); }

const std::string kZeroKeyHex(64, '0');

// McGrew and Viega, "The Galois/Counter Mode of Operation", test case 14:
// AES-256, zero key, zero 96-bit IV, one zero block, no associated data.
TEST(Seal, MatchesGcmTestCase14) {
  const std::string nonce(kSealNonceBytes, '\0');
  EXPECT_EQ(SealWithNonce(KeyOf(kZeroKeyHex), nonce, std::string(16, '\0'), ""),
            nonce + FromHex("cea7403d4d606b6e074ec5d3baf39d18") +
                FromHex("d0d1c8a799996bf0265b98b5d48ab919"));
}

// Test case 13: the same key and IV, nothing to encrypt: the tag alone.
TEST(Seal, MatchesGcmTestCase13) {
  const std::string nonce(kSealNonceBytes, '\0');
  EXPECT_EQ(SealWithNonce(KeyOf(kZeroKeyHex), nonce, "", ""),
            nonce + FromHex("530f8afbc74536b9a963b4f1c4cb738b"));
}

// Test case 16: a real key and IV, 60 bytes of plaintext and 20 of
// associated data, so partial blocks in both.
TEST(Seal, MatchesGcmTestCase16WithAssociatedData) {
  const DataKey key = KeyOf("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const std::string nonce = FromHex("cafebabefacedbaddecaf888");
  const std::string plaintext = FromHex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const std::string aad = FromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string sealed = SealWithNonce(key, nonce, plaintext, aad);
  EXPECT_EQ(sealed, nonce +
                        FromHex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                                "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662") +
                        FromHex("76fc6ece0f4e1768cddf8853bb2d551b"));
  EXPECT_EQ(*Unseal(key, sealed, aad), plaintext);
}

TEST(Seal, RoundTripsEveryLength) {
  const DataKey key = DataKey::Random();
  for (size_t length : {0, 1, 15, 16, 17, 100, 4096}) {
    std::string plaintext(length, '\0');
    for (size_t i = 0; i < length; ++i) plaintext[i] = static_cast<char>(i * 7);
    const std::string sealed = Seal(key, plaintext, "entry 17");
    EXPECT_EQ(sealed.size(), length + kSealOverheadBytes);
    absl::StatusOr<std::string> opened = Unseal(key, sealed, "entry 17");
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(Seal, UsesAFreshNonceEachTime) {
  const DataKey key = DataKey::Random();
  const std::string first = Seal(key, "same text", "");
  const std::string second = Seal(key, "same text", "");
  EXPECT_NE(first.substr(0, kSealNonceBytes), second.substr(0, kSealNonceBytes));
  EXPECT_NE(first, second);
}

TEST(Seal, ThreadsSealAndUnsealAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([t, &failures] {
      const DataKey key = DataKey::Random();
      for (int i = 0; i < 2000; ++i) {
        const std::string plaintext = std::to_string(t * 100000 + i);
        absl::StatusOr<std::string> opened = Unseal(key, Seal(key, plaintext, "aad"), "aad");
        if (!opened.ok() || *opened != plaintext) ++failures[t];
        if (Unseal(key, Seal(key, plaintext, "aad"), "other").ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int failed : failures) EXPECT_EQ(failed, 0);
}

TEST(SealUnseal, WrongKeyIsDataLoss) {
  const std::string sealed = Seal(DataKey::Random(), "personal data", "aad");
  absl::StatusOr<std::string> opened = Unseal(DataKey::Random(), sealed, "aad");
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(opened.status().message().find("does not open"), std::string::npos);
}

TEST(SealUnseal, WrongAssociatedDataIsDataLoss) {
  const DataKey key = DataKey::Random();
  const std::string sealed = Seal(key, "personal data", "subject 1");
  EXPECT_EQ(Unseal(key, sealed, "subject 2").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unseal(key, sealed, "").status().code(), absl::StatusCode::kDataLoss);
}

TEST(SealUnseal, AnyFlippedBitIsDataLoss) {
  const DataKey key = DataKey::Random();
  const std::string sealed = Seal(key, "personal data", "aad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = sealed;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      EXPECT_EQ(Unseal(key, changed, "aad").status().code(), absl::StatusCode::kDataLoss)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(SealUnseal, TruncatedOrExtendedIsRefused) {
  const DataKey key = DataKey::Random();
  const std::string sealed = Seal(key, "personal data", "aad");
  EXPECT_EQ(Unseal(key, sealed.substr(0, sealed.size() - 1), "aad").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unseal(key, sealed + "x", "aad").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unseal(key, sealed.substr(0, kSealOverheadBytes - 1), "aad").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Unseal(key, "", "aad").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SealDataKey, FromBytesTakesExactly32Bytes) {
  EXPECT_EQ(DataKey::FromBytes(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DataKey::FromBytes(std::string(33, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<DataKey> key = DataKey::FromBytes(std::string(32, 'k'));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->bytes(), std::string(32, 'k'));
}

TEST(SealDataKey, RandomKeysDiffer) {
  EXPECT_NE(DataKey::Random().bytes(), DataKey::Random().bytes());
}

TEST(Seal, NoncesDoNotRepeat) {
  // Nonces are drawn a block at a time: many seals span several blocks.
  const DataKey key = DataKey::Random();
  std::set<std::string> nonces;
  for (int i = 0; i < 2000; ++i) nonces.insert(Seal(key, "x", "aad").substr(0, kSealNonceBytes));
  EXPECT_EQ(nonces.size(), 2000u);
}

// A forked child starts from a copy of its parent's memory, random blocks
// included; it must draw afresh, or it would seal with its parent's next
// nonce and make its parent's next key.
TEST(Seal, AForkedChildDrawsNoNonceOrKeyOfItsParent) {
  const DataKey key = DataKey::Random();
  (void)Seal(key, "x", "aad");  // fills this thread's blocks
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string drawn =
        Seal(key, "x", "aad").substr(0, kSealNonceBytes) + std::string(DataKey::Random().bytes());
    const bool written =
        ::write(pipe_fds[1], drawn.data(), drawn.size()) == static_cast<ssize_t>(drawn.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  const std::string parent =
      Seal(key, "x", "aad").substr(0, kSealNonceBytes) + std::string(DataKey::Random().bytes());
  std::string from_child(parent.size(), '\0');
  size_t got = 0;
  while (got < from_child.size()) {
    const ssize_t n = ::read(pipe_fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, from_child.size());
  EXPECT_NE(from_child.substr(0, kSealNonceBytes), parent.substr(0, kSealNonceBytes));
  EXPECT_NE(from_child.substr(kSealNonceBytes), parent.substr(kSealNonceBytes));
}

TEST(SealDataKey, MovingWipesTheSource) {
  DataKey source = *DataKey::FromBytes(std::string(32, 'k'));
  DataKey moved = std::move(source);
  EXPECT_EQ(moved.bytes(), std::string(32, 'k'));
  EXPECT_EQ(source.bytes(), std::string(32, '\0'));  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace innsyn::storage
