#include "checks_support/endpoint_class.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "checks_support/text.hpp"
#include "core/enum_names.hpp"

namespace probity::checks {

const char* to_string(EndpointClass c) {
  return enum_name<EndpointClass::kReserved>(c, {"public", "private", "reserved"}, "?");
}

std::optional<IpAddr> parse_ip(std::string_view s) {
  if (s.size() > 45) return std::nullopt;
  std::string z(s);
  IpAddr ip;
  in_addr a4;
  if (inet_pton(AF_INET, z.c_str(), &a4) == 1) {
    ip.v4 = true;
    ip.b[10] = ip.b[11] = 0xff;
    std::memcpy(ip.b.data() + 12, &a4, 4);
    return ip;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, z.c_str(), &a6) == 1) {
    std::memcpy(ip.b.data(), &a6, 16);
    return ip;
  }
  return std::nullopt;
}

namespace {
bool in(const IpAddr& ip, std::initializer_list<std::uint8_t> pfx, unsigned bits, bool v4) {
  unsigned base = v4 ? 12 : 0;
  std::array<std::uint8_t, 16> net{};
  std::size_t i = 0;
  for (auto x : pfx) net[base + i++] = x;
  if (v4 != ip.v4) return false;
  for (unsigned k = 0; k < bits; ++k) {
    unsigned byte = base + k / 8, bit = 7 - k % 8;
    if (((ip.b[byte] >> bit) & 1) != ((net[byte] >> bit) & 1)) return false;
  }
  return true;
}
bool prefix_match(const IpAddr& ip, const IpAddr& net, unsigned prefix) {
  for (unsigned k = 0; k < prefix && k < 128; ++k) {
    unsigned byte = k / 8, bit = 7 - k % 8;
    if (((ip.b[byte] >> bit) & 1) != ((net.b[byte] >> bit) & 1)) return false;
  }
  return true;
}
}  // namespace

EndpointClass classify_ip(const IpAddr& ip) {
  if (ip.v4) {
    if (in(ip, {10}, 8, true) || in(ip, {172, 16}, 12, true) || in(ip, {192, 168}, 16, true) ||
        in(ip, {100, 64}, 10, true) || in(ip, {169, 254}, 16, true) || in(ip, {127}, 8, true))
      return EndpointClass::kPrivate;
    if (in(ip, {192, 0, 2}, 24, true) || in(ip, {198, 51, 100}, 24, true) ||
        in(ip, {203, 0, 113}, 24, true) || in(ip, {0}, 8, true) || in(ip, {224}, 4, true) ||
        in(ip, {240}, 4, true) || in(ip, {198, 18}, 15, true) || in(ip, {192, 0, 0}, 24, true))
      return EndpointClass::kReserved;
    return EndpointClass::kPublic;
  }
  static const IpAddr kZero{};
  IpAddr one{};
  one.b[15] = 1;
  if (ip.b == one.b) return EndpointClass::kPrivate;
  if (ip.b == kZero.b) return EndpointClass::kReserved;
  if (in(ip, {0xfc}, 7, false) || in(ip, {0xfe, 0x80}, 10, false)) return EndpointClass::kPrivate;
  if (in(ip, {0x20, 0x01, 0x0d, 0xb8}, 32, false) || in(ip, {0xff}, 8, false) ||
      in(ip, {0x01, 0x00}, 64, false))
    return EndpointClass::kReserved;
  return EndpointClass::kPublic;
}

EndpointClass classify_host(std::string_view host_in) {
  std::string h = lower(host_in);
  while (!h.empty() && h.back() == '.') h.pop_back();
  auto is = [&](std::string_view d) { return h == d || h.ends_with("." + std::string(d)); };
  if (is("example.com") || is("example.net") || is("example.org") || is("example") || is("test") ||
      is("invalid"))
    return EndpointClass::kReserved;
  // A name without a dot only resolves through a local search domain.
  if (h.find('.') == std::string::npos) return EndpointClass::kPrivate;
  if (is("localhost") || is("local") || is("lan") || is("home.arpa") || is("internal") ||
      is("localdomain"))
    return EndpointClass::kPrivate;
  return EndpointClass::kPublic;
}

std::optional<Cidr> parse_cidr(std::string_view s) {
  auto slash = s.find('/');
  auto ip = parse_ip(s.substr(0, slash));
  if (!ip) return std::nullopt;
  unsigned max = ip->v4 ? 32 : 128, p = max;
  if (slash != std::string_view::npos) {
    auto t = s.substr(slash + 1);
    if (t.empty() || t.size() > 3) return std::nullopt;
    p = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      p = p * 10 + unsigned(c - '0');
    }
    if (p > max) return std::nullopt;
  }
  return Cidr{*ip, ip->v4 ? p + 96 : p};
}

Allowlist::Allowlist(const std::vector<std::string>& domains,
                     const std::vector<std::string>& networks) {
  for (const auto& d : domains) {
    std::string l = lower(trim(d));
    while (!l.empty() && l.front() == '.') l.erase(l.begin());
    if (l.empty())
      invalid.push_back(d);
    else
      domains_.push_back(l);
  }
  for (const auto& n : networks)
    if (auto c = parse_cidr(trim(n)))
      nets_.push_back(*c);
    else
      invalid.push_back(n);
}

bool Allowlist::allows_host(std::string_view host) const {
  std::string h = lower(host);
  for (const auto& d : domains_)
    if (h == d || h.ends_with("." + d)) return true;
  return false;
}

bool Allowlist::allows_ip(const IpAddr& ip) const {
  for (const auto& n : nets_)
    if (prefix_match(ip, n.net, n.prefix)) return true;
  return false;
}

}  // namespace probity::checks
