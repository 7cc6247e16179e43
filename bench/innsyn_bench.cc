// innsyn-bench: drives the real innsynd over gRPC with the clinic event mix
// and reports ingest throughput, acknowledgement latency, the daemon's CPU
// and peak memory, and bytes on disk per event. Every acknowledgement is
// durable (the daemon answers after the WAL fsync).
//
// Modes: unary (one event a call), batch (K events a call), stream (one
// AppendStream per client, up to --window batches in flight), and storage
// (the ledger library in this process, no gRPC) to separate the two costs.
//
// Traffic: `mix` (default), independent random events of the clinic mix; or
// `clinic`, the simulated clinic of the detection report (bench/clinic_sim.h)
// in time order, with its roster and networks given to innsynd, so that
// running it with --detection true and false shows what the anomaly
// detectors cost on realistic traffic. With clinic traffic, batch k goes to
// client k mod clients, so the ledger stays nearly in time order.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "bench/clinic_events.h"
#include "bench/clinic_sim.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"

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
  innsyn::bench::ClinicMix mix;
  std::string traffic = "mix";
  bool detection = true;
  // Clinic traffic: the batches to send, in order, and innsynd's config.
  std::vector<innsyn::v1::AppendRequest> clinic_batches;
  std::string config_path;
};

struct Results {
  std::mutex mu;
  std::vector<double> ack_ms;  // one per call (per batch)
  uint64_t events = 0;
  uint64_t failed_calls = 0;
  void Add(const std::vector<double>& latencies, uint64_t acknowledged, uint64_t failures) {
    std::lock_guard<std::mutex> lock(mu);
    ack_ms.insert(ack_ms.end(), latencies.begin(), latencies.end());
    events += acknowledged;
    failed_calls += failures;
  }
};

int Fail(const std::string& what) {
  fmt::print(stderr, "innsyn-bench: {}\n", what);
  return 1;
}

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

innsyn::v1::AppendRequest MakeRequest(uint64_t first, size_t count, std::mt19937_64& random,
                                      const Options& options) {
  innsyn::v1::AppendRequest request;
  for (size_t i = 0; i < count; ++i) {
    *request.add_events() = innsyn::bench::MakeEvent(first + i, random, options.mix);
  }
  return request;
}

// A channel of its own per client, so that clients do not share one
// HTTP/2 connection.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void UnaryClient(const std::string& address, uint64_t first, uint64_t count, size_t batch,
                 const Options& options, Results& results) {
  auto stub = innsyn::v1::IngestService::NewStub(NewChannel(address));
  std::mt19937_64 random(first);
  std::vector<double> latencies;
  uint64_t acknowledged = 0, failures = 0;
  for (uint64_t n = first; n < first + count; n += batch) {
    innsyn::v1::AppendRequest request =
        MakeRequest(n, std::min<uint64_t>(batch, first + count - n), random, options);
    innsyn::v1::AppendResponse response;
    grpc::ClientContext context;
    auto start = Clock::now();
    grpc::Status status = stub->Append(&context, request, &response);
    if (!status.ok()) {
      ++failures;
      continue;
    }
    latencies.push_back(MillisSince(start));
    acknowledged += static_cast<uint64_t>(response.receipts_size());
  }
  results.Add(latencies, acknowledged, failures);
}

// Clinic traffic: this client's share of the batches, every clients-th.
std::vector<const innsyn::v1::AppendRequest*> ClinicShare(const Options& options, int client) {
  std::vector<const innsyn::v1::AppendRequest*> share;
  for (size_t k = static_cast<size_t>(client); k < options.clinic_batches.size();
       k += static_cast<size_t>(options.clients)) {
    share.push_back(&options.clinic_batches[k]);
  }
  return share;
}

