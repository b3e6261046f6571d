// remote-access: services started at boot that let someone in: telnetd (above all
// `telnetd -l /bin/sh`), dropbear and sshd settings, inetd/xinetd services, shells on a serial
// console in inittab, netcat/socat listeners that execute a shell.
#include <set>

#include "checks_support/check.hpp"
#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "remote-access";

bool is_shell(std::string_view w) {
  auto b = basename(w);
  if (!b.empty() && b[0] == '-') b.remove_prefix(1);
  return b == "sh" || b == "ash" || b == "bash" || b == "dash" || b == "hush" || b == "zsh" ||
         b == "ksh";
}

/// Files that start things: anything under etc/ (init scripts, inittab, inetd, systemd units)
/// and scripts anywhere.
bool is_startup(const FileView& f) {
  return f.kind() == "script" || under_dir(f.path(), "etc");
}

/// Word i is a command, not an argument of kill/pidof/echo/grep...
bool command_position(const std::vector<std::string_view>& w, std::size_t i) {
  static const std::set<std::string_view> kNot = {
      "killall", "pidof",  "pkill", "kill",   "echo", "grep",    "which",
      "rm",      "test",   "[",     "printf", "type", "command", "start-stop-daemon",
      "-x",      "--exec", "ps",    "logger", "case", "-f",      "-e"};
  if (!w.empty() && (w[0] == "echo" || w[0] == "printf" || w[0] == "logger")) return false;
  return i == 0 || !kNot.contains(basename(w[i - 1]));
}

/// Records a boot-time service for report.json's facts (diff reports them added or removed).
void service(const Context& ctx, const FileRecord& f, std::string_view name,
             std::string_view command, std::string how) {
  std::lock_guard lock(ctx.facts_mutex);
  ctx.facts.services.push_back({.name = std::string(name),
                                .command = excerpt(command),
                                .path = f.path,
                                .location = ctx.location(f),
                                .how = std::move(how)});
}

/// `how` names the service fact recorded for a daemon started here ("" records none: the
/// caller already recorded the line, e.g. as an inittab entry).
void shell_line(const Context& ctx, const FileView& f, std::string_view raw, std::uint64_t off,
                Emitter& em, std::string_view how = "script") {
  auto line = trim(strip_comment(raw));
  if (line.empty()) return;
  auto w = words(line);
  std::string ex = excerpt(line);
  for (std::size_t i = 0; i < w.size(); ++i) {
    auto b = basename(w[i]);
    const bool daemon = b == "telnetd" || b == "utelnetd" || b == "in.telnetd" || b == "dropbear" ||
                        b == "nc" || b == "netcat" || b == "ncat" || b == "nc.traditional" ||
                        b == "socat";
    if (daemon && !how.empty() && command_position(w, i))
      service(ctx, f.rec(), b, line, std::string(how));
    if ((b == "telnetd" || b == "utelnetd" || b == "in.telnetd") && command_position(w, i)) {
      bool shell = false;
      for (std::size_t j = i + 1; j < w.size(); ++j) {
        if (w[j] == "-l" && j + 1 < w.size() && is_shell(w[j + 1])) shell = true;
        if (w[j].starts_with("-l") && w[j].size() > 2 && is_shell(w[j].substr(2))) shell = true;
      }
      if (shell)
        em.add("telnetd-shell", kCat, Severity::kCritical, f.rec(), f.location(),
               "telnetd is started with a shell as its login program: anyone who connects gets "
               "a root shell without a password",
               ex, ex, off);
      else
        em.add("telnetd-enabled", kCat, Severity::kHigh, f.rec(), f.location(),
               "telnetd (clear-text remote login) is started", ex, ex, off);
      return;
    }
    if (b == "dropbear" && command_position(w, i)) {
      std::set<char> flags;
      for (std::size_t j = i + 1; j < w.size(); ++j)
        if (w[j].size() > 1 && w[j][0] == '-' && w[j][1] != '-')
          for (char c : w[j].substr(1)) flags.insert(c);
      if (flags.contains('B'))
        em.add("dropbear-blank-password", kCat, Severity::kHigh, f.rec(), f.location(),
               "dropbear is started with -B: accounts with a blank password can log in", ex, ex,
               off);
      if (!flags.contains('s')) {
        if (!flags.contains('w') && !flags.contains('g'))
          em.add("dropbear-root-password-login", kCat, Severity::kMedium, f.rec(), f.location(),
                 "dropbear is started without -s, -g or -w: root can log in with a password", ex,
                 ex, off);
        else
          em.add("dropbear-password-login", kCat, Severity::kLow, f.rec(), f.location(),
                 "dropbear is started without -s: password logins are accepted", ex, ex, off);
      }
      return;
    }
    if ((b == "nc" || b == "netcat" || b == "ncat" || b == "nc.traditional") &&
        command_position(w, i)) {
      bool listen = false, exec = false;
      for (std::size_t j = i + 1; j < w.size(); ++j) {
        if (w[j].size() > 1 && w[j][0] == '-' && w[j][1] != '-') {
          if (w[j].find('l') != std::string_view::npos) listen = true;
          if (w[j].find('e') != std::string_view::npos || w[j].find('c') != std::string_view::npos)
            exec = true;
        }
        if (w[j] == "--listen") listen = true;
        if (w[j] == "--exec" || w[j] == "--sh-exec") exec = true;
      }
      if (listen && exec)
        em.add("netcat-listener", kCat, Severity::kCritical, f.rec(), f.location(),
               "netcat listens and executes a program for whoever connects (bind shell)", ex, ex,
               off);
      return;
    }
    if (b == "socat" && command_position(w, i)) {
      std::string l = lower(line);
      if (l.find("-listen") != std::string::npos &&
          (l.find("exec:") != std::string::npos || l.find("system:") != std::string::npos))
        em.add("netcat-listener", kCat, Severity::kCritical, f.rec(), f.location(),
               "socat listens and executes a program for whoever connects (bind shell)", ex, ex,
               off);
      return;
    }
  }
}

