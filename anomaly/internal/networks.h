// A set of IPv4 and IPv6 networks in CIDR notation ("10.20.0.0/16",
// "2001:db8::/32"; a bare address is a /32 or /128), and the test whether an
// address lies inside one of them. IPv4-mapped IPv6 addresses
// ("::ffff:10.20.1.2") match IPv4 networks.
#ifndef INNSYN_ANOMALY_INTERNAL_NETWORKS_H_
#define INNSYN_ANOMALY_INTERNAL_NETWORKS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace innsyn::anomaly::internal {

// An address as 16 bytes: IPv4 as IPv4-mapped IPv6.
using IpAddress = std::array<uint8_t, 16>;

std::optional<IpAddress> ParseIpAddress(std::string_view text);

class NetworkList {
 public:
  // InvalidArgument quoting the first network that does not parse.
  static absl::StatusOr<NetworkList> Parse(const std::vector<std::string>& networks);

  bool Contains(const IpAddress& address) const;

 private:
  struct Network {
    IpAddress prefix;
    int bits;  // of the 128
  };
  std::vector<Network> networks_;
};

}  // namespace innsyn::anomaly::internal

#endif  // INNSYN_ANOMALY_INTERNAL_NETWORKS_H_
