#include "daemon/auth/pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include "base/strings.h"

namespace innsyn::pki {
namespace {

constexpr int kSerialBytes = 16;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using OwnedKey = Owned<EVP_PKEY, EVP_PKEY_free>;
using OwnedCert = Owned<X509, X509_free>;
using OwnedCrl = Owned<X509_CRL, X509_CRL_free>;
using OwnedBio = Owned<BIO, BIO_free_all>;
using OwnedBn = Owned<BIGNUM, BN_free>;
using OwnedInteger = Owned<ASN1_INTEGER, ASN1_INTEGER_free>;
using OwnedTime = Owned<ASN1_TIME, ASN1_TIME_free>;
using OwnedNames = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;

absl::Status OpenSslError(std::string_view what) {
  char buffer[256] = "";
  unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, buffer, sizeof(buffer));
  ERR_clear_error();
  return absl::InternalError(StrCat(what, ": ", buffer));
}

OwnedBio MemoryBio(std::string_view text) {
  return OwnedBio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

template <typename WriteFn>
absl::StatusOr<std::string> ToPem(std::string_view what, WriteFn&& write) {
  OwnedBio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslError(StrCat("cannot write ", what));
  return BioText(bio.get());
}

absl::StatusOr<OwnedKey> NewKey() {
  OwnedKey key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("cannot create an ECDSA P-256 key");
  return key;
}

absl::StatusOr<OwnedKey> ParseKey(std::string_view pem) {
  OwnedBio bio = MemoryBio(pem);
  OwnedKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError("not a PEM private key");
  return key;
}

absl::StatusOr<OwnedCert> ParseCertificate(std::string_view pem) {
  OwnedBio bio = MemoryBio(pem);
  OwnedCert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError("not a PEM certificate");
  return cert;
}

absl::StatusOr<OwnedCrl> ParseCrl(std::string_view pem) {
  OwnedBio bio = MemoryBio(pem);
  OwnedCrl crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) return absl::InvalidArgumentError("not a PEM certificate revocation list");
  return crl;
}

OwnedTime ToAsn1Time(absl::Time time) {
  return OwnedTime(ASN1_TIME_set(nullptr, static_cast<time_t>(absl::ToUnixSeconds(time))));
}

absl::Time FromAsn1Time(const ASN1_TIME* time) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return absl::InfinitePast();
  return absl::FromUnixSeconds(timegm(&parts));
}

std::string LowerHex(const ASN1_INTEGER* serial) {
  OwnedBn number(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!number) return "";
  char* hex = BN_bn2hex(number.get());
  std::string text(hex);
  OPENSSL_free(hex);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

absl::StatusOr<OwnedInteger> SerialFromHex(const std::string& hex) {
  BIGNUM* number = nullptr;
  if (hex.empty() || BN_hex2bn(&number, hex.c_str()) != static_cast<int>(hex.size())) {
    BN_free(number);
    return absl::InvalidArgumentError(StrCat("\"", hex, "\" is not a hex serial number"));
  }
  OwnedBn owned(number);
  OwnedInteger serial(BN_to_ASN1_INTEGER(owned.get(), nullptr));
  if (!serial) return OpenSslError("cannot convert a serial number");
  return serial;
}

// A random positive 128-bit serial, as RFC 5280 advises for unpredictability.
absl::StatusOr<OwnedInteger> RandomSerial() {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("no random bytes");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, full length
  OwnedBn number(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  OwnedInteger serial(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
  if (!serial) return OpenSslError("cannot make a serial number");
  return serial;
}

std::string CommonName(const X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return "";
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return OpenSslError(StrCat("cannot make extension ", value));
  int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) return OpenSslError("cannot add an extension");
  return absl::OkStatus();
}

absl::Status AddName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = nullptr;
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(value.c_str());
    if (address == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(StrCat("\"", value, "\" is not an IP address"));
    }
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, address);
  } else {
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, type, text);
  }
  sk_GENERAL_NAME_push(names, name);
  return absl::OkStatus();
}

