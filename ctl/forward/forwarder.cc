#include "ctl/forward/forwarder.h"

#include <sys/stat.h>

#include <deque>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "storage/hash.h"

namespace innsyn::ctl::forward {
namespace {

constexpr size_t kDerivedIdHexDigits = 32;  // 128 bits
constexpr absl::Duration kReportEvery = absl::Milliseconds(250);
constexpr absl::Duration kWaitStep = absl::Milliseconds(50);

std::string DerivedId(const std::string& fingerprint, uint64_t line, const std::string& text) {
  std::string hex = storage::ToHex(storage::Sha256(StrCat(fingerprint, ":", line, ":", text)));
  return StrCat("f-", hex.substr(0, kDerivedIdHexDigits));
}

bool IsRetryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kResourceExhausted ||
         code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kAborted;
}

std::optional<FileIdentity> IdentityOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return FileIdentity{info.st_dev, info.st_ino};
}

class CsvValues : public RecordValues {
 public:
  CsvValues(const std::vector<std::string>& fields, const std::vector<std::optional<size_t>>& index)
      : fields_(fields), index_(index) {}
  std::optional<std::string> Value(size_t column) const override {
    const std::optional<size_t>& at = index_[column];
    if (!at || *at >= fields_.size()) return std::nullopt;
    return fields_[*at];
  }

 private:
  const std::vector<std::string>& fields_;
  const std::vector<std::optional<size_t>>& index_;
};

// A JSON object's values by key; "a.b" is key b of the object under a.
class JsonValues : public RecordValues {
 public:
  JsonValues(const nlohmann::json& object, const Mapping& mapping)
      : object_(object), mapping_(mapping) {}
  std::optional<std::string> Value(size_t column) const override {
    const nlohmann::json* node = &object_;
    for (std::string_view key : Split(mapping_.columns[column].column, '.')) {
      if (!node->is_object()) return std::nullopt;
      auto found = node->find(std::string(key));
      if (found == node->end()) return std::nullopt;
      node = &*found;
    }
    if (node->is_string()) return node->get<std::string>();
    if (node->is_null()) return std::string();
    return node->dump();
  }

 private:
  const nlohmann::json& object_;
  const Mapping& mapping_;
};

}  // namespace

struct Forwarder::Batch {
  v1::AppendRequest request;
  std::vector<Record> records;        // the record of each event
  std::vector<std::string> rejects;   // JSON lines for the rejects file
  std::vector<std::string> messages;  // the same for people
  Start end;
  absl::Status stop;  // a bad record, with stop_on_bad_record
};

Forwarder::Forwarder(const Mapping& mapping, ForwardOptions options, SendFunction send,
                     ReportFunction report, LogFunction log)
    : mapping_(mapping),
      options_(std::move(options)),
      send_(std::move(send)),
      report_(std::move(report)),
      log_(std::move(log)) {}

Forwarder::~Forwarder() = default;

void Forwarder::Wait(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_.load() && absl::Now() < until) absl::SleepFor(kWaitStep);
}

absl::Status Forwarder::SavePositionNow() {
  if (options_.state_path.empty()) return absl::OkStatus();
  return SavePosition(options_.state_path, position_);
}

absl::StatusOr<bool> Forwarder::SwitchTo(Start start) {
  absl::StatusOr<std::unique_ptr<RecordFile>> file =
      RecordFile::Open(options_.file, mapping_, start);
  if (absl::IsNotFound(file.status())) return false;
  if (!file.ok()) return file.status();
  file_ = *std::move(file);
  replaced_since_.reset();
  columns_resolved_ = false;
  position_.path = options_.file;
  position_.identity = file_->identity();
  position_.fingerprint = file_->fingerprint();
  position_.start = start;
  RETURN_IF_ERROR(SavePositionNow());
  return true;
}

