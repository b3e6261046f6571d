// Stages of probity::scan that `probity source` runs too (internal).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "probity/error.hpp"
#include "probity/identify.hpp"
#include "probity/report.hpp"

namespace probity {

/// The matcher over the SQLite database at `path`, or an empty matcher when there is none.
VulnerabilityMatcher open_matcher(const std::filesystem::path& path);

/// The known vulnerabilities of report.components from the database at `db_path` (nothing when
/// there is none), with the database's snapshot, size, import time and age written into `report`.
Status match_vulnerabilities(Report& report, const std::filesystem::path& db_path);

/// End of life for each component: the database's endoflife.date and curated data (by name or
/// CPE product), else data/eol (by CPE product, e.g. linux_kernel).
void add_eol(std::vector<Component>& components, const std::filesystem::path& db_path);

/// Writes `text` to `path` (an output file), or an error naming it; lists the path in `written`
/// when given (scan, diff and equiv return the files they wrote).
Status write_text(const std::filesystem::path& path, const std::string& text,
                  std::vector<std::filesystem::path>* written = nullptr);

}  // namespace probity
