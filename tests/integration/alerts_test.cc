// Anomaly detection end to end, against the real innsynd: alerts raised as
// ledger entries from ingested events, listed, watched and triaged over
// gRPC and with innsynctl; a patient's access list explaining the expected
// accesses; a restart that replays the ledger and raises nothing twice.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "tests/support/clinic_week.h"
#include "tests/support/daemon_process.h"
#include "tests/support/eventually.h"
#include "tests/support/http_get.h"
#include "tests/support/temp_dir.h"

namespace innsyn {
namespace {

using testing::Contains;
using testing::DaemonProcess;
using testing::Eventually;
using testing::FirstMonday;
using testing::RunCommand;

// Days are counted from a Monday two to three weeks before today (by
// innsyn's clock, which a test run may shift), so that the weekdays the
// tests rely on are the same on any date and no event lies in the future.
constexpr int kWednesday = 9;  // of the second week
constexpr int kThursday = 10;

google::protobuf::Timestamp Oslo(int day, int hour, int minute = 0) {
  return ToProto(testing::OsloTime(day, hour, minute));
}

// Events of a small clinic's journal system, all in November 2026.
class Events {
 public:
  v1::AccessEvent Base(const std::string& actor, const std::string& role,
                       const std::string& subject, int day, int hour, int minute = 0) {
    v1::AccessEvent event;
    event.set_event_id("ev-" + std::to_string(++n_));
    event.mutable_source()->set_system("journal");
    event.mutable_source()->set_instance("clinic-1");
    *event.mutable_occurred_at() = Oslo(day, hour, minute);
    event.mutable_actor()->set_id(actor);
    event.mutable_actor()->set_role(role);
    event.mutable_subject()->set_id(subject);
    event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
    event.set_outcome(v1::OUTCOME_SUCCESS);
    event.set_network_address("10.20.0.5");
    return event;
  }
  v1::AccessEvent Booking(const std::string& patient, const std::string& clinician, int day,
                          int hour) {
    v1::AccessEvent event = Base("ann", "receptionist", patient, day - 7, 9);
    event.set_action(v1::ACTION_CODE_CREATE);
    event.set_action_subtype(v1::ACTION_SUBTYPE_CREATE);
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_APPOINTMENT);
    event.mutable_data_object()->set_id("appt-" + patient);
    event.set_purpose_of_use(v1::PURPOSE_OF_USE_ADMINISTRATION);
    (*event.mutable_attributes())["appointment.clinician"] = clinician;
    (*event.mutable_attributes())["appointment.start"] = absl::FormatTime(
        absl::RFC3339_sec, absl::FromUnixSeconds(Oslo(day, hour).seconds()), absl::UTCTimeZone());
    return event;
  }
  v1::AccessEvent JournalRead(const std::string& actor, const std::string& patient, int day,
                              int hour, int minute = 0) {
    v1::AccessEvent event = Base(actor, "dentist", patient, day, hour, minute);
    event.set_action(v1::ACTION_CODE_READ);
    event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_JOURNAL_NOTE);
    event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
    return event;
  }
  v1::AccessEvent BreakGlass(const std::string& actor, const std::string& patient, int day,
                             int hour) {
    v1::AccessEvent event = JournalRead(actor, patient, day, hour);
    event.set_action_subtype(v1::ACTION_SUBTYPE_BREAK_GLASS);
    event.set_purpose_of_use(v1::PURPOSE_OF_USE_EMERGENCY);
    event.set_reason("patient unconscious in the waiting room");
    return event;
  }

