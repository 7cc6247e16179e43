// The HTTP listener of the real innsynd, driven with curl as a clinic's
// website or a FHIR audit source would: JSON append with its errors, the
// FHIR AuditEvent feed and search, health, limits and slow clients, and
// mTLS with the certificates of `innsynctl pki init`.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "daemon/http/fhir_audit_event.h"
#include "daemon/http/json_codec.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/checkpoint.h"
#include "storage/hash.h"
#include "storage/subject_map.h"
#include "tests/support/curl.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using daemon::http::ParseJsonValue;
using google::protobuf::Value;
using testing::Curl;
using testing::DaemonProcess;
using testing::HttpAnswer;
using testing::JournalRead;
using testing::ReadFile;
using testing::RunCommand;

constexpr char kPatient[] = "01017012345";

Value Json(const std::string& text) {
  absl::StatusOr<Value> value = ParseJsonValue(text);
  EXPECT_TRUE(value.ok()) << value.status() << ": " << text;
  return value.ok() ? *value : Value();
}

const Value& At(const Value& object, const std::string& key) {
  static const Value kNone;
  auto it = object.struct_value().fields().find(key);
  return it == object.struct_value().fields().end() ? kNone : it->second;
}

std::string AppendJson(const std::vector<v1::AccessEvent>& events) {
  v1::AppendRequest request;
  for (const v1::AccessEvent& event : events) *request.add_events() = event;
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(request, &json).ok());
  return json;
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--http-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_.reset();
    daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, dir_.path() + "/data", args);
    ASSERT_TRUE(daemon_->running());
    ASSERT_NE(daemon_->http_port(), 0);
    log_ = v1::AccessLogService::NewStub(
        grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials()));
  }

  // Starts innsynd with `toml` as its config file.
  void StartWithConfig(const std::string& toml) {
    const std::string path = dir_.path() + "/innsynd.toml";
    std::ofstream(path) << toml;
    Start({"--config", path});
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(daemon_->http_port()) + path;
  }

  // POSTs `body` (from a file, as curl sends large bodies) to `path`.
  HttpAnswer Post(const std::string& path, const std::string& body,
                  const std::string& content_type = "application/json") {
    const std::string file = dir_.path() + "/body";
    std::ofstream(file, std::ios::binary) << body;
    return Curl(Url(path),
                {"-X", "POST", "-H", "Content-Type: " + content_type, "--data-binary", "@" + file});
  }

  uint64_t LedgerSize() {
    grpc::ClientContext context;
    v1::Checkpoint checkpoint;
    v1::GetCheckpointRequest request;
    EXPECT_TRUE(log_->GetCheckpoint(&context, request, &checkpoint).ok());
    return checkpoint.tree_size();
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<v1::AccessLogService::Stub> log_;
};

TEST_F(HttpTest, AppendAnswersReceiptsOnceDurableAndARetryIsADuplicate) {
  const std::string body =
      AppendJson({JournalRead(1, kPatient, "kberg"), JournalRead(2, kPatient, "kberg")});
  HttpAnswer first = Post("/v1/events:append", body);
  ASSERT_EQ(first.code, 200) << first.body;
  v1::AppendResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(first.body, &response).ok());
  ASSERT_EQ(response.receipts_size(), 2);
  EXPECT_EQ(response.receipts(0).event_id(), "ev-1");
  EXPECT_FALSE(response.receipts(1).duplicate());
  EXPECT_EQ(LedgerSize(), 2u);

  HttpAnswer again = Post("/v1/events:append", body);
  ASSERT_EQ(again.code, 200) << again.body;
  v1::AppendResponse repeated;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(again.body, &repeated).ok());
  EXPECT_TRUE(repeated.receipts(0).duplicate());
  EXPECT_EQ(repeated.receipts(1).leaf_hash(), response.receipts(1).leaf_hash());
  EXPECT_EQ(LedgerSize(), 2u);
}

