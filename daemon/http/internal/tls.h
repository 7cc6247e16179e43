// The caller of an HTTP listener's connection, named by its client
// certificate (common name and innsyn:role URI) just as the gRPC CallGate
// names it; the context itself is server_tls_context.h. OpenSSL only;
// thread-safe.
#ifndef INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_
#define INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/server_tls.h"
#include "daemon/http/server_tls_context.h"

namespace innsyn::daemon::http {

// The caller of a connection whose handshake verified its certificate.
absl::StatusOr<Caller> CallerFromTls(const SSL* ssl);

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_INTERNAL_TLS_H_
