// JSON forms of the public data types (docs/report-schema.md).
#pragma once

#include <nlohmann/json.hpp>

#include "probity/artifact.hpp"

namespace probity {

inline constexpr int kManifestSchemaVersion = 1;

/// manifest.json for an artifact tree.
nlohmann::json manifest_json(const ArtifactTree& tree);
/// One file record as it appears in manifest.json and report.json.
nlohmann::json file_json(const FileRecord& file);

}  // namespace probity