 private:
  int n_ = 0;
};

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/roster.toml") << R"(
[[staff]]
id = "dr.lie"
name = "Kari Lie"
role = "dentist"

[[staff]]
id = "ann"
name = "Ann Berg"
role = "receptionist"
)";
    // A silent source is judged against the wall clock; these events are
    // from a fixed week, so that rule is off here (its tests are unit tests).
    std::ofstream(dir_.path() + "/innsynd.toml")
        << "[detection]\nroster_file = \"" << dir_.path() << "/roster.toml\"\n"
        << "[detection.source_silent]\nenabled = false\n";
  }

  void Start() {
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, dir_.path() + "/data",
        std::vector<std::string>{"--detection", "true", "--config", dir_.path() + "/innsynd.toml"});
    ASSERT_TRUE(daemon_->running());
    channel_ = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    ingest_ = v1::IngestService::NewStub(channel_);
    log_ = v1::AccessLogService::NewStub(channel_);
    alerts_ = v1::AlertService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  std::vector<v1::AppendReceipt> Append(std::vector<v1::AccessEvent> events) {
    v1::AppendRequest request;
    for (auto& event : events) *request.add_events() = std::move(event);
    v1::AppendResponse response;
    grpc::Status status = ingest_->Append(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.receipts().begin(), response.receipts().end()};
  }

  std::vector<v1::AlertView> ListAlerts(v1::ListAlertsRequest request = {}) {
    v1::ListAlertsResponse response;
    grpc::Status status = alerts_->ListAlerts(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.alerts().begin(), response.alerts().end()};
  }

  uint64_t TreeSize() {
    v1::Checkpoint checkpoint;
    EXPECT_TRUE(log_->GetCheckpoint(Context().get(), {}, &checkpoint).ok());
    return checkpoint.tree_size();
  }

  // Every Alert entry in the ledger.
  std::vector<v1::Alert> AlertEntries() {
    std::vector<v1::Alert> alerts;
    const uint64_t size = TreeSize();
    for (uint64_t from = 0; from < size; from += 1000) {
      v1::GetEntriesRequest request;
      request.set_from_seq(from);
      request.set_count(1000);
      v1::GetEntriesResponse response;
      EXPECT_TRUE(log_->GetEntries(Context().get(), request, &response).ok());
      for (const auto& recorded : response.entries()) {
        if (recorded.seq() < size && recorded.entry().has_alert()) {
          alerts.push_back(recorded.entry().alert());
        }
      }
    }
    return alerts;
  }

  // A booked patient read as expected, a patient with no appointment, and
  // an emergency access: two alerts.
  void AppendIncidents() {
    Append({events_.Booking("p-booked", "dr.lie", kWednesday, 10),
            events_.JournalRead("dr.lie", "p-booked", kWednesday, 10, 5),
            events_.JournalRead("dr.lie", "p-stranger", kWednesday, 11),
            events_.BreakGlass("dr.lie", "p-emergency", kWednesday, 12)});
  }

  testing::TempDir dir_;
  Events events_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::AccessLogService::Stub> log_;
  std::unique_ptr<v1::AlertService::Stub> alerts_;
};

TEST_F(AlertsTest, SnoopingAndBreakGlassAreRaisedAsLedgerEntriesNamingTheEvidence) {
  Start();
  AppendIncidents();
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 2; })) << ListAlerts().size();
  std::vector<v1::AlertView> alerts = ListAlerts();
  std::map<std::string, v1::AlertView> by_rule;
  for (const auto& view : alerts) by_rule[view.alert().rule()] = view;
  ASSERT_TRUE(by_rule.contains("no_care_relationship"));
  ASSERT_TRUE(by_rule.contains("break_glass"));
  const v1::Alert& snooping = by_rule["no_care_relationship"].alert();
  EXPECT_EQ(snooping.actor_id(), "dr.lie");
  EXPECT_EQ(snooping.subject_id(), "p-stranger");
  EXPECT_EQ(by_rule["no_care_relationship"].state(), v1::ALERT_STATE_OPEN);
  ASSERT_FALSE(snooping.evidence_seqs().empty());
  // The evidence is the read itself (seq 2: booking 0, expected read 1).
  EXPECT_EQ(snooping.evidence_seqs(0), 2u);
  EXPECT_EQ(by_rule["break_glass"].alert().subject_id(), "p-emergency");
  // Both are entries of the ledger, and the ledger still verifies.
  EXPECT_EQ(AlertEntries().size(), 2u);
  v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(log_->VerifyLedger(Context().get(), {}, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  // Filters.
  v1::ListAlertsRequest by_subject;
  by_subject.set_subject_id("p-emergency");
  ASSERT_EQ(ListAlerts(by_subject).size(), 1u);
  v1::ListAlertsRequest other_rule;
  other_rule.set_rule("off_hours");
  EXPECT_TRUE(ListAlerts(other_rule).empty());
  // The metric the InnsynOpenCriticalAlerts family of rules reads.
  EXPECT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"),
                    "innsyn_alerts_open{rule=\"break_glass\",severity=\"medium\"} 1");
  }));
}