TEST_F(HttpTest, AnInvalidEventIsRefusedWith400NamingEventAndFieldAndNothingIsWritten) {
  v1::AccessEvent bad = JournalRead(2, kPatient, "kberg");
  bad.mutable_actor()->clear_id();
  HttpAnswer answer =
      Post("/v1/events:append", AppendJson({JournalRead(1, kPatient, "kberg"), bad}));
  ASSERT_EQ(answer.code, 400) << answer.body;
  const Value body = Json(answer.body);
  const Value& error = At(body, "error");
  EXPECT_EQ(At(error, "status").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(At(error, "event").number_value(), 1);
  EXPECT_EQ(At(error, "field").string_value(), "actor.id");
  EXPECT_NE(At(error, "message").string_value().find("events[1] (event_id \"ev-2\")"),
            std::string::npos);
  EXPECT_EQ(LedgerSize(), 0u);
}

TEST_F(HttpTest, MalformedJsonAndUnknownFieldsAreRefusedWith400) {
  HttpAnswer truncated = Post("/v1/events:append", R"({"events":[{"eventId":"a",)");
  EXPECT_EQ(truncated.code, 400);
  EXPECT_NE(truncated.body.find("is not the JSON of innsyn.v1.AppendRequest"), std::string::npos);
  HttpAnswer misspelt = Post("/v1/events:append", R"({"events":[{"eventIdd":"a"}]})");
  EXPECT_EQ(misspelt.code, 400);
  EXPECT_NE(misspelt.body.find("eventIdd"), std::string::npos) << misspelt.body;
  EXPECT_EQ(LedgerSize(), 0u);
}

TEST_F(HttpTest, AWrongContentTypeIs415) {
  HttpAnswer answer =
      Post("/v1/events:append", AppendJson({JournalRead(1, kPatient, "kberg")}), "text/plain");
  EXPECT_EQ(answer.code, 415);
  EXPECT_EQ(At(At(Json(answer.body), "error"), "code").number_value(), 415);
  EXPECT_EQ(LedgerSize(), 0u);
}

TEST_F(HttpTest, ABodyOverTheMessageLimitIs413) {
  StartWithConfig("max_message_bytes = 4096\n");
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 40; ++i) events.push_back(JournalRead(i, kPatient, "kberg"));
  const std::string body = AppendJson(events);
  ASSERT_GT(body.size(), 4096u);
  HttpAnswer answer = Post("/v1/events:append", body);
  EXPECT_EQ(answer.code, 413) << answer.body;
  EXPECT_NE(answer.body.find("larger than 4096 bytes"), std::string::npos) << answer.body;
  EXPECT_EQ(LedgerSize(), 0u);
}

TEST_F(HttpTest, ACallerOverItsRateLimitIsTold429WithRetryAfter) {
  Start({"--rate-limit-calls-per-second", "0.001", "--rate-limit-burst", "1"});
  EXPECT_EQ(Post("/v1/events:append", AppendJson({JournalRead(1, kPatient, "kberg")})).code, 200);
  HttpAnswer refused = Post("/v1/events:append", AppendJson({JournalRead(2, kPatient, "kberg")}));
  EXPECT_EQ(refused.code, 429) << refused.body;
  EXPECT_NE(refused.headers.find("Retry-After: 1"), std::string::npos) << refused.headers;
  EXPECT_EQ(At(At(Json(refused.body), "error"), "status").string_value(), "RESOURCE_EXHAUSTED");
}

TEST_F(HttpTest, HealthAndReadinessAnswerAndUnknownPathsAre404InJson) {
  EXPECT_EQ(Curl(Url("/healthz")).code, 200);
  HttpAnswer ready = Curl(Url("/readyz"));
  EXPECT_EQ(ready.code, 200);
  EXPECT_NE(ready.body.find("ready"), std::string::npos);
  HttpAnswer missing = Curl(Url("/v2/nothing"));
  EXPECT_EQ(missing.code, 404);
  EXPECT_EQ(At(At(Json(missing.body), "error"), "status").string_value(), "NOT_FOUND");
  // The requests are counted by route and code.
  HttpAnswer metrics =
      Curl("http://127.0.0.1:" + std::to_string(daemon_->metrics_port()) + "/metrics");
  EXPECT_NE(metrics.body.find("innsyn_http_requests_total{code=\"200\",route=\"/healthz\"} 1"),
            std::string::npos)
      << metrics.body;
}

// ---- FHIR ----

std::string BalpRead() { return ReadFile(std::string(TESTDATA_DIR) + "/balp_read.json"); }

// `resource` with `key` of its `index`th `array` element set to `value`.
std::string Bundle(const std::string& type, const std::vector<std::string>& resources) {
  std::string entries;
  for (const std::string& resource : resources) {
    if (!entries.empty()) entries += ",";
    entries += R"({"resource":)" + resource + R"(,"request":{"method":"POST","url":"AuditEvent"}})";
  }
  return R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)" + entries + "]}";
}