absl::Status AddSubjectAltNames(X509* cert, const CertificateRequest& request) {
  OwnedNames names(GENERAL_NAMES_new());
  for (const std::string& dns : request.dns_names) {
    if (absl::Status s = AddName(names.get(), GEN_DNS, dns); !s.ok()) return s;
  }
  for (const std::string& ip : request.ip_addresses) {
    if (absl::Status s = AddName(names.get(), GEN_IPADD, ip); !s.ok()) return s;
  }
  for (const std::string& uri : request.uris) {
    if (absl::Status s = AddName(names.get(), GEN_URI, uri); !s.ok()) return s;
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return absl::OkStatus();
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, 0) != 1) {
    return OpenSslError("cannot add the subject alternative names");
  }
  return absl::OkStatus();
}

// The fields every certificate shares; `issuer` is null for a self-signed one.
absl::StatusOr<OwnedCert> NewCertificate(std::string_view common_name, EVP_PKEY* key, X509* issuer,
                                         absl::Time not_before, absl::Time not_after) {
  if (common_name.empty()) return absl::InvalidArgumentError("a certificate needs a common name");
  if (not_after <= not_before)
    return absl::InvalidArgumentError("not_after must be after not_before");
  OwnedCert cert(X509_new());
  absl::StatusOr<OwnedInteger> serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  OwnedTime from = ToAsn1Time(not_before);
  OwnedTime until = ToAsn1Time(not_after);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!cert || X509_set_version(cert.get(), 2) != 1 ||
      X509_set_serialNumber(cert.get(), serial->get()) != 1 || !from || !until ||
      X509_set1_notBefore(cert.get(), from.get()) != 1 ||
      X509_set1_notAfter(cert.get(), until.get()) != 1 ||
      X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("cannot fill in a certificate");
  }
  return cert;
}

absl::StatusOr<KeyAndCertificate> Finish(X509* cert, EVP_PKEY* key, EVP_PKEY* signing_key) {
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) return OpenSslError("cannot sign");
  absl::StatusOr<std::string> key_pem = ToPem("key", [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> cert_pem =
      ToPem("certificate", [&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  if (!cert_pem.ok()) return cert_pem.status();
  return KeyAndCertificate{*std::move(key_pem), *std::move(cert_pem)};
}

absl::Status WriteAll(int fd, std::string_view contents) {
  while (!contents.empty()) {
    ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(StrCat("write failed: ", strerror(errno)));
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return fsync(fd) == 0 ? absl::OkStatus()
                        : absl::InternalError(StrCat("fsync failed: ", strerror(errno)));
}

}  // namespace

absl::StatusOr<KeyAndCertificate> CreateCertificateAuthority(std::string_view common_name,
                                                             absl::Time not_before,
                                                             absl::Time not_after) {
  absl::StatusOr<OwnedKey> key = NewKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<OwnedCert> cert =
      NewCertificate(common_name, key->get(), nullptr, not_before, not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"}}) {
    if (absl::Status s = AddExtension(c, c, nid, value); !s.ok()) return s;
  }
  return Finish(c, key->get(), key->get());
}

absl::StatusOr<KeyAndCertificate> IssueCertificate(const KeyAndCertificate& ca,
                                                   const CertificateRequest& request) {
  absl::StatusOr<OwnedKey> ca_key = ParseKey(ca.key_pem);
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<OwnedCert> ca_cert = ParseCertificate(ca.certificate_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  absl::StatusOr<OwnedKey> key = NewKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<OwnedCert> cert = NewCertificate(request.common_name, key->get(), ca_cert->get(),
                                                  request.not_before, request.not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  const char* usage = request.server ? "serverAuth" : "clientAuth";
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, usage},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (absl::Status s = AddExtension(c, ca_cert->get(), nid, value); !s.ok()) return s;
  }
  if (absl::Status s = AddSubjectAltNames(c, request); !s.ok()) return s;
  return Finish(c, key->get(), ca_key->get());
}

absl::StatusOr<std::string> CreateCrl(const KeyAndCertificate& ca,
                                      absl::Span<const std::string> revoked_serials,
                                      absl::Time this_update, absl::Time next_update) {
  absl::StatusOr<OwnedKey> ca_key = ParseKey(ca.key_pem);
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<OwnedCert> ca_cert = ParseCertificate(ca.certificate_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  OwnedCrl crl(X509_CRL_new());
  OwnedTime from = ToAsn1Time(this_update);
  OwnedTime until = ToAsn1Time(next_update);
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert->get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), from.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), until.get()) != 1) {
    return OpenSslError("cannot fill in a CRL");
  }
  for (const std::string& hex : revoked_serials) {
    absl::StatusOr<OwnedInteger> serial = SerialFromHex(hex);
    if (!serial.ok()) return serial.status();
    X509_REVOKED* revoked = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(revoked, serial->get());
    X509_REVOKED_set_revocationDate(revoked, from.get());
    X509_CRL_add0_revoked(crl.get(), revoked);
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key->get(), EVP_sha256()) <= 0) {
    return OpenSslError("cannot sign the CRL");
  }
  return ToPem("CRL", [&](BIO* bio) { return PEM_write_bio_X509_CRL(bio, crl.get()); });
}

