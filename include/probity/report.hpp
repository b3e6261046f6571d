// The Report: the one object every output writer and `diff` consume (DESIGN.md, "The pipeline").
// Each stage adds its own part: unpack+inventory the tree, identify the components, match the
// vulnerabilities, check the findings, judge the verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probity/artifact.hpp"

namespace probity {

/// Where a claim comes from: a file (path relative to its container root) and a byte offset.
struct Evidence {
  std::string path;
  std::uint32_t container = 0;
  std::uint64_t offset = 0;
  std::string excerpt;  ///< the matched bytes or line, printable
  std::string method;   ///< "signature:<product>", "opkg-status", "dpkg-status", "os-release", ...
};

/// End of life of a component's release line.
struct Eol {
  std::string cycle;  ///< e.g. "1.1.1"
  std::string date;   ///< ISO date, e.g. "2023-09-11"
  bool reached = false;
};

/// A third-party component with its exact version.
struct Component {
  std::string name;     ///< product, e.g. "openssl"
  std::string version;  ///< exact upstream version, e.g. "1.1.1w"
  std::string vendor;   ///< CPE vendor, e.g. "openssl"
  std::string purl;     ///< e.g. "pkg:generic/openssl@1.1.1w"
  std::string cpe;      ///< CPE 2.3 formatted string
  std::string source;   ///< "signature" or the package database it came from
  std::vector<Evidence> evidence;
  std::optional<Eol> eol;
};

/// A reviewer's decision on a finding or vulnerability (CycloneDX VEX states/justifications).
struct Suppression {
  std::string state;          ///< not_affected, false_positive, accepted
  std::string justification;  ///< CycloneDX justification, e.g. code_not_reachable
  std::string by;             ///< who decided
  std::string detail;         ///< why, in words
  std::string date;           ///< ISO date of the decision ("" if not given)
};

/// A known vulnerability affecting a component.
struct Vulnerability {
  std::string id;         ///< CVE-YYYY-NNNN (or an OSV id)
  std::string component;  ///< Component::name
  std::string version;    ///< Component::version
  std::string severity;   ///< none, low, medium, high, critical (CVSS base severity)
  double cvss = 0.0;      ///< base score (v3.1, or v4.0 when that is all there is)
  std::string cvss_vector;
  std::string fixed_in;  ///< first fixed version when the record says ("" otherwise)
  std::vector<std::string> cwe;
  std::string description;
  std::string published;  ///< ISO date
  std::optional<Suppression> suppression;
};

/// Severity of a finding, lowest first.
enum class Severity { kInfo, kLow, kMedium, kHigh, kCritical };

/// A back-door indicator or engineering-quality problem (issue 4).
struct Finding {
  std::string id;        ///< stable across scans and releases: derived from rule, normalised
                         ///< location and evidence, never from offsets (docs/findings.md)
  std::string rule;      ///< check id, e.g. "telnetd-shell"
  std::string category;  ///< account, credentials, remote-access, private-key, known-backdoor,
                         ///< hardening, endpoint, update-integrity, vulnerable-component,
                         ///< outdated-component
  Severity severity = Severity::kInfo;
  std::string path;  ///< relative to the filesystem root, e.g. etc/shadow
  std::uint32_t container = 0;
  std::string message;
  struct {
    std::string excerpt;
    std::uint64_t offset = 0;
    std::vector<std::string> related;  ///< other files involved (paths)
    /// Key findings: the key's fingerprint ("sha256:<hex of the SubjectPublicKeyInfo DER>" or
    /// OpenSSH "SHA256:<base64>"), which joins the same key across images (fleet.hpp).
    std::string fingerprint;
  } evidence;
  std::optional<Suppression> suppression;  ///< marked, never removed from the report
};

/// "info", "low", "medium", "high", "critical".
const char* to_string(Severity s);

/// One clause of the policy, judged.
struct ClauseResult {
  std::string id;
  std::string text;
  bool pass = true;
  std::vector<std::string> findings;         ///< ids of the findings that break it
  std::vector<std::string> vulnerabilities;  ///< CVE ids that break it
};

/// The image judged against a written policy (the no-back-door agreement).
struct Verdict {
  std::string policy;         ///< policy name
  std::string policy_sha256;  ///< digest of the policy file's bytes
  bool pass = true;
  std::vector<ClauseResult> clauses;
};

/// Everything `probity scan` learned about one image (docs/report-schema.md).
struct Report {
  ArtifactTree tree;
  std::vector<Component> components;
  std::vector<Vulnerability> vulnerabilities;
  std::string db_snapshot;  ///< snapshot id of the vulnerability database used ("" if none)
  std::vector<Finding> findings;
  std::optional<Verdict> verdict;
};

}  // namespace probity
