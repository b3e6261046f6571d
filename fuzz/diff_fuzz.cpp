// libFuzzer target for `probity diff`'s report reader (src/report/report_io.cpp, simdjson) and
// the delta over what it reads: the input is split at the first NUL into two report.json texts,
// each written to a scratch file and read back; when both parse, they are diffed and the delta
// rendered as diff.json and diff.html.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "probity/diff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  static const fs::path dir =
      fs::temp_directory_path() / ("probity-diff-fuzz-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  const std::string_view parts[2] = {in.substr(0, nul),
                                     nul == std::string_view::npos ? in : in.substr(nul + 1)};
  probity::Result<probity::Report> reports[2];
  for (int i = 0; i < 2; ++i) {
    const fs::path file = dir / (i == 0 ? "old.json" : "new.json");
    std::ofstream(file, std::ios::binary).write(parts[i].data(), std::streamsize(parts[i].size()));
    reports[i] = probity::read_report(file);
  }
  if (!reports[0] || !reports[1]) return 0;
  const auto delta = probity::diff_reports(*reports[0], *reports[1]);
  (void)probity::diff_html(probity::delta_json(delta));
  return 0;
}