absl::StatusOr<CertificateInfo> ReadCertificate(std::string_view certificate_pem) {
  absl::StatusOr<OwnedCert> cert = ParseCertificate(certificate_pem);
  if (!cert.ok()) return cert.status();
  CertificateInfo info;
  info.common_name = CommonName(X509_get_subject_name(cert->get()));
  info.issuer_common_name = CommonName(X509_get_issuer_name(cert->get()));
  info.serial_hex = LowerHex(X509_get0_serialNumber(cert->get()));
  info.not_before = FromAsn1Time(X509_get0_notBefore(cert->get()));
  info.not_after = FromAsn1Time(X509_get0_notAfter(cert->get()));
  OwnedNames names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    info.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                           static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return info;
}

absl::StatusOr<std::vector<std::string>> ReadCrl(std::string_view crl_pem,
                                                 std::string_view ca_certificate_pem) {
  absl::StatusOr<OwnedCrl> crl = ParseCrl(crl_pem);
  if (!crl.ok()) return crl.status();
  absl::StatusOr<OwnedCert> ca = ParseCertificate(ca_certificate_pem);
  if (!ca.ok()) return ca.status();
  EVP_PKEY* ca_key = X509_get0_pubkey(ca->get());
  if (ca_key == nullptr || X509_CRL_verify(crl->get(), ca_key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the CRL is not signed by this CA");
  }
  std::vector<std::string> serials;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl->get());
  for (int i = 0; revoked != nullptr && i < sk_X509_REVOKED_num(revoked); ++i) {
    serials.push_back(LowerHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  return serials;
}

absl::StatusOr<std::string> CrlFileName(std::string_view crl_pem) {
  absl::StatusOr<OwnedCrl> crl = ParseCrl(crl_pem);
  if (!crl.ok()) return crl.status();
  int ok = 0;
  unsigned long hash = X509_NAME_hash_ex(X509_CRL_get_issuer(crl->get()), nullptr, nullptr, &ok);
  if (ok != 1) return OpenSslError("cannot hash the CRL issuer");
  char name[32];
  std::snprintf(name, sizeof(name), "%08lx.r0", hash);
  return std::string(name);
}

std::optional<std::string> RoleFromUris(absl::Span<const std::string> uris) {
  std::optional<std::string> role;
  for (const std::string& uri : uris) {
    if (!uri.starts_with(kRoleUriPrefix)) continue;
    if (role) return std::nullopt;  // two roles: neither is trusted
    role = uri.substr(kRoleUriPrefix.size());
  }
  return role;
}

absl::Status WriteNewPrivateFile(const std::string& path, std::string_view contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(StrCat(path, " exists already"));
    return absl::PermissionDeniedError(StrCat("cannot create ", path, ": ", strerror(errno)));
  }
  absl::Status written = WriteAll(fd, contents);
  close(fd);
  if (!written.ok()) return absl::Status(written.code(), StrCat(path, ": ", written.message()));
  return absl::OkStatus();
}

absl::Status ReplacePrivateFile(const std::string& path, std::string_view contents) {
  std::string temporary = path + ".tmp";
  unlink(temporary.c_str());
  if (absl::Status s = WriteNewPrivateFile(temporary, contents); !s.ok()) return s;
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot replace ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace innsyn::pki
