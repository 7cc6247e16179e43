// innsyn-bench: drives the real innsynd over gRPC with the clinic event mix
// and reports ingest throughput, acknowledgement latency, the daemon's CPU
// and peak memory, and bytes on disk per event. Every acknowledgement is
// durable (the daemon answers after the WAL fsync).
//
// Modes: unary (one event a call), batch (K events a call), stream (one
// AppendStream per client, up to --window batches in flight), and storage
// (the ledger library in this process, no gRPC) to separate the two costs.
//
// Traffic: `clinic` (default), the simulated clinic of the detection report
// (bench/clinic_sim.h) in time order, with its roster, closed dates and
// networks given to innsynd: every source numbers its events without gaps
// and clinicians read the records of their own patients, so with detection
// on innsynd raises the alerts of the incidents the traffic holds and few
// others, as at a real clinic. Each client plays a clinic of its own and
// sends its events in time order. Or `mix`, independent random events of
// a clinic's mix, each client playing its own journal, billing and website
// instances (consecutive numbers per source): no appointments lie behind
// them, so with detection on nearly every clinician's read is an alert.
//
// After the run innsynd is stopped and its ledger opened read-only to count
// the alerts it recorded.
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "anomaly/event_conventions.h"
#include "base/program.h"
#include "base/proto_time.h"
#include "bench/clinic_events.h"
#include "bench/clinic_sim.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"
#include "tests/support/http_get.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode = "batch";
  size_t batch = 100;
  int clients = 4;
  uint64_t events = 200'000;
  int window = 8;
  std::string innsynd;
  std::string data_dir;
  std::string json_path;
  bool keep_data = false;
  int duration_seconds = 0;                     // 0: until every event is sent
  std::chrono::steady_clock::time_point start;  // of the clients' run
  innsyn::bench::ClinicMix mix;
  std::string traffic = "clinic";
  bool detection = true;
  bool seal = true;       // storage mode: seal entries (false: store them in the clear)
  bool histories = true;  // storage mode: keep the histories and the subject map
  // Clinic traffic: the batches to send, in order, and innsynd's config.
  // Per client, each batch serialised: a tenth of the memory of the
  // messages, so that runs of millions of events fit.
  std::vector<std::vector<std::string>> clinic_batches;
  size_t clinic_incidents = 0;  // labelled incidents among the events sent
  std::string config_path;
};

// One acknowledged call: when its answer came, how long it took, and how
// many events it acknowledged.
struct Ack {
  Clock::time_point done;
  double latency_ms = 0;
  uint64_t events = 0;
};

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Ack AckSince(Clock::time_point sent, uint64_t events) {
  return Ack{Clock::now(), MillisSince(sent), events};
}

struct Results {
  std::mutex mu;
  std::vector<double> ack_ms;  // one per call (per batch)
  std::vector<Ack> acks;       // the same calls, with when they were answered
  uint64_t events = 0;
  uint64_t failed_calls = 0;
  void Add(const std::vector<Ack>& answered, uint64_t failures) {
    std::lock_guard<std::mutex> lock(mu);
    for (const Ack& ack : answered) {
      ack_ms.push_back(ack.latency_ms);
      events += ack.events;
    }
    acks.insert(acks.end(), answered.begin(), answered.end());
    failed_calls += failures;
  }
};

// A tenth of the run, by events acknowledged: how fast it went and the
// slowest acknowledgements in it. A sustained rate keeps the last tenth
// near the first however long the ledger grows.
struct Tenth {
  double events_per_second = 0;
  double ack_p99_ms = 0;
};

std::vector<Tenth> Tenths(std::vector<Ack> acks, Clock::time_point start) {
  std::sort(acks.begin(), acks.end(), [](const Ack& a, const Ack& b) { return a.done < b.done; });
  uint64_t total = 0;
  for (const Ack& ack : acks) total += ack.events;
  std::vector<Tenth> tenths;
  if (total == 0) return tenths;
  size_t next = 0;
  uint64_t seen = 0;
  Clock::time_point from = start;
  for (uint64_t k = 1; k <= 10; ++k) {
    const uint64_t until = total * k / 10;
    std::vector<double> latencies;
    uint64_t events = 0;
    Clock::time_point to = from;
    while (next < acks.size() && seen < until) {
      seen += acks[next].events;
      events += acks[next].events;
      latencies.push_back(acks[next].latency_ms);
      to = acks[next].done;
      ++next;
    }
    const double seconds = std::chrono::duration<double>(to - from).count();
    tenths.push_back(Tenth{seconds > 0 ? static_cast<double>(events) / seconds : 0,
                           latencies.empty() ? 0 : innsyn::bench::Percentile(latencies, 0.99)});
    from = to;
  }
  return tenths;
}

