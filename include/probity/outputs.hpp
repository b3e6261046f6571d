// Report outputs in the ecosystem's formats: SARIF 2.1.0 findings, CycloneDX VEX decisions.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "probity/report.hpp"

namespace probity {

/// findings.sarif: one run, one rule per check rule, one result per finding. Suppressed findings
/// carry SARIF suppressions (kind external) with the reviewer's decision.
nlohmann::json sarif_json(const Report& report);

/// vex.cdx.json: a CycloneDX 1.6 VEX document with every suppressed finding and vulnerability.
/// With the SBOM's serial number ("urn:uuid:..."), each `affects` ref is a bom-link into that
/// SBOM (urn:cdx:SERIAL/1#bom-ref) naming every copy of the component, and the image.
nlohmann::json vex_json(const Report& report, const std::string& sbom_serial = {});

/// A reviewer's decision as CycloneDX `analysis` {state, justification, response, detail,
/// lastUpdated}: the same in the VEX and in the SBOM's vulnerabilities.
nlohmann::json cyclonedx_analysis(const Suppression& suppression);

/// A vulnerability's status (affected / not-affected / unknown, docs/vulndb.md) as a CycloneDX
/// VEX analysis: exploitable, not_affected (code_not_present, with the backport's evidence) or
/// in_triage.
nlohmann::json status_analysis(const Vulnerability& v);

/// report.html: one self-contained page rendering a report.json document (no network needed).
/// `extras` (html_extras) adds the image map and the evidence views; null leaves them out.
std::string html_report(const nlohmann::json& report_json, const nlohmann::json& extras = nullptr);

/// What report.html shows beyond report.json: the image's top-level regions (image map) and per
/// finding id a view of its evidence (container chain; hexdump and strings around the offset in
/// the extracted file under `out`, read through TreeFiles). Bounded by kMaxHtmlEvidenceViews.
nlohmann::json html_extras(const Report& report, const std::filesystem::path& out);

}  // namespace probity
