// `innsynctl pki`: a clinic's own small certificate authority for innsynd's
// mTLS. `init` creates the CA, innsynd's server certificate for the host
// names and addresses given, one client certificate per role and an empty
// CRL; `issue` adds a client certificate; `revoke` lists certificates in the
// CRL. Every file is written with mode 0600 and nothing is overwritten but
// the CRL.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/strings.h"
#include "ctl/command.h"
#include "daemon/auth/pki.h"
#include "daemon/auth/roles.h"

namespace innsyn::ctl {
namespace {

constexpr char kCaFile[] = "ca";
constexpr char kServerFile[] = "server";
constexpr char kCrlFile[] = "crl.pem";
constexpr int kDefaultCaDays = 3650;
constexpr int kDefaultDays = 825;
// Backdated a little, so that a client whose clock is slightly behind
// does not see a certificate from the future.
constexpr absl::Duration kBackdate = absl::Minutes(5);

struct PkiFlags {
  std::string dir;
  std::vector<std::string> hosts;
  std::string ca_name = "innsyn local CA";
  int ca_days = kDefaultCaDays;
  int days = kDefaultDays;
  std::string role;
  std::string name;
  std::vector<std::string> revoke;
};

std::string PathIn(const std::string& dir, std::string_view name, std::string_view ending) {
  return StrCat(dir, "/", name, ending);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

absl::Status WritePair(const std::string& dir, std::string_view name,
                       const pki::KeyAndCertificate& pair) {
  if (absl::Status s = pki::WriteNewPrivateFile(PathIn(dir, name, ".key"), pair.key_pem); !s.ok()) {
    return s;
  }
  return pki::WriteNewPrivateFile(PathIn(dir, name, ".pem"), pair.certificate_pem);
}

absl::StatusOr<pki::KeyAndCertificate> LoadCa(const std::string& dir) {
  pki::KeyAndCertificate ca;
  absl::StatusOr<std::string> key = ReadWholeFile(PathIn(dir, kCaFile, ".key"));
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert = ReadWholeFile(PathIn(dir, kCaFile, ".pem"));
  if (!cert.ok()) return cert.status();
  return pki::KeyAndCertificate{*std::move(key), *std::move(cert)};
}

pki::CertificateRequest ClientRequest(const std::string& name, const std::string& role, int days) {
  pki::CertificateRequest request;
  request.common_name = name;
  request.uris = {StrCat(pki::kRoleUriPrefix, role)};
  request.not_before = absl::Now() - kBackdate;
  request.not_after = absl::Now() + absl::Hours(24) * days;
  return request;
}

absl::Status IssueClient(const std::string& dir, const pki::KeyAndCertificate& ca,
                         const std::string& name, const std::string& role, int days) {
  absl::StatusOr<pki::KeyAndCertificate> pair =
      pki::IssueCertificate(ca, ClientRequest(name, role, days));
  if (!pair.ok()) return pair.status();
  if (absl::Status s = WritePair(dir, name, *pair); !s.ok()) return s;
  fmt::print("{}.pem, {}.key: client {} with role {}\n", name, name, name, role);
  return absl::OkStatus();
}

absl::Status Init(const PkiFlags& flags) {
  std::error_code error;
  std::filesystem::create_directories(flags.dir, error);
  if (error) return absl::PermissionDeniedError(StrCat("cannot create ", flags.dir));
  chmod(flags.dir.c_str(), 0700);
  const absl::Time now = absl::Now();
  absl::StatusOr<pki::KeyAndCertificate> ca = pki::CreateCertificateAuthority(
      flags.ca_name, now - kBackdate, now + absl::Hours(24) * flags.ca_days);
  if (!ca.ok()) return ca.status();
  if (absl::Status s = WritePair(flags.dir, kCaFile, *ca); !s.ok()) return s;
  fmt::print("ca.pem, ca.key: the CA \"{}\"; keep ca.key offline once the clients are issued\n",
             flags.ca_name);

  pki::CertificateRequest server;
  server.server = true;
  server.common_name = flags.hosts.empty() ? "localhost" : flags.hosts.front();
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1", "::1"};
  for (const std::string& host : flags.hosts) {
    (IsIpAddress(host) ? server.ip_addresses : server.dns_names).push_back(host);
  }
  server.not_before = now - kBackdate;
  server.not_after = now + absl::Hours(24) * flags.days;
  absl::StatusOr<pki::KeyAndCertificate> server_pair = pki::IssueCertificate(*ca, server);
  if (!server_pair.ok()) return server_pair.status();
  if (absl::Status s = WritePair(flags.dir, kServerFile, *server_pair); !s.ok()) return s;
  fmt::print("server.pem, server.key: innsynd, for localhost, 127.0.0.1, ::1{}{}\n",
             flags.hosts.empty() ? "" : ", ", absl::StrJoin(flags.hosts, ", "));

  for (std::string_view role : daemon::kRoles) {
    std::string name(role);
    if (absl::Status s = IssueClient(flags.dir, *ca, name, name, flags.days); !s.ok()) return s;
  }
  absl::StatusOr<std::string> crl =
      pki::CreateCrl(*ca, {}, now - kBackdate, now + absl::Hours(24) * flags.ca_days);
  if (!crl.ok()) return crl.status();
  if (absl::Status s = pki::WriteNewPrivateFile(PathIn(flags.dir, kCrlFile, ""), *crl); !s.ok()) {
    return s;
  }
  fmt::print("crl.pem: the revocation list (empty)\n");
  return absl::OkStatus();
}

absl::Status Issue(const PkiFlags& flags) {
  if (absl::Status s = daemon::CheckRole(flags.role); !s.ok()) return s;
  if (flags.name.empty() || flags.name.find_first_of("/ ") != std::string::npos) {
    return absl::InvalidArgumentError("--name must be a plain name, without '/' or spaces");
  }
  absl::StatusOr<pki::KeyAndCertificate> ca = LoadCa(flags.dir);
  if (!ca.ok()) return ca.status();
  return IssueClient(flags.dir, *ca, flags.name, flags.role, flags.days);
}

absl::Status Revoke(const PkiFlags& flags) {
  absl::StatusOr<pki::KeyAndCertificate> ca = LoadCa(flags.dir);
  if (!ca.ok()) return ca.status();
  const std::string crl_path = PathIn(flags.dir, kCrlFile, "");
  std::vector<std::string> serials;
  if (absl::StatusOr<std::string> old = ReadWholeFile(crl_path); old.ok()) {
    absl::StatusOr<std::vector<std::string>> listed = pki::ReadCrl(*old, ca->certificate_pem);
    if (!listed.ok()) return listed.status();
    serials = *std::move(listed);
  }
  for (const std::string& path : flags.revoke) {
    absl::StatusOr<std::string> pem = ReadWholeFile(path);
    if (!pem.ok()) return pem.status();
    absl::StatusOr<pki::CertificateInfo> info = pki::ReadCertificate(*pem);
    if (!info.ok()) return absl::InvalidArgumentError(StrCat(path, ": ", info.status().message()));
    if (std::find(serials.begin(), serials.end(), info->serial_hex) == serials.end()) {
      serials.push_back(info->serial_hex);
    }
    fmt::print("revoked {} (serial {})\n", info->common_name, info->serial_hex);
  }
  const absl::Time now = absl::Now();
  absl::StatusOr<std::string> crl =
      pki::CreateCrl(*ca, serials, now - kBackdate, now + absl::Hours(24) * kDefaultCaDays);
  if (!crl.ok()) return crl.status();
  if (absl::Status s = pki::ReplacePrivateFile(crl_path, *crl); !s.ok()) return s;
  fmt::print("crl.pem: {} revoked; restart innsynd to apply it\n", serials.size());
  return absl::OkStatus();
}

int Run(absl::Status status) { return status.ok() ? kExitOk : ReportError(status); }

}  // namespace

void AddPkiCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<PkiFlags>();
  CLI::App* pki = app.add_subcommand("pki", "Certificates for innsynd's mTLS: a local CA");
  pki->require_subcommand(1);

