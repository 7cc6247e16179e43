// innsynctl console-user: the console's accounts file (daemon/console/
// accounts.h), written locally by whoever runs innsynd (root or the innsyn
// user): add a person with a password and a new TOTP secret, remove one,
// list them. innsynd reads the file again on reload (systemctl reload).
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "base/status_macros.h"
#include "base/strings.h"
#include "ctl/command.h"
#include "daemon/auth/pki.h"
#include "daemon/console/accounts.h"
#include "fmt/core.h"

namespace innsyn::ctl {
namespace {

namespace console = daemon::console;

struct ConsoleUserFlags {
  std::string file;
  std::string name;
  std::string display_name;
  std::string role = "controller";
  std::string password_file;
  std::string issuer = "innsyn";
};

constexpr size_t kMinPasswordLength = 12;

// The first line of --password-file, else a line typed (not echoed).
absl::StatusOr<std::string> ReadPassword(const ConsoleUserFlags& flags) {
  std::string password;
  if (!flags.password_file.empty()) {
    std::ifstream in(flags.password_file);
    if (!in || !std::getline(in, password)) {
      return absl::NotFoundError(
          StrCat("--password-file ", flags.password_file, ": cannot read it"));
    }
  } else {
    termios saved{};
    const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
      std::cerr << "Password for " << flags.name << ": ";
    }
    std::getline(std::cin, password);
    if (tty) {
      tcsetattr(STDIN_FILENO, TCSANOW, &saved);
      std::cerr << "\n";
    }
  }
  if (password.size() < kMinPasswordLength) {
    return absl::InvalidArgumentError(
        StrCat("password: at least ", kMinPasswordLength, " characters (a passphrase is best)"));
  }
  return password;
}

absl::Status Add(const ConsoleUserFlags& flags) {
  ASSIGN_OR_RETURN(auto accounts, console::LoadAccounts(flags.file));
  if (accounts.contains(flags.name)) {
    return absl::AlreadyExistsError(
        StrCat("--name: ", flags.name, " has an account already (remove it first to reset it)"));
  }
  if (flags.role != "controller" && flags.role != "admin") {
    return absl::InvalidArgumentError(
        StrCat("--role: ", flags.role, " may not sign in to the console (controller or admin)"));
  }
  ASSIGN_OR_RETURN(std::string password, ReadPassword(flags));
  console::Account account{
      .name = flags.name,
      .display_name = flags.display_name.empty() ? flags.name : flags.display_name,
      .role = flags.role,
      .password_hash = "",
      .totp_secret = console::NewTotpSecret()};
  ASSIGN_OR_RETURN(account.password_hash, console::HashPassword(password));
  accounts[flags.name] = account;
  RETURN_IF_ERROR(pki::ReplacePrivateFile(flags.file, console::FormatAccounts(accounts)));
  fmt::print(
      "Added {} ({}) to {}.\n"
      "Their second factor: add this key to an authenticator app (for example by typing it):\n"
      "  {}\n"
      "or as a URI (a QR code of it):\n"
      "  {}\n"
      "Then reload innsynd (systemctl reload innsynd) to let them sign in.\n",
      account.name, account.role, flags.file, console::Base32Encode(account.totp_secret),
      console::OtpAuthUri(flags.issuer, account));
  return absl::OkStatus();
}

absl::Status Remove(const ConsoleUserFlags& flags) {
  ASSIGN_OR_RETURN(auto accounts, console::LoadAccounts(flags.file));
  if (accounts.erase(flags.name) == 0) {
    return absl::NotFoundError(StrCat("--name: no account ", flags.name, " in ", flags.file));
  }
  RETURN_IF_ERROR(pki::ReplacePrivateFile(flags.file, console::FormatAccounts(accounts)));
  fmt::print("Removed {}; reload innsynd to end their sessions.\n", flags.name);
  return absl::OkStatus();
}

absl::Status List(const ConsoleUserFlags& flags) {
  ASSIGN_OR_RETURN(auto accounts, console::LoadAccounts(flags.file));
  for (const auto& [name, account] : accounts) {
    fmt::print("{}\t{}\t{}\n", name, account.role, account.display_name);
  }
  return absl::OkStatus();
}

int Run(const absl::Status& status) { return status.ok() ? kExitOk : ReportError(status); }

}  // namespace

void AddConsoleUserCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<ConsoleUserFlags>();
  CLI::App* users = app.add_subcommand(
      "console-user", "Accounts of the console: one per person, password and one-time codes");
  users->require_subcommand(1);
  const auto file_option = [&](CLI::App* command) {
    command->add_option("--file", flags->file, "The accounts file (innsynd's console_users_file)")
        ->required();
  };
  CLI::App* add = users->add_subcommand("add", "Add a person: a password and a new TOTP key");
  file_option(add);
  add->add_option("--name", flags->name, "What they type to sign in")->required();
  add->add_option("--display-name", flags->display_name,
                  "Their name, shown and recorded with what they look at");
  add->add_option("--role", flags->role, "controller (the privacy officer) or admin (health only)")
      ->capture_default_str();
  add->add_option("--password-file", flags->password_file,
                  "Read the password from this file's first line (else it is asked for)");
  add->add_option("--issuer", flags->issuer, "The name the authenticator app shows")
      ->capture_default_str();
  add->callback([flags, &context] { context.exit_code = Run(Add(*flags)); });
  CLI::App* remove = users->add_subcommand("remove", "Remove a person's account");
  file_option(remove);
  remove->add_option("--name", flags->name, "Their user name")->required();
  remove->callback([flags, &context] { context.exit_code = Run(Remove(*flags)); });
  CLI::App* list = users->add_subcommand("list", "List the accounts (names and roles)");
  file_option(list);
  list->callback([flags, &context] { context.exit_code = Run(List(*flags)); });
}

}  // namespace innsyn::ctl
