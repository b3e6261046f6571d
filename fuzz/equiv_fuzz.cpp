// libFuzzer target for `probity equiv`: the input is split in two (first byte: where) and the
// halves are compared as ELF files (masks, section/symbol mapping), as text (line diff), as
// bytes (ranges), and as two whole images (unpacked into temporary directories, then compared:
// uImage/gzip/squashfs/FIT header rules, fwtool blocks, pairing).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "format_fuzz.hpp"
#include "probity/equiv.hpp"
#include "probity/unpack.hpp"

namespace {

std::filesystem::path work_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("probity-equiv-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const std::filesystem::path& p, std::span<const std::uint8_t> b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  const std::size_t cut = in.size() * data[0] / 255;
  const auto a = in.subspan(0, cut), b = in.subspan(cut);
  (void)probity::compare_elf(a, b);
  (void)probity::differing_ranges(a, b, 64);
  (void)probity::unified_line_diff(
      std::string_view(reinterpret_cast<const char*>(a.data()), a.size()),
      std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), "a", "b", 200);
  const auto dir = work_dir();
  write(dir / "a.bin", a);
  write(dir / "b.bin", b);
  std::filesystem::remove_all(dir / "a");
  std::filesystem::remove_all(dir / "b");
  probity::UnpackOptions opt;
  opt.limits = probity::fuzz::fuzz_limits();
  opt.limits.max_depth = 4;
  opt.threads = 1;
  auto ta = probity::unpack(dir / "a.bin", dir / "a", opt);
  auto tb = probity::unpack(dir / "b.bin", dir / "b", opt);
  if (ta && tb) (void)probity::compare_images(*ta, (dir / "a").string(), *tb, (dir / "b").string());
  return 0;
}
