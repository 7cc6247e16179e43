// The console's accounts: one per person, never a shared clinic login. An
// account names a person, the innsyn role they act in (controller or admin
// may sign in), an argon2id hash of their password (libargon2, the PHC
// string form) and the secret of their second factor, a time-based one-time
// password (TOTP, RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) that an
// authenticator app shows. The accounts file is TOML, written by
// `innsynctl console-user` and read by innsynd at start and on reload:
//
//   [[user]]
//   name = "kari"                  # what she types to sign in
//   display_name = "Kari Nordmann" # shown, and recorded with her queries
//   role = "controller"
//   password = "$argon2id$v=19$m=19456,t=2,p=1$..."
//   totp_secret = "JBSWY3DPEHPK3PXP"   # base32, as authenticator apps take it
//
// Shared by innsynd and innsynctl; OpenSSL and libargon2 only.
#ifndef INNSYN_DAEMON_CONSOLE_ACCOUNTS_H_
#define INNSYN_DAEMON_CONSOLE_ACCOUNTS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace innsyn::daemon::console {

struct Account {
  std::string name;
  std::string display_name;
  std::string role;
  std::string password_hash;  // argon2id, PHC string
  std::string totp_secret;    // the raw secret (20 bytes from NewTotpSecret)
};

// By name; none if the file does not exist (yet). InvalidArgument naming
// the file, the user and the field.
absl::StatusOr<std::map<std::string, Account>> LoadAccounts(const std::string& path);
// The file's TOML for `accounts` (innsynctl writes it whole, 0600).
std::string FormatAccounts(const std::map<std::string, Account>& accounts);

// An argon2id hash of `password` with a fresh salt, at the cost OWASP
// recommends for argon2id (19 MiB, 2 passes, 1 lane).
absl::StatusOr<std::string> HashPassword(std::string_view password);
bool PasswordMatches(const std::string& hash, std::string_view password);

// TOTP (RFC 6238 with SHA-1, 30-second steps from the Unix epoch, 6 digits).
inline constexpr int64_t kTotpStepSeconds = 30;
std::string NewTotpSecret();
int64_t TotpStep(absl::Time time);
std::string TotpCode(std::string_view secret, int64_t step);
// The step `code` belongs to if it is the code of the step of `now` or of
// the one before or after (clocks drift), else nullopt. Constant time in
// the code.
std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code, absl::Time now);

// RFC 4648 base32 without padding, as authenticator apps and otpauth URIs
// take secrets; decoding ignores case, spaces and padding.
std::string Base32Encode(std::string_view bytes);
std::optional<std::string> Base32Decode(std::string_view text);
// The otpauth:// URI an authenticator app reads (from a QR code or typed).
std::string OtpAuthUri(std::string_view issuer, const Account& account);

}  // namespace innsyn::daemon::console

#endif  // INNSYN_DAEMON_CONSOLE_ACCOUNTS_H_
