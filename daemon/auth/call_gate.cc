#include "daemon/auth/call_gate.h"

#include <grpc/grpc_security_constants.h>

#include <iostream>

#include "base/strings.h"
#include "daemon/auth/pki.h"

namespace innsyn::daemon {
namespace {

std::string PropertyValue(const grpc::AuthContext& auth, const char* name) {
  std::vector<grpc::string_ref> values = auth.FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

// The bucket a caller's calls are counted in: the certificate name with
// TLS, the peer's address without its port otherwise.
std::string RateLimitKey(const Caller& caller, bool mtls) {
  if (mtls) return caller.identity;
  return caller.identity.substr(0, caller.identity.rfind(':'));
}

}  // namespace

CallGate::CallGate(bool mtls, RolePermissions roles, CallLimits limits, storage::Ledger& ledger,
                   exporters::Metrics& metrics)
    : mtls_(mtls),
      roles_(std::move(roles)),
      limits_(limits),
      ledger_(ledger),
      metrics_(metrics),
      rate_limiter_(limits.calls_per_second, limits.burst) {}

CallGate::Pass::~Pass() {
  if (gate_ == nullptr) return;  // moved from
  if (holds_stream_) gate_->ReleaseStream(caller_.identity);
  ticket_ = CallDeadlines::Ticket();  // the call is no longer watched
  gate_->Release();                   // and may be the last one a drain waits for
}

absl::StatusOr<Caller> CallGate::Identify(const grpc::ServerContextBase& context) const {
  if (!mtls_) return Caller{context.peer(), std::string(kLocalRole)};
  // The handshake already refused anyone without a certificate of our CA;
  // this only guards against a server built without that requirement.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::string name = auth ? PropertyValue(*auth, GRPC_X509_CN_PROPERTY_NAME) : "";
  if (name.empty()) return absl::UnauthenticatedError("a client certificate is required");
  std::vector<std::string> uris;
  for (const grpc::string_ref& uri : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    uris.emplace_back(uri.data(), uri.size());
  }
  // A certificate without exactly one role URI has no role, and so may
  // call nothing; it is still identified, so that its calls are recorded.
  return Caller{std::move(name), pki::RoleFromUris(uris).value_or("")};
}

std::string CallGate::Forbidden(const Caller& caller, Method method, const v1::QueryRecord& asked,
                                std::optional<std::string_view> acting_for) const {
  if (caller.role == kLocalRole) return "";
  if (caller.role.empty()) {
    return StrCat("the certificate of ", caller.identity, " names no role");
  }
  auto role = roles_.find(caller.role);
  if (role == roles_.end() || !role->second.test(static_cast<size_t>(method))) {
    return StrCat("role ", caller.role, " may not call ", MethodName(method));
  }
  if (caller.role == kPortalRole && IsAboutOneSubject(method)) {
    if (!acting_for || *acting_for != asked.subject_id()) {
      return StrCat("a portal may ask only about the patient it acts for (metadata ",
                    kActingForMetadata, " must equal subject_id)");
    }
  }
  return "";
}

absl::Status CallGate::Deny(const Caller& caller, Method method, v1::QueryRecord asked,
                            const std::string& why, DenialRecord record) {
  metrics_.CallRefused("permission_denied");
  asked.set_method(std::string(MethodName(method)));
  asked.set_caller(caller.identity);
  asked.set_caller_role(caller.role);
  asked.set_denied(true);
  // Refused either way; a record that cannot be written is said where it
  // is seen.
  auto unrecorded = [method, identity = caller.identity](const absl::Status& why_not) {
    std::cerr << "innsynd: cannot record a denied " << MethodName(method) << " by " << identity
              << ": " << why_not << "\n";
  };
  if (record == DenialRecord::kQueued) {
    absl::Status queued = ledger_.AppendQueryAsync(
        asked, [unrecorded](absl::StatusOr<std::vector<v1::AppendReceipt>> receipts) {
          if (!receipts.ok()) unrecorded(receipts.status());
        });
    if (!queued.ok()) unrecorded(queued);
  } else if (absl::StatusOr<v1::AppendReceipt> receipt = ledger_.AppendQuery(asked);
             !receipt.ok()) {
    unrecorded(receipt.status());
  }
  return absl::PermissionDeniedError(why);
}

namespace {

// What the call's innsyn-acting-for metadata says, if it has any.
std::optional<std::string_view> ActingFor(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find(kActingForMetadata);
  if (it == context.client_metadata().end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<CallGate::Pass> CallGate::Admit(grpc::ServerContextBase& context, Method method,
                                               const v1::QueryRecord& asked) {
  return AdmitCaller(Identify(context), method, asked, ActingFor(context), &context);
}

absl::StatusOr<CallGate::Pass> CallGate::AdmitWithoutWaiting(grpc::ServerContextBase& context,
                                                             Method method) {
  return AdmitCaller(Identify(context), method, {}, ActingFor(context), &context,
                     DenialRecord::kQueued);
}

absl::StatusOr<CallGate::Pass> CallGate::Admit(const absl::StatusOr<Caller>& caller, Method method,
                                               const v1::QueryRecord& asked,
                                               std::optional<std::string_view> acting_for) {
  return AdmitCaller(caller, method, asked, acting_for, nullptr);
}

absl::StatusOr<CallGate::Pass> CallGate::AdmitCaller(const absl::StatusOr<Caller>& caller,
                                                     Method method, const v1::QueryRecord& asked,
                                                     std::optional<std::string_view> acting_for,
                                                     grpc::ServerContextBase* context,
                                                     DenialRecord record) {
  {
    absl::MutexLock lock(&calls_mu_);
    if (draining_) {
      metrics_.CallRefused("shutting_down");
      return absl::UnavailableError("innsynd is shutting down; retry in a moment");
    }
    ++calls_in_flight_;
  }
  absl::StatusOr<Pass> pass = AdmitCounted(caller, method, asked, acting_for, context, record);
  if (!pass.ok()) Release();
  return pass;
}

absl::StatusOr<CallGate::Pass> CallGate::AdmitCounted(const absl::StatusOr<Caller>& caller,
                                                      Method method, const v1::QueryRecord& asked,
                                                      std::optional<std::string_view> acting_for,
                                                      grpc::ServerContextBase* context,
                                                      DenialRecord record) {
  if (!caller.ok()) {
    metrics_.CallRefused("unauthenticated");
    return caller.status();
  }
  // Before the role check, so that a caller cannot flood the ledger with
  // records of its denied calls.
  if (absl::Status s = TakeToken(*caller); !s.ok()) return s;
  if (std::string why = Forbidden(*caller, method, asked, acting_for); !why.empty()) {
    return Deny(*caller, method, asked, why, record);
  }
  const bool stream = method == Method::kAppendStream || method == Method::kWatchAlerts;
  if (stream) {
    absl::MutexLock lock(&streams_mu_);
    size_t& open = open_streams_[caller->identity];
    if (open >= limits_.max_streams_per_client) {
      metrics_.CallRefused("too_many_streams");
      return absl::ResourceExhaustedError(
          StrCat(caller->identity, " has ", open, " streams open, the most allowed"));
    }
    ++open;
  }
  CallDeadlines::Ticket ticket;
  if (context != nullptr) {
    ticket = deadlines_.Watch(*context,
                              stream ? limits_.max_stream_duration : limits_.max_call_duration);
  }
  return Pass(this, *caller, stream, std::move(ticket));
}

absl::Status CallGate::ChargeCall(const Pass& pass) { return TakeToken(pass.caller()); }

absl::Status CallGate::TakeToken(const Caller& caller) {
  if (rate_limiter_.TryAcquire(RateLimitKey(caller, mtls_), absl::Now())) return absl::OkStatus();
  metrics_.CallRefused("rate_limited");
  return absl::ResourceExhaustedError(
      StrCat("rate limit: ", caller.identity, " may make ", limits_.calls_per_second,
             " calls a second (bursts of ", limits_.burst, "); retry later"));
}

void CallGate::Release() {
  absl::MutexLock lock(&calls_mu_);
  --calls_in_flight_;
}

bool CallGate::Drain(absl::Duration timeout) {
  absl::MutexLock lock(&calls_mu_);
  draining_ = true;
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(calls_mu_) { return calls_in_flight_ == 0; };
  return calls_mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

bool CallGate::draining() const {
  absl::MutexLock lock(&calls_mu_);
  return draining_;
}

void CallGate::ReleaseStream(const std::string& identity) {
  absl::MutexLock lock(&streams_mu_);
  auto it = open_streams_.find(identity);
  if (it != open_streams_.end() && --it->second == 0) open_streams_.erase(it);
}

}  // namespace innsyn::daemon
