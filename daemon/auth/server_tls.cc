#include "daemon/auth/server_tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "daemon/auth/pki.h"

namespace innsyn::daemon {
namespace {

// OpenSSL looks CRLs up by issuer hash in a folder; innsynd keeps its own,
// refilled from tls_crl_file at each start.
constexpr char kCrlFolder[] = "tls-crl";

absl::StatusOr<std::string> ReadFile(const std::string& setting, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError(StrCat(setting, ": cannot read ", path));
  }
  return text.str();
}

// The key of the server's identity must be readable by its owner alone.
absl::StatusOr<std::string> ReadPrivateKey(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(StrCat("tls_key_file: cannot read ", path));
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::InvalidArgumentError(
        StrCat("tls_key_file: ", path, " may be read by others; chmod 600 it"));
  }
  return ReadFile("tls_key_file", path);
}

// Checks the CRL against the CA and files it where OpenSSL will look.
absl::StatusOr<std::string> PrepareCrlFolder(const ServerTlsFiles& files,
                                             const std::string& ca_pem) {
  absl::StatusOr<std::string> crl = ReadFile("tls_crl_file", files.crl_file);
  if (!crl.ok()) return crl.status();
  if (absl::StatusOr<std::vector<std::string>> revoked = pki::ReadCrl(*crl, ca_pem);
      !revoked.ok()) {
    return absl::InvalidArgumentError(
        StrCat("tls_crl_file ", files.crl_file, ": ", revoked.status().message()));
  }
  absl::StatusOr<std::string> name = pki::CrlFileName(*crl);
  if (!name.ok()) return name.status();
  std::filesystem::path folder = std::filesystem::path(files.data_dir) / kCrlFolder;
  std::error_code error;
  std::filesystem::remove_all(folder, error);
  std::filesystem::create_directories(folder, error);
  if (error)
    return absl::InternalError(StrCat("cannot create ", folder.string(), ": ", error.message()));
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, error);
  if (absl::Status s = pki::WriteNewPrivateFile((folder / *name).string(), *crl); !s.ok()) return s;
  return folder.string();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files) {
  if (files.cert_file.empty()) return grpc::InsecureServerCredentials();
  absl::StatusOr<std::string> certificate = ReadFile("tls_cert_file", files.cert_file);
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<std::string> key = ReadPrivateKey(files.key_file);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> ca = ReadFile("tls_ca_file", files.ca_file);
  if (!ca.ok()) return ca.status();
  for (auto [setting, pem] : {std::pair{"tls_cert_file", &*certificate}, {"tls_ca_file", &*ca}}) {
    if (absl::StatusOr<pki::CertificateInfo> info = pki::ReadCertificate(*pem); !info.ok()) {
      return absl::InvalidArgumentError(StrCat(setting, ": ", info.status().message()));
    }
  }
  auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      *ca, std::vector<grpc::experimental::IdentityKeyCertPair>{{*key, *certificate}});
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!files.crl_file.empty()) {
    absl::StatusOr<std::string> folder = PrepareCrlFolder(files, *ca);
    if (!folder.ok()) return folder.status();
    tls.set_crl_directory(*folder);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(tls);
  if (!credentials) return absl::InvalidArgumentError("cannot make TLS server credentials");
  return credentials;
}

}  // namespace innsyn::daemon