TEST_F(AlertsTest, PatientSeesWhyTheExpectedAccessHappened) {
  Start();
  AppendIncidents();
  v1::ListSubjectAccessRequest request;
  request.set_subject_id("p-booked");
  v1::ListSubjectAccessResponse response;
  ASSERT_TRUE(log_->ListSubjectAccess(Context().get(), request, &response).ok());
  ASSERT_EQ(response.entries_size(), 2);  // the booking and the read
  const v1::RecordedEntry& read = response.entries(1);
  ASSERT_EQ(read.entry().access_event().actor().id(), "dr.lie");
  EXPECT_TRUE(Contains(read.explanation(), "appointment")) << read.explanation();
  EXPECT_TRUE(Contains(read.explanation(), absl::FormatCivilTime(FirstMonday() + kWednesday)))
      << read.explanation();
  request.set_subject_id("p-stranger");
  ASSERT_TRUE(log_->ListSubjectAccess(Context().get(), request, &response).ok());
  ASSERT_EQ(response.entries_size(), 1);
  EXPECT_EQ(response.entries(0).explanation(), "");
}

TEST_F(AlertsTest, TriageIsRecordedWithWhoDecidedAndAViolationGetsItsDeadline) {
  Start();
  AppendIncidents();
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 2; }));
  v1::ListAlertsRequest snooping;
  snooping.set_rule("no_care_relationship");
  const std::string id = ListAlerts(snooping).at(0).alert().alert_id();

  // Bad requests name the field and record nothing.
  const uint64_t size = TreeSize();
  struct Bad {
    std::string alert_id;
    v1::AlertState state;
    std::string note;
    grpc::StatusCode code;
    std::string names;
  };
  for (const Bad& bad : std::vector<Bad>{
           {id, v1::ALERT_STATE_RESOLVED_VIOLATION, "", grpc::StatusCode::INVALID_ARGUMENT, "note"},
           {id, v1::ALERT_STATE_OPEN, "x", grpc::StatusCode::INVALID_ARGUMENT, "state"},
           {"", v1::ALERT_STATE_ACKNOWLEDGED, "", grpc::StatusCode::INVALID_ARGUMENT, "alert_id"},
           {"no/such", v1::ALERT_STATE_ACKNOWLEDGED, "", grpc::StatusCode::NOT_FOUND,
            "alert_id"}}) {
    v1::UpdateAlertRequest request;
    request.set_alert_id(bad.alert_id);
    request.set_state(bad.state);
    request.set_note(bad.note);
    v1::UpdateAlertResponse response;
    grpc::Status status = alerts_->UpdateAlert(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_TRUE(Contains(status.error_message(), bad.names)) << status.error_message();
  }
  EXPECT_EQ(TreeSize(), size);

  v1::UpdateAlertRequest request;
  request.set_alert_id(id);
  request.set_state(v1::ALERT_STATE_RESOLVED_VIOLATION);
  request.set_note("no care relationship; confirmed with dr.lie");
  v1::UpdateAlertResponse response;
  const absl::Time before = Now();
  ASSERT_TRUE(alerts_->UpdateAlert(Context().get(), request, &response).ok());
  EXPECT_EQ(response.alert().state(), v1::ALERT_STATE_RESOLVED_VIOLATION);
  const absl::Time deadline =
      absl::FromUnixSeconds(response.alert().notify_authority_by().seconds());
  EXPECT_GE(deadline, before + absl::Hours(72) - absl::Seconds(1));
  EXPECT_LE(deadline, Now() + absl::Hours(72));
  ASSERT_EQ(response.alert().decisions_size(), 1);
  EXPECT_EQ(response.alert().decisions(0).seq(), response.receipt().seq());
  // The decision is an entry, naming who decided.
  v1::GetEntriesRequest get;
  get.set_from_seq(response.receipt().seq());
  get.set_count(1);
  v1::GetEntriesResponse entries;
  ASSERT_TRUE(log_->GetEntries(Context().get(), get, &entries).ok());
  const v1::AlertDecision& decision = entries.entries(0).entry().alert_decision();
  EXPECT_EQ(decision.alert_id(), id);
  EXPECT_EQ(decision.note(), request.note());
  EXPECT_FALSE(decision.decided_by().empty());

  v1::ListAlertsRequest open;
  open.add_states(v1::ALERT_STATE_OPEN);
  std::vector<v1::AlertView> still_open = ListAlerts(open);
  ASSERT_EQ(still_open.size(), 1u);
  EXPECT_EQ(still_open[0].alert().rule(), "break_glass");

  // The same through innsynctl.
  testing::CommandResult resolved =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "resolve",
                  still_open[0].alert().alert_id(), "--as", "justified", "--note",
                  "emergency confirmed by the duty log"});
  EXPECT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_TRUE(Contains(resolved.output, "is now justified")) << resolved.output;
  testing::CommandResult listed = RunCommand(
      {INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "list", "--state", "open"});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(Contains(listed.output, "0 alerts")) << listed.output;
  testing::CommandResult all =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "list"});
  EXPECT_TRUE(Contains(all.output, "notify the supervisory authority by")) << all.output;
}

