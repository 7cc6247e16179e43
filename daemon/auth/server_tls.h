// innsynd's gRPC server credentials: plaintext in development mode, or TLS
// that requires and verifies a client certificate of the configured CA
// (OpenSSL underneath), refusing revoked ones when a CRL is configured.
// The files are read and checked once, at start: a missing or mismatched
// file stops innsynd with a message naming it, rather than failing every
// handshake later. Certificates and CRL take effect on restart.
#ifndef INNSYN_DAEMON_AUTH_SERVER_TLS_H_
#define INNSYN_DAEMON_AUTH_SERVER_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace innsyn::daemon {

// The PEM files of innsynd's identity and of the CA its clients must carry
// (DaemonOptions' tls_* settings). No certificate: plaintext.
struct ServerTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string crl_file;  // may be empty
  std::string data_dir;  // where the CRL folder OpenSSL reads is kept
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_AUTH_SERVER_TLS_H_
