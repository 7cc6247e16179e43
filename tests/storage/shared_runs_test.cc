#include "storage/internal/shared_runs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

#include "absl/synchronization/notification.h"
#include "base/strings.h"

namespace innsyn::storage::internal {
namespace {

// An ask made while a run is under way is not answered by that run (it may
// not cover what the caller did just before asking), but by the next, which
// every ask made meanwhile shares.
TEST(SharedRuns, AnAskIsAnsweredByARunBegunAfterItAndAsksMadeTogetherShareOne) {
  std::atomic<int> runs{0};
  absl::Notification first_begun;
  absl::Notification release_first;
  SharedRuns worker([&] {
    const int run = ++runs;
    if (run == 1) {
      first_begun.Notify();
      release_first.WaitForNotification();
      return absl::OkStatus();
    }
    return absl::UnavailableError(StrCat("run ", run));
  });
  std::future<absl::Status> first = worker.Ask();
  first_begun.WaitForNotification();
  std::future<absl::Status> second = worker.Ask();
  std::future<absl::Status> third = worker.Ask();
  release_first.Notify();
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(second.get().message(), "run 2");
  EXPECT_EQ(third.get().message(), "run 2");
  EXPECT_EQ(runs.load(), 2);
}

TEST(SharedRuns, StoppingAnswersEveryAskFirst) {
  std::atomic<int> runs{0};
  auto worker = std::make_unique<SharedRuns>([&] {
    ++runs;
    return absl::OkStatus();
  });
  std::future<absl::Status> a = worker->Ask();
  std::future<absl::Status> b = worker->Ask();
  worker.reset();
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  EXPECT_GE(runs.load(), 1);
}

}  // namespace
}  // namespace innsyn::storage::internal
