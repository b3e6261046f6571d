// Where a boot-started server listens, from its arguments and the configuration file the image
// ships for it (listen_config.hpp). Each server's knowledge is a few lines here: its listen
// options and the configuration keys that name addresses. Files are read through the caller's
// bounded reader; `include` directives are not followed (what they would add stays unknown, so
// the server's default — listening — holds unless the main file restricts it).
#include "vuln/listen_config.hpp"
#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "checks_support/text.hpp"

namespace probity::vuln {
namespace {

using checks::split;
using checks::trim;

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

// A line without its comment ('#' to the end, outside quotes).
std::string_view uncomment(std::string_view line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return trim(line.substr(0, i));
    }
  }
  return trim(line);
}

// The listeners found so far: each address (empty = every address) with where it was read.
struct Listeners {
  std::vector<std::pair<std::string, std::string>> all;
  void add(std::string_view address, std::string why) {
    all.emplace_back(std::string(address), std::move(why));
  }
  // "[addr:]port", "addr", "[v6]:port": the address part ("" when only a port is given).
  void add_endpoint(std::string_view endpoint, std::string why) {
    endpoint = unquote(endpoint);
    if (digits(endpoint)) endpoint = {};  // a port alone: every address
    add(endpoint, std::move(why));
  }
  [[nodiscard]] ListenFacts decide() const {
    if (all.empty()) return {};
    for (const auto& [address, why] : all)
      if (address.empty() || !loopback_address(address)) return {ListenScope::kNetwork, why};
    return {ListenScope::kLoopback, all.front().second};
  }
};

// The value of a "-x VALUE", "-xVALUE", "--long=VALUE" or "--long VALUE" option at args[i].
std::optional<std::string_view> option(const std::vector<std::string_view>& args, std::size_t& i,
                                       std::string_view shortopt, std::string_view longopt = {}) {
  const auto a = args[i];
  if (!shortopt.empty() && a == shortopt) {
    if (i + 1 < args.size()) return args[++i];
    return std::nullopt;
  }
  if (!shortopt.empty() && a.size() > shortopt.size() && a.starts_with(shortopt) &&
      shortopt.size() == 2 && !a.starts_with("--"))
    return a.substr(2);
  if (!longopt.empty()) {
    if (a == longopt && i + 1 < args.size()) return args[++i];
    if (a.size() > longopt.size() && a.starts_with(longopt) && a[longopt.size()] == '=')
      return a.substr(longopt.size() + 1);
  }
  return std::nullopt;
}

std::string excerpt(std::string_view path, std::string_view line) {
  return fmt::format("{}: {}", path, checks::excerpt(line, 100));
}

// Calls fn(line) for each non-empty, uncommented line of the image file `path`; false when the
// image has no such file.
template <class F>
bool each_line(const ReadImageFile& read, std::string_view path, F&& fn) {
  auto text = read(path);
  if (!text) return false;
  for (auto raw : split(*text, '\n')) {
    const auto line = uncomment(raw);
    if (!line.empty()) fn(line);
  }
  return true;
}

// "key = value" / "key value" / "key=value": the key, lower-cased, and the value.
std::pair<std::string, std::string_view> key_value(std::string_view line) {
  const auto sep = line.find_first_of(" \t=");
  if (sep == std::string_view::npos) return {lower(line), {}};
  auto value = trim(line.substr(sep));
  if (value.starts_with('=')) value = trim(value.substr(1));
  return {lower(trim(line.substr(0, sep))), value};
}

void lighttpd_conf(const ReadImageFile& read, std::string_view path, Listeners& out) {
  std::optional<std::string> bind, bind_why;
  Listeners sockets;
  const bool found = each_line(read, path, [&](std::string_view line) {
    if (line.starts_with("$SERVER[\"socket\"]")) {
      const auto q = line.find("==");
      if (q != std::string_view::npos) {
        auto rest = trim(line.substr(q + 2));
        const auto brace = rest.find('{');
        if (brace != std::string_view::npos) rest = trim(rest.substr(0, brace));
        auto ep = unquote(rest);
        // lighttpd writes a port alone as ":443".
        if (ep.starts_with(':') && digits(ep.substr(1))) ep = {};
        sockets.add_endpoint(ep, excerpt(path, line));
      }
      return;
    }
    auto [key, value] = key_value(line);
    if (key == "server.bind") bind = std::string(unquote(value)), bind_why = excerpt(path, line);
  });
  if (!found) return;
  if (bind)
    out.add(*bind, *bind_why);
  else
    out.add("", fmt::format("{}: no server.bind (every address)", path));
  for (auto& s : sockets.all) out.all.push_back(std::move(s));
}

void uhttpd_uci(const ReadImageFile& read, Listeners& out) {
  constexpr std::string_view kPath = "/etc/config/uhttpd";
  each_line(read, kPath, [&](std::string_view line) {
    const auto w = checks::words(line);
    if (w.size() >= 3 && (w[0] == "list" || w[0] == "option") &&
        (w[1] == "listen_http" || w[1] == "listen_https"))
      out.add_endpoint(w[2], excerpt(kPath, line));
  });
}

void sshd_config(const ReadImageFile& read, std::string_view path, Listeners& out) {
  each_line(read, path, [&](std::string_view line) {
    auto [key, value] = key_value(line);
    if (key == "listenaddress") {
      // "ListenAddress host|IPv4_addr|IPv6_addr [rdomain d]" or "host:port"
      const auto w = checks::words(value);
      if (!w.empty()) out.add_endpoint(w[0], excerpt(path, line));
    }
  });
}