void StreamClient(const std::string& address, uint64_t first, uint64_t count,
                  const Options& options, Results& results, int client) {
  auto stub = innsyn::v1::IngestService::NewStub(NewChannel(address));
  grpc::ClientContext context;
  auto stream = stub->AppendStream(&context);
  std::mutex mu;
  std::deque<Clock::time_point> sent;  // send times of batches not yet answered
  std::atomic<int> in_flight{0};
  std::vector<double> latencies;
  uint64_t acknowledged = 0;
  std::thread reader([&] {
    innsyn::v1::AppendResponse response;
    while (stream->Read(&response)) {
      Clock::time_point start;
      {
        std::lock_guard<std::mutex> lock(mu);
        start = sent.front();
        sent.pop_front();
      }
      latencies.push_back(MillisSince(start));
      acknowledged += static_cast<uint64_t>(response.receipts_size());
      --in_flight;
    }
  });
  std::mt19937_64 random(first);
  uint64_t batch_id = 0;
  const std::vector<const innsyn::v1::AppendRequest*> share = ClinicShare(options, client);
  const bool clinic = !options.clinic_batches.empty();
  const uint64_t batches = clinic ? share.size() : (count + options.batch - 1) / options.batch;
  for (uint64_t k = 0; k < batches; ++k) {
    const uint64_t n = first + k * options.batch;
    innsyn::v1::AppendRequest request =
        clinic
            ? *share[k]
            : MakeRequest(n, std::min<uint64_t>(options.batch, first + count - n), random, options);
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
  results.Add(latencies, acknowledged, status.ok() ? 0 : 1);
}

void StorageClient(innsyn::storage::Ledger& ledger, uint64_t first, uint64_t count,
                   const Options& options, Results& results) {
  std::mt19937_64 random(first);
  std::vector<double> latencies;
  uint64_t acknowledged = 0, failures = 0;
  for (uint64_t n = first; n < first + count; n += options.batch) {
    innsyn::v1::AppendRequest request =
        MakeRequest(n, std::min<uint64_t>(options.batch, first + count - n), random, options);
    auto start = Clock::now();
    auto receipts = ledger.AppendEvents(request.events());
    if (!receipts.ok()) {
      ++failures;
      continue;
    }
    latencies.push_back(MillisSince(start));
    acknowledged += receipts->size();
  }
  results.Add(latencies, acknowledged, failures);
}

// The daemon under test, started on ephemeral ports.
struct Daemon {
  pid_t pid = -1;
  std::string address;

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
                                       "",
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
      if (std::ifstream(port_file) >> port) {
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

// Generates the simulated clinic (enough days for `options.events`), cuts
// it into batches, and writes innsynd's config with its roster, closed
// dates and networks beside the data folder.
absl::Status PrepareClinicTraffic(Options& options) {
  innsyn::bench::ClinicOptions clinic_options;
  clinic_options.staff = 40;
  clinic_options.patients = 20'000;
  clinic_options.days = 180;
  absl::StatusOr<innsyn::bench::Clinic> clinic = innsyn::bench::GenerateClinic(clinic_options);
  if (!clinic.ok()) return clinic.status();
  const size_t events = std::min<size_t>(clinic->events.size(), options.events);
  for (size_t i = 0; i < events; i += options.batch) {
    innsyn::v1::AppendRequest& request = options.clinic_batches.emplace_back();
    for (size_t j = i; j < std::min(events, i + options.batch); ++j) {
      *request.add_events() = clinic->events[j];
    }
  }
  options.events = events;
  const std::string roster_path = options.data_dir + ".roster.toml";
  std::ofstream(roster_path) << innsyn::bench::RosterToml(clinic->roster);
  options.config_path = options.data_dir + ".innsynd.toml";
  std::ofstream config(options.config_path);
  config << "[detection]\nroster_file = \"" << roster_path << "\"\nclosed_dates = [";
  for (size_t i = 0; i < clinic->closed_dates.size(); ++i) {
    config << (i ? ", " : "") << '"' << clinic->closed_dates[i] << '"';
  }
  config << "]\n[detection.disallowed_network.networks]\n";
  for (const auto& [source, networks] : clinic->networks_by_source) {
    config << '"' << source << "\" = [";
    for (size_t i = 0; i < networks.size(); ++i)
      config << (i ? ", " : "") << '"' << networks[i] << '"';
    config << "]\n";
  }
  return absl::OkStatus();
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"innsyn-bench: ingest throughput and latency of innsynd"};
  app.add_option("--mode", options.mode, "unary, batch, stream or storage")
      ->check(CLI::IsMember({"unary", "batch", "stream", "storage"}));
  app.add_option("--batch", options.batch, "events per call (batch, stream, storage)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--clients", options.clients, "concurrent clients")->check(CLI::Range(1, 1024));
  app.add_option("--events", options.events, "events in all");
  app.add_option("--window", options.window, "stream: batches in flight per client");
  app.add_option("--innsynd", options.innsynd, "innsynd binary (default: beside this one)");
  app.add_option("--data-dir", options.data_dir, "ledger folder (default: a new temporary one)");
  app.add_option("--json", options.json_path, "also write the figures here as JSON");
  app.add_option("--traffic", options.traffic,
                 "mix (random clinic events) or clinic (the simulated clinic, in time order; "
                 "stream mode)")
      ->check(CLI::IsMember({"mix", "clinic"}));
  app.add_option("--detection", options.detection,
                 "run innsynd's anomaly detectors (true or false)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.traffic == "clinic" && options.mode != "stream") {
    return Fail("--traffic clinic needs --mode stream");
  }
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
  const uint64_t per_client = options.events / static_cast<uint64_t>(options.clients);
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) {
    uint64_t first = static_cast<uint64_t>(c) * per_client;
    clients.emplace_back([&, first, c] {
      if (options.mode == "storage") {
        StorageClient(*ledger, first, per_client, options, results);
      } else if (options.mode == "stream") {
        StreamClient(daemon->address, first, per_client, options, results, c);
      } else {
        UnaryClient(daemon->address, first, per_client, options.batch, options, results);
      }
    });
  }
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = daemon ? daemon->CpuSeconds() - cpu_before : 0;
  const double peak_rss = daemon ? daemon->PeakRssMiB() : 0;
  const double stop_seconds = daemon ? daemon->Stop() : 0;
  ledger.reset();
  const uint64_t disk_bytes = FolderBytes(options.data_dir);

  using innsyn::bench::Percentile;
  const double rate = static_cast<double>(results.events) / seconds;
  const double per_event_disk =
      static_cast<double>(disk_bytes) / static_cast<double>(results.events);
  fmt::print("innsyn-bench mode={} batch={} clients={} traffic={} detection={} ({} cores)\n",
             options.mode, options.batch, options.clients, options.traffic,
             options.detection ? "on" : "off", std::thread::hardware_concurrency());
  fmt::print("  acknowledged events   {} ({} failed calls) in {:.2f} s\n", results.events,
             results.failed_calls, seconds);
  fmt::print("  throughput            {:.0f} events/s\n", rate);
  fmt::print("  ack latency per call  p50 {:.3f} ms, p99 {:.3f} ms, p99.9 {:.3f} ms\n",
             Percentile(results.ack_ms, 0.5), Percentile(results.ack_ms, 0.99),
             Percentile(results.ack_ms, 0.999));
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
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << fmt::format(
        "{{\"mode\": \"{}\", \"batch\": {}, \"clients\": {}, \"events\": {}, \"seconds\": {:.3f}, "
        "\"events_per_second\": {:.0f}, \"ack_ms\": {{\"p50\": {:.4f}, \"p99\": {:.4f}, "
        "\"p999\": {:.4f}}}, \"daemon_cpu_seconds\": {:.3f}, \"daemon_peak_rss_mib\": {:.1f}, "
        "\"disk_bytes_per_event\": {:.1f}, \"traffic\": \"{}\", \"detection\": {}, "
        "\"stop_seconds\": {:.3f}}}\n",
        options.mode, options.batch, options.clients, results.events, seconds, rate,
        Percentile(results.ack_ms, 0.5), Percentile(results.ack_ms, 0.99),
        Percentile(results.ack_ms, 0.999), cpu, peak_rss, per_event_disk, options.traffic,
        options.detection, stop_seconds);
  }
  std::filesystem::remove_all(options.data_dir);
  if (!options.config_path.empty()) {
    std::filesystem::remove(options.config_path);
    std::filesystem::remove(options.data_dir + ".roster.toml");
  }
  return results.failed_calls == 0 ? 0 : 1;
}