absl::Status Forwarder::OpenAtStart() {
  std::optional<Position> saved;
  if (!options_.state_path.empty()) {
    ASSIGN_OR_RETURN(saved, LoadPosition(options_.state_path));
  }
  if (saved) position_ = *saved;
  auto same = [&](const RecordFile& file) {
    absl::StatusOr<uint64_t> size = file.Size();
    if (!size.ok() || *size < saved->start.offset) return false;
    return saved->fingerprint.empty() ? file.identity() == saved->identity
                                      : file.fingerprint() == saved->fingerprint;
  };
  if (saved) {
    // The file under its name, if it is still the same file.
    absl::StatusOr<std::unique_ptr<RecordFile>> file =
        RecordFile::Open(options_.file, mapping_, saved->start);
    if (file.ok() && same(**file)) {
      file_ = *std::move(file);
      return absl::OkStatus();
    }
    // Rotated while the forwarder was stopped: the old file under another name.
    std::error_code error;
    std::filesystem::path folder = std::filesystem::path(options_.file).parent_path();
    for (const auto& entry : std::filesystem::directory_iterator(
             folder.empty() ? std::filesystem::path(".") : folder, error)) {
      const std::string path = entry.path().string();
      if (IdentityOf(path) != saved->identity) continue;
      absl::StatusOr<std::unique_ptr<RecordFile>> old =
          RecordFile::Open(path, mapping_, saved->start);
      if (!old.ok() || !same(**old)) continue;
      log_(StrCat(options_.file, " was replaced while forward was stopped; reading ", path,
                  " from line ", saved->start.line, " to its end first"));
      file_ = *std::move(old);
      replaced_since_ = absl::Now();
      return absl::OkStatus();
    }
    if (IdentityOf(options_.file) == saved->identity) {
      log_(StrCat(options_.file, " was truncated or rewritten since line ", saved->start.line,
                  " was forwarded; reading it from its start"));
    } else if (saved->start.offset > 0) {
      log_(StrCat("the file forwarded up to line ", saved->start.line, " (", saved->path,
                  ", inode ", saved->identity.inode,
                  ") is gone; lines written to it after that were not forwarded; starting ",
                  options_.file, " from its start"));
    }
  }
  while (!stopping_.load()) {
    ASSIGN_OR_RETURN(bool opened, SwitchTo({}));
    if (opened) return absl::OkStatus();
    if (options_.once) return absl::NotFoundError(StrCat("no file ", options_.file));
    stats_.waiting = StrCat("waiting for ", options_.file, " to appear");
    Report(false);
    Wait(options_.poll_interval);
  }
  return absl::OkStatus();
}

absl::Status Forwarder::ResolveColumns() {
  if (columns_resolved_) return absl::OkStatus();
  if (mapping_.format == FileFormat::kCsv && mapping_.header && !file_->header_read()) {
    return absl::OkStatus();
  }
  column_index_.assign(mapping_.columns.size(), std::nullopt);
  for (size_t i = 0; i < mapping_.columns.size(); ++i) {
    const ColumnField& column = mapping_.columns[i];
    if (mapping_.format != FileFormat::kCsv) continue;
    if (!mapping_.header) {
      column_index_[i] = *ParseDecimal(column.column) - 1;
      continue;
    }
    const std::vector<std::string>& header = file_->header();
    auto found = std::find(header.begin(), header.end(), column.column);
    if (found == header.end()) {
      return absl::FailedPreconditionError(
          StrCat(file_->path(), " line 1: column \"", column.column, "\" (", column.field,
                 ") is not in the header; its columns are ", absl::StrJoin(header, ", ")));
    }
    column_index_[i] = static_cast<size_t>(found - header.begin());
  }
  columns_resolved_ = true;
  return absl::OkStatus();
}

absl::StatusOr<v1::AccessEvent> Forwarder::MapOne(const Record& record) {
  std::string id;
  if (!mapping_.has_event_id) id = DerivedId(file_->fingerprint(), record.line, record.text);
  if (mapping_.format == FileFormat::kCsv) {
    absl::StatusOr<v1::AccessEvent> event =
        MapRecord(mapping_, CsvValues(record.fields, column_index_), id);
    const size_t columns = file_->header().size();
    if (!event.ok() && mapping_.header && record.fields.size() != columns) {
      return absl::InvalidArgumentError(StrCat(event.status().message(), " (the row has ",
                                               record.fields.size(), " columns, the header ",
                                               columns, ")"));
    }
    return event;
  }
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(record.text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(StrCat("not JSON: ", e.what()));
  }
  if (!object.is_object()) return absl::InvalidArgumentError("not a JSON object");
  return MapRecord(mapping_, JsonValues(object, mapping_), id);
}

