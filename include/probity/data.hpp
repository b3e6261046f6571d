// Where probity's data lives (signatures, rules, credentials lists, end-of-life data, the
// default policy), and which of it a scan needs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace probity {

/// The data directory: $PROBITY_DATA_DIR when set, else `share/probity` beside an installed
/// binary (PREFIX/bin/probity -> PREFIX/share/probity) when it exists, else the source tree's
/// data/ the binary was built from.
std::filesystem::path data_dir();

/// The data files a scan reads that are missing, unreadable or empty under `dir` (each by its
/// path): the default-credentials list, the YARA rules, the end-of-life data, the version
/// signatures. A scan without one of them is weaker, so each makes the verdict inconclusive.
std::vector<std::string> missing_data_files(const std::filesystem::path& dir);

}  // namespace probity
