// innsyn-ledger-bench: fills a ledger with a clinic-like event mix, then
// measures "who accessed patient X" (ListSubjectAccess over real gRPC on
// loopback, each answer also recorded durably as a query entry) and the
// rate of full verification. Prints a table; --json writes the figures.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "base/program.h"
#include "bench/clinic_events.h"
#include "daemon/options.h"
#include "daemon/server.h"
#include "innsyn/v1/admin.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/checkpoint.h"
#include "storage/ledger.h"
#include "storage/subject_map.h"

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string data_dir;
  uint64_t events = 1'000'000;
  innsyn::bench::ClinicMix mix;
  int queries = 2'000;
  int verify_runs = 3;
  size_t fill_batch = 1000;
  std::string json_path;
  bool keep = false;
  bool detection = false;
};

int Fail(const std::string& what) {
  fmt::print(stderr, "innsyn-ledger-bench: {}\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  innsyn::StartProgram();
  BenchOptions options;
  CLI::App app{"innsyn-ledger-bench: subject-history latency and verification rate"};
  app.add_option("--data-dir", options.data_dir, "ledger folder (default: a new temporary one)");
  app.add_option("--events", options.events, "events to fill the ledger with");
  app.add_option("--patients", options.mix.patients, "distinct patients");
  app.add_option("--queries", options.queries, "ListSubjectAccess calls to time");
  app.add_option("--verify-runs", options.verify_runs, "full verifications to time");
  app.add_option("--json", options.json_path, "write the figures here as JSON");
  app.add_flag("--keep", options.keep, "keep the data folder");
  app.add_option("--detection", options.detection,
                 "run the anomaly detectors in the server, so that answers carry explanations "
                 "(the benchmark's random events have no appointments: expect many alerts)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  bool temporary = options.data_dir.empty();
  if (temporary) {
    options.data_dir = (std::filesystem::temp_directory_path() / "innsyn-ledger-bench").string();
    std::filesystem::remove_all(options.data_dir);
  }

  // 1. Fill, through the storage layer, in batches (each one group commit).
  double fill_seconds = 0;
  uint64_t size = 0;
  std::vector<double> storage_ms;
  std::vector<double> record_ms;
  uint64_t filled_events = 0;
  {
    innsyn::storage::LedgerOptions ledger_options;
    ledger_options.data_dir = options.data_dir;
    auto ledger = innsyn::storage::Ledger::Open(ledger_options);
    if (!ledger.ok()) return Fail(ledger.status().ToString());
    std::mt19937_64 random(42);
    auto start = Clock::now();
    const uint64_t initial = (*ledger)->Size();
    uint64_t n = initial;
    std::vector<innsyn::v1::AccessEvent> batch;
    innsyn::bench::MixSources sources(0);
    while (n < options.events) {
      batch.clear();
      for (size_t i = 0; i < options.fill_batch && n < options.events; ++i) {
        batch.push_back(innsyn::bench::MakeEvent(n++, random, options.mix, sources));
      }
      auto receipts = (*ledger)->AppendEvents(batch);
      if (!receipts.ok()) return Fail(receipts.status().ToString());
    }
    fill_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    filled_events = n - initial;
    if (auto checkpoint = (*ledger)->Checkpoint(); !checkpoint.ok()) {
      return Fail(checkpoint.status().ToString());
    }
    size = (*ledger)->Size();
  }
  {
    // The storage layer alone, freshly opened as after a restart (its block
    // cache empty, like the server's below): index scan and entry reads, no
    // gRPC and no query record. Other patients than the gRPC phase asks for.
    innsyn::storage::LedgerOptions ledger_options;
    ledger_options.data_dir = options.data_dir;
    auto ledger = innsyn::storage::Ledger::Open(ledger_options);
    if (!ledger.ok()) return Fail(ledger.status().ToString());
    std::mt19937_64 query_random(11);
    for (int q = 0; q < options.queries; ++q) {
      innsyn::storage::IndexQuery query;
      query.id =
          innsyn::bench::PatientId(query_random() % static_cast<uint64_t>(options.mix.patients));
      auto start = Clock::now();
      auto page = (*ledger)->ListSubject(query);
      storage_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      if (!page.ok()) return Fail(page.status().ToString());
    }
    // What recording each query costs: one durable append, fsync included.
    for (int q = 0; q < options.queries; ++q) {
      innsyn::v1::QueryRecord record;
      record.set_method("ListSubjectAccess");
      record.set_subject_id(innsyn::bench::PatientId(static_cast<uint64_t>(q)));
      auto start = Clock::now();
      auto receipt = (*ledger)->AppendQuery(record);
      record_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      if (!receipt.ok()) return Fail(receipt.status().ToString());
    }
  }

  // 2. Subject history over gRPC against the daemon's own server code,
  //    freshly started.
  innsyn::daemon::DaemonOptions daemon_options;
  daemon_options.data_dir = options.data_dir;
  daemon_options.listen = "127.0.0.1:0";
  daemon_options.metrics_listen = "";
  daemon_options.detection.enabled = options.detection;
  auto server = innsyn::daemon::Server::Start(daemon_options);
  if (!server.ok()) return Fail(server.status().ToString());
  auto channel = grpc::CreateChannel(fmt::format("127.0.0.1:{}", (*server)->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = innsyn::v1::AccessLogService::NewStub(channel);
  // A query is recorded and signed only once innsynd's full verification
  // at start has passed, which on a large ledger takes a while: wait for
  // it (untimed), and say how long it took.
  double ready_seconds = 0;
  {
    auto start = Clock::now();
    auto admin = innsyn::v1::AdminService::NewStub(channel);
    while (true) {
      innsyn::v1::GetStatusRequest request;
      innsyn::v1::GetStatusResponse response;
      grpc::ClientContext context;
      grpc::Status status = admin->GetStatus(&context, request, &response);
      if (!status.ok()) return Fail(status.error_message());
      if (response.read_only())
        return Fail("innsynd found the ledger damaged: " + response.problem());
      if (response.verified_at_start()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ready_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  std::mt19937_64 random(7);
  std::vector<double> latencies_ms;
  uint64_t results = 0;
  for (int q = 0; q < options.queries; ++q) {
    innsyn::v1::ListSubjectAccessRequest request;
    request.set_subject_id(
        innsyn::bench::PatientId(random() % static_cast<uint64_t>(options.mix.patients)));
    request.set_reason("benchmark");
    innsyn::v1::ListSubjectAccessResponse response;
    grpc::ClientContext context;
    auto start = Clock::now();
    grpc::Status status = stub->ListSubjectAccess(&context, request, &response);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!status.ok()) return Fail(status.error_message());
    results += static_cast<uint64_t>(response.entries_size());
  }
  // 2b. The same answers proven complete (prove), and the client's check of
  // the proof (signature, map proof, the history's links), alternating with
  // plain answers so that the machine's noise falls on both alike.
  std::vector<double> plain_ms, proven_ms, check_ms, proof_bytes, map_proof_bytes, history_sizes;
  for (int q = 0; q < options.queries; ++q) {
    const std::string subject =
        innsyn::bench::PatientId(random() % static_cast<uint64_t>(options.mix.patients));
    for (bool prove : {false, true}) {
      innsyn::v1::ListSubjectAccessRequest request;
      request.set_subject_id(subject);
      request.set_reason("benchmark");
      request.set_prove(prove);
      innsyn::v1::ListSubjectAccessResponse response;
      grpc::ClientContext context;
      auto start = Clock::now();
      grpc::Status status = stub->ListSubjectAccess(&context, request, &response);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (!status.ok()) return Fail(status.error_message());
      (prove ? proven_ms : plain_ms).push_back(ms);
      if (!prove) continue;
      const innsyn::v1::HistoryProof& proof = response.proof();
      auto check_start = Clock::now();
      auto body = innsyn::storage::VerifyCheckpointNote(proof.checkpoint().note(),
                                                        proof.checkpoint().verifier_key());
      if (!body.ok() || !body->map_root) return Fail("the proof's checkpoint does not verify");
      std::vector<innsyn::storage::GivenHeader> chain;
      for (const innsyn::v1::RecordedEntry& link : proof.chain())
        chain.push_back({link.header_bytes(), link.contents_hash()});
      auto history =
          innsyn::storage::VerifyHistory(*body->map_root, innsyn::storage::MapSpace::kSubject,
                                         proof.pseudonym(), proof.map(), chain);
      check_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - check_start).count());
      if (!history.ok()) return Fail(std::string(history.status().message()));
      proof_bytes.push_back(static_cast<double>(proof.ByteSizeLong()));
      map_proof_bytes.push_back(
          static_cast<double>(proof.map().ByteSizeLong() + proof.checkpoint().ByteSizeLong()));
      history_sizes.push_back(static_cast<double>(history->size()));
    }
  }
  // The floor: a small unary call on the same channel, with no fsync.
  std::vector<double> small_ms;
  for (int q = 0; q < options.queries; ++q) {
    innsyn::v1::GetInclusionProofRequest request;
    request.set_seq(0);
    request.set_tree_size(1);
    innsyn::v1::InclusionProof proof;
    grpc::ClientContext context;
    auto start = Clock::now();
    grpc::Status status = stub->GetInclusionProof(&context, request, &proof);
    small_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!status.ok()) return Fail(status.error_message());
  }
  (*server)->Shutdown();
  server->reset();

  // 3. Full verification, offline, as `innsynctl verify --data-dir` runs it.
  std::vector<double> verify_rates;       // hashes, chain, tree, checkpoint
  std::vector<double> full_verify_rates;  // and the indexes
  uint64_t verified = 0;
  {
    innsyn::storage::LedgerOptions ledger_options;
    ledger_options.data_dir = options.data_dir;
    ledger_options.read_only = true;
    ledger_options.create_if_missing = false;
    auto ledger = innsyn::storage::Ledger::Open(ledger_options);
    if (!ledger.ok()) return Fail(ledger.status().ToString());
    for (int run = 0; run < options.verify_runs; ++run) {
      for (bool check_indexes : {false, true}) {
        innsyn::storage::VerifyReport report = (*ledger)->Verify(check_indexes);
        if (!report.ok) return Fail("verification failed: " + report.problem);
        verified = report.entries_checked;
        (check_indexes ? full_verify_rates : verify_rates)
            .push_back(static_cast<double>(report.entries_checked) / report.seconds);
      }
    }
  }

  const double small_call_ms = innsyn::bench::Percentile(small_ms, 0.5);
  double median_ms = innsyn::bench::Percentile(latencies_ms, 0.5);
  double p99_ms = innsyn::bench::Percentile(latencies_ms, 0.99);
  double verify_median = innsyn::bench::Percentile(verify_rates, 0.5);
  double full_verify_median = innsyn::bench::Percentile(full_verify_rates, 0.5);
  fmt::print("innsyn-ledger-bench ({} cores)\n", std::thread::hardware_concurrency());
  fmt::print("  ledger entries                      {:>12}\n", size);
  if (filled_events > 0) {
    fmt::print("  fill rate (storage, batches of {})  {:>12.0f} events/s\n", options.fill_batch,
               static_cast<double>(filled_events) / fill_seconds);
  }
  fmt::print("  innsynd ready (verified at start)   {:>12.1f} s\n", ready_seconds);
  fmt::print("  ListSubject, storage layer only      median {:.3f} ms, p99 {:.3f} ms\n",
             innsyn::bench::Percentile(storage_ms, 0.5),
             innsyn::bench::Percentile(storage_ms, 0.99));
  fmt::print("  QueryRecord append, storage layer   median {:.3f} ms, p99 {:.3f} ms\n",
             innsyn::bench::Percentile(record_ms, 0.5), innsyn::bench::Percentile(record_ms, 0.99));
  fmt::print(
      "  ListSubjectAccess over gRPC         median {:.3f} ms, p90 {:.3f} ms, p99 {:.3f} ms "
      "({} calls, {:.1f} entries per answer)\n",
      median_ms, innsyn::bench::Percentile(latencies_ms, 0.9), p99_ms, options.queries,
      static_cast<double>(results) / options.queries);
  fmt::print("  small unary call (GetInclusionProof)  median {:.3f} ms\n", small_call_ms);
  fmt::print(
      "  ListSubjectAccess, then with prove  median {:.3f} ms, then {:.3f} ms (p99 {:.3f} ms)\n",
      innsyn::bench::Percentile(plain_ms, 0.5), innsyn::bench::Percentile(proven_ms, 0.5),
      innsyn::bench::Percentile(proven_ms, 0.99));
  fmt::print(
      "  client check of the proof           median {:.3f} ms, p99 {:.3f} ms; history median "
      "{:.0f} entries, max {:.0f}\n",
      innsyn::bench::Percentile(check_ms, 0.5), innsyn::bench::Percentile(check_ms, 0.99),
      innsyn::bench::Percentile(history_sizes, 0.5), innsyn::bench::Percentile(history_sizes, 1));
  fmt::print(
      "  proof size                          median {:.0f} bytes, max {:.0f} (checkpoint and map "
      "proof: median {:.0f} bytes)\n",
      innsyn::bench::Percentile(proof_bytes, 0.5), innsyn::bench::Percentile(proof_bytes, 1),
      innsyn::bench::Percentile(map_proof_bytes, 0.5));
  fmt::print(
      "  verify, hashes only (offline)       median {:.0f} entries/s over {} runs of {} entries\n",
      verify_median, options.verify_runs, verified);
  fmt::print("  verify, hashes and indexes          median {:.0f} entries/s over {} runs\n",
             full_verify_median, options.verify_runs);
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << fmt::format(
        "{{\"entries\": {}, \"fill_events_per_second\": {:.0f}, "
        "\"list_subject_access_ms\": {{\"median\": {:.4f}, \"p90\": {:.4f}, \"p99\": {:.4f}}}, "
        "\"storage_list_subject_ms\": {{\"median\": {:.4f}, \"p99\": {:.4f}}}, "
        "\"query_record_append_ms\": {{\"median\": {:.4f}, \"p99\": {:.4f}}}, "
        "\"small_unary_call_ms_median\": {:.4f}, "
        "\"entries_per_answer\": {:.2f}, \"verify_entries_per_second_median\": {:.0f}, "
        "\"verify_with_indexes_entries_per_second_median\": {:.0f}, \"ready_seconds\": {:.1f}, "
        "\"proven_list_subject_access_ms_median\": {:.4f}, \"proof_check_ms\": {{\"median\": "
        "{:.4f}, \"p99\": {:.4f}}}, \"proof_bytes\": {{\"median\": {:.0f}, \"max\": {:.0f}}}, "
        "\"history_entries_median\": {:.0f}}}\n",
        size, static_cast<double>(filled_events) / fill_seconds, median_ms,
        innsyn::bench::Percentile(latencies_ms, 0.9), p99_ms,
        innsyn::bench::Percentile(storage_ms, 0.5), innsyn::bench::Percentile(storage_ms, 0.99),
        innsyn::bench::Percentile(record_ms, 0.5), innsyn::bench::Percentile(record_ms, 0.99),
        small_call_ms, static_cast<double>(results) / options.queries, verify_median,
        full_verify_median, ready_seconds, innsyn::bench::Percentile(proven_ms, 0.5),
        innsyn::bench::Percentile(check_ms, 0.5), innsyn::bench::Percentile(check_ms, 0.99),
        innsyn::bench::Percentile(proof_bytes, 0.5), innsyn::bench::Percentile(proof_bytes, 1),
        innsyn::bench::Percentile(history_sizes, 0.5));
  }
  if (temporary && !options.keep) std::filesystem::remove_all(options.data_dir);
  return 0;
}
