// innsynd's HTTP listener, for sources that cannot speak gRPC (a clinic's
// website, systems that emit FHIR AuditEvents), built on cpp-httplib:
//   POST /v1/events:append      the proto3 JSON of AppendRequest
//   POST /fhir/AuditEvent       one FHIR R4 AuditEvent (IHE ITI-20)
//   POST /fhir                  a transaction or batch Bundle of them
//   GET  /fhir/AuditEvent       a subject's accesses as a searchset (ITI-81)
//   GET  /checkpoint, /tile/... the signed checkpoint and the tree's tiles
//                               (C2SP tlog-tiles; never entry bundles)
//   GET  /healthz, /readyz      for load balancers
// Every call passes the same CallGate as gRPC (roles from the client
// certificate, rate limits, shutdown drain; refusals recorded), and events
// take the same EventIngest path (validation, idempotency, back-pressure,
// metrics). With TLS files set the listener speaks HTTPS only and requires
// a client certificate of the CA; without, it is plaintext and (options.cc)
// loopback only.
//
// Threads: one accepting thread, and a pool of `threads` that each serve a
// connection at a time; a request blocks its thread until its events are
// durable. Stop (or the destructor) closes the listening socket and joins
// them all. Borrows everything in Services, which must outlive it.
#ifndef INNSYN_DAEMON_HTTP_HTTP_LISTENER_H_
#define INNSYN_DAEMON_HTTP_HTTP_LISTENER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/server_tls.h"
#include "daemon/services/access_log_service.h"
#include "daemon/services/event_ingest.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon::http {

struct HttpListenerOptions {
  std::string listen;  // "host:port"; port 0 picks one
  ServerTlsFiles tls;  // no cert_file: plaintext
  // Largest request body (413 beyond it); the gRPC message limit.
  size_t max_body_bytes = 16 << 20;
  // A client that sends nothing for this long is disconnected (slow clients
  // must not hold a thread).
  absl::Duration read_timeout = absl::Seconds(10);
  int threads = 32;
};

class HttpListener {
 public:
  struct Services {
    EventIngest& ingest;
    CallGate& gate;
    exporters::Metrics& metrics;
    AccessLogService& access_log;  // for the FHIR search
    storage::Ledger& ledger;       // for the checkpoint and the tiles
    // For /readyz: whether innsynd takes events now.
    std::function<bool()> ready;
  };

  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(const HttpListenerOptions& options,
                                                             Services services);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;
  // Refuses new connections and waits for the requests being served.
  void Stop();

 private:
  struct State;
  explicit HttpListener(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_HTTP_LISTENER_H_
