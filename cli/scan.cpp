// probity scan IMAGE --out DIR [--db FILE] [--quiet]
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "commands.hpp"
#include "probity/checks.hpp"
#include "probity/data.hpp"
#include "probity/fleet.hpp"
#include "probity/identify.hpp"
#include "probity/inventory.hpp"
#include "probity/json.hpp"
#include "probity/outputs.hpp"
#include "probity/policy.hpp"
#include "probity/unpack.hpp"
#include "probity/vulndb.hpp"

namespace probity::cli {
namespace {

/// The matcher over the SQLite database at `db` ("" = $PROBITY_DB or the default database built
/// with probity). A missing default database means no matching (reported in the summary); a
/// missing --db file is a usage error (checked by the caller).
VulnerabilityMatcher open_matcher(const std::string& db) {
  const auto path = db.empty() ? default_vuln_db_path() : std::filesystem::path(db);
  if (!std::filesystem::exists(path)) return {};
  return [path](const std::vector<Component>& components) -> Result<MatchResult> {
    auto vdb = VulnDb::open(path);
    if (!vdb) return std::unexpected(vdb.error());
    // Every CPE found in the image is platform context: a CVE that ANDs a component with a
    // hardware platform matches only when that platform is present.
    std::vector<std::string> platform;
    for (const auto& c : components)
      if (!c.cpe.empty()) platform.push_back(c.cpe);
    MatchResult out;
    for (const auto& c : components) {
      if (c.version.empty()) continue;
      auto v = vdb->match(query_for(c, platform));
      if (!v) return std::unexpected(v.error());
      out.vulnerabilities.insert(out.vulnerabilities.end(), v->begin(), v->end());
    }
    auto status = vdb->status();
    if (!status) return std::unexpected(status.error());
    out.db_snapshot = status->snapshot;
    out.db_vulnerabilities = status->vulnerabilities;
    for (const auto& s : status->sources)
      out.db_imported_at = std::max(out.db_imported_at, s.imported_at);
    return out;
  };
}

/// End of life for each component from data/eol (by CPE product, e.g. linux_kernel).
void add_eol(std::vector<Component>& components) {
  const std::string today = today_utc();
  for (auto& c : components) {
    if (c.version.empty()) continue;
    std::string product = c.name;
    if (auto cpe = parse_cpe23(c.cpe)) product = cpe->product;
    c.eol = eol_for(product, c.version, today);
  }
}

bool write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  std::ofstream f(path);
  f << dump_json(j) << "\n";
  return bool(f);
}

void print_summary(const Report& r, const std::string& out, const Identification& id,
                   const HardeningStats& hs) {
  const auto& t = r.tree;
  fmt::print("probity scan: {} ({} bytes, sha256 {})\n", t.image.name, t.image.size,
             t.image.sha256);
  // Say it first: the verdict and why, then what was seen, then the rest.
  if (r.verdict) {
    std::string result = r.verdict->result;
    for (char& c : result) c = char(std::toupper(static_cast<unsigned char>(c)));
    fmt::print("  verdict: {} against \"{}\"\n", result, r.verdict->policy);
    for (const auto& c : r.verdict->clauses)
      if (!c.pass)
        fmt::print("    FAIL {}: {} ({} findings, {} vulnerabilities)\n", c.id, c.text,
                   c.findings.size(), c.vulnerabilities.size());
    for (const auto& why : r.verdict->reasons)
      fmt::print("    NOT SEEN {}: {}{}\n", why.code, why.text,
                 why.evidence.empty() ? "" : " [" + why.evidence + "]");
  }
  std::size_t roots = 0;
  for (const auto& c : t.containers)
    roots += std::ranges::any_of(t.files, [&](const FileRecord& f) {
      return f.container == c.id && f.type == EntryType::kDir && f.path == "etc";
    });
  std::uint64_t dense = 0;  // not understood and high-entropy: encrypted-looking
  for (const auto& reg : t.regions)
    if (!reg.understood && reg.entropy >= 7.0) dense += reg.size;
  fmt::print(
      "  coverage: {:.1f}% of the image understood; {} containers, {} with an etc/ (root "
      "filesystems); {} bytes not understood at high entropy\n",
      t.coverage.share() * 100, t.containers.size(), roots, dense);
  // The worst findings first, with their paths.
  std::vector<const Finding*> top;
  for (const auto& f : r.findings)
    if (!f.suppression && f.severity >= Severity::kHigh) top.push_back(&f);
  std::stable_sort(top.begin(), top.end(),
                   [](const Finding* a, const Finding* b) { return a->severity > b->severity; });
  for (std::size_t i = 0; i < top.size() && i < 8; ++i)
    fmt::print("    {:<8} {:<28} {}\n", to_string(top[i]->severity), top[i]->rule,
               top[i]->path.empty() ? top[i]->message : top[i]->path);
  if (top.size() > 8) fmt::print("    ... {} more critical/high findings\n", top.size() - 8);
  fmt::print("  {} files, {:.1f} MiB scanned for versions; {} components\n", id.files_scanned,
             double(id.bytes_scanned) / (1 << 20), r.components.size());
  // One line per product and version; copies are counted, not repeated.
  std::map<std::pair<std::string, std::string>, int> copies;
  for (const auto& c : r.components) ++copies[{c.name, c.version}];
  for (const auto& [key, n] : copies)
    fmt::print("    {:<20} {}{}\n", key.first, key.second.empty() ? "?" : key.second,
               n > 1 ? fmt::format("  ({} copies)", n) : "");
  std::map<std::string, int> sev;
  for (const auto& v : r.vulnerabilities) ++sev[v.severity];
  std::string s;
  for (const auto& [k, n] : sev) s += fmt::format("{}{} {}", s.empty() ? " (" : ", ", n, k);
  if (!s.empty()) s += ")";
  fmt::print(
      "  vulnerabilities: {}{}{}\n", r.vulnerabilities.size(), s,
      r.db_snapshot.empty() ? " [no vulnerability database]" : " [db " + r.db_snapshot + "]");
  if (!t.warnings.empty()) {
    std::map<std::string, int> codes;
    for (const auto& w : t.warnings) ++codes[w.code];
    std::string named;
    for (const auto& [code, n] : codes)
      named += fmt::format("{}{}{}", named.empty() ? "" : ", ", code,
                           n > 1 ? fmt::format(" x{}", n) : "");
    fmt::print("  warnings: {} (report.json lists each)\n", named);
  }
  // Findings by category and severity.
  static constexpr Severity kOrder[] = {Severity::kCritical, Severity::kHigh, Severity::kMedium,
                                        Severity::kLow, Severity::kInfo};
  std::map<std::string, std::map<Severity, int>> by_cat;
  int suppressed = 0;
  for (const auto& f : r.findings) {
    if (f.suppression) {
      ++suppressed;
      continue;
    }
    ++by_cat[f.category][f.severity];
  }
  fmt::print("  findings: {}{}\n", r.findings.size() - suppressed,
             suppressed ? fmt::format(" (+{} suppressed)", suppressed) : "");
  for (const auto& [cat, sevs] : by_cat) {
    std::string line;
    for (Severity s : kOrder)
      if (auto it = sevs.find(s); it != sevs.end())
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", it->second, to_string(s));
    fmt::print("    {:<22} {}\n", cat, line);
  }
  if (hs.binaries)
    fmt::print(
        "  hardening: {} ELF binaries; NX {:.0f}%, PIE {:.0f}% of executables, full RELRO "
        "{:.0f}%, canary {:.0f}%, FORTIFY {:.0f}%\n",
        hs.binaries, 100.0 * hs.nx / hs.binaries,
        hs.executables ? 100.0 * hs.pie / hs.executables : 0.0, 100.0 * hs.relro_full / hs.binaries,
        100.0 * hs.canary / hs.binaries, 100.0 * hs.fortify / hs.binaries);
  fmt::print(
      "  outputs: {0}/report.json {0}/report.html {0}/findings.sarif {0}/sbom.cdx.json "
      "{0}/sbom.spdx.json\n",
      out);
}

}  // namespace

