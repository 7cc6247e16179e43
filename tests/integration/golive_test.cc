// Go-live against the real innsynd and innsynctl: the state a clinic holds
// when it starts (past treatment, bookings, contact details) imported from
// a CSV export as baseline entries, which the detectors learn from and no
// innsyn answer lists; a file with a bad row refused with its line and
// field, recording nothing; a roster whose identity numbers innsynd turned
// into pseudonyms, finding own, co-workers' and relatives' records.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "innsyn/v1/admin.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "tests/support/clinic_week.h"
#include "tests/support/daemon_process.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace innsyn {
namespace {

using testing::Contains;
using testing::DaemonProcess;
using testing::Eventually;
using testing::RunCommand;

constexpr int kWednesday = 9;  // days after a Monday two to three weeks ago
constexpr int kThursday = 10;

absl::Time Oslo(int day, int hour, int minute = 0) { return testing::OsloTime(day, hour, minute); }

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_sec, time, absl::UTCTimeZone());
}

// The export of the journal system at go-live: one row a fact.
constexpr char kMapping[] = R"(
format = "csv"
[columns]
occurred-at = "when"
actor-id = "who"
actor-role = "role"
subject-id = "patient"
action = "action"
subtype = "subtype"
object-type = "object"
purpose = "purpose"
[constants]
source = "opus-dental/klinikk-1"
subject-kind = "patient"
[attributes]
"appointment.clinician" = "clinician"
"appointment.start" = "start"
"contact.surname" = "surname"
"contact.address" = "address"
)";
constexpr char kHeader[] =
    "when,who,role,patient,action,subtype,object,purpose,clinician,start,"
    "surname,address\n";

// dr.lie treated p-known 100 days before; ann booked p-later with dr.lie.
std::string CareRows() {
  return std::string(kHeader) + Rfc3339(Oslo(kWednesday - 100, 10)) +
         ",dr.lie,dentist,p-known,create,create,journal_note,treatment,,,,\n" +
         Rfc3339(Oslo(kWednesday - 30, 9)) +
         ",ann,receptionist,p-later,create,create,appointment,administration,dr.lie," +
         Rfc3339(Oslo(kThursday, 10)) + ",,\n";
}

std::string ContactRow(const std::string& patient, const std::string& surname,
                       const std::string& address) {
  return Rfc3339(Oslo(kWednesday - 200, 9)) + ",ann,receptionist," + patient +
         ",create,create,contact_details,administration,,," + surname + ",\"" + address + "\"\n";
}

v1::AccessEvent JournalRead(const std::string& actor, const std::string& patient, int day,
                            int hour) {
  static int next_id = 0;
  v1::AccessEvent event;
  event.set_event_id("live-" + std::to_string(++next_id));
  event.mutable_source()->set_system("opus-dental");
  *event.mutable_occurred_at() = ToProto(Oslo(day, hour));
  event.mutable_actor()->set_id(actor);
  event.mutable_actor()->set_role("dentist");
  event.mutable_subject()->set_id(patient);
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.set_action(v1::ACTION_CODE_READ);
  event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
  event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_JOURNAL_NOTE);
  event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return event;
}

class GoLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("roster.toml", R"(
[[staff]]
id = "dr.lie"
role = "dentist"
[[staff]]
id = "dr.berg"
role = "dentist"
[[staff]]
id = "ann"
role = "receptionist"
)");
    Write("mapping.toml", kMapping);
    WriteConfig("roster.toml");
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // Detection on; a silent source is judged by the wall clock and these
  // events are from a fixed week, so that rule is off.
  void WriteConfig(const std::string& roster) {
    Write("innsynd.toml", "[detection]\nroster_file = \"" + Path(roster) +
                              "\"\n[detection.source_silent]\nenabled = false\n");
  }

  void Start() {
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, Path("data"),
        std::vector<std::string>{"--detection", "true", "--config", Path("innsynd.toml")});
    ASSERT_TRUE(daemon_->running());
    channel_ = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    ingest_ = v1::IngestService::NewStub(channel_);
    log_ = v1::AccessLogService::NewStub(channel_);
    alerts_ = v1::AlertService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  testing::CommandResult Innsynctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {INNSYNCTL_PATH, "--server", daemon_->grpc_address()});
    return RunCommand(args, input);
  }

  testing::CommandResult Import(const std::string& rows) {
    Write("export.csv", rows);
    return Innsynctl({"import", "--mapping", Path("mapping.toml"), Path("export.csv")});
  }

  void Append(std::vector<v1::AccessEvent> events) {
    v1::AppendRequest request;
    for (auto& event : events) *request.add_events() = std::move(event);
    v1::AppendResponse response;
    grpc::Status status = ingest_->Append(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::vector<v1::Alert> Alerts(const std::string& rule) {
    v1::ListAlertsRequest request;
    request.set_rule(rule);
    v1::ListAlertsResponse response;
    EXPECT_TRUE(alerts_->ListAlerts(Context().get(), request, &response).ok());
    std::vector<v1::Alert> out;
    for (const v1::AlertView& view : response.alerts()) out.push_back(view.alert());
    return out;
  }

  uint64_t LedgerSize() {
    v1::GetStatusResponse status;
    EXPECT_TRUE(admin_->GetStatus(Context().get(), {}, &status).ok());
    return status.ledger_size();
  }

  // Every entry of the ledger, contents opened.
  std::vector<v1::RecordedEntry> Entries() {
    v1::GetEntriesRequest request;
    request.set_count(1000);
    v1::GetEntriesResponse response;
    EXPECT_TRUE(log_->GetEntries(Context().get(), request, &response).ok());
    return {response.entries().begin(), response.entries().end()};
  }

  v1::ListSubjectAccessResponse History(const std::string& subject) {
    v1::ListSubjectAccessRequest request;
    request.set_subject_id(subject);
    v1::ListSubjectAccessResponse response;
    grpc::Status status = log_->ListSubjectAccess(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::AccessLogService::Stub> log_;
  std::unique_ptr<v1::AlertService::Stub> alerts_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(GoLiveTest, ImportedCareLinksRaiseNoAlertAndStayOutOfTheAnswers) {
  Start();
  testing::CommandResult imported = Import(CareRows());
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "2 new, 0 already imported")) << imported.output;

  // dr.lie reads a patient treated before go-live, one booked before it,
  // and one with no link at all: only the last raises an alert.
  Append({JournalRead("dr.lie", "p-known", kWednesday, 10),
          JournalRead("dr.lie", "p-later", kThursday, 10),
          JournalRead("dr.lie", "p-stranger", kWednesday, 11)});
  ASSERT_TRUE(Eventually([&] { return !Alerts("no_care_relationship").empty(); }));
  std::vector<v1::Alert> alerts = Alerts("no_care_relationship");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].subject_id(), "p-stranger");

  // The baseline entries are in the ledger, each its own kind ...
  size_t baseline = 0;
  for (const v1::RecordedEntry& recorded : Entries()) baseline += recorded.entry().has_baseline();
  EXPECT_EQ(baseline, 2u);
  // ... but in no answer: each patient's history holds the one read, which
  // the imported fact explains.
  v1::ListSubjectAccessResponse known = History("p-known");
  ASSERT_EQ(known.entries_size(), 1);
  EXPECT_TRUE(known.entries(0).entry().has_access_event());
  EXPECT_TRUE(Contains(known.entries(0).explanation(), "treated by this clinician"))
      << known.entries(0).explanation();
  v1::ListSubjectAccessResponse later = History("p-later");
  ASSERT_EQ(later.entries_size(), 1);
  EXPECT_TRUE(Contains(later.entries(0).explanation(), "appointment"))
      << later.entries(0).explanation();
  // The proof of completeness agrees: the history has one entry.
  testing::CommandResult proven = Innsynctl({"--reason", "test", "history", "--subject", "p-known",
                                             "--key-file", Path("data/checkpoint_key.pub")});
  EXPECT_EQ(proven.exit_code, 0) << proven.output;
  EXPECT_TRUE(Contains(proven.output, "complete: 1 entry,")) << proven.output;
  // The actor's activity lists the read, not the treatment imported.
  v1::ListActorActivityRequest activity;
  activity.set_actor_id("dr.lie");
  v1::ListActorActivityResponse done;
  ASSERT_TRUE(log_->ListActorActivity(Context().get(), activity, &done).ok());
  EXPECT_EQ(done.entries_size(), 3);

  // Every hash, the chain and every index (the baseline one included)
  // verify, on the server and offline.
  v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(log_->VerifyLedger(Context().get(), {}, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();

  // Importing the same file again records nothing.
  testing::CommandResult again = Import(CareRows());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "0 new, 2 already imported")) << again.output;
  baseline = 0;
  for (const v1::RecordedEntry& recorded : Entries()) baseline += recorded.entry().has_baseline();
  EXPECT_EQ(baseline, 2u);

  daemon_->StopWith(SIGTERM);
  testing::CommandResult offline =
      RunCommand({INNSYNCTL_PATH, "verify", "--data-dir", Path("data")});
  EXPECT_EQ(offline.exit_code, 0) << offline.output;
}