std::string WithId(std::string resource, const std::string& id) {
  const std::string from = R"("id": "balp-read-1")";
  resource.replace(resource.find(from), from.size(), R"("id": ")" + id + "\"");
  return resource;
}

std::string Expression(const HttpAnswer& answer) {
  const Value outcome = Json(answer.body);
  EXPECT_EQ(At(outcome, "resourceType").string_value(), "OperationOutcome") << answer.body;
  const Value& issue = At(outcome, "issue").list_value().values(0);
  return At(issue, "expression").list_value().values(0).string_value();
}

TEST_F(HttpTest, ABalpAuditEventIsRecordedOnceAndComesBackFromTheSearchTheSame) {
  HttpAnswer created = Post("/fhir/AuditEvent", BalpRead(), "application/fhir+json");
  ASSERT_EQ(created.code, 201) << created.body;
  EXPECT_NE(created.headers.find("Location: AuditEvent/balp-read-1"), std::string::npos);
  EXPECT_EQ(Post("/fhir/AuditEvent", BalpRead(), "application/fhir+json").code, 200);
  EXPECT_EQ(LedgerSize(), 1u);

  HttpAnswer found =
      Curl(Url("/fhir/AuditEvent?patient=urn:oid:2.16.578.1.12.4.1.4.1%7C01017012345"
               "&date=ge2026-03-02&date=le2026-03-02&reason=patient%20asked"));
  ASSERT_EQ(found.code, 200) << found.body;
  const Value bundle = Json(found.body);
  EXPECT_EQ(At(bundle, "type").string_value(), "searchset");
  ASSERT_EQ(At(bundle, "entry").list_value().values_size(), 1) << found.body;
  const Value& returned = At(At(bundle, "entry").list_value().values(0), "resource");
  absl::StatusOr<v1::AccessEvent> sent = daemon::http::AuditEventToAccessEvent(Json(BalpRead()));
  absl::StatusOr<v1::AccessEvent> back = daemon::http::AuditEventToAccessEvent(returned);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*sent, *back))
      << sent->DebugString() << "\n---\n"
      << back->DebugString();
  EXPECT_EQ(sent->actor().hpr_number(), "9144900");
  EXPECT_EQ(sent->network_address(), "10.1.2.3");
  // The search was itself recorded, at the seq it names.
  EXPECT_EQ(LedgerSize(), 2u);
  EXPECT_EQ(At(At(bundle, "identifier"), "value").string_value(), "1");
  // A day outside the range finds nothing (and is recorded too).
  HttpAnswer none = Curl(Url("/fhir/AuditEvent?patient=01017012345&date=ge2026-03-03"));
  ASSERT_EQ(none.code, 200) << none.body;
  EXPECT_EQ(At(Json(none.body), "entry").list_value().values_size(), 0);
}

// The Binary a search with proof=true adds: the page's answer without
// contents, with the proof of the patient's whole history.
v1::ListSubjectAccessResponse AnswerProofOf(const Value& bundle) {
  v1::ListSubjectAccessResponse answer;
  int found = 0;
  for (const Value& entry : At(bundle, "entry").list_value().values()) {
    const Value& resource = At(entry, "resource");
    if (At(resource, "resourceType").string_value() != "Binary") continue;
    ++found;
    EXPECT_EQ(At(entry, "fullUrl").string_value(), "urn:innsyn:answer-proof");
    EXPECT_EQ(At(At(entry, "search"), "mode").string_value(), "include");
    EXPECT_EQ(At(resource, "contentType").string_value(), daemon::http::kAnswerProofType);
    std::optional<std::string> json = storage::Base64Decode(At(resource, "data").string_value());
    EXPECT_TRUE(json.has_value());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json.value_or(""), &answer).ok());
  }
  EXPECT_EQ(found, 1);
  return answer;
}

// The seqs of the AuditEvents in a searchset, from their fullUrl.
std::vector<uint64_t> AuditEventSeqs(const Value& bundle) {
  std::vector<uint64_t> seqs;
  for (const Value& entry : At(bundle, "entry").list_value().values()) {
    if (At(At(entry, "resource"), "resourceType").string_value() != "AuditEvent") continue;
    const std::string url = At(entry, "fullUrl").string_value();
    seqs.push_back(std::stoull(url.substr(url.rfind(':') + 1)));
  }
  return seqs;
}

