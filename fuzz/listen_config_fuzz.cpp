// libFuzzer target for the server listen-configuration reader (src/vuln/listen_config.cpp):
// the first byte picks the server, the first line is its command-line arguments, and the rest is
// the content of every configuration file it asks for. Whatever the bytes, it must return.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checks_support/text.hpp"
#include "vuln/listen_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* const kPrograms[] = {"lighttpd",  "uhttpd", "sshd",     "dnsmasq",
                                          "mosquitto", "snmpd",  "dropbear", "telnetd"};
  if (size == 0) return 0;
  const std::string_view program = kPrograms[data[0] % 8];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto nl = rest.find('\n');
  const std::string_view line = rest.substr(0, nl);
  const std::string file(nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1));
  const std::vector<std::string_view> args = probity::checks::words(line);
  (void)probity::vuln::configured_listen(
      program, args, [&](std::string_view) -> std::optional<std::string> { return file; });
  (void)probity::vuln::loopback_address(line);
  return 0;
}
