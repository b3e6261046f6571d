// Reachability of known vulnerabilities (include/probity/triage.hpp): boot-started executables
// from the boot services the checks recorded (inittab, rc.d/init.d links, procd, systemd,
// inetd/xinetd, startup scripts), their DT_NEEDED closure read from the extracted ELF files, and
// the files each component was identified in.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "checks_support/elf_info.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"
#include "probity/tree_files.hpp"
#include "probity/triage.hpp"
#include "vuln/listen_config.hpp"

namespace probity {
namespace {

using checks::basename;
using checks::words;

// Servers that listen on the network by their default configuration.
bool network_server(std::string_view b) {
  static const std::set<std::string_view> kServers = {
      "httpd",        "uhttpd",     "lighttpd", "boa",       "mini_httpd", "thttpd",  "goahead",
      "webs",         "nginx",      "apache2",  "mongoose",  "dropbear",   "sshd",    "telnetd",
      "utelnetd",     "in.telnetd", "dnsmasq",  "miniupnpd", "smbd",       "nmbd",    "vsftpd",
      "ftpd",         "tftpd",      "snmpd",    "udhcpd",    "dhcpd",      "openvpn", "stunnel",
      "mosquitto",    "lldpd",      "named",    "unbound",   "ntpd",       "rpcbind", "cupsd",
      "avahi-daemon", "inetd",      "xinetd",   "proftpd",   "pure-ftpd",  "rsyncd",  "sipd",
      "upnpd",        "cwmpd",      "tr069",    "dhcp6s",    "radvd",      "zebra",   "bgpd"};
  return kServers.contains(b);
}

bool web_server(std::string_view b) {
  return b == "httpd" || b == "uhttpd" || b == "lighttpd" || b == "boa" || b == "mini_httpd" ||
         b == "thttpd" || b == "goahead" || b == "webs" || b == "nginx" || b == "apache2" ||
         b == "mongoose";
}

// Arguments that make a program listen: "-l" for nc/socat-style tools, a port option, or a
// LISTEN/TCP-LISTEN address.
std::string listening_args(std::string_view prog, const std::vector<std::string_view>& w,
                           std::size_t from) {
  const bool netcat = prog == "nc" || prog == "netcat" || prog == "ncat" || prog == "socat" ||
                      prog == "nc.traditional";
  for (std::size_t i = from; i < w.size(); ++i) {
    const auto a = w[i];
    if (netcat && (a == "-l" || a.starts_with("-l") || a == "-lp"))
      return fmt::format("{} {} listens", prog, a);
    if (a.find("LISTEN") != std::string_view::npos) return fmt::format("argument {}", a);
    if ((a == "-p" || a == "--port" || a == "-P") && i + 1 < w.size() &&
        std::all_of(w[i + 1].begin(), w[i + 1].end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fmt::format("argument {} {} (a port)", a, w[i + 1]);
    if (a.starts_with("--port=") || a.starts_with("--listen")) return fmt::format("argument {}", a);
  }
  return {};
}

struct Index {
  const ArtifactTree& tree;
  // path → records (one per container holding it)
  std::map<std::string, std::vector<const FileRecord*>, std::less<>> by_path;
  // (container, basename) → library candidates under a lib directory
  std::map<std::pair<std::uint32_t, std::string>, std::vector<const FileRecord*>> libs;

  explicit Index(const ArtifactTree& t) : tree(t) {
    for (const auto& f : t.files) {
      by_path[f.path].push_back(&f);
      if (f.path.find("lib/") != std::string::npos || f.path.starts_with("lib"))
        libs[{f.container, std::string(basename(f.path))}].push_back(&f);
    }
  }

  const FileRecord* at(std::uint32_t container, std::string_view path) const {
    while (path.starts_with('/')) path.remove_prefix(1);
    auto it = by_path.find(path);
    if (it == by_path.end()) return nullptr;
    for (const auto* f : it->second)
      if (f->container == container) return f;
    return nullptr;
  }

  // Follows symlinks/hard links inside the container to a regular file.
  const FileRecord* resolve(const FileRecord* f) const {
    for (int hop = 0; f && hop <= kMaxReachabilityHops; ++hop) {
      if (f->type == EntryType::kFile) return f;
      if (f->type != EntryType::kSymlink && f->type != EntryType::kHardlink) return nullptr;
      std::string target = f->link;
      if (f->type == EntryType::kSymlink && !target.starts_with('/')) {
        const auto slash = f->path.rfind('/');
        target = (slash == std::string::npos ? "" : f->path.substr(0, slash + 1)) + target;
      }
      // Normalise "a/b/../c" and "./".
      std::vector<std::string_view> parts;
      for (auto p : checks::split(target, '/')) {
        if (p.empty() || p == ".") continue;
        if (p == "..") {
          if (!parts.empty()) parts.pop_back();
          continue;
        }
        parts.push_back(p);
      }
      std::string norm;
      for (auto p : parts) norm += (norm.empty() ? "" : "/") + std::string(p);
      f = at(f->container, norm);
    }
    return nullptr;
  }

  // A program named on a command line: a path, else a name looked up in the usual bin dirs.
  const FileRecord* program(std::string_view word) const {
    std::vector<std::string> tries;
    if (word.find('/') != std::string_view::npos) {
      tries.emplace_back(word);
    } else {
      for (const char* dir : {"usr/sbin/", "usr/bin/", "sbin/", "bin/", "usr/local/sbin/",
                              "usr/local/bin/", "www/cgi-bin/"})
        tries.push_back(std::string(dir) + std::string(word));
    }
    for (const auto& t : tries) {
      std::string_view p = t;
      while (p.starts_with('/')) p.remove_prefix(1);
      auto it = by_path.find(p);
      if (it == by_path.end()) continue;
      for (const auto* f : it->second)
        if (const auto* r = resolve(f)) return r;
    }
    return nullptr;
  }
};

// A started executable and why it is reachable.
struct Started {
  const FileRecord* exe = nullptr;
  bool network = false;
  std::vector<std::string> chain;  // the service that starts it, the program, the listening reason
};

}  // namespace

void assess_reachability(Report& report, const std::filesystem::path& out_dir) {
  if (report.vulnerabilities.empty()) return;
  const Index idx(report.tree);
  std::optional<TreeFiles> files;
  if (auto t = TreeFiles::open(out_dir)) files = std::move(*t);

  // A file of the container `c` by its path on the device (a server's configuration).
  auto read_config = [&](std::uint32_t c, std::string_view path) -> std::optional<std::string> {
    const FileRecord* f = idx.resolve(idx.at(c, path));
    if (!f || !files || f->size > kMaxServiceConfigBytes) return std::nullopt;
    auto text = files->read(*f, kMaxServiceConfigBytes);
    if (!text) return std::nullopt;
    return std::move(*text);
  };

  // 1. Executables started at boot.
  std::map<const FileRecord*, Started> started;
  bool web = false;
  const FileRecord* web_exe = nullptr;
  if (report.facts)
    for (const auto& s : report.facts->services) {
      const auto w = words(s.command);
      const FileRecord* exe = nullptr;
      std::size_t arg0 = w.size();
      std::string name = s.name;
      if (name.ends_with(".service")) name.resize(name.size() - 8);
      std::string called = name;
      // The word naming the service (a script's "start-stop-daemon -x /usr/sbin/dropbear"),
      // else the command's first program (inittab, inetd's server).
      for (std::size_t i = 0; i < w.size() && !exe; ++i)
        if (basename(w[i]) == name) exe = idx.program(w[i]), arg0 = i + 1;
      for (std::size_t i = 0; i < w.size() && !exe; ++i) {
        auto b = basename(w[i]);
        if (b.empty() || b.front() == '-' || b == "exec" || b == "nohup" || b == "env") continue;
        exe = idx.program(w[i]);
        arg0 = i + 1;
        called = std::string(b);
        break;
      }
      // rc/procd/systemd links name the daemon their script starts.
      if ((!exe || exe->kind == "script") && !name.empty()) {
        if (const auto* by_name = idx.program(name)) exe = by_name, called = name;
      }
      if (!exe) continue;
      Started st;
      st.exe = exe;
      st.chain.push_back(
          fmt::format("{}: {} starts {}", s.path, s.how, checks::excerpt(s.command, 120)));
      if (exe->path != s.command) st.chain.push_back(exe->path);
      std::string why;
      if (s.how == "inetd" || s.how == "xinetd")
        why = fmt::format("an {} network service", s.how);
      else if (network_server(called))
        why = fmt::format("{} is a network server", called);
      else if (network_server(name))
        why = fmt::format("{} is a network server", name);
      else
        why = listening_args(called, w, arg0);
      // Its own arguments and configuration file may say more: bound to loopback only, or
      // its listener switched off (then it is started, not exposed).
      const std::vector<std::string_view> args(w.begin() + std::ptrdiff_t(std::min(arg0, w.size())),
                                               w.end());
      const auto conf = vuln::configured_listen(
          called, args, [&](std::string_view path) { return read_config(exe->container, path); });
      if (conf.scope == vuln::ListenScope::kLoopback) {
        why.clear();
        st.chain.push_back("listens on loopback only: " + conf.why);
      } else if (conf.scope == vuln::ListenScope::kDisabled) {
        why.clear();
        st.chain.push_back("its network listener is switched off: " + conf.why);
      } else if (conf.scope == vuln::ListenScope::kNetwork) {
        why = why.empty() ? conf.why : why + "; " + conf.why;
      }
      if (!why.empty()) {
        st.network = true;
        st.chain.push_back("listens on the network: " + why);
      }
      if (web_server(called) || web_server(name)) web = true, web_exe = exe;
      auto& slot = started[exe];
      if (!slot.exe || (st.network && !slot.network)) slot = std::move(st);
    }

  // 2. Their DT_NEEDED closure: library → the started executable and the link path.
  struct Link {
    const Started* by = nullptr;
    std::vector<std::string> path;  // DT_NEEDED steps
  };
  std::map<const FileRecord*, Link> linked;
  std::map<const FileRecord*, std::vector<std::string>> needed_cache;
  std::size_t reads = 0;
  auto needed_of = [&](const FileRecord* f) -> const std::vector<std::string>& {
    auto [it, fresh] = needed_cache.try_emplace(f);
    if (!fresh || !files || f->kind != "elf" || f->size > kMaxReachabilityElfBytes ||
        reads >= kMaxReachabilityElfReads)
      return it->second;
    ++reads;
    auto m = files->map(*f);
    if (!m) return it->second;
    if (auto info = checks::parse_elf(m->bytes())) it->second = info->needed;
    return it->second;
  };
  auto find_lib = [&](const FileRecord* from, const std::string& soname) -> const FileRecord* {
    auto it = idx.libs.find({from->container, soname});
    if (it == idx.libs.end()) return nullptr;
    for (const auto* f : it->second)
      if (const auto* r = idx.resolve(f)) return r;
    return nullptr;
  };
  for (auto& [exe, st] : started) {
    std::vector<std::pair<const FileRecord*, std::vector<std::string>>> queue{{exe, {}}};
    std::set<const FileRecord*> seen{exe};
    for (std::size_t q = 0; q < queue.size() && seen.size() < kMaxReachabilityClosure; ++q) {
      const auto [f, path] = queue[q];
      for (const auto& so : needed_of(f)) {
        const auto* lib = find_lib(f, so);
        if (!lib || !seen.insert(lib).second) continue;
        auto p = path;
        p.push_back(fmt::format("{} needs {} ({})", f->path, so, lib->path));
        auto& l = linked[lib];
        // Prefer a network server's link: it decides exposed over loaded.
        if (!l.by || (st.network && !l.by->network)) l = Link{&st, p};
        queue.emplace_back(lib, std::move(p));
      }
    }
  }

  // 3. Each vulnerability through the files its component was identified in.
  for (auto& v : report.vulnerabilities) {
    Reachability best;
    int rank = 0;  // 0 unknown, 1 present, 2 loaded, 3 exposed
    bool metadata_only = true;
    for (const auto& c : report.components) {
      if (c.name != v.component || c.version != v.version) continue;
      for (const auto& e : c.evidence) {
        const FileRecord* f = idx.at(e.container, e.path);
        if (!f) continue;
        if (e.kind == "package-metadata") continue;  // a database names it; no file of its own
        metadata_only = false;
        const FileRecord* r = idx.resolve(f);
        if (!r) continue;
        Reachability here;
        int hr = 1;
        if (auto s = started.find(r); s != started.end()) {
          hr = s->second.network ? 3 : 2;
          here.chain = s->second.chain;
          if (r->path != e.path) here.chain.push_back(fmt::format("{} is {}", e.path, r->path));
        } else if (auto l = linked.find(r); l != linked.end()) {
          hr = l->second.by->network ? 3 : 2;
          here.chain = l->second.by->chain;
          here.chain.insert(here.chain.end(), l->second.path.begin(), l->second.path.end());
        } else if (c.name == "linux-kernel") {
          // The image's kernel runs whenever the device boots; which of its network code a
          // given CVE needs is not assessed, so it is loaded, never exposed by this alone.
          hr = 2;
          here.chain = {fmt::format(
              "{} is the image's Linux kernel: it runs whenever the device boots (whether the "
              "vulnerable code is reachable from the network is not assessed)",
              r->path)};
        } else if (web && r->path.find("cgi-bin/") != std::string::npos) {
          hr = 2;
          here.chain = {fmt::format("{} is started at boot (a web server)", web_exe->path),
                        fmt::format("{} is a CGI program it runs", r->path)};
        } else {
          here.chain = {
              fmt::format("{} is on disk; nothing started at boot runs or links it", r->path)};
        }
        here.state = hr == 3 ? "exposed" : hr == 2 ? "loaded" : "present";
        if (hr > rank) rank = hr, best = std::move(here);
      }
    }
    if (rank == 0) {
      best.state = "unknown";
      best.chain = {metadata_only ? "identified from package metadata only: its files are not known"
                                  : "its files could not be read"};
    }
    v.reachability = std::move(best);
  }
}

std::vector<FixFirst> fix_first(const std::vector<Vulnerability>& vulns) {
  std::vector<FixFirst> out;
  for (std::size_t i = 0; i < vulns.size(); ++i) {
    const auto& v = vulns[i];
    if (v.status == "not-affected" || v.suppression) continue;
    const bool exposed = v.reachability.state == "exposed";
    if (!exposed && !v.kev) continue;
    FixFirst f;
    f.index = i;
    f.tier = exposed && v.kev ? 1 : exposed ? 2 : 3;
    std::vector<std::string> why;
    if (exposed)
      why.emplace_back("exposed");
    else
      why.push_back(v.reachability.state);
    if (v.kev)
      why.push_back(fmt::format("in KEV since {} (due {})", v.kev->date_added,
                                v.kev->due_date.empty() ? "-" : v.kev->due_date));
    if (v.epss)
      why.push_back(
          fmt::format("EPSS {:.3f} (percentile {:.2f})", v.epss->score, v.epss->percentile));
    if (v.cvss > 0) why.push_back(fmt::format("CVSS {:.1f}", v.cvss));
    for (const auto& w : why) f.reason += (f.reason.empty() ? "" : ", ") + w;
    out.push_back(std::move(f));
  }
  auto rank = [](const Vulnerability& v) { return v.reachability.state == "loaded" ? 0 : 1; };
  std::stable_sort(out.begin(), out.end(), [&](const FixFirst& a, const FixFirst& b) {
    if (a.tier != b.tier) return a.tier < b.tier;
    const auto &va = vulns[a.index], &vb = vulns[b.index];
    if (a.tier == 3 && rank(va) != rank(vb)) return rank(va) < rank(vb);
    const double ea = va.epss ? va.epss->score : -1, eb = vb.epss ? vb.epss->score : -1;
    if (ea != eb) return ea > eb;
    if (va.cvss != vb.cvss) return va.cvss > vb.cvss;
    return va.id < vb.id;
  });
  return out;
}

}  // namespace probity