TEST_F(HttpTest, ASearchWithProofCarriesWhatProvesItCompleteOnEveryPageOfOneTree) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Post("/fhir/AuditEvent", WithId(BalpRead(), "balp-read-p" + std::to_string(i)),
                   "application/fhir+json")
                  .code,
              201);
  }
  HttpAnswer first = Curl(Url("/fhir/AuditEvent?patient=01017012345&proof=true&_count=3"));
  ASSERT_EQ(first.code, 200) << first.body;
  const Value page1 = Json(first.body);
  const v1::ListSubjectAccessResponse proof1 = AnswerProofOf(page1);
  EXPECT_EQ(proof1.tree_size(), 5u);  // the five accesses, before this search was recorded
  ASSERT_EQ(proof1.entries_size(), 3);
  // The next page is of the same tree, and proven too.
  const Value& next = At(page1, "link").list_value().values(0);
  EXPECT_EQ(At(next, "relation").string_value(), "next");
  const std::string next_url = At(next, "url").string_value();
  EXPECT_NE(next_url.find("tree_size=5"), std::string::npos) << next_url;
  EXPECT_NE(next_url.find("proof=true"), std::string::npos) << next_url;
  // One more access to the patient first: the next page, of the tree of
  // five, is then proven against a map innsynd rebuilds.
  ASSERT_EQ(
      Post("/fhir/AuditEvent", WithId(BalpRead(), "balp-read-p5"), "application/fhir+json").code,
      201);
  HttpAnswer second = Curl(Url("/fhir/" + next_url));
  ASSERT_EQ(second.code, 200) << second.body;
  const Value page2 = Json(second.body);
  const v1::ListSubjectAccessResponse proof2 = AnswerProofOf(page2);
  EXPECT_EQ(proof2.tree_size(), 5u);
  EXPECT_EQ(proof2.proof().SerializeAsString(), proof1.proof().SerializeAsString());

  // A client's check: the checkpoint is signed by the ledger's key, the
  // history is the map's, and the pages hold it all, each AuditEvent an
  // entry of it.
  grpc::ClientContext context;
  v1::Checkpoint latest;
  ASSERT_TRUE(log_->GetCheckpoint(&context, v1::GetCheckpointRequest(), &latest).ok());
  const v1::HistoryProof& proof = proof1.proof();
  absl::StatusOr<storage::CheckpointBody> body =
      storage::VerifyCheckpointNote(proof.checkpoint().note(), latest.verifier_key());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->tree_size, 5u);
  ASSERT_TRUE(body->map_root.has_value());
  std::vector<storage::GivenHeader> chain;
  for (const v1::RecordedEntry& link : proof.chain()) {
    chain.push_back({link.header_bytes(), link.contents_hash()});
  }
  absl::StatusOr<std::vector<storage::HistoryLink>> history = storage::VerifyHistory(
      *body->map_root, storage::MapSpace::kSubject, proof.pseudonym(), proof.map(), chain);
  ASSERT_TRUE(history.ok()) << history.status();
  std::set<uint64_t> proven, indexed, returned;
  for (const storage::HistoryLink& link : *history) proven.insert(link.seq);
  for (const auto* page : {&proof1, &proof2}) {
    for (const v1::RecordedEntry& entry : page->entries()) {
      EXPECT_FALSE(entry.erased());
      EXPECT_TRUE(indexed.insert(entry.seq()).second);
    }
  }
  std::map<uint64_t, int64_t> hours;
  for (const auto* page : {&proof1, &proof2}) {
    for (const v1::RecordedEntry& entry : page->entries())
      hours[entry.seq()] = entry.hour().seconds();
  }
  for (const Value* page : {&page1, &page2}) {
    for (uint64_t seq : AuditEventSeqs(*page)) EXPECT_TRUE(returned.insert(seq).second);
    for (const Value& entry : At(*page, "entry").list_value().values()) {
      const Value& resource = At(entry, "resource");
      if (At(resource, "resourceType").string_value() != "AuditEvent") continue;
      const std::string url = At(entry, "fullUrl").string_value();
      const uint64_t seq = std::stoull(url.substr(url.rfind(':') + 1));
      absl::StatusOr<v1::AccessEvent> event = daemon::http::AuditEventToAccessEvent(resource);
      ASSERT_TRUE(event.ok()) << event.status();
      EXPECT_EQ(event->subject().id(), "01017012345");
      const int64_t at = event->occurred_at().seconds();
      EXPECT_TRUE(at >= hours[seq] && at < hours[seq] + 3600) << seq;
    }
  }
  EXPECT_EQ(proven, (std::set<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(indexed, proven);
  EXPECT_EQ(returned, proven);

  // innsynctl verify-search does the same check on the saved pages, and
  // names what was bent.
  const std::string key = dir_.path() + "/data/checkpoint_key.pub";
  auto save = [&](const std::string& name, const Value& bundle) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << daemon::http::EncodeJsonValue(bundle);
    return path;
  };
  auto verify = [&](std::vector<std::string> files) {
    std::vector<std::string> args = {INNSYNCTL_PATH, "verify-search", "--subject",
                                     "01017012345",  "--key-file",    key};
    args.insert(args.end(), files.begin(), files.end());
    return RunCommand(args);
  };
  const std::string saved1 = save("page1.json", page1), saved2 = save("page2.json", page2);
  testing::CommandResult whole = verify({saved1, saved2});
  EXPECT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_NE(whole.output.find("complete: 5 entries, verified against checkpoint of size 5"),
            std::string::npos)
      << whole.output;
  struct Bent {
    std::string name;
    std::vector<std::string> files;
    std::string message;
  };
  // The first AuditEvent of page 1 dropped; its patient changed; the
  // page's proof short of its first entry.
  Value no_event = page1;
  auto& first_entries = *no_event.mutable_struct_value()
                             ->mutable_fields()
                             ->at("entry")
                             .mutable_list_value()
                             ->mutable_values();
  first_entries.erase(first_entries.begin());
  Value other_patient = page1;
  Value& entity = *(*other_patient.mutable_struct_value()->mutable_fields())["entry"]
                       .mutable_list_value()
                       ->mutable_values(0)
                       ->mutable_struct_value()
                       ->mutable_fields()
                       ->at("resource")
                       .mutable_struct_value()
                       ->mutable_fields()
                       ->at("entity")
                       .mutable_list_value()
                       ->mutable_values(0);
  (*(*(*entity.mutable_struct_value()->mutable_fields())["what"]
          .mutable_struct_value()
          ->mutable_fields())["identifier"]
        .mutable_struct_value()
        ->mutable_fields())["value"]
      .set_string_value("01017099999");
  v1::ListSubjectAccessResponse short_index = proof1;
  short_index.mutable_entries()->erase(short_index.mutable_entries()->begin());
  std::string short_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(short_index, &short_json).ok());
  Value short_proof = page1;
  for (Value& entry : *(*short_proof.mutable_struct_value()->mutable_fields())["entry"]
                           .mutable_list_value()
                           ->mutable_values()) {
    Value& resource = (*entry.mutable_struct_value()->mutable_fields())["resource"];
    if (At(resource, "resourceType").string_value() != "Binary") continue;
    (*resource.mutable_struct_value()->mutable_fields())["data"].set_string_value(
        storage::Base64Encode(short_json));
  }
  const std::vector<Bent> bent = {
      {"a page left out", {saved1}, "names a page after it"},
      {"an AuditEvent left out", {save("no-event.json", no_event), saved2}, "has no AuditEvent"},
      {"another patient", {save("other.json", other_patient), saved2}, "about another patient"},
      {"an entry left out of the proof's answer",
       {save("short.json", short_proof), saved2},
       "is missing from the answer"},
  };
  for (const Bent& b : bent) {
    testing::CommandResult result = verify(b.files);
    EXPECT_EQ(result.exit_code, 1) << b.name << "\n" << result.output;
    EXPECT_NE(result.output.find(b.message), std::string::npos) << b.name << "\n" << result.output;
  }

  // After an erasure the answer holds the erased accesses and the erasure
  // record, neither of them an AuditEvent: still complete, and the erased
  // ones are named as innsynd's word, which the proof cannot show.
  testing::CommandResult erase =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "erase", "--subject",
                  "01017012345", "--reason", "GDPR art. 17(1)(a)"});
  ASSERT_EQ(erase.exit_code, 0) << erase.output;
  HttpAnswer after = Curl(Url("/fhir/AuditEvent?patient=01017012345&proof=true"));
  ASSERT_EQ(after.code, 200) << after.body;
  const Value erased_page = Json(after.body);
  EXPECT_TRUE(AuditEventSeqs(erased_page).empty()) << after.body;
  const v1::ListSubjectAccessResponse erased_proof = AnswerProofOf(erased_page);
  int erased = 0;
  std::vector<uint64_t> erasures;
  for (const v1::RecordedEntry& entry : erased_proof.entries()) {
    erased += entry.erased();
    if (entry.kind() == v1::ENTRY_KIND_ERASURE) erasures.push_back(entry.seq());
  }
  EXPECT_EQ(erased, 6);
  ASSERT_EQ(erasures.size(), 1u);
  testing::CommandResult checked = verify({save("erased.json", erased_page)});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("complete: 7 entries"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("erased, by innsynd's word"), std::string::npos) << checked.output;
  EXPECT_NE(
      checked.output.find("erasure records (no AuditEvent): " + std::to_string(erasures[0]) + " ("),
      std::string::npos)
      << checked.output;

  // Without proof=true, no Binary; a bad proof or tree_size is named.
  HttpAnswer plain = Curl(Url("/fhir/AuditEvent?patient=01017012345"));
  ASSERT_EQ(plain.code, 200) << plain.body;
  EXPECT_EQ(plain.body.find("Binary"), std::string::npos) << plain.body;
  HttpAnswer bad = Curl(Url("/fhir/AuditEvent?patient=01017012345&proof=yes"));
  EXPECT_EQ(bad.code, 400) << bad.body;
  EXPECT_NE(bad.body.find("proof must be true or false"), std::string::npos) << bad.body;
  HttpAnswer beyond = Curl(Url("/fhir/AuditEvent?patient=01017012345&proof=true&tree_size=999"));
  EXPECT_EQ(beyond.code, 400) << beyond.body;
  EXPECT_NE(beyond.body.find("tree_size 999 is beyond the ledger"), std::string::npos)
      << beyond.body;
}

