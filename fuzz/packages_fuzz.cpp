// libFuzzer target for the package-metadata parsers (src/identify/packages.cpp): dpkg and opkg
// status files and control files, Alpine's apk database, an RPM rpmdb.sqlite (opened by SQLite in
// memory, then each header blob parsed by hand), npm package.json, Python core metadata,
// os-release, openwrt_release, Buildroot's legal-info manifest and Yocto's license.manifest. The
// input is split at NUL bytes into those files of a small tree, written to a scratch directory, and
// package_components reads them.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "input_tree.hpp"
#include "probity/identify.hpp"

namespace {

const char* const kPaths[] = {"var/lib/dpkg/status",
                              "usr/lib/opkg/status",
                              "usr/lib/opkg/info/dropbear.control",
                              "etc/os-release",
                              "etc/openwrt_release",
                              "legal-info/manifest.csv",
                              "license.manifest",
                              "lib/apk/db/installed",
                              "var/lib/rpm/rpmdb.sqlite",
                              "usr/share/nodejs/x/package.json",
                              "usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA"};

const probity::Identifier& identifier() {
  static const auto id = [] {
    auto sigs = probity::load_signatures(probity::default_signature_dir());
    if (!sigs) std::abort();
    auto made = probity::Identifier::create(std::move(*sigs));
    if (!made) std::abort();
    return std::move(*made);
  }();
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  static const fs::path root =
      fs::temp_directory_path() / ("probity-packages-fuzz-" + std::to_string(getpid()));
  auto tree = probity::fuzz::input_tree(data, size, kPaths, root);
  (void)probity::package_components(tree, root, identifier());
  return 0;
}
