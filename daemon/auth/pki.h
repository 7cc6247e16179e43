// A small certificate authority for innsyn's mTLS, on OpenSSL's API: a
// local CA, a server certificate for the host names and addresses given,
// client certificates that carry their role as the SAN URI
// "innsyn:role/<role>", and a CRL of revoked serial numbers.
// Keys are ECDSA P-256, signatures SHA-256. Functions are pure over PEM text,
// except the file helpers at the end; all are thread-safe.
#ifndef INNSYN_DAEMON_AUTH_PKI_H_
#define INNSYN_DAEMON_AUTH_PKI_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace innsyn::pki {

// A client certificate's role is the SAN URI kRoleUriPrefix + role name.
inline constexpr std::string_view kRoleUriPrefix = "innsyn:role/";

struct KeyAndCertificate {
  std::string key_pem;          // PKCS#8 private key
  std::string certificate_pem;  // X.509
};

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> dns_names;     // SAN DNS entries
  std::vector<std::string> ip_addresses;  // SAN IP entries, IPv4 or IPv6 text
  std::vector<std::string> uris;          // SAN URI entries
  bool server = false;                    // extended key usage serverAuth; otherwise clientAuth
  absl::Time not_before;
  absl::Time not_after;
};

// A self-signed CA certificate (basicConstraints CA:true, keyCertSign, cRLSign).
absl::StatusOr<KeyAndCertificate> CreateCertificateAuthority(std::string_view common_name,
                                                             absl::Time not_before,
                                                             absl::Time not_after);

// A leaf certificate signed by `ca`, with a fresh key and a random serial.
// InvalidArgument for an IP address that does not parse.
absl::StatusOr<KeyAndCertificate> IssueCertificate(const KeyAndCertificate& ca,
                                                   const CertificateRequest& request);

// A CRL signed by `ca` that revokes `revoked_serials` (lowercase hex, as
// CertificateInfo::serial_hex), valid from `this_update` to `next_update`.
absl::StatusOr<std::string> CreateCrl(const KeyAndCertificate& ca,
                                      absl::Span<const std::string> revoked_serials,
                                      absl::Time this_update, absl::Time next_update);

struct CertificateInfo {
  std::string common_name;
  std::string serial_hex;  // lowercase, no leading zeros
  std::string issuer_common_name;
  std::vector<std::string> uris;
  absl::Time not_before;
  absl::Time not_after;
};
absl::StatusOr<CertificateInfo> ReadCertificate(std::string_view certificate_pem);

// The revoked serials of `crl_pem` (lowercase hex), after checking that
// `ca_certificate_pem` signed it; InvalidArgument if it did not.
absl::StatusOr<std::vector<std::string>> ReadCrl(std::string_view crl_pem,
                                                 std::string_view ca_certificate_pem);

// The name OpenSSL's hashed-directory lookup finds this CRL under:
// "<issuer name hash>.r0".
absl::StatusOr<std::string> CrlFileName(std::string_view crl_pem);

// The role named by the one "innsyn:role/..." URI among `uris`; nullopt if
// there is none or more than one.
std::optional<std::string> RoleFromUris(absl::Span<const std::string> uris);

// Writes `contents` to a new file `path` with mode 0600; AlreadyExists if it
// exists (nothing is overwritten), and no symlink is followed.
absl::Status WriteNewPrivateFile(const std::string& path, std::string_view contents);
// Replaces `path` with `contents` (mode 0600) through a temporary file and
// a rename, so a reader sees the old or the new file whole.
absl::Status ReplacePrivateFile(const std::string& path, std::string_view contents);

}  // namespace innsyn::pki

#endif  // INNSYN_DAEMON_AUTH_PKI_H_