void inittab_line(const Context& ctx, const FileView& f, std::string_view raw, std::uint64_t off,
                  Emitter& em) {
  auto line = trim(raw);
  if (line.empty() || line[0] == '#') return;
  auto fields = split(line, ':');
  if (fields.size() < 4) return;
  std::string_view action = fields[2];
  std::string_view process = line.substr(fields[0].size() + fields[1].size() + action.size() + 3);
  auto w = words(process);
  if (w.empty() || action == "shutdown" || action == "ctrlaltdel" || action == "restart") return;
  service(ctx, f.rec(), basename(w[0]), process, "inittab:" + std::string(action));
  std::string tty = fields[0].empty() ? "console" : std::string(fields[0]);
  bool root_shell = is_shell(w[0]);
  auto b = basename(w[0]);
  if (b == "getty" || b == "agetty" || b == "mingetty") {
    for (std::size_t j = 1; j + 1 < w.size(); ++j)
      if (w[j] == "-l" && is_shell(w[j + 1])) root_shell = true;
  }
  if (b == "login" && w.size() >= 3 && w[1] == "-f") root_shell = true;
  if (root_shell)
    em.add("serial-root-shell", kCat, Severity::kHigh, f.rec(), f.location(),
           "inittab starts a shell without login on " + tty + " (" + std::string(action) +
               "): physical/serial access gives root",
           std::string(line), excerpt(line), off);
  else
    shell_line(ctx, f, process, off, em, "");
}

void inetd_line(const Context& ctx, const FileView& f, std::string_view raw, std::uint64_t off,
                Emitter& em) {
  auto line = trim(strip_comment(raw));
  auto w = words(line);
  if (w.size() < 6) return;
  service(ctx, f.rec(), w[0], line.substr(line.find(w[5])), "inetd");
  std::string ex = excerpt(line);
  std::string server = std::string(basename(w[5]));
  bool telnet = server.find("telnetd") != std::string::npos ||
                (w.size() > 6 && basename(w[6]).find("telnetd") != std::string_view::npos);
  if (telnet) {
    shell_line(ctx, f, line.substr(line.find(w[5])), off, em, "");
    return;
  }
  em.add("inetd-service", kCat, Severity::kMedium, f.rec(), f.location(),
         "inetd starts the network service '" + std::string(w[0]) + "' (" + server + ")",
         std::string(w[0]), ex, off);
}

void sshd_config(const FileView& f, Emitter& em) {
  std::set<std::string> seen;  // sshd: the first value of a keyword wins
  for_each_line(f.text(), [&](std::string_view raw, std::uint64_t off) {
    auto line = trim(strip_comment(raw));
    auto w = words(line);
    if (w.size() < 2) return;
    std::string k = lower(w[0]), v = lower(w[1]);
    if (k == "match") seen.insert("match");
    if (seen.contains("match") || !seen.insert(k).second) return;
    std::string ex = excerpt(line);
    if (k == "permitrootlogin" && v == "yes")
      em.add("sshd-root-login", kCat, Severity::kMedium, f.rec(), f.location(),
             "sshd allows root to log in with a password (PermitRootLogin yes)", k, ex, off);
    if (k == "permitemptypasswords" && v == "yes")
      em.add("sshd-empty-passwords", kCat, Severity::kHigh, f.rec(), f.location(),
             "sshd accepts empty passwords (PermitEmptyPasswords yes)", k, ex, off);
    if (k == "passwordauthentication" && v == "yes")
      em.add("sshd-password-login", kCat, Severity::kLow, f.rec(), f.location(),
             "sshd accepts password logins (PasswordAuthentication yes)", k, ex, off);
  });
}

