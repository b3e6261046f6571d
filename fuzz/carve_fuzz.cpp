// libFuzzer target over the whole unpack driver: carving, every format, recursion, the manifest
// tree. Each input is written to a temporary file and unpacked into a fresh temporary directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "format_fuzz.hpp"
#include "probity/unpack.hpp"

namespace {

std::filesystem::path work_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("probity-carve-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = work_dir();
  const auto image = dir / "image.bin";
  const auto out = dir / "out";
  {
    std::ofstream f(image, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  std::filesystem::remove_all(out);
  probity::UnpackOptions opt;
  opt.limits = probity::fuzz::fuzz_limits();
  opt.limits.max_depth = 6;
  opt.threads = 1;
  (void)probity::unpack(image, out, opt);
  std::filesystem::remove_all(out);
  return 0;
}
