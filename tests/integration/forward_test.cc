// `innsynctl forward` against the real innsynd: CSV and JSON-lines files
// are sent as they are written; innsynd stopped, the forwarder killed, the
// file rotated, a bad row: every row arrives exactly once, which the tests
// check by reading every entry back from the ledger. They wait by polling
// with generous timeouts, never by sleeping a guessed time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "innsyn/v1/service.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace innsyn {
namespace {

using testing::Contains;
using testing::DaemonProcess;
using testing::Eventually;
using testing::ReadFile;
using testing::RunCommand;

constexpr auto kArrivalTimeout = std::chrono::seconds(60);

// A journal system's audit export: Norwegian column names, semicolons,
// local times, its own words for actions.
constexpr char kCsvMapping[] = R"(
format = "csv"
time_zone = "Europe/Oslo"
time_formats = ["%d.%m.%Y %H:%M:%S"]
[csv]
delimiter = ";"
[columns]
occurred-at = "Tidspunkt"
actor-id = "Bruker"
actor-role = "Rolle"
subject-id = "Fnr"
action = "Handling"
subtype = "Handling"
object-id = "Dokument"
[constants]
source = "opus-dental/klinikk-1"
subject-kind = "patient"
object-type = "journal_note"
purpose = "treatment"
[values.action]
"Les" = "read"
"Endre" = "update"
[values.subtype]
"Les" = "view"
"Endre" = "update"
)";
constexpr char kCsvHeader[] = "Tidspunkt;Bruker;Rolle;Fnr;Handling;Dokument\n";

// Row i: a distinct document, times a minute apart from 24.11.2025 08:00 Oslo.
std::string CsvRow(int i) {
  char time[32];
  std::snprintf(time, sizeof(time), "24.11.2025 %02d:%02d:00", 8 + (i / 60) % 12, i % 60);
  return std::string(time) + ";dr-hansen;tannlege;01017012345;Les;note-" + std::to_string(i) + "\n";
}

std::string CsvRows(int from, int to) {
  std::string rows;
  for (int i = from; i < to; ++i) rows += CsvRow(i);
  return rows;
}

// A web server's JSON log, nested keys and its own event ids.
constexpr char kJsonMapping[] = R"(
format = "jsonl"
[columns]
event-id = "id"
occurred-at = "time"
actor-id = "user.id"
subject-id = "user.id"
network-address = "client.ip"
[constants]
source = "website"
actor-role = "patient"
subject-kind = "patient"
action = "execute"
subtype = "login"
object-type = "account"
)";

std::string JsonLine(int i) {
  return "{\"id\":\"web-" + std::to_string(i) +
         "\",\"time\":\"2025-11-24T19:02:11+01:00\",\"user\":{\"id\":\"0101701234" +
         std::to_string(i % 10) + "\"},\"client\":{\"ip\":\"84.210.3.7\"}}\n";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

void AppendFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// `innsynctl forward` following a file, in the background, its output in a file.
class ForwardProcess {
 public:
  ForwardProcess(std::vector<std::string> args, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~ForwardProcess() {
    if (pid_ > 0) Stop(SIGKILL);
  }
  // Sends `signal`; the exit code, or -1 if it did not exit by itself.
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    StartDaemon();
  }

  void StartDaemon() {
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, dir_.path() + "/data",
        std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port_)});
    ASSERT_TRUE(daemon_->running());
    auto channel = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    log_ = v1::AccessLogService::NewStub(channel);
  }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Server() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<std::string> ForwardArgs(const std::string& mapping, const std::string& file,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {INNSYNCTL_PATH, "--server", Server(), "forward",
                                     "--mapping",    mapping,    file};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::unique_ptr<ForwardProcess> Follow(const std::string& mapping, const std::string& file,
                                         std::vector<std::string> extra = {}) {
    std::vector<std::string> args = ForwardArgs(mapping, file);
    args.insert(args.end(), {"--state", Path("forward.state"), "--max-backoff", "1"});
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ForwardProcess>(args, Path("forward.log"));
  }

  // Every access event in the ledger, in ledger order.
  std::vector<v1::AccessEvent> AccessEvents() {
    std::vector<v1::AccessEvent> events;
    constexpr uint32_t kPage = 1000;
    for (uint64_t from = 0;;) {
      v1::GetEntriesRequest request;
      request.set_from_seq(from);
      request.set_count(kPage);
      request.set_reason("forward test");
      v1::GetEntriesResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (!log_->GetEntries(&context, request, &response).ok()) return {};
      for (const v1::RecordedEntry& entry : response.entries()) {
        if (entry.entry().has_access_event()) events.push_back(entry.entry().access_event());
      }
      if (response.entries_size() < static_cast<int>(kPage)) return events;
      from += response.entries_size();
    }
  }

  // Waits until the ledger holds `count` access events; then checks that
  // no event id is there twice.
  void ExpectEventsArrive(size_t count) {
    size_t seen = 0;
    EXPECT_TRUE(
        Eventually([&] { return (seen = AccessEvents().size()) >= count; }, kArrivalTimeout))
        << "only " << seen << " of " << count << " events arrived; forward said:\n"
        << ReadFile(Path("forward.log"));
    std::vector<v1::AccessEvent> events = AccessEvents();
    EXPECT_EQ(events.size(), count);
    std::map<std::string, int> ids;
    for (const v1::AccessEvent& event : events) ++ids[event.event_id()];
    EXPECT_EQ(ids.size(), events.size()) << "an event was recorded twice";
  }

  // The document ids that arrived, to check that every row is there.
  std::set<std::string> Documents() {
    std::set<std::string> documents;
    for (const v1::AccessEvent& event : AccessEvents()) documents.insert(event.data_object().id());
    return documents;
  }

  static std::set<std::string> DocumentRange(int from, int to) {
    std::set<std::string> documents;
    for (int i = from; i < to; ++i) documents.insert("note-" + std::to_string(i));
    return documents;
  }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<v1::AccessLogService::Stub> log_;
};