void xinetd(const Context& ctx, const FileView& f, Emitter& em) {
  std::string service;
  std::uint64_t at = 0;
  bool disabled = false;
  std::string server;
  auto flush = [&] {
    if (!service.empty() && !disabled) {
      probity::checks::service(ctx, f.rec(), service, server, "xinetd");
      bool telnet = service == "telnet" || server.find("telnetd") != std::string::npos;
      em.add(telnet ? "telnetd-enabled" : "xinetd-service", kCat,
             telnet ? Severity::kHigh : Severity::kMedium, f.rec(), f.location(),
             "xinetd starts the network service '" + service + "'", service, "service " + service,
             at);
    }
    service.clear();
    server.clear();
    disabled = false;
  };
  for_each_line(f.text(), [&](std::string_view raw, std::uint64_t off) {
    auto line = trim(strip_comment(raw));
    auto w = words(line);
    if (w.size() >= 2 && w[0] == "service") {
      flush();
      service = w[1];
      at = off;
    } else if (w.size() >= 3 && w[0] == "disable" && w[2] == "yes") {
      disabled = true;
    } else if (w.size() >= 3 && w[0] == "server") {
      server = w[2];
    } else if (line == "}") {
      flush();
    }
  });
  flush();
}

void on_file(const Context& ctx, void*, const FileView& f, Emitter& em) {
  if (!f.is_text() || f.bytes().size() > kMaxConfigBytes || !is_startup(f)) return;
  auto name = basename(f.path());
  if (path_is(f.path(), "etc/inittab")) {
    for_each_line(f.text(),
                  [&](std::string_view l, std::uint64_t o) { inittab_line(ctx, f, l, o, em); });
  } else if (name == "inetd.conf") {
    for_each_line(f.text(),
                  [&](std::string_view l, std::uint64_t o) { inetd_line(ctx, f, l, o, em); });
  } else if (name == "sshd_config") {
    sshd_config(f, em);
  } else if (under_dir(f.path(), "xinetd.d") || name == "xinetd.conf") {
    xinetd(ctx, f, em);
  } else {
    for_each_line(f.text(),
                  [&](std::string_view l, std::uint64_t o) { shell_line(ctx, f, l, o, em); });
  }
}

/// "S50dropbear" -> "dropbear"; "" when `name` is not a start link.
std::string_view start_link_name(std::string_view name) {
  if (name.size() < 2 || name[0] != 'S') return {};
  name.remove_prefix(1);
  while (!name.empty() && name[0] >= '0' && name[0] <= '9') name.remove_prefix(1);
  return name;
}

/// Boot-time services the file list alone shows (no content parsed): SysV and procd start
/// links (etc/rc.d/S*, etc/rcN.d/S*), BusyBox rcS scripts (etc/init.d/S*), systemd wants links.
void on_tree(Context& ctx, void*, Emitter&) {
  for (const auto& f : ctx.tree.files) {
    if (f.type != EntryType::kFile && f.type != EntryType::kSymlink &&
        f.type != EntryType::kHardlink)
      continue;
    auto slash = f.path.rfind('/');
    if (slash == std::string::npos) continue;
    std::string_view dir = std::string_view(f.path).substr(0, slash);
    std::string_view name = std::string_view(f.path).substr(slash + 1);
    auto parent = basename(dir);
    std::string how;
    std::string_view svc;
    const bool rc_n = parent.size() == 5 && parent.starts_with("rc") && parent.ends_with(".d") &&
                      path_is(dir, "etc/" + std::string(parent));
    if (path_is(dir, "etc/rc.d") || rc_n) {
      svc = start_link_name(name);
      how = "rc-link";
    } else if (path_is(dir, "etc/init.d")) {
      svc = start_link_name(name);
      how = "init.d";
    } else if (parent.ends_with(".wants") && f.path.find("systemd/") != std::string::npos) {
      svc = name;
      how = "systemd";
    }
    if (svc.empty()) continue;
    service(ctx, f, svc, f.link.empty() ? f.path : f.link, how);
  }
}

}  // namespace

const Check kCheck_remote_services{
    .id = "remote_services",
    .category = kCat,
    .description =
        "telnetd, dropbear/sshd settings, inetd/xinetd, serial root shells, "
        "netcat/socat listeners",
    .on_file = on_file,
    .on_tree = on_tree};

}  // namespace probity::checks
