#include "daemon/http/http_listener.h"

#include <httplib.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "base/clock.h"
#include "base/strings.h"
#include "daemon/http/internal/fhir_routes.h"
#include "daemon/http/internal/route.h"
#include "daemon/http/internal/tile_routes.h"
#include "daemon/http/internal/tls.h"
#include "daemon/http/json_codec.h"

namespace innsyn::daemon::http {
namespace {

// How long a client told to slow down (429) or to come back (503) should wait.
constexpr int kRetryAfterSeconds = 1;
// Requests one connection may send before it is closed, and how long an
// idle one is kept.
constexpr size_t kKeepAliveMaxRequests = 1000;
constexpr time_t kKeepAliveSeconds = 5;

// "host:port" or "[v6]:port" split; InvalidArgument naming the setting.
absl::Status SplitListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("http_listen ", listen, " is not host:port (for example 127.0.0.1:8443)"));
  }
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return absl::OkStatus();
}

// The route label for a path the listener did not route (an error handled
// by cpp-httplib itself: 413, 404, a malformed request).
std::string_view RouteOf(const std::string& path) {
  for (std::string_view route : {"/v1/events:append", "/fhir/AuditEvent", "/fhir", "/checkpoint"}) {
    if (path == route) return route;
  }
  return "other";
}

}  // namespace

Reply JsonError(const absl::Status& status, int http_code) {
  return Reply{http_code != 0 ? http_code : HttpStatusFor(status.code()), kJson,
               ErrorJson(status, http_code)};
}

absl::StatusOr<Caller> CallerOf(const httplib::Request& request, bool mtls) {
  if (mtls) return CallerFromTls(request.ssl);
  return Caller{StrCat(request.remote_addr, ":", request.remote_port), std::string(kLocalRole)};
}

absl::Status CheckContentType(const httplib::Request& request,
                              std::initializer_list<std::string_view> accepted) {
  std::string type = request.get_header_value("Content-Type");
  type = std::string(absl::StripAsciiWhitespace(type.substr(0, type.find(';'))));
  absl::AsciiStrToLower(&type);
  for (std::string_view ok : accepted) {
    if (type == ok) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(StrCat("Content-Type ",
                                           type.empty() ? "(none)" : "\"" + type + "\"",
                                           " is not accepted; send ", *accepted.begin()));
}

struct HttpListener::State {
  HttpListenerOptions options;
  Services services;
  std::unique_ptr<httplib::Server> server;
  std::thread accepting;
  int port = 0;

  // Registers `route` under `pattern` (a regular expression, which is also
  // the route's label in the metrics unless `label` is given): its reply is
  // written, counted, and told to retry later when the ledger pushes back.
  template <typename Route>
  void Handle(const char* method, const char* pattern, Route route, const char* label = nullptr) {
    if (label == nullptr) label = pattern;
    auto handler = [this, label, route](const httplib::Request& request,
                                        httplib::Response& response) {
      Reply reply = route(request);
      Write(label, reply, response);
    };
    if (std::string_view(method) == "GET") {
      server->Get(pattern, handler);
    } else {
      server->Post(pattern, handler);
    }
  }

  void Write(std::string_view route, const Reply& reply, httplib::Response& response) {
    response.status = reply.code;
    if (reply.code == 429 || reply.code == 503) {
      response.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
    }
    for (const auto& [name, value] : reply.headers) response.set_header(name, value);
    response.set_content(reply.body, reply.content_type.c_str());
    services.metrics.HttpRequest(route, reply.code);
  }

  Reply Append(const httplib::Request& request) {
    if (absl::Status s = CheckContentType(request, {kJson}); !s.ok()) {
      return JsonError(s, kUnsupportedMediaType);
    }
    absl::StatusOr<CallGate::Pass> pass =
        services.gate.Admit(CallerOf(request, services.gate.mtls()), Method::kAppend);
    if (!pass.ok()) return JsonError(pass.status());
    v1::AppendRequest append;
    if (absl::Status s = DecodeAppendRequest(request.body, append); !s.ok()) {
      services.ingest.CountUndecodable();
      return JsonError(s);
    }
    v1::AppendResponse answer;
    if (absl::Status s = services.ingest.AppendBatch(append, answer); !s.ok()) {
      return JsonError(s);
    }
    return Reply{200, kJson, EncodeJson(answer)};
  }

  Reply Ready() {
    if (services.gate.draining()) {
      return JsonError(absl::UnavailableError("innsynd is shutting down"));
    }
    if (!services.ready()) {
      return JsonError(absl::UnavailableError("innsynd takes no events now (see its log)"));
    }
    return Reply{200, kJson, R"({"status":"ready"})"};
  }

  void AddRoutes() {
    Handle("POST", "/v1/events:append", [this](const httplib::Request& r) { return Append(r); });
    Handle("GET", "/healthz", [](const httplib::Request&) {
      return Reply{200, kJson, R"({"status":"serving"})"};
    });
    Handle("GET", "/readyz", [this](const httplib::Request&) { return Ready(); });
    FhirRoutes fhir{services.ingest, services.gate, services.access_log};
    Handle("POST", "/fhir/AuditEvent",
           [fhir](const httplib::Request& r) { return fhir.CreateAuditEvent(r); });
    Handle("POST", "/fhir", [fhir](const httplib::Request& r) { return fhir.PostBundle(r); });
    Handle("GET", "/fhir/AuditEvent",
           [fhir](const httplib::Request& r) { return fhir.SearchAuditEvents(r); });
    TileRoutes tiles{services.ledger, services.gate};
    Handle("GET", "/checkpoint",
           [tiles](const httplib::Request& r) { return tiles.Checkpoint(r); });
    Handle(
        "GET", "/tile/.*", [tiles](const httplib::Request& r) { return tiles.Tile(r); }, "/tile");
    // What cpp-httplib answers itself (413, 404, 400 for a malformed
    // request) gets a JSON body too.
    server->set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty()) return;
      const absl::StatusCode code = response.status == 413   ? absl::StatusCode::kOutOfRange
                                    : response.status == 404 ? absl::StatusCode::kNotFound
                                                             : absl::StatusCode::kInvalidArgument;
      std::string message =
          response.status == 413
              ? StrCat("the body is larger than ", options.max_body_bytes, " bytes")
          : response.status == 404
              ? StrCat("no such resource: ", request.method, " ", request.path)
              : StrCat("the request is not well-formed HTTP (status ", response.status, ")");
      response.set_content(ErrorJson(absl::Status(code, message), response.status), kJson);
      services.metrics.HttpRequest(RouteOf(request.path), response.status);
    });
  }
};

