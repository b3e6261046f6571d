#include "probity/data.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <system_error>

namespace probity {

std::filesystem::path data_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("PROBITY_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "probity";
    if (fs::is_directory(installed, ec)) return installed;
  }
  return PROBITY_DATA_DIR;
}

std::vector<std::string> missing_data_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  auto readable = [](const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) == 0 || ec) return false;
    return bool(std::ifstream(p));
  };
  // A directory of data files: at least one readable file with this extension, none unreadable.
  auto some = [&](const fs::path& d, const std::string& ext) {
    std::error_code ec;
    bool any = false;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.path().extension() != ext) continue;
      if (!readable(e.path())) {
        out.push_back(e.path().string());
        continue;
      }
      any = true;
    }
    if (!any) out.push_back((d / ("*" + ext)).string());
  };
  if (!readable(dir / "credentials" / "default-passwords.txt"))
    out.push_back((dir / "credentials" / "default-passwords.txt").string());
  some(dir / "rules", ".yar");
  some(dir / "eol", ".json");
  some(dir / "signatures", ".toml");
  return out;
}

}  // namespace probity