void Forwarder::AddReject(Batch& batch, const Record& record, const std::string& message) {
  nlohmann::json reject = {
      {"file", file_->path()}, {"line", record.line}, {"error", message}, {"record", record.text}};
  batch.rejects.push_back(reject.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  batch.messages.push_back(message);
}

absl::StatusOr<bool> Forwarder::CollectBatch(Batch& batch, bool final) {
  const Start before = file_->position();
  batch.end = before;
  while (static_cast<size_t>(batch.request.events_size()) < options_.batch_events &&
         batch.rejects.size() < options_.batch_events) {
    ASSIGN_OR_RETURN(std::optional<Record> record, file_->Next(final));
    if (!record) break;
    RETURN_IF_ERROR(ResolveColumns());
    absl::StatusOr<v1::AccessEvent> event =
        record->error.ok() ? MapOne(*record) : absl::StatusOr<v1::AccessEvent>(record->error);
    if (!event.ok()) {
      std::string message =
          StrCat(file_->path(), " line ", record->line, ": ", event.status().message());
      if (options_.stop_on_bad_record) {
        batch.stop = absl::InvalidArgumentError(message);
        batch.end = {record->begin, record->line};
        return true;
      }
      AddReject(batch, *record, message);
      continue;
    }
    *batch.request.add_events() = *std::move(event);
    batch.records.push_back(*std::move(record));
  }
  // The header or blank lines alone move the position too.
  RETURN_IF_ERROR(ResolveColumns());
  batch.end = file_->position();
  return batch.request.events_size() > 0 || !batch.rejects.empty() ||
         batch.end.offset != before.offset;
}

absl::StatusOr<v1::AppendResponse> Forwarder::SendWithRetry(const v1::AppendRequest& request) {
  absl::Duration backoff = options_.first_backoff;
  while (true) {
    absl::StatusOr<v1::AppendResponse> response = send_(request);
    if (response.ok() && response->receipts_size() != request.events_size()) {
      return absl::InternalError(StrCat("innsynd returned ", response->receipts_size(),
                                        " receipts for ", request.events_size(), " events"));
    }
    if (response.ok() || !IsRetryable(response.status().code())) {
      stats_.waiting.clear();
      return response;
    }
    if (stopping_.load()) {
      return absl::CancelledError(
          "stopped while innsynd did not answer; the batch is sent again "
          "next time");
    }
    stats_.waiting =
        StrCat("innsynd: ", absl::StatusCodeToString(response.status().code()), ": ",
               response.status().message(), "; again in ", absl::FormatDuration(backoff));
    log_(stats_.waiting);
    Report(false);
    Wait(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

// innsynd refused the batch (all or nothing): sends the events one by one,
// so that the good ones are recorded and each bad one is named.
absl::Status Forwarder::SendEachAlone(Batch& batch) {
  for (int i = 0; i < batch.request.events_size(); ++i) {
    v1::AppendRequest alone;
    *alone.add_events() = batch.request.events(i);
    absl::StatusOr<v1::AppendResponse> response = SendWithRetry(alone);
    const Record& record = batch.records[i];
    if (response.ok()) {
      ++stats_.events;
      if (response->receipts(0).duplicate()) ++stats_.duplicates;
      continue;
    }
    if (response.status().code() != absl::StatusCode::kInvalidArgument) return response.status();
    std::string message = StrCat(file_->path(), " line ", record.line,
                                 ": innsynd refused it: ", response.status().message());
    if (options_.stop_on_bad_record) {
      batch.stop = absl::InvalidArgumentError(message);
      batch.end = {record.begin, record.line};
      return absl::OkStatus();
    }
    AddReject(batch, record, message);
  }
  return absl::OkStatus();
}

absl::Status Forwarder::Deliver(Batch& batch,
                                std::optional<absl::StatusOr<v1::AppendResponse>> first) {
  if (batch.request.events_size() > 0) {
    // The answer to the call made while reading ahead, else a first call
    // now; what may pass with time is tried again here, in order.
    absl::StatusOr<v1::AppendResponse> response =
        first ? *std::move(first) : absl::UnavailableError("not sent yet");
    if (!response.ok() && IsRetryable(response.status().code())) {
      response = SendWithRetry(batch.request);
    }
    if (response.ok()) {
      stats_.events += response->receipts_size();
      for (const v1::AppendReceipt& receipt : response->receipts()) {
        if (receipt.duplicate()) ++stats_.duplicates;
      }
    } else if (response.status().code() == absl::StatusCode::kInvalidArgument) {
      RETURN_IF_ERROR(SendEachAlone(batch));
    } else {
      return response.status();
    }
  }
  if (!batch.rejects.empty()) {
    for (const std::string& message : batch.messages) {
      log_(StrCat(message, options_.rejects_path.empty() ? "" : "; set aside in ",
                  options_.rejects_path));
    }
    if (!options_.rejects_path.empty()) {
      RETURN_IF_ERROR(
          AppendDurably(options_.rejects_path, StrCat(absl::StrJoin(batch.rejects, "\n"), "\n")));
    }
    stats_.rejected += batch.rejects.size();
    position_.rejected += batch.rejects.size();
  }
  position_.events += batch.request.events_size();
  position_.start = batch.end;
  position_.fingerprint = file_->fingerprint();
  position_.identity = file_->identity();
  position_.path = file_->path();
  RETURN_IF_ERROR(SavePositionNow());
  Report(false);
  return batch.stop;
}

absl::StatusOr<bool> Forwarder::FollowRotation() {
  std::optional<FileIdentity> now = IdentityOf(options_.file);
  if (!now) return false;  // renamed away, the new one not yet there
  if (*now != file_->identity()) {
    if (!replaced_since_) {
      replaced_since_ = absl::Now();
      log_(StrCat(options_.file, " was replaced (rotated); reading the old file to its end"));
    }
    return false;
  }
  ASSIGN_OR_RETURN(uint64_t size, file_->Size());
  if (size >= file_->position().offset) return false;
  log_(StrCat(options_.file, " shrank to ", size, " bytes (truncated); reading it from its start"));
  return SwitchTo({});
}

void Forwarder::Report(bool done) {
  if (!done && absl::Now() - last_report_ < kReportEvery) return;
  last_report_ = absl::Now();
  if (file_ != nullptr) {
    stats_.file = file_->path();
    stats_.bytes_done = position_.start.offset;
    absl::StatusOr<uint64_t> size = file_->Size();
    stats_.file_bytes = size.ok() ? *size : 0;
    stats_.lag_bytes =
        stats_.file_bytes > stats_.bytes_done ? stats_.file_bytes - stats_.bytes_done : 0;
    if (!options_.once)
      stats_.lag_lines = file_->LinesBetween(stats_.bytes_done, stats_.file_bytes);
  }
  report_(stats_, done);
}

// Reads ahead: up to in_flight batches are sent at once (so that innsynd
// commits them together), but each is delivered, and the position saved,
// in file order.
absl::Status Forwarder::Run() {
  RETURN_IF_ERROR(OpenAtStart());
  struct InFlight {
    std::unique_ptr<Batch> batch;  // stable: the call reads its request
    std::optional<std::future<absl::StatusOr<v1::AppendResponse>>> response;
  };
  std::deque<InFlight> in_flight;
  auto deliver_first = [&]() -> absl::Status {
    InFlight next = std::move(in_flight.front());
    in_flight.pop_front();
    std::optional<absl::StatusOr<v1::AppendResponse>> response;
    if (next.response) response = next.response->get();
    return Deliver(*next.batch, std::move(response));
  };
  bool stop_ahead = false;  // a bad row with stop_on_bad_record: read no further
  while (!stopping_.load()) {
    // A replaced file is read to its very end once its writer is done.
    const bool quiet = replaced_since_ &&
                       (options_.once || absl::Now() - *replaced_since_ >= options_.rotate_quiet);
    bool any = false;
    while (in_flight.size() < options_.in_flight && !stop_ahead && !stopping_.load()) {
      auto batch = std::make_unique<Batch>();
      ASSIGN_OR_RETURN(any, CollectBatch(*batch, /*final=*/options_.once || quiet));
      if (!any) break;
      InFlight sending;
      if (batch->request.events_size() > 0) {
        const v1::AppendRequest* request = &batch->request;
        sending.response =
            std::async(std::launch::async, [this, request] { return send_(*request); });
      }
      stop_ahead = !batch->stop.ok();
      sending.batch = std::move(batch);
      in_flight.push_back(std::move(sending));
    }
    if (!in_flight.empty()) {
      absl::Status delivered = deliver_first();
      if (absl::IsCancelled(delivered)) {
        // Nothing after an undelivered batch may be delivered: its rows
        // would be skipped. They all go again next time.
        in_flight.clear();
        break;
      }
      RETURN_IF_ERROR(delivered);
      continue;
    }
    if (quiet) {
      ASSIGN_OR_RETURN(bool switched, SwitchTo({}));
      if (switched) continue;
    } else if (options_.once && !replaced_since_) {
      break;
    } else if (!options_.once) {
      ASSIGN_OR_RETURN(bool moved, FollowRotation());
      if (moved) continue;
    }
    Report(false);
    Wait(options_.poll_interval);
  }
  // Stopped: what innsynd has already acknowledged is kept; the rest goes
  // again next time.
  while (!in_flight.empty()) {
    if (!deliver_first().ok()) break;
  }
  Report(true);
  return absl::OkStatus();
}

}  // namespace innsyn::ctl::forward