HttpListener::HttpListener(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpListener::~HttpListener() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    const HttpListenerOptions& options, Services services) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitListen(options.listen, host, port); !s.ok()) return s;
  auto state = std::make_unique<State>(State{options, std::move(services), nullptr, {}, 0});
  if (options.tls.cert_file.empty()) {
    state->server = std::make_unique<httplib::Server>();
  } else {
    absl::Status tls_status;
    state->server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& context) {
      tls_status = ConfigureServerTls(context, options.tls);
      return tls_status.ok();
    });
    if (!tls_status.ok()) return tls_status;
  }
  if (!state->server->is_valid()) return absl::InternalError("cannot start the HTTP listener");
  httplib::Server& server = *state->server;
  const size_t threads = static_cast<size_t>(std::max(1, options.threads));
  // cpp-httplib takes ownership of the raw pointer (its API).
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  // An answer's headers and body leave at once: with Nagle's algorithm the
  // body waits for the client's delayed ACK of the headers, 40 ms or more a
  // request on a kept-alive connection.
  server.set_tcp_nodelay(true);
  const auto timeout = absl::ToChronoMicroseconds(options.read_timeout);
  server.set_read_timeout(timeout);
  server.set_write_timeout(timeout);
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // An idle connection is closed no later than a stalled one.
  server.set_keep_alive_timeout(
      std::min<time_t>(kKeepAliveSeconds, absl::ToInt64Seconds(options.read_timeout)));
  state->AddRoutes();
  state->port = port == 0 ? server.bind_to_any_port(host) : port;
  if (state->port <= 0 || (port != 0 && !server.bind_to_port(host, port))) {
    return absl::UnavailableError(StrCat("cannot listen on http_listen ", options.listen));
  }
  state->accepting = std::thread([s = state.get()] { s->server->listen_after_bind(); });
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(state)));
}

int HttpListener::port() const { return state_->port; }

void HttpListener::Stop() {
  if (!state_->accepting.joinable()) return;
  state_->server->stop();
  state_->accepting.join();
}

}  // namespace innsyn::daemon::http
