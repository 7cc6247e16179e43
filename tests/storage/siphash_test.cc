#include "storage/internal/siphash.h"

#include <gtest/gtest.h>

#include <string>

namespace innsyn::storage::internal {
namespace {

// The test vectors of the SipHash paper's reference implementation: key
// 00 01 .. 0f, messages 00 01 .. (n-1).
TEST(SipHash, MatchesTheReferenceVectors) {
  SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  std::string message;
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(key, message), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(SipHash24(key, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(key, message.substr(0, 8)), 0x93f5f5799a932462ULL);
}

}  // namespace
}  // namespace innsyn::storage::internal
