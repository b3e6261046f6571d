// libFuzzer target for the CPE alias table reader (src/identify/signatures.cpp, load_aliases):
// the input is written as cpe-aliases.tsv next to a two-product signature file in a scratch
// directory, and load_signatures reads both. Malformed rows must be clean errors.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "probity/identify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("probity-cpe-aliases-fuzz-" + std::to_string(getpid()));
    fs::create_directories(d);
    std::ofstream(d / "a.toml") << "[[product]]\nid = \"curl\"\nvendor = \"haxx\"\n"
                                   "packages = [\"curl\"]\n\n[[product]]\nid = \"x\"\n"
                                   "vendor = \"v\"\npackages = [\"x\"]\n";
    return d;
  }();
  {
    std::ofstream out(dir / "cpe-aliases.tsv", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  (void)probity::load_signatures(dir);
  return 0;
}
