// libFuzzer target for the checks' own parsers (passwd/shadow/group, init scripts, inittab,
// sshd/dropbear settings, authorized_keys, PEM/DER/OpenSSH keys, certificates, ELF imports,
// endpoints, secrets): the input is split at NUL bytes into the files of a small tree, written
// to a scratch directory, and run_checks runs over it.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
  fs::remove_all(root);
  probity::ArtifactTree tree;
  std::size_t start = 0, n = 0;
  for (std::size_t i = 0; i <= size && n < std::size(kPaths); ++i) {
    if (i < size && data[i] != 0) continue;
    probity::FileRecord f;
    f.path = kPaths[n++];
    f.container = 1;
    f.type = probity::EntryType::kFile;
    f.size = i - start;
    f.extracted = "extracted/1-squashfs/" + f.path;
    f.origin = {{"fw.bin", 0, "squashfs"}};
    fs::create_directories((root / f.extracted).parent_path());
    std::ofstream(root / f.extracted, std::ios::binary)
        .write(reinterpret_cast<const char*>(data + start), std::streamsize(i - start));
    tree.files.push_back(std::move(f));
    start = i + 1;
  }
  probity::CheckOptions opt;
  opt.threads = 1;
  opt.allowed_domains = {"example.org"};
  (void)probity::run_checks(tree, root, opt);
  return 0;
}
