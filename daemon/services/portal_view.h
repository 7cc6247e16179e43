// What a patient portal may show a patient about an access to their data:
// when, who (name, role, HPR number, organisation), what kind of data, why
// (purpose and legal basis), the outcome, the system, and any recipient of
// a disclosure, as national patient portals show it. The clinic's internal
// fields are removed: free-text reasons and descriptions, workstation,
// network address, user agent, attributes, and the source's own ids.
// Pure; thread-safe.
#ifndef INNSYN_DAEMON_SERVICES_PORTAL_VIEW_H_
#define INNSYN_DAEMON_SERVICES_PORTAL_VIEW_H_

#include "innsyn/v1/ledger.pb.h"

namespace innsyn::daemon {

void MinimiseForPortal(v1::LedgerEntry& entry);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_PORTAL_VIEW_H_
