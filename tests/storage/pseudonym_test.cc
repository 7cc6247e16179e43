#include "storage/pseudonym.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::storage {
namespace {

TEST(Pseudonym, IsTruncatedHmacSha256OfDomainAndId) {
  testing::TempDir dir;
  std::string path = dir.path() + "/pseudonym.key";
  auto pseudonymizer = *Pseudonymizer::Load(path, /*create=*/true);
  std::ifstream file(path, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_EQ(key.size(), Pseudonymizer::kKeyBytes);
  for (const std::string& id : {std::string(), std::string("01017012345"), std::string(300, 'x')}) {
    std::string message = "s" + id;
    unsigned char mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
    EXPECT_EQ(pseudonymizer->Pseudonym(PseudonymDomain::kSubject, id),
              std::string(reinterpret_cast<char*>(mac), Pseudonymizer::kPseudonymBytes));
  }
  EXPECT_NE(pseudonymizer->Pseudonym(PseudonymDomain::kSubject, "same"),
            pseudonymizer->Pseudonym(PseudonymDomain::kActor, "same"));
}

TEST(Pseudonym, DifferentKeysGiveDifferentPseudonyms) {
  testing::TempDir a;
  testing::TempDir b;
  auto first = *Pseudonymizer::Load(a.path() + "/k", true);
  auto second = *Pseudonymizer::Load(b.path() + "/k", true);
  EXPECT_NE(first->Pseudonym(PseudonymDomain::kSubject, "01017012345"),
            second->Pseudonym(PseudonymDomain::kSubject, "01017012345"));
}

TEST(Pseudonym, KeyOfTheWrongLengthIsRefused) {
  testing::TempDir dir;
  std::string path = dir.path() + "/k";
  ASSERT_TRUE(Pseudonymizer::Load(path, true).ok());
  std::ofstream(path, std::ios::app) << "x";
  EXPECT_EQ(Pseudonymizer::Load(path, false).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace innsyn::storage
