// The methods innsynd serves and the roles that may call them. A client
// certificate names its role (see pki.h); the config maps each role to the
// methods it may call, starting from DefaultRolePermissions. Some grants are
// never allowed, whatever the config says, because the README promises them
// away: an auditor never reads entry contents, and a portal reads nothing
// but a subject's access list and report (minimised, see portal_view.h)
// and proofs.
// Values and pure functions; thread-safe.
#ifndef INNSYN_DAEMON_AUTH_ROLES_H_
#define INNSYN_DAEMON_AUTH_ROLES_H_

#include <array>
#include <bitset>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace innsyn::daemon {

enum class Method {
  kAppend,
  kAppendStream,
  kListSubjectAccess,
  kListActorActivity,
  kGetEntries,
  kGetLeafHashes,
  kGetCheckpoint,
  kGetInclusionProof,
  kGetConsistencyProof,
  kVerifyLedger,
  kBackup,      // innsyn.v1.AdminService
  kListAlerts,  // innsyn.v1.AlertService
  kWatchAlerts,
  kUpdateAlert,
  kGetStatus,       // innsyn.v1.AdminService
  kErase,           // innsyn.v1.AdminService
  kCreateReport,    // innsyn.v1.ReportService
  kImportBaseline,  // innsyn.v1.AdminService
  kPseudonymize,    // innsyn.v1.AdminService
  kGetTile,         // GET /tile/... on the HTTP listener (C2SP tlog-tiles)
  kGetSubjectProof,
};
inline constexpr size_t kMethodCount = 21;

// The gRPC method name, for example "ListSubjectAccess".
std::string_view MethodName(Method method);
std::optional<Method> MethodFromName(std::string_view name);
// True for the methods whose answers carry entry contents (alerts name
// actors and subjects, so the alert methods count).
bool RevealsEntryContents(Method method);
// The methods a portal may call for the one subject it acts for.
bool IsAboutOneSubject(Method method);

inline constexpr std::string_view kIngestRole = "ingest";
inline constexpr std::string_view kControllerRole = "controller";
inline constexpr std::string_view kPortalRole = "portal";
inline constexpr std::string_view kAuditorRole = "auditor";
inline constexpr std::string_view kAdminRole = "admin";
inline constexpr std::array<std::string_view, 5> kRoles = {kIngestRole, kControllerRole,
                                                           kPortalRole, kAuditorRole, kAdminRole};
// Without TLS (loopback development mode) every caller has this role, which
// may call everything.
inline constexpr std::string_view kLocalRole = "local";

using MethodSet = std::bitset<kMethodCount>;
// Role name to the methods it may call; a role not listed may call nothing.
using RolePermissions = std::map<std::string, MethodSet, std::less<>>;

RolePermissions DefaultRolePermissions();

// InvalidArgument unless `role` is one of kRoles.
absl::Status CheckRole(std::string_view role);
// InvalidArgument if `role` is not one of kRoles, or may never be granted
// `method` (the reason is in the message).
absl::Status CheckGrant(std::string_view role, Method method);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_AUTH_ROLES_H_
