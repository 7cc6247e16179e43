// Unit tests of the security pieces: the certificate authority, role
// grants, the rate limiter and the portal's view.
#include <gtest/gtest.h>

#include "daemon/auth/pki.h"
#include "daemon/auth/rate_limiter.h"
#include "daemon/auth/roles.h"
#include "daemon/services/portal_view.h"
#include "tests/support/test_events.h"

namespace innsyn::daemon {
namespace {

pki::KeyAndCertificate TestCa() {
  absl::Time now = absl::Now();
  absl::StatusOr<pki::KeyAndCertificate> ca =
      pki::CreateCertificateAuthority("test CA", now - absl::Hours(1), now + absl::Hours(24));
  EXPECT_TRUE(ca.ok()) << ca.status();
  return *ca;
}

TEST(Pki, ClientCertificateCarriesItsRoleAndIsSignedByTheCa) {
  pki::KeyAndCertificate ca = TestCa();
  pki::CertificateRequest request;
  request.common_name = "portal-helsenorge";
  request.uris = {"innsyn:role/portal"};
  request.not_before = absl::Now() - absl::Hours(1);
  request.not_after = absl::Now() + absl::Hours(1);
  absl::StatusOr<pki::KeyAndCertificate> cert = pki::IssueCertificate(ca, request);
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::StatusOr<pki::CertificateInfo> info = pki::ReadCertificate(cert->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "portal-helsenorge");
  EXPECT_EQ(info->issuer_common_name, "test CA");
  EXPECT_EQ(pki::RoleFromUris(info->uris), "portal");
  EXPECT_EQ(info->serial_hex.size(), 32u);
}

TEST(Pki, CrlListsRevokedSerialsAndIsCheckedAgainstItsCa) {
  pki::KeyAndCertificate ca = TestCa();
  absl::StatusOr<std::string> crl =
      pki::CreateCrl(ca, {"4a1b2c", "7f00000000000000000000000000beef"}, absl::Now(),
                     absl::Now() + absl::Hours(1));
  ASSERT_TRUE(crl.ok()) << crl.status();
  absl::StatusOr<std::vector<std::string>> serials = pki::ReadCrl(*crl, ca.certificate_pem);
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_EQ(serials->size(), 2u);
  EXPECT_FALSE(pki::ReadCrl(*crl, TestCa().certificate_pem).ok());  // another CA
  absl::StatusOr<std::string> name = pki::CrlFileName(*crl);
  ASSERT_TRUE(name.ok());
  EXPECT_TRUE(name->ends_with(".r0")) << *name;
  EXPECT_EQ(name->size(), 11u);
}

TEST(Pki, BadInputIsRefused) {
  pki::KeyAndCertificate ca = TestCa();
  pki::CertificateRequest request;
  request.common_name = "server";
  request.ip_addresses = {"not-an-ip"};
  request.not_before = absl::Now();
  request.not_after = absl::Now() + absl::Hours(1);
  EXPECT_EQ(pki::IssueCertificate(ca, request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(pki::ReadCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n").ok());
  EXPECT_FALSE(pki::CreateCrl(ca, {"xyz"}, absl::Now(), absl::Now() + absl::Hours(1)).ok());
}

TEST(Pki, TwoRoleUrisMeanNoRole) {
  EXPECT_EQ(pki::RoleFromUris({"innsyn:role/portal", "innsyn:role/controller"}), std::nullopt);
  EXPECT_EQ(pki::RoleFromUris({"https://example.no", "innsyn:role/auditor"}), "auditor");
  EXPECT_EQ(pki::RoleFromUris({}), std::nullopt);
}

TEST(Roles, AuditorAndPortalCanNeverReadEntries) {
  EXPECT_FALSE(CheckGrant("auditor", Method::kGetEntries).ok());
  EXPECT_FALSE(CheckGrant("auditor", Method::kListSubjectAccess).ok());
  EXPECT_FALSE(CheckGrant("portal", Method::kListActorActivity).ok());
  EXPECT_TRUE(CheckGrant("portal", Method::kListSubjectAccess).ok());
  EXPECT_TRUE(CheckGrant("admin", Method::kGetEntries).ok());
  EXPECT_FALSE(CheckGrant("nurse", Method::kGetCheckpoint).ok());
  for (const auto& [role, methods] : DefaultRolePermissions()) {
    for (size_t i = 0; i < kMethodCount; ++i) {
      if (methods.test(i)) {
        EXPECT_TRUE(CheckGrant(role, static_cast<Method>(i)).ok()) << role;
      }
    }
  }
  EXPECT_EQ(MethodFromName("GetLeafHashes"), Method::kGetLeafHashes);
  EXPECT_EQ(MethodFromName("getleafhashes"), std::nullopt);
}

TEST(RateLimiter, BurstThenSteadyRatePerIdentity) {
  RateLimiter limiter(/*calls_per_second=*/2, /*burst=*/3);
  absl::Time t = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("a", t));
  EXPECT_FALSE(limiter.TryAcquire("a", t));
  EXPECT_TRUE(limiter.TryAcquire("b", t));  // its own bucket
  EXPECT_TRUE(limiter.TryAcquire("a", t + absl::Milliseconds(500)));
  EXPECT_FALSE(limiter.TryAcquire("a", t + absl::Milliseconds(600)));
  // Refills to the burst, no further.
  t += absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("a", t));
  EXPECT_FALSE(limiter.TryAcquire("a", t));
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.TryAcquire("a", absl::UnixEpoch()));
}

TEST(PortalView, KeepsWhoWhatWhyAndDropsInternalFields) {
  v1::LedgerEntry entry;
  v1::AccessEvent& event = *entry.mutable_access_event();
  event = testing::JournalRead(1, "01017012345", "dr-hansen");
  event.set_reason("free text");
  event.set_workstation("surgery-2");
  event.set_network_address("10.1.0.12");
  event.set_user_agent("agent");
  event.set_source_seq(77);
  (*event.mutable_attributes())["k"] = "v";
  event.mutable_data_object()->set_description("desc");
  event.mutable_recipient()->set_name("NAV");
  v1::AccessEvent before = event;
  MinimiseForPortal(entry);
  EXPECT_TRUE(event.reason().empty());
  EXPECT_TRUE(event.workstation().empty());
  EXPECT_TRUE(event.network_address().empty());
  EXPECT_TRUE(event.user_agent().empty());
  EXPECT_TRUE(event.attributes().empty());
  EXPECT_TRUE(event.data_object().description().empty());
  EXPECT_TRUE(event.event_id().empty());
  EXPECT_EQ(event.source_seq(), 0u);
  EXPECT_EQ(event.actor().SerializeAsString(), before.actor().SerializeAsString());
  EXPECT_EQ(event.occurred_at().seconds(), before.occurred_at().seconds());
  EXPECT_EQ(event.purpose_of_use(), before.purpose_of_use());
  EXPECT_EQ(event.data_object().type(), before.data_object().type());
  EXPECT_EQ(event.recipient().name(), "NAV");
}

}  // namespace
}  // namespace innsyn::daemon