// The privacy officer triages incidents, not rows: dr.lie's reads of three
// patients without a care link on one Oslo day are one incident listing
// them, the next day's read another, the emergency access a third; the
// ledger still holds every alert.
TEST_F(AlertsTest, AlertsOfOneRuleActorAndDayAreListedAsOneIncident) {
  Start();
  Append({events_.JournalRead("dr.lie", "p-a", kWednesday, 11),
          events_.JournalRead("dr.lie", "p-b", kWednesday, 11, 20),
          events_.JournalRead("dr.lie", "p-c", kWednesday, 14),
          events_.BreakGlass("dr.lie", "p-e", kWednesday, 15),
          events_.JournalRead("dr.lie", "p-d", kThursday, 11)});
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 5; })) << ListAlerts().size();
  EXPECT_EQ(AlertEntries().size(), 5u);

  testing::CommandResult listed = RunCommand(
      {INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "list", "--incidents"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(Contains(listed.output, "3 incidents from 5 alerts")) << listed.output;
  const std::string wednesday = absl::FormatCivilTime(FirstMonday() + kWednesday);
  const std::string thursday = absl::FormatCivilTime(FirstMonday() + kThursday);
  // Each incident is one row: find it by its id and read its cells.
  auto row = [&](const std::string& incident_id) {
    const std::vector<std::string> lines = absl::StrSplit(listed.output, '\n');
    for (const std::string& line : lines) {
      if (line.ends_with(incident_id)) return line;
    }
    return std::string();
  };
  const std::string snooping = row("no_care_relationship/dr.lie/" + wednesday);
  EXPECT_TRUE(Contains(snooping, " 3 ")) << listed.output;  // alerts
  EXPECT_TRUE(Contains(snooping, "p-a, p-b, p-c")) << listed.output;
  EXPECT_TRUE(Contains(snooping, "open")) << listed.output;
  const std::string next_day = row("no_care_relationship/dr.lie/" + thursday);
  EXPECT_TRUE(Contains(next_day, " 1 ")) << listed.output;
  EXPECT_TRUE(Contains(next_day, "p-d")) << listed.output;
  EXPECT_FALSE(row("break_glass/dr.lie/" + wednesday).empty()) << listed.output;

  // Filters apply to the alerts before they are grouped.
  testing::CommandResult one_patient =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "list",
                  "--incidents", "--subject", "p-b"});
  ASSERT_EQ(one_patient.exit_code, 0) << one_patient.output;
  EXPECT_TRUE(Contains(one_patient.output, "1 incident from 1 alert")) << one_patient.output;

  // The same through the API: the incident carries its alerts, and its
  // state follows them (open while any is open, then the resolution).
  v1::ListAlertsRequest request;
  request.set_incidents(true);
  request.set_rule("no_care_relationship");
  v1::ListAlertsResponse response;
  ASSERT_TRUE(alerts_->ListAlerts(Context().get(), request, &response).ok());
  EXPECT_TRUE(response.alerts().empty());
  ASSERT_EQ(response.incidents_size(), 2);
  const v1::Incident& incident = response.incidents(0);
  EXPECT_EQ(incident.incident_id(), "no_care_relationship/dr.lie/" + wednesday);
  EXPECT_EQ(incident.local_date(), wednesday);
  EXPECT_EQ(incident.state(), v1::ALERT_STATE_OPEN);
  ASSERT_EQ(incident.alerts_size(), 3);
  EXPECT_EQ(std::vector<std::string>(incident.subject_ids().begin(), incident.subject_ids().end()),
            (std::vector<std::string>{"p-a", "p-b", "p-c"}));
  for (const v1::AlertView& view : incident.alerts()) {
    v1::UpdateAlertRequest decide;
    decide.set_alert_id(view.alert().alert_id());
    decide.set_state(view.alert().subject_id() == "p-b" ? v1::ALERT_STATE_RESOLVED_VIOLATION
                                                        : v1::ALERT_STATE_RESOLVED_JUSTIFIED);
    decide.set_note("asked dr.lie");
    v1::UpdateAlertResponse decided;
    ASSERT_TRUE(alerts_->UpdateAlert(Context().get(), decide, &decided).ok());
  }
  // One page of one incident at a time still reaches both.
  request.set_page_size(1);
  ASSERT_TRUE(alerts_->ListAlerts(Context().get(), request, &response).ok());
  ASSERT_EQ(response.incidents_size(), 1);
  EXPECT_EQ(response.incidents(0).state(), v1::ALERT_STATE_RESOLVED_VIOLATION);
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_page_token(response.next_page_token());
  ASSERT_TRUE(alerts_->ListAlerts(Context().get(), request, &response).ok());
  ASSERT_EQ(response.incidents_size(), 1);
  EXPECT_EQ(response.incidents(0).incident_id(), "no_care_relationship/dr.lie/" + thursday);
  EXPECT_TRUE(response.next_page_token().empty());
  // A whole incident is decided with one command, one decision entry for
  // each of its alerts not decided yet.
  auto resolve = [&](const std::string& incident_id) {
    return RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "alerts", "resolve",
                       "--incident", incident_id, "--as", "false-positive", "--note",
                       "covering for dr.berg"});
  };
  testing::CommandResult thursday_decided = resolve("no_care_relationship/dr.lie/" + thursday);
  ASSERT_EQ(thursday_decided.exit_code, 0) << thursday_decided.output;
  EXPECT_TRUE(Contains(thursday_decided.output, "1 of its 1 alert now")) << thursday_decided.output;
  testing::CommandResult wednesday_again = resolve("no_care_relationship/dr.lie/" + wednesday);
  ASSERT_EQ(wednesday_again.exit_code, 0) << wednesday_again.output;
  EXPECT_TRUE(Contains(wednesday_again.output, "0 of its 3 alerts now")) << wednesday_again.output;
  EXPECT_TRUE(Contains(wednesday_again.output, "3 already decided, left as they were"))
      << wednesday_again.output;
  EXPECT_TRUE(Contains(wednesday_again.output, "nothing was recorded")) << wednesday_again.output;
  testing::CommandResult unknown = resolve("no_care_relationship/dr.nobody/" + wednesday);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_TRUE(Contains(unknown.output, "no incident no_care_relationship/dr.nobody/"))
      << unknown.output;
  request.clear_page_token();
  request.set_page_size(10);
  ASSERT_TRUE(alerts_->ListAlerts(Context().get(), request, &response).ok());
  ASSERT_EQ(response.incidents_size(), 2);
  EXPECT_EQ(response.incidents(1).state(), v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE);
  EXPECT_EQ(response.incidents(0).state(), v1::ALERT_STATE_RESOLVED_VIOLATION);  // unchanged
  // The ledger holds every alert and every decision, one entry each.
  EXPECT_EQ(AlertEntries().size(), 5u);
}

