#include "daemon/auth/call_deadlines.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>

#include "absl/synchronization/notification.h"
#include "tests/daemon/auth/handler_server.h"
#include "tests/support/status_matchers.h"

namespace innsyn::daemon {
namespace {

using ::innsyn::testing::IsOk;
using ::innsyn::testing::StatusIs;

// A limit that no test outlives.
constexpr absl::Duration kDistantLimit = absl::Hours(1);
// CallDeadlines reads the wall clock and takes no clock to inject. To show
// that a call whose ticket is gone is left alone, its limit must still lie
// ahead when the ticket goes: this margin is far more than the two
// statements in between take. No test sleeps it; one waits it out once.
constexpr absl::Duration kLimitAheadOfTheTicketsEnd = absl::Seconds(3);

// Real calls to watch, on a plaintext loopback server.
class CallDeadlinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::HandlerServer>> server =
        testing::HandlerServer::StartPlaintext();
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    channel_ = server_->Channel();
  }

  // Runs a call until it is cancelled, watched for `limit`; the status its
  // client sees. Notifies `cancelled`, if given, once the handler has seen
  // its call cancelled.
  absl::Status WatchUntilCancelled(absl::Duration limit, absl::Notification* cancelled = nullptr) {
    return server_->Call(channel_, [this, limit, cancelled](grpc::ServerContext& context) {
      CallDeadlines::Ticket ticket = deadlines_.Watch(context, limit);
      if (!testing::EventuallyCancelled(context)) return absl::InternalError("never cancelled");
      if (cancelled != nullptr) cancelled->Notify();
      return absl::OkStatus();
    });
  }

  // Starts a call that holds the ticket `watch` gives it until `release`;
  // the status its client will see. Returns once the call holds it.
  using Watch = std::function<CallDeadlines::Ticket(grpc::ServerContext& context)>;
  std::future<absl::Status> HoldUntil(absl::Notification& release, Watch watch) {
    auto holding = std::make_shared<absl::Notification>();
    std::future<absl::Status> call = server_->CallInBackground(
        channel_, [watch, holding, &release](grpc::ServerContext& context) {
          CallDeadlines::Ticket ticket = watch(context);
          holding->Notify();
          if (!release.WaitForNotificationWithTimeout(testing::kOtherCallTimeout)) {
            return absl::InternalError("never released");
          }
          return absl::OkStatus();
        });
    EXPECT_TRUE(holding->WaitForNotificationWithTimeout(testing::kOtherCallTimeout));
    return call;
  }

  std::unique_ptr<testing::HandlerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  CallDeadlines deadlines_;
};

TEST_F(CallDeadlinesTest, ACallStillRunningAtItsLimitIsCancelled) {
  EXPECT_THAT(WatchUntilCancelled(absl::ZeroDuration()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(CallDeadlinesTest, ACallWithinItsLimitRunsOnWhileAnotherPastItsLimitIsCancelled) {
  absl::Notification other_cancelled;
  std::future<absl::Status> within = HoldUntil(
      other_cancelled,
      [this](grpc::ServerContext& context) { return deadlines_.Watch(context, kDistantLimit); });
  EXPECT_THAT(WatchUntilCancelled(absl::ZeroDuration(), &other_cancelled),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(within.get(), IsOk());
}

TEST_F(CallDeadlinesTest, ACallWhoseTicketIsGoneIsNotCancelledAtItsLimit) {
  absl::Notification later_call_cancelled;
  std::future<absl::Status> forgotten =
      HoldUntil(later_call_cancelled, [this](grpc::ServerContext& context) {
        { CallDeadlines::Ticket gone = deadlines_.Watch(context, kLimitAheadOfTheTicketsEnd); }
        return CallDeadlines::Ticket();
      });
  // The later call's limit ends after the forgotten one's, and the
  // watchdog cancels in the order limits end: once the later call is
  // cancelled, the forgotten one would have been too, were it watched.
  EXPECT_THAT(WatchUntilCancelled(kLimitAheadOfTheTicketsEnd, &later_call_cancelled),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(forgotten.get(), IsOk());
}

TEST_F(CallDeadlinesTest, AMovedTicketStillWatchesItsCall) {
  EXPECT_THAT(server_->Call(channel_,
                            [this](grpc::ServerContext& context) {
                              CallDeadlines::Ticket kept;
                              {
                                CallDeadlines::Ticket first =
                                    deadlines_.Watch(context, absl::ZeroDuration());
                                CallDeadlines::Ticket second(std::move(first));
                                kept = std::move(second);
                              }  // the moved-from tickets are gone
                              if (!testing::EventuallyCancelled(context)) {
                                return absl::InternalError("never cancelled");
                              }
                              return absl::OkStatus();
                            }),
              StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace innsyn::daemon
