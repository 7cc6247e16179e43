#include "storage/hash.h"

#include <gtest/gtest.h>

#include <vector>

#include "storage/merkle.h"

namespace innsyn::storage {
namespace {

std::string Unhex(std::string_view hex) { return *FromHex(hex); }

// The leaves and roots of the RFC 6962 reference test vectors (as used by
// the certificate-transparency and Trillian test suites).
const std::vector<std::string> kLeafInputs = {"",
                                              "00",
                                              "10",
                                              "2021",
                                              "3031",
                                              "40414243",
                                              "5051525354555657",
                                              "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> kRoots = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

TEST(Hash, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyTreeRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Hash, LeafHashOfEmptyInputMatchesRfc6962) { EXPECT_EQ(ToHex(LeafHash("")), kRoots[0]); }

TEST(Hash, RootsMatchRfc6962VectorsForEveryPrefix) {
  CompactRange range;
  for (size_t i = 0; i < kLeafInputs.size(); ++i) {
    range.Append(LeafHash(Unhex(kLeafInputs[i])));
    EXPECT_EQ(ToHex(range.Root()), kRoots[i]) << "tree size " << i + 1;
  }
}

TEST(Hash, NodeHashPrefixesOneAndConcatenates) {
  Hash left = Sha256("l");
  Hash right = Sha256("r");
  std::string material(1, '\x01');
  material += std::string(AsBytes(left)) + std::string(AsBytes(right));
  EXPECT_EQ(NodeHash(left, right), Sha256(material));
  EXPECT_NE(NodeHash(left, right), NodeHash(right, left));
}

TEST(Hash, ChainHashConcatenatesPreviousChainAndLeaf) {
  Hash leaf = LeafHash("entry");
  std::string material = std::string(AsBytes(kZeroHash)) + std::string(AsBytes(leaf));
  EXPECT_EQ(ChainHash(kZeroHash, leaf), Sha256(material));
}

TEST(Hash, HexAndBase64RoundTrip) {
  std::string bytes = Unhex("00ff10abcdef");
  EXPECT_EQ(ToHex(bytes), "00ff10abcdef");
  for (size_t n = 0; n < 40; ++n) {
    std::string data(n, '\0');
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 37 + 5);
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data) << n;
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9*YmFy").has_value());
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
}

}  // namespace
}  // namespace innsyn::storage
