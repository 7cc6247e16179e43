// What every innsyn call passes before its handler does any work: who the
// caller is (the client certificate's common name and its role URI, or the
// peer address in loopback development mode), the caller's rate limit, the
// role's permission for the method, the number of streams the caller has
// open, and a deadline. A call outside the caller's role is refused with
// PERMISSION_DENIED and recorded in the ledger as a denied QueryRecord.
// Thread-safe; borrows the ledger and metrics, which must outlive it.
#ifndef INNSYN_DAEMON_AUTH_CALL_GATE_H_
#define INNSYN_DAEMON_AUTH_CALL_GATE_H_

#include <grpcpp/server_context.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/auth/call_deadlines.h"
#include "daemon/auth/rate_limiter.h"
#include "daemon/auth/roles.h"
#include "exporters/metrics.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

// The metadata key by which a portal names the patient it acts for; a
// portal's ListSubjectAccess must ask about exactly that subject.
inline constexpr char kActingForMetadata[] = "innsyn-acting-for";

struct CallLimits {
  // Token bucket per caller identity; 0 calls a second turns it off.
  double calls_per_second = 1000;
  double burst = 2000;
  // AppendStream calls one caller may have open at once.
  size_t max_streams_per_client = 8;
  // The longest a unary call, or a stream, may run, whatever its client's
  // deadline says.
  absl::Duration max_call_duration = absl::Minutes(5);
  absl::Duration max_stream_duration = absl::Hours(1);

  bool operator==(const CallLimits&) const = default;
};

struct Caller {
  std::string identity;  // certificate common name, or the peer address
  std::string role;      // one of kRoles, or kLocalRole without TLS
};

class CallGate {
 public:
  // `mtls`: callers are identified by their client certificate (verified
  // by the TLS handshake); otherwise every caller has kLocalRole.
  CallGate(bool mtls, RolePermissions roles, CallLimits limits, storage::Ledger& ledger,
           exporters::Metrics& metrics);

  // Held by a handler for the whole call.
  class Pass {
   public:
    Pass(Pass&& other) noexcept
        : gate_(std::exchange(other.gate_, nullptr)),
          caller_(std::move(other.caller_)),
          holds_stream_(std::exchange(other.holds_stream_, false)),
          ticket_(std::move(other.ticket_)) {}
    Pass& operator=(Pass&&) = delete;
    ~Pass();
    const Caller& caller() const { return caller_; }

   private:
    friend class CallGate;
    Pass(CallGate* gate, Caller caller, bool holds_stream, CallDeadlines::Ticket ticket)
        : gate_(gate),
          caller_(std::move(caller)),
          holds_stream_(holds_stream),
          ticket_(std::move(ticket)) {}
    CallGate* gate_;
    Caller caller_;
    bool holds_stream_;
    CallDeadlines::Ticket ticket_;
  };

  // Admits the call or returns the status to answer it with.
  // `asked` says what the call asks about (subject_id, actor_id, reason),
  // recorded if the call is denied.
  absl::StatusOr<Pass> Admit(grpc::ServerContextBase& context, Method method,
                             const v1::QueryRecord& asked = {});
  // The same for a handler that must not wait for the ledger (gRPC's
  // callback API, whose few threads serve every such call): a denied call
  // is refused at once and its record queued, durable a moment later.
  absl::StatusOr<Pass> AdmitWithoutWaiting(grpc::ServerContextBase& context, Method method);
  // The same for a call on another listener (daemon/http), which identified
  // `caller` by its own TLS handshake (or says why it could not) and bounds
  // the call's duration itself. `acting_for` is what a portal's
  // innsyn-acting-for metadata would say.
  absl::StatusOr<Pass> Admit(const absl::StatusOr<Caller>& caller, Method method,
                             const v1::QueryRecord& asked = {},
                             std::optional<std::string_view> acting_for = std::nullopt);
  // Whether callers are identified by client certificates (else every
  // caller has kLocalRole).
  bool mtls() const { return mtls_; }
  // Charges one more call to an admitted caller's rate limit: each batch
  // on a stream counts as a call. ResourceExhausted past the limit.
  absl::Status ChargeCall(const Pass& pass);

  // For shutdown: from now on every call is refused with UNAVAILABLE; waits
  // until no admitted call is left running, or `timeout` has passed. True
  // if none is left, so that the server can close its connections at once
  // rather than wait for idle clients to hang up.
  bool Drain(absl::Duration timeout);
  // Whether Drain has been called: a long call (a stream) should end soon.
  bool draining() const;

 private:
  // Whether a denied call's record is durable before the call is refused.
  enum class DenialRecord { kDurable, kQueued };
  // Admit, for either listener; `context` (may be null) is the gRPC call
  // whose duration is watched.
  absl::StatusOr<Pass> AdmitCaller(const absl::StatusOr<Caller>& caller, Method method,
                                   const v1::QueryRecord& asked,
                                   std::optional<std::string_view> acting_for,
                                   grpc::ServerContextBase* context,
                                   DenialRecord record = DenialRecord::kDurable);
  // AdmitCaller, for a call already counted in calls_in_flight_.
  absl::StatusOr<Pass> AdmitCounted(const absl::StatusOr<Caller>& caller, Method method,
                                    const v1::QueryRecord& asked,
                                    std::optional<std::string_view> acting_for,
                                    grpc::ServerContextBase* context, DenialRecord record);
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;
  // Why `caller` may not call `method`, or empty if it may.
  std::string Forbidden(const Caller& caller, Method method, const v1::QueryRecord& asked,
                        std::optional<std::string_view> acting_for) const;
  absl::Status Deny(const Caller& caller, Method method, v1::QueryRecord asked,
                    const std::string& why, DenialRecord record);
  absl::Status TakeToken(const Caller& caller);
  void ReleaseStream(const std::string& identity);
  void Release();  // an admitted call has ended

  const bool mtls_;
  const RolePermissions roles_;
  const CallLimits limits_;
  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  RateLimiter rate_limiter_;
  CallDeadlines deadlines_;
  absl::Mutex streams_mu_;
  absl::flat_hash_map<std::string, size_t> open_streams_ ABSL_GUARDED_BY(streams_mu_);
  mutable absl::Mutex calls_mu_;
  size_t calls_in_flight_ ABSL_GUARDED_BY(calls_mu_) = 0;  // admitted or being admitted
  bool draining_ ABSL_GUARDED_BY(calls_mu_) = false;
};

// Admits one call as the CallGate does, given what it asks (recorded if it
// is refused). A gRPC handler admits from its ServerContext; another
// listener (daemon/http, daemon/console) for a caller it identified itself.
using Admission =
    std::function<absl::StatusOr<CallGate::Pass>(Method, const v1::QueryRecord& asked)>;

// The Admission of a gRPC call; borrows `gate` and `context`.
inline Admission GrpcAdmission(CallGate& gate, grpc::ServerContext& context) {
  return [&gate, &context](Method method, const v1::QueryRecord& asked) {
    return gate.Admit(context, method, asked);
  };
}

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_AUTH_CALL_GATE_H_
