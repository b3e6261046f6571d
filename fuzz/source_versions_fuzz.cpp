// libFuzzer target for `probity source`'s text parsers (src/source/versions.cpp and
// build_steps.cpp): the first byte picks the file name the bytes are read as (a C header, a
// configure.ac, a CMakeLists.txt, a Makefile, an OpenWrt/Yocto recipe, a Debian changelog, a
// package.json...), the rest is its content. Whatever the bytes, both must return.
#include <cstdint>
#include <string_view>

#include "probity/source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* const kNames[] = {
      "include/opensslv.h", "configure.ac",       "CMakeLists.txt", "meson.build",
      "Makefile",           "package/x/Makefile", "recipe_1.0.bb",  "debian/changelog",
      "package.json",       "src/version.h",      "configure",      "build/rules.mk",
      "debian/rules",       "scripts/build.sh",   "x.m4",           "Makefile.am"};
  if (size == 0) return 0;
  const std::string_view name = kNames[data[0] % 16];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)probity::source_versions(name, text);
  if (probity::is_build_file(name)) (void)probity::build_steps(name, text);
  return 0;
}
