// A gRPC server on a loopback port for the units that act on a call's
// grpc::ServerContext (its peer, its client certificate, its metadata, its
// cancellation), which only a real call has. Each call runs the handler the
// test passed with it, as the standard health service's Check; the status
// the handler returns is the status the client sees. Plaintext, or mTLS with
// a CA of its own whose client certificates carry innsyn's role URIs
// (daemon/auth/pki.h), as innsynd's handshake requires.
// Thread-safe: calls may run at the same time, each on a server thread.
#ifndef INNSYN_TESTS_DAEMON_AUTH_HANDLER_SERVER_H_
#define INNSYN_TESTS_DAEMON_AUTH_HANDLER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/auth/pki.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace innsyn::testing {

// How long a handler waits for another call to get somewhere; only a broken
// test waits this long.
inline constexpr absl::Duration kOtherCallTimeout = absl::Seconds(60);

class HandlerServer {
 public:
  using Handler = std::function<absl::Status(grpc::ServerContext& context)>;
  // Client metadata sent with a call, such as innsyn-acting-for.
  using Metadata = std::map<std::string, std::string>;

  static absl::StatusOr<std::unique_ptr<HandlerServer>> StartPlaintext();
  // Clients must present a certificate of this server's own CA.
  static absl::StatusOr<std::unique_ptr<HandlerServer>> StartWithMtls();
  ~HandlerServer();

  // A channel to the server. With mTLS it presents a new client certificate
  // of the server's CA with this common name and these SAN URIs, such as
  // "innsyn:role/portal".
  std::shared_ptr<grpc::Channel> Channel(const std::string& common_name = "",
                                         const std::vector<std::string>& uris = {});

  // Makes one call on `channel`, which the server answers by running
  // `handler`; returns the status the client received.
  absl::Status Call(const std::shared_ptr<grpc::Channel>& channel, Handler handler,
                    const Metadata& metadata = {});
  // The same on a thread of its own, for calls that must overlap.
  std::future<absl::Status> CallInBackground(std::shared_ptr<grpc::Channel> channel,
                                             Handler handler, const Metadata& metadata = {});

 private:
  class Service;
  HandlerServer(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server, int port,
                std::optional<pki::KeyAndCertificate> ca);
  static absl::StatusOr<std::unique_ptr<HandlerServer>> Start(
      std::optional<pki::KeyAndCertificate> ca);

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  const int port_;
  const std::optional<pki::KeyAndCertificate> ca_;  // with mTLS
};

// Polls until `context`'s call is cancelled; false if it is not within a
// time far longer than any watchdog takes.
bool EventuallyCancelled(const grpc::ServerContext& context);

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_DAEMON_AUTH_HANDLER_SERVER_H_
