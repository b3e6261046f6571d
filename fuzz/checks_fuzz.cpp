// libFuzzer target for the checks' own parsers (passwd/shadow/group, init scripts, inittab,
// sshd/dropbear settings, authorized_keys, PEM/DER/OpenSSH keys, certificates, ELF imports,
// endpoints, secrets): the input is split at NUL bytes into the files of a small tree, written
// to a scratch directory, and run_checks runs over it.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "input_tree.hpp"
#include "probity/checks.hpp"

namespace {

const char* const kPaths[] = {"etc/passwd",
                              "etc/shadow",
                              "etc/group",
                              "etc/inittab",
                              "etc/init.d/rcS",
                              "etc/ssh/sshd_config",
                              "root/.ssh/authorized_keys",
                              "etc/ssl/private/key.pem",
                              "usr/sbin/daemon",
                              "etc/config/update.sh"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  static const fs::path root =
      fs::temp_directory_path() / ("probity-checks-fuzz-" + std::to_string(getpid()));
  auto tree = probity::fuzz::input_tree(data, size, kPaths, root);
  probity::CheckOptions opt;
  opt.threads = 1;
  opt.allowed_domains = {"example.org"};
  (void)probity::run_checks(tree, root, opt);
  return 0;
}