  CLI::App* init = pki->add_subcommand(
      "init", "Create a CA, innsynd's certificate and one client certificate per role");
  init->add_option("--dir", flags->dir, "Folder to create them in")->required();
  init->add_option("--host", flags->hosts,
                   "A host name or address clients reach innsynd by (repeat; localhost, "
                   "127.0.0.1 and ::1 are always included)");
  init->add_option("--ca-name", flags->ca_name, "The CA's common name")->capture_default_str();
  init->add_option("--ca-days", flags->ca_days, "How long the CA is valid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  init->add_option("--days", flags->days, "How long the other certificates are valid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  init->callback([flags, &context] { context.exit_code = Run(Init(*flags)); });

  CLI::App* issue = pki->add_subcommand("issue", "Issue one more client certificate");
  issue->add_option("--dir", flags->dir, "The folder `pki init` made")->required();
  issue->add_option("--role", flags->role, "ingest, controller, portal, auditor or admin")
      ->required();
  issue
      ->add_option("--name", flags->name,
                   "The client's name (its certificate's CN, and the "
                   "caller recorded in the ledger)")
      ->required();
  issue->add_option("--days", flags->days, "How long it is valid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  issue->callback([flags, &context] { context.exit_code = Run(Issue(*flags)); });

  CLI::App* revoke = pki->add_subcommand("revoke", "Add client certificates to crl.pem");
  revoke->add_option("--dir", flags->dir, "The folder `pki init` made")->required();
  revoke->add_option("certificates", flags->revoke, "Certificate files (PEM) to revoke")
      ->required();
  revoke->callback([flags, &context] { context.exit_code = Run(Revoke(*flags)); });
}

}  // namespace innsyn::ctl
