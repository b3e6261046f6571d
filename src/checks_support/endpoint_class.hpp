// Classification of network endpoints (internal): private, documentation/reserved or public;
// allowlists of domains and CIDR networks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probity::checks {

enum class EndpointClass { kPublic, kPrivate, kReserved };

const char* to_string(EndpointClass c);

/// An IPv4 or IPv6 address (v4 stored as ::ffff:a.b.c.d).
struct IpAddr {
  std::array<std::uint8_t, 16> b{};
  bool v4 = false;
};
std::optional<IpAddr> parse_ip(std::string_view s);

/// RFC 1918, 6598 (CGNAT), 3927 (link-local), 4193 (ULA), loopback → private;
/// RFC 5737 / 3849 documentation, 0/8, multicast, 240/4, broadcast, unspecified → reserved.
EndpointClass classify_ip(const IpAddr& ip);
/// example.com/.net/.org and RFC 2606/6761 names (.example, .test, .invalid, .localhost) →
/// reserved; localhost, .local, .lan, .home.arpa, .internal → private; otherwise public.
EndpointClass classify_host(std::string_view host);

struct Cidr {
  IpAddr net;
  unsigned prefix = 0;  ///< in the 128-bit space (v4 prefixes + 96)
};
std::optional<Cidr> parse_cidr(std::string_view s);

class Allowlist {
 public:
  Allowlist(const std::vector<std::string>& domains, const std::vector<std::string>& networks);
  [[nodiscard]] bool empty() const { return domains_.empty() && nets_.empty(); }
  [[nodiscard]] bool allows_host(std::string_view host) const;
  [[nodiscard]] bool allows_ip(const IpAddr& ip) const;
  /// Entries that did not parse (reported once per run).
  std::vector<std::string> invalid;

 private:
  std::vector<std::string> domains_;
  std::vector<Cidr> nets_;
};

}  // namespace probity::checks
