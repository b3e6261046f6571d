// Report outputs in the ecosystem's formats: SARIF 2.1.0 findings, CycloneDX VEX decisions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "probity/report.hpp"

namespace probity {

/// findings.sarif: one run, one rule per check rule, one result per finding. Suppressed findings
/// carry SARIF suppressions (kind external) with the reviewer's decision.
nlohmann::json sarif_json(const Report& report);

/// vex.cdx.json: a CycloneDX 1.6 VEX document with every suppressed finding and vulnerability.
nlohmann::json vex_json(const Report& report);

/// A vulnerability's status (affected / not-affected / unknown, docs/vulndb.md) as a CycloneDX
/// VEX analysis: exploitable, not_affected (code_not_present, with the backport's evidence) or
/// in_triage.
nlohmann::json status_analysis(const Vulnerability& v);

/// report.html: one self-contained page rendering a report.json document (no network needed).
std::string html_report(const nlohmann::json& report_json);

}  // namespace probity
