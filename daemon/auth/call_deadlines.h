// Ends calls that outlive the server's own limit. gRPC ends a call at the
// deadline its client set; a client that set none, or a distant one, is
// held to `limit` here, so that no call holds a server thread or a stream
// slot for ever. One watchdog thread cancels calls past their limit.
// Thread-safe; a Ticket must be destroyed before its call's context is: on
// the sync server before the handler returns, on the callback API before
// the call is finished.
#ifndef INNSYN_DAEMON_AUTH_CALL_DEADLINES_H_
#define INNSYN_DAEMON_AUTH_CALL_DEADLINES_H_

#include <grpcpp/server_context.h>

#include <cstdint>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace innsyn::daemon {

class CallDeadlines {
 public:
  CallDeadlines();
  ~CallDeadlines();
  CallDeadlines(const CallDeadlines&) = delete;
  CallDeadlines& operator=(const CallDeadlines&) = delete;

  // Watching stops when the ticket is destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();

   private:
    friend class CallDeadlines;
    Ticket(CallDeadlines* owner, uint64_t id) : owner_(owner), id_(id) {}
    CallDeadlines* owner_ = nullptr;
    uint64_t id_ = 0;
  };

  // Cancels `context`'s call if it still runs `limit` from now.
  Ticket Watch(grpc::ServerContextBase& context, absl::Duration limit);

 private:
  void Forget(uint64_t id);
  void Run();

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::pair<absl::Time, grpc::ServerContextBase*>> calls_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, uint64_t>> by_deadline_ ABSL_GUARDED_BY(mu_);
  std::thread watchdog_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_AUTH_CALL_DEADLINES_H_
