// The one place where an absl::Status becomes a grpc::Status.
#ifndef INNSYN_DAEMON_SERVICES_GRPC_STATUS_H_
#define INNSYN_DAEMON_SERVICES_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace innsyn::daemon {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_GRPC_STATUS_H_
