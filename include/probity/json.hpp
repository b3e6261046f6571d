// JSON forms of the public data types (docs/report-schema.md).
#pragma once

#include <nlohmann/json.hpp>

#include "probity/artifact.hpp"

namespace probity {

inline constexpr int kManifestSchemaVersion = 1;

/// Serialises for output. Strings from images may hold bytes that are not UTF-8 (file names,
/// header fields): those are replaced with U+FFFD rather than failing the whole report.
std::string dump_json(const nlohmann::json& j, int indent = 2);

/// manifest.json for an artifact tree.
nlohmann::json manifest_json(const ArtifactTree& tree);
/// One file record as it appears in manifest.json and report.json.
nlohmann::json file_json(const FileRecord& file);

}  // namespace probity
