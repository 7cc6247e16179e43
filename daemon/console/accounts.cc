#include "daemon/console/accounts.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "base/toml_file.h"
#include "daemon/auth/roles.h"

namespace innsyn::daemon::console {
namespace {

constexpr uint32_t kArgonPasses = 2;
constexpr uint32_t kArgonMemoryKib = 19 * 1024;
constexpr uint32_t kArgonLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kTotpSecretBytes = 20;  // RFC 4226's recommended length for SHA-1
constexpr int kTotpDigits = 6;
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no randomness: nothing safe to do
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::map<std::string, Account>> LoadAccounts(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::map<std::string, Account>();
  absl::StatusOr<toml::table> table = ParseTomlFile("console users file", path);
  if (!table.ok()) return table.status();
  std::map<std::string, Account> accounts;
  const toml::array* users = (*table)["user"].as_array();
  if (users == nullptr) return accounts;
  size_t index = 0;
  for (const toml::node& node : *users) {
    const std::string at = StrCat("console users file ", path, ": user[", index++, "]");
    const toml::table* user = node.as_table();
    if (user == nullptr) return absl::InvalidArgumentError(StrCat(at, " is not a table"));
    Account account;
    for (auto [key, out] : {std::pair{"name", &account.name},
                            {"display_name", &account.display_name},
                            {"role", &account.role},
                            {"password", &account.password_hash}}) {
      std::optional<std::string> value = (*user)[key].value<std::string>();
      if (!value || value->empty()) {
        return absl::InvalidArgumentError(StrCat(at, ".", key, " is required (a string)"));
      }
      *out = *value;
    }
    if (std::find(kRoles.begin(), kRoles.end(), account.role) == kRoles.end()) {
      return absl::InvalidArgumentError(
          StrCat(at, ".role: \"", account.role, "\" is not an innsyn role"));
    }
    if (!account.password_hash.starts_with("$argon2id$")) {
      return absl::InvalidArgumentError(
          StrCat(at, ".password: not an argon2id hash (make one with innsynctl console-user)"));
    }
    std::optional<std::string> secret =
        Base32Decode((*user)["totp_secret"].value<std::string>().value_or(""));
    if (!secret || secret->size() < 10) {
      return absl::InvalidArgumentError(
          StrCat(at, ".totp_secret: required, base32, at least 80 bits"));
    }
    account.totp_secret = *secret;
    const std::string name = account.name;
    if (!accounts.emplace(name, std::move(account)).second) {
      return absl::InvalidArgumentError(StrCat(at, ".name: \"", name, "\" appears twice"));
    }
  }
  return accounts;
}

std::string FormatAccounts(const std::map<std::string, Account>& accounts) {
  toml::table root;
  toml::array users;
  for (const auto& [name, account] : accounts) {
    users.push_back(toml::table{{"name", account.name},
                                {"display_name", account.display_name},
                                {"role", account.role},
                                {"password", account.password_hash},
                                {"totp_secret", Base32Encode(account.totp_secret)}});
  }
  root.insert("user", std::move(users));
  std::ostringstream out;
  out << "# innsyn console accounts (innsynctl console-user). Keep this file 0600.\n"
      << toml::toml_formatter(root) << "\n";
  return out.str();
}

absl::StatusOr<std::string> HashPassword(std::string_view password) {
  const std::string salt = RandomBytes(kSaltBytes);
  std::string encoded(argon2_encodedlen(kArgonPasses, kArgonMemoryKib, kArgonLanes, kSaltBytes,
                                        kHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(kArgonPasses, kArgonMemoryKib, kArgonLanes, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashBytes,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(StrCat("argon2id: ", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool PasswordMatches(const std::string& hash, std::string_view password) {
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string NewTotpSecret() { return RandomBytes(kTotpSecretBytes); }

int64_t TotpStep(absl::Time time) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  return seconds >= 0 ? seconds / kTotpStepSeconds
                      : (seconds - kTotpStepSeconds + 1) / kTotpStepSeconds;
}

std::string TotpCode(std::string_view secret, int64_t step) {
  unsigned char counter[8];
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter, sizeof(counter), mac,
       &mac_size);
  const int offset = mac[mac_size - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1000000);
  return std::string(kTotpDigits - code.size(), '0') + code;
}

std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code, absl::Time now) {
  if (code.size() != kTotpDigits) return std::nullopt;
  const int64_t step = TotpStep(now);
  std::optional<int64_t> matched;
  for (int64_t candidate : {step - 1, step, step + 1}) {
    const std::string expected = TotpCode(secret, candidate);
    if (CRYPTO_memcmp(expected.data(), code.data(), kTotpDigits) == 0) matched = candidate;
  }
  return matched;
}

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kBase32Alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    const char upper = absl::ascii_toupper(static_cast<unsigned char>(c));
    const char* at = std::strchr(kBase32Alphabet, upper);
    if (at == nullptr || upper == '\0') return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(at - kBase32Alphabet);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string OtpAuthUri(std::string_view issuer, const Account& account) {
  const auto escape = [](std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
      if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += StrCat("%", absl::AsciiStrToUpper(absl::StrFormat("%02x", c)));
      }
    }
    return out;
  };
  return StrCat("otpauth://totp/", escape(issuer), ":", escape(account.name),
                "?secret=", Base32Encode(account.totp_secret), "&issuer=", escape(issuer),
                "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace innsyn::daemon::console
