#include "daemon/auth/roles.h"

#include <algorithm>
#include <initializer_list>

#include "base/strings.h"

namespace innsyn::daemon {
namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "Append",         "AppendStream",  "ListSubjectAccess", "ListActorActivity",   "GetEntries",
    "GetLeafHashes",  "GetCheckpoint", "GetInclusionProof", "GetConsistencyProof", "VerifyLedger",
    "Backup",         "ListAlerts",    "WatchAlerts",       "UpdateAlert",         "GetStatus",
    "Erase",          "CreateReport",  "ImportBaseline",    "Pseudonymize",        "GetTile",
    "GetSubjectProof"};

MethodSet Methods(std::initializer_list<Method> methods) {
  MethodSet set;
  for (Method method : methods) set.set(static_cast<size_t>(method));
  return set;
}

}  // namespace

bool IsAboutOneSubject(Method method) {
  return method == Method::kListSubjectAccess || method == Method::kCreateReport ||
         method == Method::kGetSubjectProof;
}

std::string_view MethodName(Method method) { return kMethodNames[static_cast<size_t>(method)]; }

std::optional<Method> MethodFromName(std::string_view name) {
  auto found = std::find(kMethodNames.begin(), kMethodNames.end(), name);
  if (found == kMethodNames.end()) return std::nullopt;
  return static_cast<Method>(found - kMethodNames.begin());
}

bool RevealsEntryContents(Method method) {
  return method == Method::kListSubjectAccess || method == Method::kListActorActivity ||
         method == Method::kGetEntries || method == Method::kListAlerts ||
         method == Method::kWatchAlerts || method == Method::kUpdateAlert ||
         method == Method::kCreateReport;
}

RolePermissions DefaultRolePermissions() {
  using enum Method;
  const MethodSet proofs = Methods({kGetCheckpoint, kGetInclusionProof, kGetConsistencyProof});
  RolePermissions roles;
  roles[std::string(kIngestRole)] = Methods({kAppend, kAppendStream});
  roles[std::string(kControllerRole)] =
      proofs | Methods({kListSubjectAccess, kListActorActivity, kGetSubjectProof, kGetEntries,
                        kGetLeafHashes, kGetTile, kVerifyLedger, kListAlerts, kWatchAlerts,
                        kUpdateAlert, kGetStatus, kErase, kCreateReport});
  roles[std::string(kPortalRole)] =
      proofs | Methods({kListSubjectAccess, kGetSubjectProof, kCreateReport});
  // Tiles are the tree's hashes, level 0 the leaf hashes: whoever may read
  // leaf hashes may read tiles.
  roles[std::string(kAuditorRole)] =
      proofs | Methods({kGetLeafHashes, kGetTile, kVerifyLedger, kGetStatus});
  roles[std::string(kAdminRole)] =
      Methods({kGetCheckpoint, kVerifyLedger, kBackup, kGetStatus, kImportBaseline, kPseudonymize});
  return roles;
}

absl::Status CheckRole(std::string_view role) {
  if (std::find(kRoles.begin(), kRoles.end(), role) != kRoles.end()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("unknown role \"", role, "\" (roles: ingest, controller, portal, auditor, admin)"));
}

absl::Status CheckGrant(std::string_view role, Method method) {
  if (absl::Status s = CheckRole(role); !s.ok()) return s;
  if (role == kAuditorRole && RevealsEntryContents(method)) {
    return absl::InvalidArgumentError(StrCat("the auditor role may not be granted ",
                                             MethodName(method),
                                             ": auditors never read entry contents"));
  }
  if (role == kAuditorRole && method == Method::kGetSubjectProof) {
    return absl::InvalidArgumentError(
        "the auditor role may not be granted GetSubjectProof: for a named person it tells "
        "whether and when their data was accessed");
  }
  if (method == Method::kPseudonymize && role != kAdminRole && role != kControllerRole) {
    return absl::InvalidArgumentError(
        StrCat("the ", role,
               " role may not be granted Pseudonymize: it links identity numbers to "
               "the ledger's pseudonyms (admin and controller only)"));
  }
  if (role == kPortalRole && RevealsEntryContents(method) && !IsAboutOneSubject(method)) {
    return absl::InvalidArgumentError(
        StrCat("the portal role may not be granted ", MethodName(method),
               ": a portal reads only its patient's access list and report"));
  }
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