TEST_F(ForwardTest, CsvExportIsSentOnceWithItsWordsAndLocalTimesMapped) {
  WriteFile(Path("map.toml"), std::string(kCsvMapping) + "[attributes]\nnote = \"Merknad\"\n");
  // A quoted field may hold the delimiter, a quote and a line break.
  auto row = [](int i) {
    std::string text = CsvRow(i);
    return text.substr(0, text.size() - 1) + ";\n";
  };
  WriteFile(Path("audit.csv"),
            "Tidspunkt;Bruker;Rolle;Fnr;Handling;Dokument;Merknad\n" + row(0) +
                "24.11.2025 08:01:00;dr-hansen;tannlege;01017012345;Endre;note-1;"
                "\"a;\"\"b\"\"\nline two\"\n" +
                row(2));
  testing::CommandResult first =
      RunCommand(ForwardArgs(Path("map.toml"), Path("audit.csv"), {"--once"}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(Contains(first.output, "forwarded 3 events")) << first.output;

  std::vector<v1::AccessEvent> events = AccessEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].source().system(), "opus-dental");
  EXPECT_EQ(events[0].source().instance(), "klinikk-1");
  EXPECT_EQ(events[0].action(), v1::ACTION_CODE_READ);
  EXPECT_EQ(events[0].action_subtype(), v1::ACTION_SUBTYPE_VIEW);
  EXPECT_EQ(events[0].actor().role(), "tannlege");
  // 08:00 in Oslo in November is 07:00 UTC.
  EXPECT_EQ(events[0].occurred_at().seconds(), 1763967600);
  EXPECT_EQ(events[1].action(), v1::ACTION_CODE_UPDATE);
  EXPECT_EQ(events[1].attributes().at("note"), "a;\"b\"\nline two");
  EXPECT_EQ(events[0].attributes_size(), 0);
  EXPECT_TRUE(events[0].event_id().starts_with("f-")) << events[0].event_id();

  // The same file again (a one-off import run twice): nothing new.
  testing::CommandResult again =
      RunCommand(ForwardArgs(Path("map.toml"), Path("audit.csv"), {"--once"}));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "3 already recorded")) << again.output;
  EXPECT_EQ(AccessEvents().size(), 3u);
}

