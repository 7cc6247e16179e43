// The FHIR R4 side of the HTTP listener (IHE RESTful ATNA with the Basic
// Audit Log Patterns): ITI-20 "Record Audit Event" as a create of one
// AuditEvent or a transaction/batch Bundle of them, and ITI-81 "Retrieve
// ATNA Audit Event" as a search by patient and date. AuditEvents become
// AccessEvents by fhir_audit_event.h and take the EventIngest path, all or
// nothing per request; refusals are OperationOutcomes naming the element.
// A search is a ListSubjectAccess: it passes the CallGate as that method and
// is recorded in the ledger as a query before it answers.
// Thread-safe; borrows what it is given.
#ifndef INNSYN_DAEMON_HTTP_INTERNAL_FHIR_ROUTES_H_
#define INNSYN_DAEMON_HTTP_INTERNAL_FHIR_ROUTES_H_

#include <google/protobuf/struct.pb.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "daemon/auth/call_gate.h"
#include "daemon/http/internal/route.h"
#include "daemon/services/access_log_service.h"
#include "daemon/services/event_ingest.h"

namespace innsyn::daemon::http {

class FhirRoutes {
 public:
  FhirRoutes(EventIngest& ingest, CallGate& gate, AccessLogService& access_log)
      : ingest_(&ingest), gate_(&gate), access_log_(&access_log) {}

  Reply CreateAuditEvent(const httplib::Request& request) const;
  Reply PostBundle(const httplib::Request& request) const;
  Reply SearchAuditEvents(const httplib::Request& request) const;

 private:
  // Maps, admits and appends `resources` (paths for messages) as one batch.
  absl::Status Append(const httplib::Request& request,
                      const std::vector<const google::protobuf::Value*>& resources,
                      const std::vector<std::string>& paths, v1::AppendResponse& response,
                      std::vector<v1::AccessEvent>& events) const;

  EventIngest* ingest_;
  CallGate* gate_;
  AccessLogService* access_log_;
};

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_INTERNAL_FHIR_ROUTES_H_