void add_scan_flags(CLI::App& app, ScanArgs& args) {
  app.add_option("--db", args.db, "Vulnerability database (SQLite; default: the built-in one)");
  app.add_option("--signatures", args.signatures,
                 "Directory of version signatures (default: the installed data/signatures)");
  add_unpack_flags(app, args.flags);
  app.add_option("--policy", args.policy,
                 "Policy (TOML clauses; default: data/policy/default.toml). Exit 1 if it fails");
  app.add_option("--suppressions", args.suppressions,
                 "Reviewers' decisions (TOML; CycloneDX VEX states), exported as vex.cdx.json");
  app.add_option("--rules", args.rules, "Directory of extra YARA rules (*.yar, *.yara)");
  app.add_option("--geoip", args.geoip,
                 "MaxMind-format GeoIP database for the policy's allowed countries");
}

int run_scan(const ScanArgs& args, const char* who) {
  if (!args.fail_on.empty() && !parse_severity(args.fail_on)) {
    fmt::print(stderr,
               "probity {}: --fail-on: expected info, low, medium, high or critical, got '{}'\n",
               who, args.fail_on);
    return kExitUsage;
  }
  if (!args.db.empty() && !std::filesystem::is_regular_file(args.db)) {
    fmt::print(stderr, "probity {}: cannot read the database {}\n", who, args.db);
    return kExitUsage;
  }
  // Everything the user gave is checked before the (long) scan starts.
  auto policy =
      load_policy(args.policy.empty() ? default_policy_path() : std::filesystem::path(args.policy));
  if (!policy) {
    fmt::print(stderr, "probity {}: policy: {}\n", who, policy.error().to_string());
    return kExitUsage;
  }
  std::vector<SuppressionEntry> suppressions;
  if (!args.suppressions.empty()) {
    auto s = load_suppressions(args.suppressions);
    if (!s) {
      fmt::print(stderr, "probity {}: suppressions: {}\n", who, s.error().to_string());
      return kExitUsage;
    }
    suppressions = std::move(*s);
  }
  if (!args.rules.empty()) {
    if (auto st = validate_rules(args.rules); !st) {
      fmt::print(stderr, "probity {}: --rules: {}\n", who, st.error().to_string());
      return kExitUsage;
    }
  }
  if (!args.geoip.empty() && !std::filesystem::is_regular_file(args.geoip)) {
    fmt::print(stderr, "probity {}: cannot read the GeoIP database {}\n", who, args.geoip);
    return kExitUsage;
  }
  std::optional<FleetIndex> fleet;
  if (!args.fleet_index.empty()) {
    auto f = FleetIndex::open(args.fleet_index);
    if (!f) {
      fmt::print(stderr, "probity {}: --fleet-index: {}\n", who, f.error().to_string());
      return kExitUsage;
    }
    fleet = std::move(*f);
  }
  auto sigs = load_signatures(args.signatures.empty() ? default_signature_dir()
                                                      : std::filesystem::path(args.signatures));
  if (!sigs) {
    fmt::print(stderr, "probity {}: {}\n", who, sigs.error().to_string());
    return kExitUsage;
  }
  auto identifier = Identifier::create(std::move(*sigs));
  if (!identifier) {
    fmt::print(stderr, "probity {}: {}\n", who, identifier.error().to_string());
    return kExitUsage;
  }
  auto tree = unpack_and_inventory(who, args.image, args.out, args.flags, args.quiet);
  if (!tree) return kExitUsage;
  const std::filesystem::path out(args.out);
  std::ofstream manifest(out / "manifest.json");
  if (!write_json_streaming(manifest, manifest_json(*tree, /*with_files=*/false), tree->files) ||
      !manifest.flush()) {
    fmt::print(stderr, "probity {}: cannot write {}\n", who, (out / "manifest.json").string());
    return kExitUsage;
  }
  Report report;
  report.tree = std::move(*tree);
  IdentifyOptions iopt;
  iopt.threads = args.flags.threads;
  auto found = identify(report.tree, out, *identifier, iopt);
  report.components = found.components;
  add_eol(report.components);
  report.tree.warnings.insert(report.tree.warnings.end(), found.warnings.begin(),
                              found.warnings.end());
  if (auto matcher = open_matcher(args.db)) {
    auto matched = matcher(report.components);
    if (!matched) {
      fmt::print(stderr, "probity {}: {}\n", who, matched.error().to_string());
      return kExitUsage;
    }
    // One vulnerability per (id, product, version), however many copies carry it.
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (auto& v : matched->vulnerabilities)
      if (seen.insert({v.id, v.component, v.version}).second)
        report.vulnerabilities.push_back(std::move(v));
    report.db_snapshot = matched->db_snapshot;
    report.db_vulnerabilities = matched->db_vulnerabilities;
    report.db_imported_at = matched->db_imported_at;
  }
  CheckOptions copt;
  copt.rules_dir = args.rules;
  copt.geoip_db = args.geoip;
  copt.allowed_domains = policy->allow_domains;
  copt.allowed_networks = policy->allow_networks;
  copt.allowed_countries = policy->allow_countries;
  copt.threads = args.flags.threads;
  HardeningStats hardening;
  Facts facts;
  report.findings = run_checks(report.tree, out, copt, &hardening, &facts);
  report.facts = std::move(facts);
  if (fleet) {
    auto shared = fleet->join(report);
    if (!shared) {
      fmt::print(stderr, "probity {}: --fleet-index: {}\n", who, shared.error().to_string());
      return kExitUsage;
    }
    report.findings.insert(report.findings.end(), shared->begin(), shared->end());
  }
  auto from_components = component_findings(report);
  report.findings.insert(report.findings.end(), from_components.begin(), from_components.end());
  for (const auto& id : apply_suppressions(report, suppressions))
    report.tree.warnings.push_back(
        {"suppression-unmatched",
         "suppression for '" + id + "' matches no finding or vulnerability", 0, id, 0});
  report.data_missing = missing_data_files(data_dir());
  report.verdict = judge(*policy, report);
  if (!args.fail_on.empty()) apply_fail_on(*report.verdict, report, *parse_severity(args.fail_on));
  std::vector<std::pair<std::string, nlohmann::json>> outputs = {
      {"report.json", report_json(report)},
      {"sbom.cdx.json", cyclonedx_json(report)},
      {"sbom.spdx.json", spdx_json(report)},
      {"findings.sarif", sarif_json(report)}};
  if (!suppressions.empty()) outputs.emplace_back("vex.cdx.json", vex_json(report));
  {
    std::ofstream html(out / "report.html");
    html << html_report(outputs.front().second);
    if (!html) {
      fmt::print(stderr, "probity {}: cannot write {}\n", who, (out / "report.html").string());
      return kExitUsage;
    }
  }
  for (const auto& [name, j] : outputs) {
    if (!write_json(out / name, j)) {
      fmt::print(stderr, "probity {}: cannot write {}\n", who, (out / name).string());
      return kExitUsage;
    }
  }
  if (!args.quiet) print_summary(report, args.out, found, hardening);
  if (report.verdict->result == "inconclusive") {
    // Loud even with --quiet: an image not fully seen must never look like a pass.
    if (args.quiet) {
      std::string codes;
      for (const auto& why : report.verdict->reasons)
        codes += (codes.empty() ? "" : ", ") + why.code;
      fmt::print(stderr, "probity {}: verdict INCONCLUSIVE, not fully seen: {} (see {})\n", who,
                 codes, (out / "report.json").string());
    }
    return kExitInconclusive;
  }
  return report.verdict->pass ? kExitOk : kExitFail;
}