// dnsmasq: port=0 switches DNS off; DHCP still listens when a dhcp-range is configured.
void dnsmasq_conf(const ReadImageFile& read, std::string_view path, Listeners& out, bool& dns_off,
                  bool& dhcp, std::string& off_why) {
  each_line(read, path, [&](std::string_view line) {
    auto [key, value] = key_value(line);
    if (key == "port" && trim(value) == "0") dns_off = true, off_why = excerpt(path, line);
    if (key == "dhcp-range") dhcp = true;
    if (key == "listen-address")
      for (auto a : split(value, ',')) out.add(trim(a), excerpt(path, line));
  });
}

void mosquitto_conf(const ReadImageFile& read, std::string_view path, Listeners& out) {
  each_line(read, path, [&](std::string_view line) {
    const auto w = checks::words(line);
    if (w.size() >= 2 && w[0] == "listener")
      out.add(w.size() >= 3 ? w[2] : "", excerpt(path, line));
    if (w.size() >= 2 && w[0] == "bind_address") out.add(w[1], excerpt(path, line));
  });
}

// "udp:127.0.0.1:161", "tcp6:[::1]:161", "161": the address part.
void snmp_agent_address(std::string_view spec, std::string why, Listeners& out) {
  for (auto a : split(spec, ',')) {
    a = trim(a);
    for (std::string_view t : {"udp6:", "tcp6:", "udp:", "tcp:", "dtlsudp:", "tls:"})
      if (a.starts_with(t)) {
        a.remove_prefix(t.size());
        break;
      }
    out.add_endpoint(a, why);
  }
}

}  // namespace

bool loopback_address(std::string_view a) {
  a = unquote(a);
  if (a.starts_with('[')) {
    const auto close = a.find(']');
    a = a.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else if (std::count(a.begin(), a.end(), ':') == 1) {
    a = a.substr(0, a.find(':'));
  }
  const auto l = lower(a);
  return l == "localhost" || l.starts_with("127.") || l == "::1" || l == "0:0:0:0:0:0:0:1" ||
         l == "ip6-localhost";
}

ListenFacts configured_listen(std::string_view program, const std::vector<std::string_view>& args,
                              const ReadImageFile& read) {
  Listeners from_args, from_conf;
  std::optional<std::string> conf;  // a configuration file named on the command line
  bool dns_off = false, dhcp = false;
  std::string off_why;
  auto arg_why = [](std::string_view opt, std::string_view v) {
    return fmt::format("argument {} {}", opt, v);
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    std::optional<std::string_view> v;
    if (program == "dropbear" || program == "uhttpd" || program == "httpd" ||
        program == "mini_httpd" || program == "thttpd") {
      if ((v = option(args, i, "-p")) || (program == "uhttpd" && (v = option(args, i, "-s"))))
        from_args.add_endpoint(*v, arg_why(a, *v));
    } else if (program == "telnetd" || program == "utelnetd") {
      if ((v = option(args, i, "-b"))) from_args.add_endpoint(*v, arg_why(a, *v));
    } else if (program == "sshd") {
      if ((v = option(args, i, "-f"))) conf = std::string(*v);
      if ((v = option(args, i, "-o"))) {
        auto [key, value] = key_value(*v);
        if (key == "listenaddress") from_args.add_endpoint(value, arg_why(a, *v));
      }
    } else if (program == "lighttpd" || program == "mosquitto" || program == "snmpd") {
      if ((v = option(args, i, program == "lighttpd" ? "-f" : "-c")))
        conf = std::string(*v);
      else if (program == "snmpd" && !a.starts_with('-') && !a.starts_with('/') &&
               a.find(':') != std::string_view::npos)  // "udp:127.0.0.1:161"
        snmp_agent_address(a, arg_why("", a), from_args);
    } else if (program == "dnsmasq") {
      if ((v = option(args, i, "-C", "--conf-file")))
        conf = std::string(*v);
      else if ((v = option(args, i, "-p", "--port")) && trim(*v) == "0")
        dns_off = true, off_why = arg_why(a, *v);
      else if ((v = option(args, i, "-a", "--listen-address")))
        for (auto x : split(*v, ',')) from_args.add(trim(x), arg_why(a, *v));
      else if (option(args, i, "-F", "--dhcp-range"))
        dhcp = true;
    }
  }

  if (program == "lighttpd") {
    lighttpd_conf(read, conf.value_or("/etc/lighttpd/lighttpd.conf"), from_conf);
  } else if (program == "uhttpd") {
    uhttpd_uci(read, from_conf);
  } else if (program == "sshd") {
    sshd_config(read, conf.value_or("/etc/ssh/sshd_config"), from_conf);
  } else if (program == "dnsmasq") {
    dnsmasq_conf(read, conf.value_or("/etc/dnsmasq.conf"), from_conf, dns_off, dhcp, off_why);
  } else if (program == "mosquitto") {
    mosquitto_conf(read, conf.value_or("/etc/mosquitto/mosquitto.conf"), from_conf);
  } else if (program == "snmpd") {
    const std::string path = conf.value_or("/etc/snmp/snmpd.conf");
    each_line(read, path, [&](std::string_view line) {
      auto [key, value] = key_value(line);
      if (key == "agentaddress") snmp_agent_address(value, excerpt(path, line), from_conf);
    });
  }

  if (program == "dnsmasq" && dns_off && !dhcp)
    return {ListenScope::kDisabled, off_why + " (DNS off, no dhcp-range)"};
  // Arguments override the configuration file where a server reads both.
  if (!from_args.all.empty()) return from_args.decide();
  return from_conf.decide();
}

}  // namespace probity::vuln