TEST_F(ForwardTest, JsonLinesAreFollowedAsTheyAreWritten) {
  WriteFile(Path("map.toml"), kJsonMapping);
  WriteFile(Path("web.log"), JsonLine(1) + JsonLine(2));
  auto forward = Follow(Path("map.toml"), Path("web.log"));
  ExpectEventsArrive(2);
  // A line still being written waits for its line break.
  std::string third = JsonLine(3);
  AppendFile(Path("web.log"), third.substr(0, 20));
  AppendFile(Path("web.log"), third.substr(20) + JsonLine(4));
  ExpectEventsArrive(4);
  std::vector<v1::AccessEvent> events = AccessEvents();
  EXPECT_EQ(events[2].event_id(), "web-3");
  EXPECT_EQ(events[2].network_address(), "84.210.3.7");
  EXPECT_EQ(events[2].actor().id(), "01017012343");
  // A line that is not JSON is set aside, named by its line; the next one goes on.
  AppendFile(Path("web.log"), "{\"id\": \"web-5\", oops\n" + JsonLine(6));
  ExpectEventsArrive(5);
  EXPECT_TRUE(Contains(ReadFile(Path("forward.log")), Path("web.log") + " line 5: not JSON"))
      << ReadFile(Path("forward.log"));
  EXPECT_TRUE(Contains(ReadFile(Path("forward.state.rejected")), "\"line\":5"));
  EXPECT_EQ(forward->Stop(SIGTERM), 0) << ReadFile(Path("forward.log"));
}

TEST_F(ForwardTest, InnsyndAwayLosesAndDuplicatesNothing) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(0, 300));
  auto forward = Follow(Path("map.toml"), Path("audit.csv"), {"--batch", "25"});
  ExpectEventsArrive(300);
  // innsynd dies; the export goes on meanwhile.
  daemon_->StopWith(SIGKILL);
  AppendFile(Path("audit.csv"), CsvRows(300, 500));
  EXPECT_TRUE(Eventually([&] { return Contains(ReadFile(Path("forward.log")), "UNAVAILABLE"); },
                         kArrivalTimeout))
      << ReadFile(Path("forward.log"));
  StartDaemon();
  ExpectEventsArrive(500);
  EXPECT_EQ(Documents(), DocumentRange(0, 500));
  EXPECT_EQ(forward->Stop(SIGTERM), 0);
}

TEST_F(ForwardTest, ForwarderKilledAndRestartedRecordsNothingTwice) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(0, 100));
  auto forward = Follow(Path("map.toml"), Path("audit.csv"), {"--batch", "10"});
  ExpectEventsArrive(100);
  forward->Stop(SIGKILL);
  const std::string state = ReadFile(Path("forward.state"));
  AppendFile(Path("audit.csv"), CsvRows(100, 150));
  auto again = Follow(Path("map.toml"), Path("audit.csv"));
  ExpectEventsArrive(150);
  again->Stop(SIGKILL);
  // As if killed between innsynd's answer and saving the position: the
  // state says line 52 while innsynd has 150 rows. Those go again, and
  // innsynd knows them.
  nlohmann::json older = nlohmann::json::parse(state);
  older["offset"] = sizeof(kCsvHeader) - 1 + CsvRows(0, 50).size();  // the header and 50 rows
  older["line"] = 52;
  WriteFile(Path("forward.state"), older.dump());
  AppendFile(Path("audit.csv"), CsvRows(150, 160));
  auto third = Follow(Path("map.toml"), Path("audit.csv"));
  ExpectEventsArrive(160);
  EXPECT_EQ(Documents(), DocumentRange(0, 160));
  EXPECT_EQ(third->Stop(SIGTERM), 0);
  EXPECT_TRUE(Contains(ReadFile(Path("forward.log")), "100 already recorded"))
      << ReadFile(Path("forward.log"));
}

TEST_F(ForwardTest, RotatedFileArrivesWholeBothHalves) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(0, 50));
  auto forward = Follow(Path("map.toml"), Path("audit.csv"));
  ExpectEventsArrive(50);
  // Rotation: the file is renamed, its writer adds a last few rows to it,
  // and a new file takes the name.
  std::filesystem::rename(Path("audit.csv"), Path("audit.csv.1"));
  AppendFile(Path("audit.csv.1"), CsvRows(50, 60));
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(60, 100));
  ExpectEventsArrive(100);
  EXPECT_EQ(Documents(), DocumentRange(0, 100));

  // Rotated while the forwarder is stopped: the rest of the old file is
  // found by its inode.
  forward->Stop(SIGKILL);
  AppendFile(Path("audit.csv"), CsvRows(100, 120));
  std::filesystem::rename(Path("audit.csv"), Path("audit.csv.2"));
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(120, 130));
  auto again = Follow(Path("map.toml"), Path("audit.csv"));
  ExpectEventsArrive(130);
  EXPECT_EQ(Documents(), DocumentRange(0, 130));
  EXPECT_EQ(again->Stop(SIGTERM), 0);
}