TEST_F(AlertsTest, WatchResumesAfterAnAlertAndThenFollowsNewOnes) {
  Start();
  AppendIncidents();
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 2; }));
  const std::vector<v1::AlertView> raised = ListAlerts();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchAlertsRequest request;
  request.set_after_alert_id(raised[0].alert().alert_id());
  auto reader = alerts_->WatchAlerts(&context, request);
  v1::AlertUpdate update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.alert().alert().alert_id(), raised[1].alert().alert_id());
  // A new incident arrives while watching.
  Append({events_.BreakGlass("dr.lie", "p-second-emergency", kThursday, 9)});
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.alert().alert().subject_id(), "p-second-emergency");
  EXPECT_EQ(update.seq(), update.alert().seq());
  context.TryCancel();
  reader->Finish();

  grpc::ClientContext unknown;
  unknown.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  request.set_after_alert_id("no/such/alert");
  auto refused = alerts_->WatchAlerts(&unknown, request);
  EXPECT_FALSE(refused->Read(&update));
  grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Contains(status.error_message(), "after_alert_id")) << status.error_message();
}

TEST_F(AlertsTest, RestartReplaysTheLedgerAndRaisesNothingTwice) {
  Start();
  AppendIncidents();
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 2; }));
  ASSERT_EQ(daemon_->StopWith(SIGTERM), 0);
  Start();
  // The replay runs on innsynd's monitor thread; give it time to finish.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(ListAlerts().size(), 2u);
  EXPECT_EQ(AlertEntries().size(), 2u);
  // The rebuilt detectors still work: the booked patient's read raises
  // nothing, a new stranger does.
  Append({events_.JournalRead("dr.lie", "p-booked", kWednesday, 15),
          events_.JournalRead("dr.lie", "p-other-stranger", kThursday, 10)});
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(AlertEntries().size(), 3u);
  EXPECT_EQ(ListAlerts().back().alert().subject_id(), "p-other-stranger");
}

