// Internal: where a boot-started network server listens, from its arguments and its own
// configuration file as shipped in the image (reachability: `exposed` needs a server that
// listens on the network; one bound to loopback only, or with its listener switched off, is
// `loaded`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probity::vuln {

enum class ListenScope {
  kUnknown,   ///< nothing in its arguments or configuration says (the server's default holds)
  kNetwork,   ///< an address other than loopback, or every address
  kLoopback,  ///< 127.0.0.0/8, ::1 or localhost only
  kDisabled,  ///< its network listener is switched off (dnsmasq port=0 without DHCP)
};

struct ListenFacts {
  ListenScope scope = ListenScope::kUnknown;
  std::string why;  ///< "etc/lighttpd/lighttpd.conf: server.bind = \"127.0.0.1\""
};

/// Reads a file of the image by its absolute path ("/etc/ssh/sshd_config"), at most
/// kMaxServiceConfigBytes; nullopt when the image has no such regular file.
using ReadImageFile = std::function<std::optional<std::string>(std::string_view path)>;

/// `program`: the server's basename; `args`: the words after it on its command line.
/// Understands the listen arguments of dropbear, uhttpd, busybox httpd/telnetd, sshd, lighttpd,
/// dnsmasq and mosquitto, and the configuration files lighttpd.conf, /etc/config/uhttpd (UCI),
/// sshd_config, dnsmasq.conf, mosquitto.conf and snmpd.conf.
ListenFacts configured_listen(std::string_view program, const std::vector<std::string_view>& args,
                              const ReadImageFile& read);

/// 127.0.0.0/8, ::1, localhost (an optional ":port" or "[...]:port" is ignored).
bool loopback_address(std::string_view address);

}  // namespace probity::vuln
