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
  /// How the claim was read (docs/signatures.md): package-metadata, version-string (a signature
  /// anywhere), hinted-version-string (a generic pattern, trusted by the file name), filename (a
  /// version in a library's file name) or inferred. "" in reports from before this field.
  std::string kind;
  double confidence = 0.0;  ///< 0..1, what this one piece of evidence is worth alone
};

/// Confidence of a component from all its evidence: independent methods reinforce each other
/// (1 - product of (1 - c) over the best confidence of each kind), never above 1.
double combined_confidence(const std::vector<Evidence>& evidence);

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
  /// The distribution's own package version when the image says it (dpkg/opkg status, or a
  /// banner such as "Debian GLIBC 2.36-9+deb12u14"): backported fixes are judged against it.
  std::string distro_version;
  std::string distro;  ///< whose package version that is: debian, ubuntu, openwrt, ... ("" none)
  /// The same product under NVD's other vendor:product names (last, so that positional
  /// initialisers of the fields above keep working).
  std::vector<std::string> cpe_aliases;
};

/// A reviewer's decision on a finding or vulnerability (CycloneDX VEX states/justifications).
struct Suppression {
  std::string state;          ///< not_affected, false_positive, accepted
  std::string justification;  ///< CycloneDX justification, e.g. code_not_reachable
  std::string by;             ///< who decided
  std::string detail;         ///< why, in words
  std::string date;           ///< ISO date of the decision ("" if not given)
};

/// A CVE in CISA's Known Exploited Vulnerabilities catalogue.
struct KevEntry {
  std::string date_added;  ///< ISO date
  std::string due_date;    ///< ISO date federal agencies had to fix it by
};

/// FIRST EPSS: probability of exploitation in the next 30 days, and its percentile.
struct EpssScore {
  double score = 0.0;
  double percentile = 0.0;
};

/// Whether the vulnerable code can be reached in the image (docs/vulndb.md, "Reachability").
struct Reachability {
  std::string state = "unknown";   ///< exposed, loaded, present, unknown
  std::vector<std::string> chain;  ///< evidence, outermost first ("etc/inittab: ::respawn:...")
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
  std::optional<KevEntry> kev;    ///< null unless in the KEV catalogue
  std::optional<EpssScore> epss;  ///< null when EPSS has no score for it
  Reachability reachability;
  /// affected, not-affected (fixed by a backport or on the component's stable branch) or
  /// unknown; exported as CycloneDX VEX analysis states.
  std::string status = "affected";
  std::string status_evidence;  ///< why not-affected/unknown ("debian fixed in 2.36-9+deb12u3")
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

/// Why the image was not fully seen: each makes the verdict inconclusive (never a pass).
struct InconclusiveReason {
  std::string code;      ///< stable: no-root-filesystem, coverage, unexplained-bytes, cap, ...
  std::string text;      ///< what was not seen, with numbers
  std::string evidence;  ///< where: a container, a region, a warning code, a file
};

/// The image judged against a written policy (the no-back-door agreement).
struct Verdict {
  std::string policy;         ///< policy name
  std::string policy_sha256;  ///< digest of the policy file's bytes
  /// True only when every clause passed and nothing made the result inconclusive.
  bool pass = true;
  /// "pass", "fail" (a clause failed: FAIL wins over inconclusive) or "inconclusive".
  std::string result = "pass";
  std::vector<ClauseResult> clauses;
  std::vector<InconclusiveReason> reasons;  ///< empty unless the image was not fully seen
};

/// A login account as read from an etc/passwd (with its shadow entry when present).
struct AccountFact {
  std::string name;
  long uid = -1, gid = -1;
  std::string shell, home;
  std::string path;      ///< the passwd file, relative to its filesystem root
  std::string location;  ///< normalised location of the passwd file (normalised_location)
  /// none (empty: no password needed), locked (!, *, or no shadow entry), hash (a crypt hash),
  /// unknown ("x" with no readable shadow)
  std::string password;
  /// First 16 hex of SHA-256 of the crypt hash ("" unless password is "hash"): tells a changed
  /// password without copying the hash into the report.
  std::string password_digest;
};

/// Something started at boot: an rc/procd/systemd link, an inittab entry, an inetd/xinetd
/// service, or a daemon a startup script runs (telnetd, dropbear, netcat, socat).
struct ServiceFact {
  std::string name;     ///< script or service name, e.g. telnetd, S50dropbear's "dropbear"
  std::string command;  ///< what runs (link target, inittab process, inetd server line)
  std::string path;     ///< the file that starts it (rc link, etc/inittab, etc/inetd.conf)
  std::string location;
  std::string how;  ///< rc-link, init.d, inittab:<action>, inetd, xinetd, systemd, script
};

/// An endpoint literal (URL, host, IP, e-mail) found in a file.
struct EndpointFact {
  std::string value;  ///< as found, e.g. http://update.example.com/fw
  std::string kind;   ///< url, host, ipv4, ipv6, email
  std::string cls;    ///< private, reserved, public
  std::string path;
  std::string location;
};

/// A private key or an authorized SSH key shipped in the image.
struct KeyFact {
  std::string role;  ///< private or authorized
  std::string type;  ///< RSA, EC, ED25519, ssh-rsa, ...
  int bits = 0;
  std::string fingerprint;  ///< sha256:<hex of SPKI> or OpenSSH SHA256:<base64>
  std::string path;
  std::string location;
};

/// The protections of one ELF executable or shared object (checksec's verdicts).
struct HardeningFact {
  std::string path;
  std::string location;
  bool executable = false;  ///< an executable rather than a library (PIE applies to these)
  bool nx = false, pie = false, canary = false, fortify = false, stripped = false;
  std::string relro;  ///< none, partial, full
  std::string rpath;  ///< RPATH or RUNPATH ("" when neither)
};

/// Facts the checks gathered while parsing (not findings: a normal account or service is not a
/// problem, but `diff` reports it added or removed). Serialised as report.json's `facts`.
struct Facts {
  std::vector<AccountFact> accounts;
  std::vector<ServiceFact> services;
  std::vector<EndpointFact> endpoints;
  std::vector<KeyFact> keys;
  std::vector<HardeningFact> hardening;
};

/// Everything `probity scan` learned about one image (docs/report-schema.md).
struct Report {
  ArtifactTree tree;
  std::vector<Component> components;
  std::vector<Vulnerability> vulnerabilities;
  std::string db_snapshot;  ///< snapshot id of the vulnerability database used ("" if none)
  /// What the verdict needs to know of that database: records in it (nullopt: no database was
  /// used) and when its newest source was imported (UTC, ISO 8601).
  std::optional<std::uint64_t> db_vulnerabilities;
  std::string db_imported_at;
  std::string db_snapshot_date;             ///< newest record date in the database (ISO date)
  std::optional<std::int64_t> db_age_days;  ///< days from db_snapshot_date to the scan
  /// Data files a stage could not read (a missing credentials list, rules, EOL data): each makes
  /// the verdict inconclusive.
  std::vector<std::string> data_missing;
  std::vector<Finding> findings;
  std::optional<Verdict> verdict;
  /// Absent in reports written before facts were recorded (diff then says what it cannot see).
  std::optional<Facts> facts;
};

}  // namespace probity
