#include "daemon/services/portal_view.h"

namespace innsyn::daemon {

void MinimiseForPortal(v1::LedgerEntry& entry) {
  if (entry.has_access_event()) {
    v1::AccessEvent& event = *entry.mutable_access_event();
    event.clear_event_id();
    event.clear_source_seq();
    event.clear_reason();
    event.clear_network_address();
    event.clear_workstation();
    event.clear_user_agent();
    event.clear_attributes();
    event.mutable_data_object()->clear_description();
  }
  if (entry.has_query_record()) {
    v1::QueryRecord& query = *entry.mutable_query_record();
    query.clear_caller();
    query.clear_reason();
  }
}

}  // namespace innsyn::daemon