int Fail(const std::string& what) {
  fmt::print(stderr, "innsyn-bench: {}\n", what);
  return 1;
}

// One client's requests, in the order it sends them: its own clinic's
// batches, or `count` events of the random mix from its own sources.
class ClientTraffic {
 public:
  ClientTraffic(const Options& options, int client, uint64_t first, uint64_t count)
      : options_(options),
        client_(client),
        next_(first),
        end_(first + count),
        random_(first),
        sources_(client) {}

  // The next request, or nullopt when this client has sent its share (or
  // the run has lasted --duration).
  std::optional<innsyn::v1::AppendRequest> Next() {
    if (options_.duration_seconds > 0 &&
        Clock::now() - options_.start >= std::chrono::seconds(options_.duration_seconds)) {
      return std::nullopt;
    }
    if (!options_.clinic_batches.empty()) {
      const std::vector<std::string>& mine = options_.clinic_batches[static_cast<size_t>(client_)];
      if (clinic_sent_ >= mine.size()) return std::nullopt;
      innsyn::v1::AppendRequest request;
      request.ParseFromString(mine[clinic_sent_++]);
      return request;
    }
    if (next_ >= end_) return std::nullopt;
    innsyn::v1::AppendRequest request;
    const uint64_t count = std::min<uint64_t>(options_.batch, end_ - next_);
    for (uint64_t i = 0; i < count; ++i) {
      *request.add_events() = innsyn::bench::MakeEvent(next_++, random_, options_.mix, sources_);
    }
    return request;
  }

 private:
  const Options& options_;
  const int client_;
  uint64_t next_;
  const uint64_t end_;
  std::mt19937_64 random_;
  innsyn::bench::MixSources sources_;
  size_t clinic_sent_ = 0;
};

// A channel of its own per client, so that clients do not share one
// HTTP/2 connection.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void UnaryClient(const std::string& address, ClientTraffic traffic, Results& results) {
  auto stub = innsyn::v1::IngestService::NewStub(NewChannel(address));
  std::vector<Ack> acks;
  uint64_t failures = 0;
  while (std::optional<innsyn::v1::AppendRequest> request = traffic.Next()) {
    innsyn::v1::AppendResponse response;
    grpc::ClientContext context;
    auto start = Clock::now();
    grpc::Status status = stub->Append(&context, *request, &response);
    if (!status.ok()) {
      ++failures;
      continue;
    }
    acks.push_back(AckSince(start, static_cast<uint64_t>(response.receipts_size())));
  }
  results.Add(acks, failures);
}

// As a website would: each batch as the proto3 JSON of an AppendRequest,
// POSTed to innsynd's HTTP listener on one kept-alive connection.
void HttpClient(int port, ClientTraffic traffic, Results& results) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_read_timeout(std::chrono::seconds(60));
  std::vector<Ack> acks;
  uint64_t failures = 0;
  while (std::optional<innsyn::v1::AppendRequest> request = traffic.Next()) {
    auto start = Clock::now();
    std::string body;
    (void)google::protobuf::util::MessageToJsonString(*request, &body);
    httplib::Result answer = client.Post("/v1/events:append", body, "application/json");
    innsyn::v1::AppendResponse response;
    if (!answer || answer->status != 200 ||
        !google::protobuf::util::JsonStringToMessage(answer->body, &response).ok()) {
      ++failures;
      continue;
    }
    acks.push_back(AckSince(start, static_cast<uint64_t>(response.receipts_size())));
  }
  results.Add(acks, failures);
}

