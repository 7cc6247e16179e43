#include "daemon/auth/pki.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace innsyn::pki {
namespace {

using ::innsyn::testing::IsOk;
using ::innsyn::testing::StatusIs;
using ::testing::Not;

KeyAndCertificate TestCa() {
  absl::Time now = absl::Now();
  absl::StatusOr<KeyAndCertificate> ca =
      CreateCertificateAuthority("test CA", now - absl::Hours(1), now + absl::Hours(24));
  EXPECT_THAT(ca, IsOk());
  return ca.ok() ? *ca : KeyAndCertificate{};
}

TEST(Pki, ClientCertificateCarriesItsRoleAndIsSignedByTheCa) {
  KeyAndCertificate ca = TestCa();
  CertificateRequest request;
  request.common_name = "portal-helsenorge";
  request.uris = {"innsyn:role/portal"};
  request.not_before = absl::Now() - absl::Hours(1);
  request.not_after = absl::Now() + absl::Hours(1);
  absl::StatusOr<KeyAndCertificate> cert = IssueCertificate(ca, request);
  ASSERT_THAT(cert, IsOk());
  absl::StatusOr<CertificateInfo> info = ReadCertificate(cert->certificate_pem);
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->common_name, "portal-helsenorge");
  EXPECT_EQ(info->issuer_common_name, "test CA");
  EXPECT_EQ(RoleFromUris(info->uris), "portal");
  EXPECT_EQ(info->serial_hex.size(), 32u);
}

TEST(Pki, CrlListsRevokedSerialsAndIsCheckedAgainstItsCa) {
  KeyAndCertificate ca = TestCa();
  absl::StatusOr<std::string> crl = CreateCrl(ca, {"4a1b2c", "7f00000000000000000000000000beef"},
                                              absl::Now(), absl::Now() + absl::Hours(1));
  ASSERT_THAT(crl, IsOk());
  absl::StatusOr<std::vector<std::string>> serials = ReadCrl(*crl, ca.certificate_pem);
  ASSERT_THAT(serials, IsOk());
  EXPECT_EQ(serials->size(), 2u);
  EXPECT_THAT(ReadCrl(*crl, TestCa().certificate_pem), Not(IsOk()));  // another CA
  absl::StatusOr<std::string> name = CrlFileName(*crl);
  ASSERT_THAT(name, IsOk());
  EXPECT_TRUE(name->ends_with(".r0")) << *name;
  EXPECT_EQ(name->size(), 11u);
}

TEST(Pki, BadInputIsRefused) {
  KeyAndCertificate ca = TestCa();
  CertificateRequest request;
  request.common_name = "server";
  request.ip_addresses = {"not-an-ip"};
  request.not_before = absl::Now();
  request.not_after = absl::Now() + absl::Hours(1);
  EXPECT_THAT(IssueCertificate(ca, request), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n"), Not(IsOk()));
  EXPECT_THAT(CreateCrl(ca, {"xyz"}, absl::Now(), absl::Now() + absl::Hours(1)), Not(IsOk()));
}

TEST(Pki, TwoRoleUrisMeanNoRole) {
  EXPECT_EQ(RoleFromUris({"innsyn:role/portal", "innsyn:role/controller"}), std::nullopt);
  EXPECT_EQ(RoleFromUris({"https://example.no", "innsyn:role/auditor"}), "auditor");
  EXPECT_EQ(RoleFromUris({}), std::nullopt);
}

}  // namespace
}  // namespace innsyn::pki