TEST_F(HttpTest, AnAuditEventThatCannotBeMappedIsAnOperationOutcomeNamingTheElement) {
  std::string no_identifier = BalpRead();
  const std::string identifier =
      R"(, "identifier": {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "01017012345"})";
  no_identifier.erase(no_identifier.find(identifier), identifier.size());
  HttpAnswer answer = Post("/fhir/AuditEvent", no_identifier, "application/fhir+json");
  EXPECT_EQ(answer.code, 400) << answer.body;
  EXPECT_EQ(Expression(answer), "AuditEvent.entity[0].what.identifier");

  HttpAnswer patient =
      Post("/fhir/AuditEvent", R"({"resourceType":"Patient"})", "application/fhir+json");
  EXPECT_EQ(patient.code, 400);
  EXPECT_EQ(Expression(patient), "AuditEvent.resourceType");
  EXPECT_EQ(Post("/fhir/AuditEvent", BalpRead(), "text/xml").code, 415);
  EXPECT_EQ(LedgerSize(), 0u);
}

TEST_F(HttpTest, ABundleIsRecordedAllOrNothing) {
  std::string bad = WithId(BalpRead(), "balp-read-3");
  bad.replace(bad.find(R"("action": "R")"), 13, R"("action": "X")");
  HttpAnswer mixed = Post("/fhir", Bundle("batch", {WithId(BalpRead(), "balp-read-2"), bad}),
                          "application/fhir+json");
  EXPECT_EQ(mixed.code, 400) << mixed.body;
  EXPECT_EQ(Expression(mixed), "Bundle.entry[1].resource.action");
  EXPECT_EQ(LedgerSize(), 0u);

  HttpAnswer good = Post(
      "/fhir",
      Bundle("transaction", {WithId(BalpRead(), "balp-read-2"), WithId(BalpRead(), "balp-read-3")}),
      "application/fhir+json");
  ASSERT_EQ(good.code, 200) << good.body;
  const Value response = Json(good.body);
  EXPECT_EQ(At(response, "type").string_value(), "transaction-response");
  ASSERT_EQ(At(response, "entry").list_value().values_size(), 2);
  EXPECT_EQ(
      At(At(At(response, "entry").list_value().values(1), "response"), "location").string_value(),
      "AuditEvent/balp-read-3");
  EXPECT_EQ(LedgerSize(), 2u);
}

