// probity version (and --version, -V): version, commit, build date, the default database's
// snapshot.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "probity/data.hpp"
#include "probity/vulndb.hpp"
#include "probity_build_info.hpp"

namespace probity::cli {

std::string version_text() {
  std::string db_line;
  const auto db_path = default_vuln_db_path();
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    db_line = fmt::format("none ({} is missing)", db_path.string());
  } else if (auto db = VulnDb::open(db_path); !db) {
    db_line = fmt::format("unreadable ({}: {})", db_path.string(), db.error().to_string());
  } else if (auto snap = db->snapshot_id(); !snap) {
    db_line = fmt::format("unreadable ({}: {})", db_path.string(), snap.error().to_string());
  } else {
    db_line = fmt::format("{} ({})", *snap, db_path.string());
  }
  return fmt::format(
      R"(probity {}
commit: {}
built: {}
default vulnerability database: {}
data directory: {})",
      PROBITY_VERSION, PROBITY_COMMIT, PROBITY_BUILD_DATE, db_line, data_dir().string());
}

Command add_version(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand(
      "version",
      R"(Print the version, the commit and date it was built from, and the snapshot id of the
default vulnerability database (as --version does).)");
  return {app, []() -> int {
            fmt::print("{}\n", version_text());
            return kExitOk;
          }};
}

}  // namespace probity::cli
