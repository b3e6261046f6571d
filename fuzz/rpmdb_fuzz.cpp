// libFuzzer target for RPM databases (src/identify/packages.cpp): the input is an rpmdb.sqlite
// image, opened by SQLite in memory (defensive mode, instruction budget), each Packages blob
// then parsed as an RPM header by hand. Seeds: fuzz/corpus/rpmdb (fuzz/make-seeds.sh).
#include <cstdint>
#include <span>

#include "probity/identify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const auto& p : probity::rpm_database_packages({data, size}))
    if (p.name.empty() || p.version.empty()) __builtin_trap();
  return 0;
}
