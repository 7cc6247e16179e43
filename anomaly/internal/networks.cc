#include "anomaly/internal/networks.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "base/strings.h"

namespace innsyn::anomaly::internal {
namespace {

constexpr int kIpv4Bits = 32;
constexpr int kIpv6Bits = 128;
// Bits of an IPv4-mapped IPv6 address before the IPv4 part (::ffff:0:0/96).
constexpr int kMappedPrefixBits = kIpv6Bits - kIpv4Bits;
// Longest text inet_pton is given, with room for the terminating zero.
constexpr size_t kMaxAddressText = 64;

bool PrefixMatches(const IpAddress& address, const IpAddress& prefix, int bits) {
  int whole_bytes = bits / 8;
  if (std::memcmp(address.data(), prefix.data(), whole_bytes) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address[whole_bytes] & mask) == (prefix[whole_bytes] & mask);
}

}  // namespace

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= kMaxAddressText) return std::nullopt;
  char buffer[kMaxAddressText];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address{};
  if (text.find(':') == std::string_view::npos) {
    address[10] = 0xff;
    address[11] = 0xff;
    if (inet_pton(AF_INET, buffer, address.data() + 12) != 1) return std::nullopt;
    return address;
  }
  if (inet_pton(AF_INET6, buffer, address.data()) != 1) return std::nullopt;
  return address;
}

absl::StatusOr<NetworkList> NetworkList::Parse(const std::vector<std::string>& networks) {
  NetworkList list;
  for (const std::string& text : networks) {
    std::string_view view = text;
    size_t slash = view.find('/');
    std::string_view host = view.substr(0, slash);
    std::optional<IpAddress> prefix = ParseIpAddress(host);
    bool ipv4 = host.find(':') == std::string_view::npos;
    int max_bits = ipv4 ? kIpv4Bits : kIpv6Bits;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
      std::string_view length = view.substr(slash + 1);
      auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), bits);
      if (length.empty() || error != std::errc() || end != length.data() + length.size()) {
        bits = -1;
      }
    }
    if (!prefix || bits < 0 || bits > max_bits) {
      return absl::InvalidArgumentError(
          StrCat("\"", text, "\" is not a network (an IPv4 or IPv6 address/prefix length)"));
    }
    list.networks_.push_back({*prefix, ipv4 ? kMappedPrefixBits + bits : bits});
  }
  return list;
}

bool NetworkList::Contains(const IpAddress& address) const {
  for (const Network& network : networks_) {
    if (PrefixMatches(address, network.prefix, network.bits)) return true;
  }
  return false;
}

}  // namespace innsyn::anomaly::internal