TEST_F(GoLiveTest, BadRowsAreNamedByLineAndFieldAndNothingIsImported) {
  Start();
  const std::string rows =
      CareRows() +
      // line 4: not a time; line 5: a time innsynd refuses (next year).
      "31.02.2026,dr.lie,dentist,p-x,create,create,journal_note,treatment,,,,\n" +
      Rfc3339(Now() + absl::Hours(24 * 365)) +
      ",dr.lie,dentist,p-y,create,create,journal_note,treatment,,,,\n";
  testing::CommandResult imported = Import(rows);
  EXPECT_EQ(imported.exit_code, 2) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "line 4")) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "(occurred-at)")) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "line 5")) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "occurred_at")) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "2 bad rows")) << imported.output;
  EXPECT_TRUE(Contains(imported.output, "nothing was imported")) << imported.output;
  EXPECT_EQ(LedgerSize(), 0u);
  // Mended, the file goes in whole.
  testing::CommandResult mended = Import(CareRows());
  ASSERT_EQ(mended.exit_code, 0) << mended.output;
  EXPECT_TRUE(Contains(mended.output, "2 new")) << mended.output;
}

TEST_F(GoLiveTest, RosterWithPseudonymsFindsOwnCoWorkersAndRelativesRecords) {
  Start();
  Write("plain.toml", R"(
[[staff]]
id = "dr.lie"
role = "dentist"
[[staff]]
id = "dr.berg"
role = "dentist"
surname = "Berg"
address = "Storgata 1, 0155 Oslo"
own_subject_ids = ["01017012345"]
related_subject_ids = ["12128054321"]
[[staff]]
id = "ann"
role = "receptionist"
)");
  testing::CommandResult converted =
      Innsynctl({"roster", "pseudonymize", Path("plain.toml"), "--out", Path("pseudonyms.toml"),
                 "--drop-address"});
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  const std::string roster = Read("pseudonyms.toml");
  for (const char* gone : {"01017012345", "12128054321", "surname", "address"}) {
    EXPECT_FALSE(Contains(roster, gone)) << gone << " in\n" << roster;
  }
  EXPECT_TRUE(Contains(roster, "own_subject_pseudonyms")) << roster;
  // The same pseudonym, one id at a time.
  testing::CommandResult one = Innsynctl({"roster", "pseudonym"}, "01017012345\n");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::string pseudonym = one.output.substr(0, one.output.find('\n'));
  EXPECT_EQ(pseudonym.size(), 32u) << one.output;
  EXPECT_TRUE(Contains(roster, "own_subject_pseudonyms = [ '" + pseudonym) ||
              Contains(roster, "own_subject_pseudonyms = [ \"" + pseudonym))
      << roster;
  // Asking was recorded.
  size_t asked = 0;
  for (const v1::RecordedEntry& recorded : Entries()) {
    asked += recorded.entry().query_record().method() == "Pseudonymize";
  }
  EXPECT_EQ(asked, 2u);

  // innsynd again, on the roster without identity numbers.
  daemon_->StopWith(SIGTERM);
  WriteConfig("pseudonyms.toml");
  Start();
  // dr.berg's own record and a patient of the same household, at go-live.
  testing::CommandResult imported =
      Import(std::string(kHeader) + ContactRow("01017012345", "Berg", "Storgata 1, 0155 Oslo") +
             ContactRow("p-sister", "berg", "storgata 1,0155 OSLO"));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  Append({JournalRead("dr.berg", "12128054321", kWednesday, 10),
          JournalRead("dr.lie", "01017012345", kWednesday, 11),
          JournalRead("dr.berg", "p-sister", kWednesday, 12),
          JournalRead("dr.berg", "p-neighbour", kWednesday, 13)});
  ASSERT_TRUE(Eventually([&] { return Alerts("self_or_related").size() >= 3; }));
  std::map<std::string, std::string> found;
  for (const v1::Alert& alert : Alerts("self_or_related")) {
    found[alert.subject_id()] = alert.summary();
  }
  ASSERT_EQ(found.size(), 3u);
  EXPECT_TRUE(Contains(found["12128054321"], "relative named in the staff roster"));
  EXPECT_TRUE(Contains(found["01017012345"], "co-worker dr.berg"));
  EXPECT_TRUE(Contains(found["p-sister"], "surname and address"));
}

}  // namespace
}  // namespace innsyn