TEST_F(ForwardTest, TruncatedFileIsReadAgainFromItsStart) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(0, 30));
  auto forward = Follow(Path("map.toml"), Path("audit.csv"));
  ExpectEventsArrive(30);
  // copytruncate: the same inode starts again, shorter.
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(30, 35));
  ExpectEventsArrive(35);
  EXPECT_EQ(Documents(), DocumentRange(0, 35));
  EXPECT_EQ(forward->Stop(SIGTERM), 0);
}

TEST_F(ForwardTest, BadRowsAreNamedByLineAndColumnAndSetAside) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), std::string(kCsvHeader) + CsvRow(0) +
                                   "24.11.2025 08:01:00;dr-hansen;tannlege;01017012345\n" +
                                   "31.02.2025 08:02:00;dr-hansen;tannlege;01017012345;Les;x\n" +
                                   CsvRow(3));
  std::vector<std::string> args = ForwardArgs(Path("map.toml"), Path("audit.csv"));
  args.insert(args.end(), {"--once", "--rejects", Path("rejected.jsonl")});
  testing::CommandResult result = RunCommand(args);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(Contains(result.output, Path("audit.csv") +
                                          " line 3: column \"Handling\" (action): missing "
                                          "(the row has 4 columns, the header 6)"))
      << result.output;
  EXPECT_TRUE(Contains(result.output, Path("audit.csv") +
                                          " line 4: column \"Tidspunkt\" (occurred-at): "
                                          "\"31.02.2025 08:02:00\" is not a time"))
      << result.output;
  EXPECT_TRUE(Contains(result.output, "2 bad rows were not sent")) << result.output;
  EXPECT_EQ(AccessEvents().size(), 2u);
  const std::string rejected = ReadFile(Path("rejected.jsonl"));
  EXPECT_TRUE(Contains(rejected, "\"line\":3")) << rejected;
  EXPECT_TRUE(Contains(rejected, "\"line\":4")) << rejected;
}

TEST_F(ForwardTest, StopOnBadRowStopsBeforeItAndResumesThere) {
  WriteFile(Path("map.toml"), kCsvMapping);
  WriteFile(Path("audit.csv"), std::string(kCsvHeader) + CsvRow(0) + CsvRow(1) +
                                   "24.11.2025 08:01:00;dr-hansen;tannlege;01017012345;Les;x;y\n"
                                   "bad \"quote;dr-hansen;tannlege;01017012345;Les;x\n" +
                                   CsvRow(4));
  std::vector<std::string> args = ForwardArgs(Path("map.toml"), Path("audit.csv"));
  args.insert(args.end(), {"--once", "--stop-on-bad-row", "--state", Path("forward.state")});
  testing::CommandResult result = RunCommand(args);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(Contains(result.output, " line 5: malformed CSV")) << result.output;
  EXPECT_EQ(AccessEvents().size(), 3u);  // an extra column is no harm
  EXPECT_TRUE(Contains(ReadFile(Path("forward.state")), "\"line\":5"))
      << ReadFile(Path("forward.state"));
}

TEST_F(ForwardTest, MappingMistakesAreNamedBeforeAnythingIsSent) {
  WriteFile(Path("map.toml"), std::string(kCsvMapping) + "\n[attributes]\nward = \"Avdeling\"\n");
  WriteFile(Path("audit.csv"), kCsvHeader + CsvRows(0, 3));
  testing::CommandResult result =
      RunCommand(ForwardArgs(Path("map.toml"), Path("audit.csv"), {"--once"}));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(Contains(result.output, "column \"Avdeling\" (ward) is not in the header"))
      << result.output;
  WriteFile(Path("bad.toml"), "format = \"csv\"\n[constants]\nsubject-kind = \"pasient\"\n");
  result = RunCommand(ForwardArgs(Path("bad.toml"), Path("audit.csv"), {"--once"}));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(Contains(result.output, "must be in [columns] or [constants]")) << result.output;
  EXPECT_EQ(AccessEvents().size(), 0u);
}

}  // namespace
}  // namespace innsyn
