// An erasure killed at any moment: a child process opens the ledger, starts
// an Erase and kills itself with SIGKILL a fixed while later, over a list of
// delays. After each, the reopened ledger verifies, every key an erasure
// record names is shredded (no half-shredded period survives a start), and
// every event acknowledged before is either erased, because its key was
// named, or readable: nothing else is lost.
//
// The child is this test program run again (posix_spawn of /proc/self/exe)
// with only the disabled ForgettingCrashChild test: a fresh process, unlike
// a fork of one whose RocksDB background threads would be missing in the
// child. It dies by SIGKILL and runs no teardown.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/ledger.h"
#include "tests/storage/forgetting_test_support.h"
#include "tests/storage/ledger_test_support.h"

extern char** environ;

namespace innsyn::storage {
namespace {

using innsyn::testing::At;
using innsyn::testing::History;
using innsyn::testing::kIngrid;
using innsyn::testing::NamedKeys;
using innsyn::testing::NoneErased;
using innsyn::testing::OpenTestLedger;
using innsyn::testing::Person;
using innsyn::testing::PersonalRead;

constexpr char kDirVariable[] = "INNSYN_FORGET_CRASH_DIR";
constexpr char kSubjectVariable[] = "INNSYN_FORGET_CRASH_SUBJECT";
constexpr char kDelayVariable[] = "INNSYN_FORGET_CRASH_DELAY_MICROS";
constexpr char kChildTest[] = "ForgettingCrashChild.DISABLED_EraseThenDie";
constexpr int kChildCannotOpen = 3;

// When each child kills itself after starting its Erase: from before the
// record is written to after the keys are shredded and purged.
constexpr int kKillDelaysMicros[] = {0,    50,    100,   200,   300,   500,  750,
                                     1000, 1500,  2000,  3000,  4000,  5000, 7000,
                                     9000, 12000, 16000, 25000, 40000, 80000};
constexpr int kKills = sizeof(kKillDelaysMicros) / sizeof(kKillDelaysMicros[0]);

Person Patient(int i) { return Person{"patient-" + std::to_string(i), ""}; }

// The child: erases the subject it is told, and dies while it does.
TEST(ForgettingCrashChild, DISABLED_EraseThenDie) {
  const char* dir = std::getenv(kDirVariable);
  const char* subject = std::getenv(kSubjectVariable);
  const char* delay = std::getenv(kDelayVariable);
  if (dir == nullptr || subject == nullptr || delay == nullptr) {
    GTEST_SKIP() << "run by ForgettingCrash.KilledEraseIsFinishedOrNeverBegun";
  }
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir);
  if (ledger == nullptr) std::_Exit(kChildCannotOpen);
  ErasureOrder order;
  order.subject_id = subject;
  order.reason = "GDPR art. 17(1)(a)";
  std::thread eraser([&] { (void)ledger->Erase(order); });
  std::this_thread::sleep_for(std::chrono::microseconds(std::atoi(delay)));
  ::kill(::getpid(), SIGKILL);
  eraser.join();  // not reached
}

// Runs the child on `dir` and returns its wait status.
int RunChild(const std::string& dir, const std::string& subject, int delay_micros) {
  const std::string program = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {program, "--gtest_also_run_disabled_tests",
                                   std::string("--gtest_filter=") + kChildTest};
  std::vector<std::string> env;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    // Not the parent's sharding or output settings.
    if (!std::string_view(*variable).starts_with("GTEST_")) env.push_back(*variable);
  }
  env.push_back(std::string(kDirVariable) + "=" + dir);
  env.push_back(std::string(kSubjectVariable) + "=" + subject);
  env.push_back(std::string(kDelayVariable) + "=" + std::to_string(delay_micros));
  auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  };
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0);
  if (spawned != 0) return -1;
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

TEST(ForgettingCrash, KilledEraseIsFinishedOrNeverBegun) {
  testing::TempDir dir;
  uint64_t acknowledged = 0;
  {
    std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    // Each patient to be erased has two keys (2025, 2026); the last two
    // are never erased.
    std::vector<v1::AccessEvent> events;
    for (int i = 0; i < kKills + 2; ++i) {
      for (int year : {2025, 2026}) {
        for (int month : {2, 8}) {
          events.push_back(
              PersonalRead(static_cast<int>(events.size()), Patient(i), kIngrid, At(year, month)));
        }
      }
    }
    ASSERT_TRUE(ledger->AppendEvents(events).ok());
    acknowledged = ledger->Size();
  }

  size_t named_so_far = 0;  // by the erasures recorded before this kill
  int killed_before_record = 0, killed_before_shred = 0, finished = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE("kill " + std::to_string(kill) + " after " +
                 std::to_string(kKillDelaysMicros[kill]) + "us");
    const std::string subject = Patient(kill).id;
    const int status = RunChild(dir.path(), subject, kKillDelaysMicros[kill]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;

    // As the crash left it, before a start finishes anything.
    bool recorded = false;
    {
      std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path(), /*read_only=*/true);
      ASSERT_NE(ledger, nullptr);
      const std::set<std::string> named = NamedKeys(*ledger);
      recorded = named.size() == named_so_far + 2;
      ASSERT_EQ(named.size(), recorded ? named_so_far + 2 : named_so_far);
      const size_t shredded = ledger->CountKeys()->shredded;
      EXPECT_LE(shredded, named.size()) << "a key was shredded that no record names";
      if (!recorded) {
        ++killed_before_record;
      } else if (shredded < named.size()) {
        ++killed_before_shred;
      } else {
        ++finished;
      }
    }

    std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    VerifyReport report = ledger->Verify(/*check_indexes=*/true);
    EXPECT_TRUE(report.ok) << report.problem;
    const std::set<std::string> named = NamedKeys(*ledger);
    EXPECT_EQ(ledger->CountKeys()->shredded, named.size());
    EXPECT_EQ(ledger->Size(), acknowledged + named.size() / 2);
    std::vector<StoredEntry> entries = *ledger->GetEntries(0, acknowledged);
    ASSERT_EQ(entries.size(), acknowledged);
    for (const StoredEntry& entry : entries) {
      const bool named_key = named.contains(entry.header.key_id());
      EXPECT_EQ(entry.erased, named_key) << "seq " << entry.seq << " " << entry.header.key_id();
      if (!named_key) {
        EXPECT_TRUE(entry.entry.has_access_event()) << entry.seq;
      }
    }
    // The subject is erased all through or not at all.
    std::vector<StoredEntry> history = History(*ledger, subject);
    size_t erased = 0;
    for (const StoredEntry& entry : history) erased += entry.erased ? 1 : 0;
    EXPECT_EQ(erased, recorded ? 4u : 0u);
    named_so_far = named.size();
  }
  // Which moments the kills hit depends on the machine; printed, not asserted.
  std::cout << "kills before the erasure record: " << killed_before_record
            << ", between record and shred: " << killed_before_shred
            << ", after the shred: " << finished << "\n";
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  EXPECT_TRUE(NoneErased(History(*ledger, Patient(kKills).id)));
}

}  // namespace
}  // namespace innsyn::storage