Command add_scan(CLI::App& parent) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* app = parent.add_subcommand(
      "scan",
      "Unpack IMAGE into DIR, identify its third-party components, match known vulnerabilities,\n"
      "and write DIR/manifest.json, DIR/report.json, DIR/sbom.cdx.json (CycloneDX 1.6) and\n"
      "DIR/sbom.spdx.json (SPDX 2.3), then check for back-door indicators and judge the image\n"
      "against the policy: DIR/findings.sarif (SARIF 2.1.0), DIR/report.html, DIR/vex.cdx.json.\n"
      "Exit codes: 0 policy passed, 1 policy failed, 2 bad usage or unreadable input.");
  app->add_option("IMAGE", args->image, "Firmware image")->required();
  app->add_option("--out,-o", args->out, "Output directory (created; must be empty)")->required();
  app->add_flag("--quiet,-q", args->quiet, "No progress and no summary");
  add_scan_flags(*app, *args);
  app->add_option("--fail-on", args->fail_on,
                  "CI gate: also fail (exit 1) when any finding or vulnerability is at or above\n"
                  "this severity (info, low, medium, high, critical)");
  app->add_option("--fleet-index", args->fleet_index,
                  "Key index kept across scans (SQLite; created if absent): a key also found in\n"
                  "another image scanned with the same index is a fleet-wide-key finding");
  return {app, [args]() -> int { return run_scan(*args, "scan"); }};
}

}  // namespace probity::cli
