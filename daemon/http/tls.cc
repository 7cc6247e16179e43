#include "daemon/http/internal/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "base/strings.h"
#include "daemon/auth/pki.h"

namespace innsyn::daemon::http {
namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

absl::Status Failed(std::string_view setting, const std::string& file) {
  return absl::InvalidArgumentError(
      StrCat("HTTP listener: ", setting, " ", file, ": ", OpenSslError()));
}

absl::Status AddCrl(SSL_CTX& context, const std::string& crl_file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(crl_file.c_str(), "r"), BIO_free);
  if (!bio) return Failed("tls_crl_file", crl_file);
  X509_STORE* store = SSL_CTX_get_cert_store(&context);
  int added = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);
    if (ok != 1) return Failed("tls_crl_file", crl_file);
    ++added;
  }
  ERR_clear_error();  // the end of the file
  if (added == 0) {
    return absl::InvalidArgumentError(StrCat("tls_crl_file ", crl_file, " holds no CRL"));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return absl::OkStatus();
}

}  // namespace

absl::Status ConfigureServerTls(SSL_CTX& context, const ServerTlsFiles& files,
                                bool client_certificates) {
  if (SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) != 1) {
    return absl::InternalError(StrCat("HTTP listener: TLS 1.2: ", OpenSslError()));
  }
  if (SSL_CTX_use_certificate_chain_file(&context, files.cert_file.c_str()) != 1) {
    return Failed("tls_cert_file", files.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(&context, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(&context) != 1) {
    return Failed("tls_key_file", files.key_file);
  }
  if (!client_certificates) return absl::OkStatus();
  if (SSL_CTX_load_verify_locations(&context, files.ca_file.c_str(), nullptr) != 1) {
    return Failed("tls_ca_file", files.ca_file);
  }
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca_file.c_str())) {
    SSL_CTX_set_client_CA_list(&context, names);
  }
  if (!files.crl_file.empty()) {
    if (absl::Status s = AddCrl(context, files.crl_file); !s.ok()) return s;
  }
  SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return absl::OkStatus();
}

absl::StatusOr<Caller> CallerFromTls(const SSL* ssl) {
  if (ssl == nullptr) return absl::UnauthenticatedError("a client certificate is required");
  std::unique_ptr<X509, decltype(&X509_free)> certificate(SSL_get1_peer_certificate(ssl),
                                                          X509_free);
  if (!certificate || SSL_get_verify_result(ssl) != X509_V_OK) {
    return absl::UnauthenticatedError("a client certificate is required");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), certificate.get()) != 1) {
    return absl::InternalError(StrCat("cannot read the client certificate: ", OpenSslError()));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  absl::StatusOr<pki::CertificateInfo> info =
      pki::ReadCertificate(std::string_view(data, static_cast<size_t>(size)));
  if (!info.ok() || info->common_name.empty()) {
    return absl::UnauthenticatedError("the client certificate names no one");
  }
  // As on gRPC: a certificate without exactly one role URI has no role, and
  // so may call nothing, but its calls are still recorded under its name.
  return Caller{info->common_name, pki::RoleFromUris(info->uris).value_or("")};
}

}  // namespace innsyn::daemon::http