void StreamClient(const std::string& address, ClientTraffic traffic, const Options& options,
                  Results& results) {
  auto stub = innsyn::v1::IngestService::NewStub(NewChannel(address));
  grpc::ClientContext context;
  auto stream = stub->AppendStream(&context);
  std::mutex mu;
  std::deque<Clock::time_point> sent;  // send times of batches not yet answered
  std::atomic<int> in_flight{0};
  std::vector<Ack> acks;
  std::thread reader([&] {
    innsyn::v1::AppendResponse response;
    while (stream->Read(&response)) {
      Clock::time_point start;
      {
        std::lock_guard<std::mutex> lock(mu);
        start = sent.front();
        sent.pop_front();
      }
      acks.push_back(AckSince(start, static_cast<uint64_t>(response.receipts_size())));
      --in_flight;
    }
  });
  uint64_t batch_id = 0;
  while (std::optional<innsyn::v1::AppendRequest> next = traffic.Next()) {
    innsyn::v1::AppendRequest& request = *next;
    request.set_batch_id(batch_id++);
    while (in_flight.load() >= options.window) std::this_thread::yield();
    {
      std::lock_guard<std::mutex> lock(mu);
      sent.push_back(Clock::now());
    }
    ++in_flight;
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  reader.join();
  grpc::Status status = stream->Finish();
  results.Add(acks, status.ok() ? 0 : 1);
}

void StorageClient(innsyn::storage::Ledger& ledger, ClientTraffic traffic, int window,
                   Results& results) {
  std::vector<Ack> acks;
  uint64_t failures = 0;
  if (window <= 1) {  // one batch at a time, each call waiting for its ack
    while (std::optional<innsyn::v1::AppendRequest> request = traffic.Next()) {
      auto start = Clock::now();
      auto receipts = ledger.AppendEvents(request->events());
      if (!receipts.ok()) {
        ++failures;
        continue;
      }
      acks.push_back(AckSince(start, receipts->size()));
    }
    results.Add(acks, failures);
    return;
  }
  // Up to `window` batches in flight, as innsynd's AppendStream drives the
  // ledger: each batch is queued at once and answered by the writer.
  std::mutex mu;
  std::condition_variable answered;
  int in_flight = 0;
  std::deque<innsyn::v1::AppendRequest> requests;  // borrowed until answered
  while (std::optional<innsyn::v1::AppendRequest> next = traffic.Next()) {
    std::unique_lock<std::mutex> lock(mu);
    answered.wait(lock, [&] { return in_flight < window; });
    // The answered batches at the front are no longer borrowed.
    while (requests.size() > static_cast<size_t>(in_flight)) requests.pop_front();
    requests.push_back(*std::move(next));
    const innsyn::v1::AppendRequest& request = requests.back();
    ++in_flight;
    lock.unlock();
    const Clock::time_point start = Clock::now();
    auto done = [&, start](absl::StatusOr<std::vector<innsyn::v1::AppendReceipt>> receipts) {
      std::lock_guard<std::mutex> guard(mu);
      if (receipts.ok()) {
        acks.push_back(AckSince(start, receipts->size()));
      } else {
        ++failures;
      }
      --in_flight;
      answered.notify_all();
    };
    // A full queue (ResourceExhausted) is asked again shortly, as a client
    // told to retry would.
    absl::Status queued;
    while (absl::IsResourceExhausted(queued = ledger.AppendEventsAsync(request.events(), done))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!queued.ok()) {  // never queued: `done` does not run
      std::lock_guard<std::mutex> guard(mu);
      ++failures;
      --in_flight;
      requests.pop_back();
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  answered.wait(lock, [&] { return in_flight == 0; });
  results.Add(acks, failures);
}

// How far behind innsynd's anomaly detectors are, read from its /metrics
// twice a second while the run lasts.
class LagSampler {
 public:
  explicit LagSampler(int metrics_port) : port_(metrics_port) {
    thread_ = std::thread([this] { Run(); });
  }
  ~LagSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  double max_entries() const { return max_entries_; }
  double max_seconds() const { return max_seconds_; }
  size_t samples() const { return samples_; }
  // The largest lag in entries in each tenth of the samples, in order.
  std::vector<double> MaxPerTenth() const {
    std::vector<double> tenths(10, 0);
    for (size_t i = 0; i < timeline_.size(); ++i) {
      double& tenth = tenths[i * 10 / timeline_.size()];
      tenth = std::max(tenth, timeline_[i]);
    }
    return tenths;
  }

 private:
  static std::optional<double> Value(const std::string& page, const std::string& name) {
    const size_t at = page.find("\n" + name + " ");
    if (at == std::string::npos) return std::nullopt;
    return std::strtod(page.c_str() + at + name.size() + 2, nullptr);
  }
  void Run() {
    while (!stop_) {
      const std::string page = innsyn::testing::HttpGetBody(port_, "/metrics");
      if (std::optional<double> entries = Value(page, "innsyn_detection_lag_entries")) {
        ++samples_;
        timeline_.push_back(*entries);
        max_entries_ = std::max(max_entries_, *entries);
        max_seconds_ =
            std::max(max_seconds_, Value(page, "innsyn_detection_lag_seconds").value_or(0));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  const int port_;
  std::atomic<bool> stop_{false};
  double max_entries_ = 0;
  double max_seconds_ = 0;
  size_t samples_ = 0;
  std::vector<double> timeline_;  // lag in entries, one a sample
  std::thread thread_;
};

// The daemon under test, started on ephemeral ports.
struct Daemon {
  pid_t pid = -1;
  std::string address;
  int metrics_port = 0;
  int http_port = 0;

  static absl::StatusOr<Daemon> Start(const Options& options) {
    std::string port_file = options.data_dir + ".port";
    std::filesystem::remove(port_file);
    Daemon daemon;
    daemon.pid = fork();
    if (daemon.pid == 0) {
      // All clients share one identity here; the benchmark measures the
      // ledger, not the per-client rate limit.
      std::vector<std::string> args = {options.innsynd,
                                       "--data-dir",
                                       options.data_dir,
                                       "--listen",
                                       "127.0.0.1:0",
                                       "--metrics-listen",
                                       "127.0.0.1:0",
                                       "--http-listen",
                                       "127.0.0.1:0",
                                       "--port-file",
                                       port_file,
                                       "--rate-limit-calls-per-second",
                                       "0",
                                       "--detection",
                                       options.detection ? "true" : "false"};
      if (!options.config_path.empty()) args.insert(args.end(), {"--config", options.config_path});
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(options.innsynd.c_str(), argv.data());
      _exit(127);
    }
    for (int i = 0; i < 300; ++i) {
      int port = 0;
      if (std::ifstream(port_file) >> port >> daemon.metrics_port >> daemon.http_port) {
        daemon.address = fmt::format("127.0.0.1:{}", port);
        return daemon;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(daemon.pid, SIGKILL);
    return absl::UnavailableError("innsynd did not start");
  }

  // CPU seconds used so far (user and system).
  double CpuSeconds() const {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 1; i <= 15 && stat >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  // Peak resident memory in MiB (VmHWM).
  double PeakRssMiB() const {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
  }

  // Returns how long innsynd took to stop: with detection on, that
  // includes judging the entries its detectors had not read yet.
  double Stop() {
    const auto start = Clock::now();
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
};

// Clinic traffic: one simulated clinic per client, so that every source
// sends its events in order on one connection and what a clinician reads
// follows the bookings behind it, as at a real clinic. Clinic k has its own
// seed and its own ids: staff ids and source instances end in "@c<k>", and
// patients' identity numbers are shifted, so no two clinics share a person.
// The simulated routine's events per staff member and calendar day, weekends
// and holidays included: 28.5 and 29.9 were measured (7,282,960 events from
// two clinics of 200 staff over 639 days, 7,651,045 from three of 160 over
// 534). Sized by a higher rate, the clinics fell short of the events asked.
constexpr double kClinicEventsPerStaffDay = 28;
constexpr int kClinicMaxDays = 700;
constexpr int kClinicMaxStaff = 200;

void RenameClinic(innsyn::bench::Clinic& clinic, int k) {
  const std::string suffix = fmt::format("@c{}", k);
  absl::flat_hash_set<std::string> staff;
  for (innsyn::anomaly::StaffMember& member : clinic.roster) {
    staff.insert(member.id);
    member.id += suffix;
  }
  // An 11-digit identity number: shift its last five digits (the person
  // number) by the clinic's share of 100,000.
  auto patient = [k](std::string& id) {
    if (id.size() != 11 || id.find_first_not_of("0123456789") != std::string::npos) return;
    const int person = (std::stoi(id.substr(6)) + k * 20'011) % 100'000;
    id = id.substr(0, 6) + fmt::format("{:05d}", person);
  };
  auto actor = [&](std::string& id) {
    if (staff.contains(id)) {
      id += suffix;
    } else {
      patient(id);
    }
  };
  for (innsyn::anomaly::StaffMember& member : clinic.roster) {
    for (std::string& id : member.own_subject_ids) patient(id);
    for (std::string& id : member.related_subject_ids) patient(id);
  }
  for (innsyn::v1::AccessEvent& event : clinic.events) {
    event.set_event_id(event.event_id() + suffix);
    event.mutable_source()->set_instance(event.source().instance() + suffix);
    actor(*event.mutable_actor()->mutable_id());
    patient(*event.mutable_subject()->mutable_id());
    auto& attributes = *event.mutable_attributes();
    if (auto it = attributes.find(std::string(innsyn::anomaly::kAppointmentClinician));
        it != attributes.end()) {
      actor(it->second);
    }
  }
  for (innsyn::bench::IncidentLabel& label : clinic.incidents) {
    actor(label.actor_id);
    patient(label.subject_id);
    for (std::string& id : label.event_ids) id += suffix;
  }
}

// Generates each client's clinic, big enough for its share of
// `options.events` and ending before today, cuts it into batches, and
// writes innsynd's config with the merged roster, closed dates and networks
// beside the data folder.
absl::Status PrepareClinicTraffic(Options& options) {
  const uint64_t share = options.events / static_cast<uint64_t>(options.clients);
  innsyn::bench::ClinicOptions clinic_options;
  clinic_options.staff = 40;
  clinic_options.patients = 20'000;
  auto days_for = [share](int staff) {
    return static_cast<int>(static_cast<double>(share) / (kClinicEventsPerStaffDay * staff)) + 14;
  };
  while (days_for(clinic_options.staff) > kClinicMaxDays &&
         clinic_options.staff < kClinicMaxStaff) {
    clinic_options.staff = std::min(kClinicMaxStaff, clinic_options.staff * 2);
  }
  clinic_options.days = std::min(kClinicMaxDays, days_for(clinic_options.staff));
  // The Monday at least a week before the period must start to end today.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  absl::CivilDay first = today - clinic_options.days - 7;
  while (absl::GetWeekday(first) != absl::Weekday::monday) first -= 1;
  clinic_options.first_day = first;

  std::vector<innsyn::anomaly::StaffMember> roster;
  std::set<std::string> closed_dates;
  std::map<std::string, std::vector<std::string>> networks;
  const uint64_t asked = share * static_cast<uint64_t>(options.clients);  // whole shares
  options.events = 0;
  for (int k = 0; k < options.clients; ++k) {
    clinic_options.seed = static_cast<uint64_t>(k) + 1;
    absl::StatusOr<innsyn::bench::Clinic> clinic = innsyn::bench::GenerateClinic(clinic_options);
    if (!clinic.ok()) return clinic.status();
    RenameClinic(*clinic, k);
    const size_t events = std::min<size_t>(clinic->events.size(), share);
    const absl::Time last =
        events > 0 ? innsyn::FromProto(clinic->events[events - 1].occurred_at()) : absl::Time();
    std::vector<std::string>& batches = options.clinic_batches.emplace_back();
    for (size_t i = 0; i < events; i += options.batch) {
      innsyn::v1::AppendRequest request;
      for (size_t j = i; j < std::min(events, i + options.batch); ++j) {
        *request.add_events() = std::move(clinic->events[j]);
      }
      batches.push_back(request.SerializeAsString());
    }
    options.events += events;
    if (events > 0) {
      for (const innsyn::bench::IncidentLabel& label : clinic->incidents) {
        if (label.from <= last) ++options.clinic_incidents;
      }
    }
    roster.insert(roster.end(), clinic->roster.begin(), clinic->roster.end());
    closed_dates.insert(clinic->closed_dates.begin(), clinic->closed_dates.end());
    for (const auto& [source, cidrs] : clinic->networks_by_source) {
      std::vector<std::string>& merged = networks[source];
      for (const std::string& cidr : cidrs) {
        if (std::find(merged.begin(), merged.end(), cidr) == merged.end()) merged.push_back(cidr);
      }
    }
  }
  if (options.events < asked) {
    fmt::print(stderr,
               "innsyn-bench: the {} simulated clinics make {} events, not the {} asked (a "
               "clinic has at most {} staff and {} days); add clients to reach it\n",
               options.clients, options.events, asked, kClinicMaxStaff, kClinicMaxDays);
  }
  const std::string roster_path = options.data_dir + ".roster.toml";
  std::ofstream(roster_path) << innsyn::bench::RosterToml(roster);
  options.config_path = options.data_dir + ".innsynd.toml";
  std::ofstream config(options.config_path);
  config << "[detection]\nroster_file = \"" << roster_path << "\"\nclosed_dates = [";
  size_t i = 0;
  for (const std::string& date : closed_dates) config << (i++ ? ", " : "") << '"' << date << '"';
  config << "]\n[detection.disallowed_network.networks]\n";
  for (const auto& [source, cidrs] : networks) {
    config << '"' << source << "\" = [";
    for (size_t j = 0; j < cidrs.size(); ++j) config << (j ? ", " : "") << '"' << cidrs[j] << '"';
    config << "]\n";
  }
  return absl::OkStatus();
}

// The alerts innsynd recorded, by rule, read from its stopped ledger.
absl::StatusOr<std::map<std::string, uint64_t>> CountAlerts(const std::string& data_dir) {
  innsyn::storage::LedgerOptions ledger_options;
  ledger_options.data_dir = data_dir;
  ledger_options.create_if_missing = false;
  ledger_options.read_only = true;
  absl::StatusOr<std::unique_ptr<innsyn::storage::Ledger>> ledger =
      innsyn::storage::Ledger::Open(ledger_options);
  if (!ledger.ok()) return ledger.status();
  absl::StatusOr<std::vector<innsyn::storage::StoredEntry>> records = (*ledger)->ListAlertRecords();
  if (!records.ok()) return records.status();
  std::map<std::string, uint64_t> by_rule;
  for (const innsyn::storage::StoredEntry& record : *records) {
    if (record.entry.has_alert()) ++by_rule[record.entry.alert().rule()];
  }
  return by_rule;
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

std::string Joined(const std::vector<double>& values, std::string_view separator) {
  std::string out;
  for (double value : values) {
    out += fmt::format("{}{:.0f}", out.empty() ? "" : separator, value);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  innsyn::StartProgram();
  Options options;
  CLI::App app{"innsyn-bench: ingest throughput and latency of innsynd"};
  app.add_option("--mode", options.mode,
                 "unary, batch, stream, http (batches as JSON over HTTP) or storage")
      ->check(CLI::IsMember({"unary", "batch", "stream", "http", "storage"}));
  app.add_option("--batch", options.batch, "events per call (batch, stream, storage)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--clients", options.clients, "concurrent clients")->check(CLI::Range(1, 1024));
  app.add_option("--events", options.events, "events in all");
  app.add_option("--window", options.window,
                 "stream and storage: batches in flight per client (storage: 1 unless given, "
                 "each call waiting for its ack)");
  app.add_option("--innsynd", options.innsynd, "innsynd binary (default: beside this one)");
  app.add_option("--data-dir", options.data_dir, "ledger folder (default: a new temporary one)");
  app.add_option("--json", options.json_path, "also write the figures here as JSON");
  app.add_flag("--keep-data", options.keep_data, "keep the ledger folder after the run");
  app.add_option("--duration", options.duration_seconds,
                 "stop sending after this many seconds, if the events last that long");
  app.add_option("--traffic", options.traffic,
                 "clinic (the simulated clinic, in time order, with its roster; the default) or "
                 "mix (random events of a clinic's mix, with no appointments behind them)")
      ->check(CLI::IsMember({"mix", "clinic"}));
  app.add_option("--detection", options.detection,
                 "run innsynd's anomaly detectors (true or false)")
      ->capture_default_str();
  app.add_option("--seal", options.seal,
                 "storage mode: seal entries under data keys (true, as innsynd always does) or "
                 "store them in the clear (false), to measure what sealing costs")
      ->capture_default_str();
  app.add_option("--histories", options.histories,
                 "storage mode: link entries into histories and keep the subject map (true, as "
                 "innsynd always does) or not (false), to measure what complete answers cost")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.mode == "storage" && app.count("--window") == 0) options.window = 1;
  if (options.mode == "unary") options.batch = 1;
  if (options.innsynd.empty()) {
    options.innsynd = (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() /
                       "daemon" / "innsynd")
                          .string();
  }
  if (options.data_dir.empty()) {
    options.data_dir =
        (std::filesystem::temp_directory_path() / fmt::format("innsyn-bench-{}", getpid()))
            .string();
  }
  std::filesystem::remove_all(options.data_dir);
  if (options.traffic == "clinic") {
    if (absl::Status s = PrepareClinicTraffic(options); !s.ok()) return Fail(s.ToString());
  }

  Results results;
  std::optional<Daemon> daemon;
  std::unique_ptr<innsyn::storage::Ledger> ledger;
  // Storage mode: what the group-commit writer did, from its own reports.
  struct GroupTotals {
    std::atomic<uint64_t> groups{0}, entries{0}, write_micros{0};
  } group_totals;
  if (options.mode == "storage") {
    innsyn::storage::LedgerOptions ledger_options;
    ledger_options.data_dir = options.data_dir;
    ledger_options.seal_entries = options.seal;
    ledger_options.keep_histories = options.histories;
    ledger_options.on_group_commit = [&group_totals](const innsyn::storage::GroupCommitStats& s) {
      ++group_totals.groups;
      group_totals.entries += s.entries;
      group_totals.write_micros += static_cast<uint64_t>(absl::ToInt64Microseconds(s.write_time));
    };
    auto opened = innsyn::storage::Ledger::Open(ledger_options);
    if (!opened.ok()) return Fail(opened.status().ToString());
    ledger = *std::move(opened);
  } else {
    auto started = Daemon::Start(options);
    if (!started.ok()) return Fail(started.status().ToString());
    daemon = *started;
  }

  const double cpu_before = daemon ? daemon->CpuSeconds() : 0;
  std::optional<LagSampler> lag;
  if (daemon && options.detection) lag.emplace(daemon->metrics_port);
  const uint64_t per_client = options.events / static_cast<uint64_t>(options.clients);
  auto start = Clock::now();
  options.start = start;
  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) {
    uint64_t first = static_cast<uint64_t>(c) * per_client;
    clients.emplace_back([&, first, c] {
      ClientTraffic traffic(options, c, first, per_client);
      if (options.mode == "storage") {
        StorageClient(*ledger, std::move(traffic), options.window, results);
      } else if (options.mode == "stream") {
        StreamClient(daemon->address, std::move(traffic), options, results);
      } else if (options.mode == "http") {
        HttpClient(daemon->http_port, std::move(traffic), results);
      } else {
        UnaryClient(daemon->address, std::move(traffic), results);
      }
    });
  }
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (lag) lag->Stop();
  const double cpu = daemon ? daemon->CpuSeconds() - cpu_before : 0;
  const double peak_rss = daemon ? daemon->PeakRssMiB() : 0;
  const double stop_seconds = daemon ? daemon->Stop() : 0;
  // Storage mode, sealed: the data keys the traffic made (one per subject,
  // class and year), which is most of what sealing costs.
  uint64_t data_keys = 0;
  if (ledger != nullptr && options.seal) {
    absl::StatusOr<innsyn::storage::Ledger::KeyCounts> counted = ledger->CountKeys();
    if (!counted.ok()) return Fail(counted.status().ToString());
    data_keys = counted->live;
  }
  ledger.reset();
  const uint64_t disk_bytes = FolderBytes(options.data_dir);
  std::map<std::string, uint64_t> alerts_by_rule;
  uint64_t alerts = 0;
  if (daemon && options.detection) {
    absl::StatusOr<std::map<std::string, uint64_t>> counted = CountAlerts(options.data_dir);
    if (!counted.ok()) return Fail(counted.status().ToString());
    alerts_by_rule = *std::move(counted);
    for (const auto& [rule, count] : alerts_by_rule) alerts += count;
  }

  using innsyn::bench::Percentile;
  const double rate = static_cast<double>(results.events) / seconds;
  const double per_event_disk =
      static_cast<double>(disk_bytes) / static_cast<double>(results.events);
  fmt::print(
      "innsyn-bench mode={} batch={} clients={} window={} traffic={} detection={} ({} cores)\n",
      options.mode, options.batch, options.clients, options.window, options.traffic,
      options.detection ? "on" : "off", std::thread::hardware_concurrency());
  fmt::print("  acknowledged events   {} ({} failed calls) in {:.2f} s\n", results.events,
             results.failed_calls, seconds);
  fmt::print("  throughput            {:.0f} events/s\n", rate);
  fmt::print("  ack latency per call  p50 {:.3f} ms, p99 {:.3f} ms, p99.9 {:.3f} ms\n",
             Percentile(results.ack_ms, 0.5), Percentile(results.ack_ms, 0.99),
             Percentile(results.ack_ms, 0.999));
  const std::vector<Tenth> tenths = Tenths(results.acks, start);
  std::vector<double> tenth_rates, tenth_p99s;
  for (const Tenth& tenth : tenths) {
    tenth_rates.push_back(tenth.events_per_second);
    tenth_p99s.push_back(tenth.ack_p99_ms);
  }
  const double last_to_first =
      tenths.empty() || tenths.front().events_per_second == 0
          ? 0
          : tenths.back().events_per_second / tenths.front().events_per_second;
  fmt::print("  rate in each tenth    {} events/s (last/first {:.2f})\n", Joined(tenth_rates, " "),
             last_to_first);
  fmt::print("  ack p99 in each tenth {} ms\n", Joined(tenth_p99s, " "));
  if (daemon) {
    fmt::print("  innsynd CPU           {:.2f} s ({:.0f}% of one core), peak RSS {:.0f} MiB\n", cpu,
               100 * cpu / seconds, peak_rss);
    fmt::print(
        "  innsynd stop          {:.2f} s after the last acknowledgement (detection, if on,\n"
        "                        judges what it has not read yet before it stops)\n",
        stop_seconds);
  }
  if (group_totals.groups > 0) {
    const double groups = static_cast<double>(group_totals.groups.load());
    const double write_seconds = static_cast<double>(group_totals.write_micros.load()) / 1e6;
    fmt::print(
        "  group commits         {:.0f}, {:.0f} entries each on average; the RocksDB write\n"
        "                        (WAL, fsync, memtables) took {:.2f} ms each, {:.0f}% of the run\n",
        groups, static_cast<double>(group_totals.entries.load()) / groups,
        1000 * write_seconds / groups, 100 * write_seconds / seconds);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    fmt::print("  peak RSS              {:.0f} MiB (this process, ledger included)\n",
               static_cast<double>(usage.ru_maxrss) / 1024);
  }
  fmt::print("  on disk               {:.0f} bytes/event after a clean stop (memtables flushed)\n",
             per_event_disk);
  if (data_keys > 0) {
    fmt::print("  data keys made        {} ({:.2f} per event)\n", data_keys,
               static_cast<double>(data_keys) / static_cast<double>(results.events));
  }
  if (daemon && options.detection) {
    std::string rules;
    for (const auto& [rule, count] : alerts_by_rule) {
      rules += fmt::format("{}{} {}", rules.empty() ? "" : ", ", rule, count);
    }
    fmt::print("  alerts raised         {}{}{}\n", alerts, rules.empty() ? "" : ": ", rules);
    if (options.traffic == "clinic") {
      fmt::print("                        (the traffic holds {} labelled incidents)\n",
                 options.clinic_incidents);
    }
    fmt::print(
        "  detection lag         at most {:.0f} entries, {:.1f} s behind while acknowledging\n"
        "                        ({} samples of innsynd's /metrics, two a second)\n",
        lag->max_entries(), lag->max_seconds(), lag->samples());
    std::string tenths;
    for (double tenth : lag->MaxPerTenth()) tenths += fmt::format(" {:.0f}", tenth);
    fmt::print("                        most entries behind in each tenth of the run:{}\n", tenths);
  }
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << fmt::format(
        "{{\"mode\": \"{}\", \"batch\": {}, \"clients\": {}, \"window\": {}, \"events\": {}, "
        "\"seconds\": {:.3f}, "
        "\"events_per_second\": {:.0f}, \"ack_ms\": {{\"p50\": {:.4f}, \"p99\": {:.4f}, "
        "\"p999\": {:.4f}}}, \"daemon_cpu_seconds\": {:.3f}, \"daemon_peak_rss_mib\": {:.1f}, "
        "\"disk_bytes_per_event\": {:.1f}, \"traffic\": \"{}\", \"detection\": {}, "
        "\"stop_seconds\": {:.3f}, \"alerts\": {}, \"incidents\": {}, "
        "\"detection_lag_max_entries\": {:.0f}, \"detection_lag_max_seconds\": {:.2f}, "
        "\"tenths_events_per_second\": [{}], \"tenths_ack_p99_ms\": [{}], \"data_keys\": {}}}\n",
        options.mode, options.batch, options.clients, options.window, results.events, seconds, rate,
        Percentile(results.ack_ms, 0.5), Percentile(results.ack_ms, 0.99),
        Percentile(results.ack_ms, 0.999), cpu, peak_rss, per_event_disk, options.traffic,
        options.detection, stop_seconds, alerts, options.clinic_incidents,
        lag ? lag->max_entries() : 0, lag ? lag->max_seconds() : 0, Joined(tenth_rates, ", "),
        Joined(tenth_p99s, ", "), data_keys);
  }
  if (options.keep_data) {
    fmt::print("  ledger kept in        {}\n", options.data_dir);
  } else {
    std::filesystem::remove_all(options.data_dir);
  }
  if (!options.config_path.empty()) {
    std::filesystem::remove(options.config_path);
    std::filesystem::remove(options.data_dir + ".roster.toml");
  }
  return results.failed_calls == 0 ? 0 : 1;
}
