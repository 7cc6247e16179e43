// TLS for innsynd's HTTP listener, with the same PKI as gRPC: the server's
// certificate and key, client certificates required and verified against
// the configured CA, the CRL's revoked ones refused, and the caller named by
// its certificate (common name and innsyn:role URI) just as the gRPC
// CallGate names it. OpenSSL only; thread-safe.
#ifndef INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_
#define INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/server_tls.h"

namespace innsyn::daemon::http {

// Sets `context` up to serve `files` (cert, key, CA, CRL; checked once
// already by MakeServerCredentials); the error names the file at fault.
absl::Status ConfigureServerTls(SSL_CTX& context, const ServerTlsFiles& files);

// The caller of a connection whose handshake verified its certificate.
absl::StatusOr<Caller> CallerFromTls(const SSL* ssl);

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_
