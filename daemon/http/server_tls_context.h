// The OpenSSL server context of innsynd's HTTP listeners, with the same
// PKI as gRPC: the server's certificate and key, TLS 1.2 at least, and
// (for the API listener) client certificates required and verified against
// the configured CA, the CRL's revoked ones refused. The console asks for
// none: its people sign in with an account. Thread-safe.
#ifndef INNSYN_DAEMON_HTTP_SERVER_TLS_CONTEXT_H_
#define INNSYN_DAEMON_HTTP_SERVER_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "daemon/auth/server_tls.h"

namespace innsyn::daemon::http {

// Sets `context` up to serve `files` (cert, key, CA, CRL; checked once
// already by MakeServerCredentials); the error names the file at fault.
absl::Status ConfigureServerTls(SSL_CTX& context, const ServerTlsFiles& files,
                                bool client_certificates = true);

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_SERVER_TLS_CONTEXT_H_
