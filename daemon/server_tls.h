// innsynd's gRPC server credentials: plaintext in development mode, or TLS
// that requires and verifies a client certificate of the configured CA
// (OpenSSL underneath), refusing revoked ones when a CRL is configured.
// The files are read and checked once, at start: a missing or mismatched
// file stops innsynd with a message naming it, rather than failing every
// handshake later. Certificates and CRL take effect on restart.
#ifndef INNSYN_DAEMON_SERVER_TLS_H_
#define INNSYN_DAEMON_SERVER_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/options.h"

namespace innsyn::daemon {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const DaemonOptions& options);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVER_TLS_H_