TEST_F(AlertsTest, AReloadReplaysWithoutRaisingOrDecidingAnythingTwice) {
  Start();
  AppendIncidents();
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 2; }));
  v1::UpdateAlertRequest request;
  request.set_alert_id(ListAlerts()[0].alert().alert_id());
  request.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
  v1::UpdateAlertResponse response;
  ASSERT_TRUE(alerts_->UpdateAlert(Context().get(), request, &response).ok());
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"),
                    "innsyn_config_reloads_total{result=\"ok\"} 2");
  }));
  // After the reload the engine replays the ledger; a new incident shows
  // that it has caught up.
  Append({events_.BreakGlass("dr.lie", "p-after-reload", kThursday, 9)});
  ASSERT_TRUE(Eventually([&] { return ListAlerts().size() == 3; }));
  std::vector<v1::AlertView> alerts = ListAlerts();
  EXPECT_EQ(alerts[0].decisions_size(), 1);
  EXPECT_EQ(alerts[0].state(), v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(AlertEntries().size(), 3u);
}

TEST_F(AlertsTest, EventsFromAnUnknownRoleAreCountedOnceEvenAfterAReplay) {
  Start();
  auto locum_read = [&](const std::string& actor, int day) {
    v1::AccessEvent event = events_.JournalRead(actor, "p-unknown-role", day, 10);
    event.mutable_actor()->set_role("locum");
    return event;
  };
  auto unknown_actor_alerts = [&] {
    v1::ListAlertsRequest request;
    request.set_rule("unknown_or_dormant_actor");
    return ListAlerts(request).size();
  };
  const std::string counted = "innsyn_detection_unknown_role_events_total{role=\"locum\"} ";
  Append({locum_read("locum.a", kWednesday)});
  ASSERT_TRUE(Eventually([&] { return unknown_actor_alerts() == 1; }));
  EXPECT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"), counted + "1\n");
  }));
  // A reload replays the ledger into a new engine: the first event is read
  // again but not counted again.
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"),
                    "innsyn_config_reloads_total{result=\"ok\"} 2");
  }));
  Append({locum_read("locum.b", kThursday)});
  ASSERT_TRUE(Eventually([&] { return unknown_actor_alerts() == 2; }));
  EXPECT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"), counted + "2\n");
  })) << testing::HttpGetBody(daemon_->metrics_port(), "/metrics");
}

TEST_F(AlertsTest, ABadRosterOnReloadIsRefusedAndDetectionGoesOn) {
  Start();
  std::ofstream(dir_.path() + "/roster.toml") << "[[staff]]\nname = \"no id\"\n";
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return Contains(testing::HttpGetBody(daemon_->metrics_port(), "/metrics"),
                    "innsyn_config_reloads_total{result=\"failed\"} 1");
  }));
  AppendIncidents();
  EXPECT_TRUE(Eventually([&] { return ListAlerts().size() == 2; }));
}

}  // namespace
}  // namespace innsyn
