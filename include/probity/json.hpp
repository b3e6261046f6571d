// JSON forms of the public data types (docs/report-schema.md), and the bounded reading of JSON
// from files a user names (every JSON reader goes through check_json_bounds first).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

/// Checks untrusted JSON text before any parser or recursive walk sees it: at most `max_bytes`
/// bytes, and arrays and objects nested at most kMaxJsonDepth deep. One iterative pass that skips
/// strings and their escapes; it does not check the syntax (the parser does, afterwards). The
/// error (code cap-json-bytes or cap-json-depth) names `file`, the byte offset and, for depth,
/// the JSON pointer of the value that is too deep.
Status check_json_bounds(std::string_view text, const std::string& file, std::uint64_t max_bytes);

/// check_json_bounds, then nlohmann's parser; a syntax error names the file and its byte offset.
/// `keep` (nlohmann's parser callback) may drop values as they are parsed, so that only what is
/// kept of a large file costs memory.
Result<nlohmann::json> parse_json_bounded(std::string_view text, const std::string& file,
                                          std::uint64_t max_bytes,
                                          const nlohmann::json::parser_callback_t& keep = nullptr);

inline constexpr int kManifestSchemaVersion = 1;

/// Serialises for output. Strings from images may hold bytes that are not UTF-8 (file names,
/// header fields): those are replaced with U+FFFD rather than failing the whole report.
std::string dump_json(const nlohmann::json& j, int indent = 2);

/// manifest.json for an artifact tree. Without `with_files`, "files" is an empty array for
/// write_json_streaming to fill.
nlohmann::json manifest_json(const ArtifactTree& tree, bool with_files = true);
/// Writes `doc` (indented as dump_json does) with its top-level "files" array (empty in `doc`)
/// filled from `files` one record at a time, so that a tree of a million entries is never one
/// JSON document in memory. False when writing failed.
bool write_json_streaming(std::ostream& out, const nlohmann::json& doc,
                          const std::vector<FileRecord>& files);
/// The parts manifest.json and report.json share.
nlohmann::json image_json(const ImageInfo& image);
nlohmann::json coverage_json(const Coverage& coverage);
nlohmann::json warning_json(const Warning& warning);
/// One file record as it appears in manifest.json and report.json.
nlohmann::json file_json(const FileRecord& file);

inline constexpr int kReportSchemaVersion = 1;

/// report.json for a scan (docs/report-schema.md): image, files, components, vulnerabilities,
/// db_snapshot, warnings.
nlohmann::json report_json(const Report& report, bool with_files = true);
/// One component as it appears in report.json.
nlohmann::json component_json(const Component& component);
/// One finding as it appears in report.json.
nlohmann::json finding_json(const Finding& finding);
/// report.json's `facts`: accounts, services, endpoints, keys, hardening.
nlohmann::json facts_json(const Facts& facts);
/// The verdict as it appears in report.json: {policy, policy_digest, result, clauses}.
nlohmann::json verdict_json(const Verdict& verdict);

/// The SBOM of a scan as CycloneDX 1.6 JSON: the image is metadata.component (type firmware),
/// each component has purl, cpe, the sha256 of the file it was found in, and its evidence.
/// `serial` is a UUID ("" makes a random one); `timestamp` ISO 8601 UTC ("" means now).
nlohmann::json cyclonedx_json(const Report& report, const std::string& serial = {},
                              const std::string& timestamp = {});
/// A random RFC 4122 version 4 UUID (BOM serial numbers, SPDX namespaces).
std::string random_uuid();
/// The CycloneDX bom-ref of each of `report.components` (same order): "name@version", with
/// "#2", "#3" for further copies. The VEX and the SBOM use the same refs.
std::vector<std::string> cyclonedx_component_refs(const Report& report);
/// CycloneDX component type: operating-system (CPE part o), device (part h), firmware (boot
/// loaders), application (found in a program), else library.
std::string cyclonedx_component_type(const Report& report, const Component& component);

/// The SBOM of a scan as SPDX 2.3 JSON (documentNamespace unique per document unless `serial`
/// is given; DESCRIBES the image package, which CONTAINS every component).
nlohmann::json spdx_json(const Report& report, const std::string& serial = {},
                         const std::string& timestamp = {});

}  // namespace probity
