// remote-access: bind-shell code in ELF binaries: imports of socket+bind+listen+accept+dup2 and
// an exec*/system call, with a shell path among the strings. sshd, dropbear and busybox have the
// same imports but authenticate first (crypt/getspnam/PAM): those are reported as low.
#include <algorithm>
#include <cstring>

#include "checks_support/check.hpp"
#include "checks_support/elf_info.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "remote-access";
/// Imports of a purpose-built bind shell or back-door daemon: a few dozen. Large programs with
/// the same imports (git, gawk, perf) are reported as low "shell-capable-server" instead.
/// A heuristic (what looks purpose-built), not a cap.
constexpr std::size_t kMaxBindShellImports = 80;

bool contains(Bytes b, std::string_view s) {
  return std::search(b.begin(), b.end(), s.begin(), s.end()) != b.end();
}

void on_file(const Context&, void*, const FileView& f, Emitter& em) {
  if (!f.is_elf()) return;
  const ElfInfo* e = f.elf();
  if (!e || e->imports.empty()) return;
  if (!(e->imports_any({"socket"}) && e->imports_any({"bind"}) && e->imports_any({"listen"}) &&
        e->imports_any({"accept", "accept4"}) && e->imports_any({"dup2", "dup3"}) &&
        e->imports_any({"execl", "execle", "execlp", "execv", "execve", "execvp", "execvpe",
                        "system", "popen"})))
    return;
  const char* shell = nullptr;
  for (const char* s : {"/bin/sh", "/bin/ash", "/bin/bash", "/bin/busybox"})
    if (contains(f.bytes(), std::string_view(s, std::strlen(s) + 1))) {
      shell = s;
      break;
    }
  if (!shell) return;
  bool auth = e->imports_any(
      {"crypt", "crypt_r", "crypt_rn", "getspnam", "getspnam_r", "pam_start", "pam_authenticate"});
  std::string imports = "socket, bind, listen, accept, dup2, exec, \"" + std::string(shell) + "\"";
  if (auth)
    em.add("shell-server", kCat, Severity::kLow, f.rec(), f.location(),
           "network server that spawns " + std::string(shell) +
               " and checks passwords (expected for sshd/dropbear/busybox; confirm it "
               "authenticates)",
           shell, imports);
  else if (e->imports.size() > kMaxBindShellImports)
    em.add("shell-capable-server", kCat, Severity::kLow, f.rec(), f.location(),
           "large program (" + std::to_string(e->imports.size()) +
               " imports) that listens on sockets, duplicates descriptors and runs " +
               std::string(shell) +
               " (git daemon, gawk /inet, perf...); review that no socket reaches the shell",
           shell, imports);
  else
    em.add("bind-shell", kCat, Severity::kHigh, f.rec(), f.location(),
           "binary listens on a socket, duplicates it onto stdin/stdout and executes " +
               std::string(shell) + " without any password check import (bind shell)",
           shell, imports);
}

}  // namespace

const Check kCheck_bind_shell{.id = "bind_shell",
                              .category = kCat,
                              .description = "bind-shell code in ELF binaries (imports + shell)",
                              .on_file = on_file};

}  // namespace probity::checks
