#include "tests/daemon/auth/handler_server.h"

#include <chrono>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "base/strings.h"
#include "daemon/services/grpc_status.h"
#include "tests/support/eventually.h"

namespace innsyn::testing {
namespace {

// Long enough for a loaded machine, short enough that a handler waiting for
// something that never comes fails the test rather than hanging it.
constexpr auto kCallTimeout = std::chrono::seconds(60);
constexpr auto kCancelTimeout = std::chrono::seconds(30);

constexpr char kLoopback[] = "127.0.0.1";

absl::StatusOr<pki::KeyAndCertificate> Issue(const pki::KeyAndCertificate& ca,
                                             pki::CertificateRequest request) {
  request.not_before = absl::Now() - absl::Hours(1);
  request.not_after = absl::Now() + absl::Hours(24);
  return pki::IssueCertificate(ca, request);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  // gRPC and absl share the canonical code numbers.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

// Runs the handler that the client's request names: the request's service
// field carries the key under which Call filed it.
class HandlerServer::Service final : public grpc::health::v1::Health::Service {
 public:
  std::string File(Handler handler) {
    absl::MutexLock lock(&mu_);
    std::string key = StrCat("call-", ++calls_);
    handlers_.emplace(key, std::move(handler));
    return key;
  }

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* /*response*/) override {
    Handler handler;
    {
      absl::MutexLock lock(&mu_);
      auto it = handlers_.find(request->service());
      if (it == handlers_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no handler");
      handler = std::move(it->second);
      handlers_.erase(it);
    }
    return daemon::ToGrpcStatus(handler(*context));
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Handler> handlers_ ABSL_GUARDED_BY(mu_);
};

HandlerServer::HandlerServer(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server,
                             int port, std::optional<pki::KeyAndCertificate> ca)
    : service_(std::move(service)), server_(std::move(server)), port_(port), ca_(std::move(ca)) {}

HandlerServer::~HandlerServer() { server_->Shutdown(); }

absl::StatusOr<std::unique_ptr<HandlerServer>> HandlerServer::StartPlaintext() {
  return Start(std::nullopt);
}

absl::StatusOr<std::unique_ptr<HandlerServer>> HandlerServer::StartWithMtls() {
  absl::StatusOr<pki::KeyAndCertificate> ca = pki::CreateCertificateAuthority(
      "handler server CA", absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(24));
  if (!ca.ok()) return ca.status();
  return Start(*std::move(ca));
}

absl::StatusOr<std::unique_ptr<HandlerServer>> HandlerServer::Start(
    std::optional<pki::KeyAndCertificate> ca) {
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (ca) {
    pki::CertificateRequest request;
    request.common_name = "handler-server";
    request.ip_addresses = {kLoopback};
    request.server = true;
    absl::StatusOr<pki::KeyAndCertificate> identity = Issue(*ca, request);
    if (!identity.ok()) return identity.status();
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = ca->certificate_pem;
    ssl.pem_key_cert_pairs.push_back({identity->key_pem, identity->certificate_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  auto service = std::make_unique<Service>();
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(StrCat(kLoopback, ":0"), credentials, &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return absl::InternalError("cannot start the server");
  return std::unique_ptr<HandlerServer>(
      new HandlerServer(std::move(service), std::move(server), port, std::move(ca)));
}

std::shared_ptr<grpc::Channel> HandlerServer::Channel(const std::string& common_name,
                                                      const std::vector<std::string>& uris) {
  const std::string target = StrCat(kLoopback, ":", port_);
  if (!ca_) return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  pki::CertificateRequest request;
  request.common_name = common_name;
  request.uris = uris;
  absl::StatusOr<pki::KeyAndCertificate> client = Issue(*ca_, request);
  if (!client.ok()) return nullptr;
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_->certificate_pem;
  ssl.pem_cert_chain = client->certificate_pem;
  ssl.pem_private_key = client->key_pem;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own handshake, so its own certificate
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl), args);
}

absl::Status HandlerServer::Call(const std::shared_ptr<grpc::Channel>& channel, Handler handler,
                                 const Metadata& metadata) {
  if (channel == nullptr) return absl::InternalError("no channel");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service_->File(std::move(handler)));
  grpc::health::v1::HealthCheckResponse response;
  return FromGrpcStatus(
      grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response));
}

std::future<absl::Status> HandlerServer::CallInBackground(std::shared_ptr<grpc::Channel> channel,
                                                          Handler handler,
                                                          const Metadata& metadata) {
  return std::async(std::launch::async,
                    [this, channel = std::move(channel), handler = std::move(handler), metadata] {
                      return Call(channel, handler, metadata);
                    });
}

bool EventuallyCancelled(const grpc::ServerContext& context) {
  return Eventually([&context] { return context.IsCancelled(); }, kCancelTimeout);
}

}  // namespace innsyn::testing