// ---- Slow clients ----

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(HttpTest, SlowClientsAreDisconnectedAndDoNotStopOthers) {
  StartWithConfig("http_threads = 2\nhttp_read_timeout_seconds = 1\n");
  // As many clients as threads send half a request and then nothing.
  std::vector<int> slow;
  for (int i = 0; i < 2; ++i) {
    const int fd = ConnectTo(daemon_->http_port());
    ASSERT_GE(fd, 0);
    const std::string half = "POST /v1/events:append HTTP/1.1\r\nHost: x\r\nContent-Le";
    ASSERT_EQ(write(fd, half.data(), half.size()), static_cast<ssize_t>(half.size()));
    slow.push_back(fd);
  }
  // Another client is still served.
  EXPECT_EQ(Post("/v1/events:append", AppendJson({JournalRead(1, kPatient, "kberg")})).code, 200);
  // And the slow ones have been hung up on, perhaps told why first.
  for (int fd : slow) {
    std::string answer;
    char buffer[512];
    ssize_t n = 1;
    while (n > 0) {
      pollfd waiting{fd, POLLIN, 0};
      ASSERT_EQ(poll(&waiting, 1, 10'000), 1) << "still connected; got: " << answer;
      n = read(fd, buffer, sizeof(buffer));
      if (n > 0) answer.append(buffer, static_cast<size_t>(n));
    }
    EXPECT_TRUE(answer.empty() || answer.starts_with("HTTP/1.1 4")) << answer;
    close(fd);
  }
  EXPECT_EQ(Curl(Url("/healthz")).code, 200);
}

// ---- mTLS ----

class HttpsTest : public HttpTest {
 protected:
  void SetUp() override {
    testing::CommandResult init =
        RunCommand({INNSYNCTL_PATH, "pki", "init", "--dir", pki(), "--host", "innsyn.example.no"});
    ASSERT_EQ(init.exit_code, 0) << init.output;
    Start({"--tls-cert", pki() + "/server.pem", "--tls-key", pki() + "/server.key", "--tls-ca",
           pki() + "/ca.pem", "--tls-crl", pki() + "/crl.pem"});
  }
  std::string pki() const { return dir_.path() + "/pki"; }

  // A request presenting `name`.pem (none if empty), by the server's name.
  HttpAnswer As(const std::string& name, const std::string& path,
                std::vector<std::string> options = {}) {
    const std::string port = std::to_string(daemon_->http_port());
    options.insert(options.end(), {"--cacert", pki() + "/ca.pem", "--resolve",
                                   "innsyn.example.no:" + port + ":127.0.0.1"});
    if (!name.empty()) {
      options.insert(options.end(),
                     {"--cert", pki() + "/" + name + ".pem", "--key", pki() + "/" + name + ".key"});
    }
    return Curl("https://innsyn.example.no:" + port + path, options);
  }
};

TEST_F(HttpsTest, RolesFromClientCertificatesDecideAsOnGrpc) {
  const std::string file = dir_.path() + "/event.json";
  std::ofstream(file) << AppendJson({JournalRead(1, kPatient, "kberg")});
  const std::vector<std::string> post = {
      "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + file};
  // No certificate: the handshake fails.
  EXPECT_NE(As("", "/v1/events:append", post).curl_exit, 0);
  HttpAnswer ingest = As("ingest", "/v1/events:append", post);
  EXPECT_EQ(ingest.code, 200) << ingest.body;
  const std::string search = "/fhir/AuditEvent?patient=01017012345";
  HttpAnswer refused = As("ingest", search);
  EXPECT_EQ(refused.code, 403) << refused.body;
  EXPECT_NE(refused.body.find("may not call ListSubjectAccess"), std::string::npos);
  HttpAnswer portal = As("portal", search);
  EXPECT_EQ(portal.code, 403) << portal.body;
  HttpAnswer acting = As("portal", search, {"-H", "Innsyn-Acting-For: 01017012345"});
  EXPECT_EQ(acting.code, 200) << acting.body;
  HttpAnswer controller = As("controller", search);
  ASSERT_EQ(controller.code, 200) << controller.body;
  EXPECT_EQ(At(Json(controller.body), "entry").list_value().values_size(), 1);
}

}  // namespace
}  // namespace innsyn
