// `innsynctl backup` asks the running innsynd for a consistent online backup
// (AdminService.Backup: RocksDB's BackupEngine, while ingest goes on) into
// the backup_dir of its configuration. `innsynctl restore` brings a backup
// back into a new data folder, here, without the daemon: it checks the
// backup's file checksums, restores, verifies every hash and index of the
// restored ledger, and can save its signed checkpoint so that
// `innsynctl prove --since` shows it is a prefix of the live ledger.
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "storage/ledger.h"

namespace innsyn::ctl {
namespace {

// Written by the ledger beside its database; its key name is the origin.
constexpr char kVerifierKeyFile[] = "checkpoint_key.pub";

struct RestoreFlags {
  std::string backup_dir;
  uint32_t backup_id = 0;
  std::string data_dir;
  std::string checkpoint_out;
};

std::string HumanBytes(uint64_t bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{:.1f} MiB", bytes / double(1 << 20));
  if (bytes >= (1 << 10)) return fmt::format("{:.1f} KiB", bytes / double(1 << 10));
  return fmt::format("{} bytes", bytes);
}

std::string FormatUnixTime(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(seconds),
                          absl::UTCTimeZone());
}

int RunBackup(const GlobalOptions& global) {
  Client client(global);
  absl::StatusOr<v1::BackupResponse> response = client.Backup(v1::BackupRequest());
  if (!response.ok()) return ReportError(response.status());
  fmt::print("backup {} written to {} on the server: {} entries or more, {}, in {:.2f} s\n",
             response->backup_id(), response->backup_dir(), response->entries(),
             HumanBytes(response->bytes()), response->seconds());
  if (response->has_checkpoint()) {
    fmt::print("latest signed checkpoint: tree size {}\n", response->checkpoint().tree_size());
  }
  return kExitOk;
}

int ListBackups(const std::string& backup_dir) {
  absl::StatusOr<std::vector<storage::Ledger::BackupInfo>> backups =
      storage::Ledger::ListBackups(backup_dir);
  if (!backups.ok()) return ReportError(backups.status());
  for (const storage::Ledger::BackupInfo& backup : *backups) {
    fmt::print("backup {}: {}, {} entries or more, {}\n", backup.backup_id,
               FormatUnixTime(backup.unix_seconds), backup.entries, HumanBytes(backup.bytes));
  }
  if (backups->empty()) fmt::print("no backups in {}\n", backup_dir);
  return kExitOk;
}

// The checkpoint key name the restored ledger was signed under.
absl::StatusOr<std::string> OriginOf(const std::string& data_dir) {
  absl::StatusOr<std::string> key = ReadWholeFile(absl::StrCat(data_dir, "/", kVerifierKeyFile));
  if (!key.ok()) return key.status();
  std::string text(absl::StripAsciiWhitespace(*key));
  return text.substr(0, text.find('+'));
}

absl::Status WriteNote(const std::string& path, const std::string& note) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << note;
  file.close();
  if (!file) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int RunRestore(const RestoreFlags& flags) {
  absl::StatusOr<storage::Ledger::BackupInfo> restored =
      storage::Ledger::Restore(flags.backup_dir, flags.backup_id, flags.data_dir);
  if (!restored.ok()) return ReportError(restored.status());
  fmt::print("restored backup {} ({}) into {}\n", restored->backup_id,
             FormatUnixTime(restored->unix_seconds), flags.data_dir);
  absl::StatusOr<std::string> origin = OriginOf(flags.data_dir);
  if (!origin.ok()) return ReportError(origin.status());
  storage::LedgerOptions options;
  options.data_dir = flags.data_dir;
  options.origin = *origin;
  options.read_only = true;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
  if (!ledger.ok()) return ReportError(ledger.status());
  storage::VerifyReport report = (*ledger)->Verify(/*check_indexes=*/true);
  if (!report.ok) {
    fmt::print("FAILED: the restored ledger does not verify{}: {}\n",
               report.first_bad_seq ? fmt::format(" at seq {}", *report.first_bad_seq) : "",
               report.problem);
    return kExitFailed;
  }
  fmt::print("OK: {} entries verified against signed checkpoint of size {}, indexes complete\n",
             report.entries_checked, report.checkpoint_size);
  if (flags.checkpoint_out.empty()) return kExitOk;
  std::optional<v1::Checkpoint> checkpoint = (*ledger)->LatestStoredCheckpoint();
  if (!checkpoint) return ReportError(absl::NotFoundError("the restored ledger has no checkpoint"));
  if (absl::Status s = WriteNote(flags.checkpoint_out, checkpoint->note()); !s.ok()) {
    return ReportError(s);
  }
  fmt::print("its checkpoint (size {}) written to {}\n", checkpoint->tree_size(),
             flags.checkpoint_out);
  return kExitOk;
}

}  // namespace

void AddBackupCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand(
      "backup", "Have innsynd take a consistent online backup into its backup_dir");
  auto list_dir = std::make_shared<std::string>();
  command->add_option("--list", *list_dir,
                      "Instead, list the backups in this folder (no server needed)");
  command->footer(
      "The backup holds the ledger and its keys (the signing key too: keep backups as safe as\n"
      "the data folder). Ingest goes on meanwhile. Backups are incremental: files already in\n"
      "the folder are shared. Raise --timeout for a large first backup.");
  command->callback([list_dir, &context] {
    context.exit_code = list_dir->empty() ? RunBackup(context.global) : ListBackups(*list_dir);
  });
}

void AddRestoreCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* command = app.add_subcommand(
      "restore", "Restore a backup into a new data folder and verify it (innsynd not needed)");
  command->add_option("--backup-dir", flags->backup_dir, "The backup folder")->required();
  command->add_option("--data-dir", flags->data_dir, "New data folder to restore into")->required();
  command->add_option("--backup-id", flags->backup_id, "Which backup (default: the newest)");
  command->add_option("--checkpoint-out", flags->checkpoint_out,
                      "Write the restored ledger's signed checkpoint here, for `prove --since`");
  command->footer(
      "The data folder must be new or empty. Exit code 1 if the restored ledger does not\n"
      "verify, 2 if the backup is missing or damaged (checksums) or on usage errors.");
  command->callback([flags, &context] { context.exit_code = RunRestore(*flags); });
}

}  // namespace innsyn::ctl
