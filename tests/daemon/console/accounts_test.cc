#include "daemon/console/accounts.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::daemon::console {
namespace {

// RFC 6238, appendix B (SHA-1): the 8-digit codes' last six digits.
TEST(Totp, MatchesTheRfc6238TestVectors) {
  const std::string secret = "12345678901234567890";
  const std::pair<int64_t, const char*> vectors[] = {
      {59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
      {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}};
  for (const auto& [seconds, code] : vectors) {
    EXPECT_EQ(TotpCode(secret, TotpStep(absl::FromUnixSeconds(seconds))), code) << seconds;
  }
}

TEST(Totp, AcceptsTheStepBeforeAndAfterButNoOther) {
  const std::string secret = NewTotpSecret();
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  const int64_t step = TotpStep(now);
  for (int64_t delta : {-1, 0, 1}) {
    EXPECT_EQ(MatchTotp(secret, TotpCode(secret, step + delta), now), step + delta);
  }
  EXPECT_FALSE(MatchTotp(secret, TotpCode(secret, step - 2), now));
  EXPECT_FALSE(MatchTotp(secret, TotpCode(secret, step + 2), now));
  EXPECT_FALSE(MatchTotp(secret, "12345", now));
  EXPECT_FALSE(MatchTotp(secret, "", now));
}

TEST(Base32, FollowsRfc4648WithoutPadding) {
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Decode("mzxw6ytboi======"), "foobar");
  EXPECT_EQ(Base32Decode("MZXW 6YTB OI"), "foobar");
  EXPECT_FALSE(Base32Decode("MZXW1"));  // 1 is not in the alphabet
  const std::string secret = NewTotpSecret();
  EXPECT_EQ(Base32Decode(Base32Encode(secret)), secret);
}

TEST(Password, HashesWithArgon2idAndChecks) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_TRUE(PasswordMatches(*hash, "correct horse battery staple"));
  EXPECT_FALSE(PasswordMatches(*hash, "correct horse battery stapler"));
  EXPECT_NE(*HashPassword("correct horse battery staple"), *hash);  // a fresh salt
}

class AccountsFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.path() + "/users.toml";
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(AccountsFile, RoundTripsWhatInnsynctlWrites) {
  Account kari{.name = "kari",
               .display_name = "Kari Nordmann",
               .role = "controller",
               .password_hash = *HashPassword("a long enough passphrase"),
               .totp_secret = NewTotpSecret()};
  const std::string path = Write(FormatAccounts({{"kari", kari}}));
  absl::StatusOr<std::map<std::string, Account>> read = LoadAccounts(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  const Account& back = read->at("kari");
  EXPECT_EQ(back.display_name, "Kari Nordmann");
  EXPECT_EQ(back.role, "controller");
  EXPECT_EQ(back.password_hash, kari.password_hash);
  EXPECT_EQ(back.totp_secret, kari.totp_secret);
}

TEST_F(AccountsFile, NoFileIsNoAccounts) {
  absl::StatusOr<std::map<std::string, Account>> read = LoadAccounts(dir_.path() + "/none.toml");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
}

TEST_F(AccountsFile, ABadEntryIsRefusedNamingTheUserAndField) {
  const std::string good =
      "name = \"kari\"\ndisplay_name = \"K\"\npassword = \"$argon2id$v=19$x\"\n"
      "totp_secret = \"JBSWY3DPEHPK3PXPJBSW\"\n";
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"[[user]]\n" + good + "role = \"nurse\"\n", "user[0].role: \"nurse\" is not an innsyn role"},
      {"[[user]]\nname = \"kari\"\nrole = \"controller\"\n", "user[0].display_name is required"},
      {"[[user]]\n" + good + "role = \"controller\"\n[[user]]\n" + good + "role = \"admin\"\n",
       "user[1].name: \"kari\" appears twice"},
      {"[[user]]\nname = \"k\"\ndisplay_name = \"K\"\nrole = \"admin\"\npassword = \"plain\"\n",
       "user[0].password: not an argon2id hash"},
      {"[[user]]\nname = \"k\"\ndisplay_name = \"K\"\nrole = \"admin\"\n"
       "password = \"$argon2id$x\"\ntotp_secret = \"MY\"\n",
       "user[0].totp_secret"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::map<std::string, Account>> read = LoadAccounts(Write(c.text));
    ASSERT_FALSE(read.ok()) << c.text;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(read.status().message().find(c.message), std::string::npos) << read.status();
  }
}

}  // namespace
}  // namespace innsyn::daemon::console
