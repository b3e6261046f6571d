// Bounded TOML (internal): every TOML file probity reads from a path a user gives (policies,
// suppressions, signature files) is read and parsed here, after a size and depth pre-scan.
#pragma once

#include <toml++/toml.h>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "probity/error.hpp"

namespace probity {

/// Checks TOML text before toml++ sees it: at most kMaxTomlBytes, and at most kMaxTomlDepth
/// levels, counting each dotted-key segment, each array and each inline table once and each
/// table-header segment twice (it may step through an array of tables). toml++ frees tables
/// recursively, so `[a.a.a...]` a million segments long overflows the stack. The count is never
/// below the depth of the tree toml++ builds (fuzz/bounded_parse_fuzz.cpp checks that). One
/// iterative pass; it does not check the syntax (toml++ does, afterwards). The error (code
/// cap-toml-bytes or cap-toml-depth) names `file`, the byte offset and the line, with the start of
/// the line.
Status check_toml_bounds(std::string_view text, const std::string& file);

/// check_toml_bounds, then toml++; a syntax error names the file, its line and column, and the
/// byte offset.
Result<toml::table> parse_toml_bounded(std::string_view text, const std::string& file);

/// The byte offset in `text` where toml++ says a node starts (for errors about a key's value).
std::uint64_t toml_offset(std::string_view text, const toml::source_region& where);

/// Reads (at most kMaxTomlBytes) and parses a TOML file.
Result<toml::table> load_toml_bounded(const std::filesystem::path& path);

}  // namespace probity
