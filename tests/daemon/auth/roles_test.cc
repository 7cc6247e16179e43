#include "daemon/auth/roles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace innsyn::daemon {
namespace {

using ::innsyn::testing::IsOk;
using ::innsyn::testing::StatusIs;

TEST(Roles, AuditorAndPortalCanNeverBeGrantedEntryContents) {
  EXPECT_THAT(CheckGrant("auditor", Method::kGetEntries),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckGrant("auditor", Method::kListSubjectAccess),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckGrant("portal", Method::kListActorActivity),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckGrant("portal", Method::kListSubjectAccess), IsOk());
  EXPECT_THAT(CheckGrant("admin", Method::kGetEntries), IsOk());
  // A report carries a subject's accesses: a portal's own patient's, never an auditor's.
  EXPECT_THAT(CheckGrant("portal", Method::kCreateReport), IsOk());
  EXPECT_THAT(CheckGrant("auditor", Method::kCreateReport),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A history's proof holds no contents, but names whether and when a named
  // person's data was accessed: the portal's own patient's, never an
  // auditor's.
  EXPECT_THAT(CheckGrant("portal", Method::kGetSubjectProof), IsOk());
  EXPECT_THAT(CheckGrant("auditor", Method::kGetSubjectProof),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Roles, AnUnknownRoleCanBeGrantedNothing) {
  EXPECT_THAT(CheckGrant("nurse", Method::kGetCheckpoint),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Roles, EveryDefaultPermissionIsAGrantThatMayBeMade) {
  for (const auto& [role, methods] : DefaultRolePermissions()) {
    for (size_t i = 0; i < kMethodCount; ++i) {
      if (methods.test(i)) {
        EXPECT_THAT(CheckGrant(role, static_cast<Method>(i)), IsOk()) << role;
      }
    }
  }
}

TEST(Roles, MethodNamesAreMatchedExactly) {
  EXPECT_EQ(MethodFromName("GetLeafHashes"), Method::kGetLeafHashes);
  EXPECT_EQ(MethodFromName("getleafhashes"), std::nullopt);
}

}  // namespace
}  // namespace innsyn::daemon
