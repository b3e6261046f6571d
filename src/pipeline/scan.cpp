// probity::scan: the pipeline as one library call (include/probity/scan.hpp). Each stage reads
// the previous stage's types; this file only puts them together.
#include "probity/scan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <tuple>

#include "checks_support/pass.hpp"
#include "core/file_pass.hpp"
#include "identify/pass.hpp"
#include "inventory/pass.hpp"
#include "pipeline/stages.hpp"
#include "probity/data.hpp"
#include "probity/fleet.hpp"
#include "probity/inventory.hpp"
#include "probity/json.hpp"
#include "probity/outputs.hpp"
#include "probity/policy.hpp"
#include "probity/task_pool.hpp"
#include "probity/triage.hpp"
#include "probity/vulndb.hpp"

namespace probity {
namespace {

Error with_context(Error e, const std::string& what) {
  e.message = what + ": " + e.message;
  return e;
}

}  // namespace

Status write_text(const std::filesystem::path& path, const std::string& text,
                  std::vector<std::filesystem::path>* written) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f.flush()) return fail("cannot write " + path.string(), 0, path.string());
  if (written) written->push_back(path);
  return {};
}

VulnerabilityMatcher open_matcher(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return {};
  return [path](const std::vector<Component>& components) -> Result<MatchResult> {
    auto vdb = VulnDb::open(path);
    if (!vdb) return std::unexpected(vdb.error());
    MatchResult out;
    auto v = match_components(*vdb, components);
    if (!v) return std::unexpected(v.error());
    out.vulnerabilities = std::move(*v);
    auto status = vdb->brief_status();  // the stored snapshot id: no full recount per scan
    if (!status) return std::unexpected(status.error());
    out.db_snapshot = status->snapshot;
    out.db_snapshot_date = status->snapshot_date;
    out.db_vulnerabilities = status->vulnerabilities;
    for (const auto& s : status->sources)
      out.db_imported_at = std::max(out.db_imported_at, s.imported_at);
    return out;
  };
}

/// End of life for each component: the database's endoflife.date and curated data (by name or
/// CPE product), else data/eol (by CPE product, e.g. linux_kernel).
void add_eol(std::vector<Component>& components, const std::filesystem::path& db_path) {
  const std::string today = today_utc();
  std::optional<VulnDb> db;
  if (std::filesystem::exists(db_path))
    if (auto d = VulnDb::open(db_path)) db = std::move(*d);
  for (auto& c : components) {
    if (c.version.empty()) continue;
    std::string product = c.name;
    if (auto cpe = parse_cpe23(c.cpe)) product = cpe->product;
    if (db) {
      for (const auto& name : {c.name, product})
        if (auto e = db->eol(name, c.version, today); e && *e) {
          c.eol = **e;
          break;
        }
      if (c.eol) continue;
    }
    c.eol = eol_for(product, c.version, today);
  }
}

namespace {

/// Whole days from ISO date `from` to `to` (both "YYYY-MM-DD"); nullopt when either is not one.
std::optional<std::int64_t> days_between(const std::string& from, const std::string& to) {
  auto parse = [](const std::string& s) -> std::optional<std::chrono::sys_days> {
    int y = 0;
    unsigned m = 0, d = 0;
    if (s.size() < 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3)
      return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                          std::chrono::day{d}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd};
  };
  const auto a = parse(from), b = parse(to);
  if (!a || !b) return std::nullopt;
  return (*b - *a).count();
}

}  // namespace

Status match_vulnerabilities(Report& report, const std::filesystem::path& db_path) {
  auto matcher = open_matcher(db_path);
  if (!matcher) return {};
  auto matched = matcher(report.components);
  if (!matched) return std::unexpected(matched.error());
  report.vulnerabilities = std::move(matched->vulnerabilities);
  report.db_snapshot = matched->db_snapshot;
  report.db_vulnerabilities = matched->db_vulnerabilities;
  report.db_imported_at = matched->db_imported_at;
  report.db_snapshot_date = matched->db_snapshot_date;
  report.db_age_days = days_between(matched->db_snapshot_date, today_utc());
  return {};
}

int verdict_exit_code(const Verdict& verdict) {
  if (verdict.result == "inconclusive") return 3;
  return verdict.pass ? 0 : 1;
}

Result<ScanResult> scan(const ScanOptions& opt) {
  auto stage = [&](std::string_view name) {
    if (opt.on_stage) opt.on_stage(name);
  };
  // Everything the caller named is read and checked before the (long) unpacking starts.
  if (!opt.db.empty() && !std::filesystem::is_regular_file(opt.db))
    return fail("cannot read the database " + opt.db.string(), 0, opt.db.string());
  auto policy = load_policy(opt.policy.empty() ? default_policy_path() : opt.policy);
  if (!policy) return std::unexpected(with_context(policy.error(), "policy"));
  std::vector<SuppressionEntry> suppressions;
  if (!opt.suppressions.empty()) {
    auto s = load_suppressions(opt.suppressions);
    if (!s) return std::unexpected(with_context(s.error(), "suppressions"));
    suppressions = std::move(*s);
  }
  if (!opt.rules.empty())
    if (auto st = validate_rules(opt.rules); !st)
      return std::unexpected(with_context(st.error(), "--rules"));
  if (!opt.geoip.empty()) {
    if (!std::filesystem::is_regular_file(opt.geoip))
      return fail("cannot read the GeoIP database " + opt.geoip.string(), 0, opt.geoip.string());
    if (auto st = validate_geoip(opt.geoip); !st)
      return std::unexpected(with_context(st.error(), "--geoip"));
  }
  std::optional<FleetIndex> fleet;
  if (!opt.fleet_index.empty()) {
    auto f = FleetIndex::open(opt.fleet_index);
    if (!f) return std::unexpected(with_context(f.error(), "--fleet-index"));
    fleet = std::move(*f);
  }
  auto sigs = load_signatures(opt.signatures.empty() ? default_signature_dir() : opt.signatures);
  if (!sigs) return std::unexpected(sigs.error());
  auto identifier = Identifier::create(std::move(*sigs));
  if (!identifier) return std::unexpected(identifier.error());

  // One task pool for the whole run: --threads bounds unpack (squashfs included), inventory,
  // identify and the checks together.
  std::optional<TaskPool> own_pool;
  TaskPool& pool = opt.unpack.pool ? *opt.unpack.pool : own_pool.emplace(opt.unpack.threads);
  UnpackOptions uopt = opt.unpack;
  uopt.pool = &pool;

  stage("unpack");
  auto tree = unpack(opt.image, opt.out, uopt);
  if (!tree) return std::unexpected(tree.error());
  ScanResult result;
  Report& report = result.report;
  report.tree = std::move(*tree);

  stage("identify");
  // One pass over the extracted files (issue 14 item 2): each file is read once and handed to
  // the inventory (kind, ELF facts), identification (version signatures, ELF facts) and every
  // check's per-file hook; what each stage does with the whole tree comes after.
  auto files = TreeFiles::open(opt.out);
  if (!files) return std::unexpected(with_context(files.error(), "extracted files"));
  CheckOptions copt;
  copt.rules_dir = opt.rules;
  copt.geoip_db = opt.geoip;
  copt.allowed_domains = policy->allow_domains;
  copt.allowed_networks = policy->allow_networks;
  copt.allowed_countries = policy->allow_countries;
  copt.pool = &pool;
  IdentifyOptions iopt;
  iopt.pool = &pool;
  InventoryPass inventory_pass(report.tree);
  IdentifyPass identify_pass(report.tree, opt.out, *identifier, iopt);
  CheckPass check_pass(report.tree, opt.out, copt);
  FileVisitor* visitors[] = {&inventory_pass, &identify_pass, &check_pass};
  run_file_pass(report.tree, *files, pool, visitors);
  if (opt.write_outputs) {
    const auto path = opt.out / "manifest.json";
    std::ofstream manifest(path);
    if (!write_json_streaming(manifest, manifest_json(report.tree, /*with_files=*/false),
                              report.tree.files) ||
        !manifest.flush())
      return fail("cannot write " + path.string(), 0, path.string());
    result.written.push_back(path);
  }
  auto found = identify_pass.finish();
  result.files_scanned = found.files_scanned;
  result.bytes_scanned = found.bytes_scanned;
  report.components = std::move(found.components);
  const auto db_path = opt.db.empty() ? default_vuln_db_path() : opt.db;
  add_eol(report.components, db_path);
  report.tree.warnings.insert(report.tree.warnings.end(), found.warnings.begin(),
                              found.warnings.end());

  stage("match");
  if (auto st = match_vulnerabilities(report, db_path); !st) return std::unexpected(st.error());

  stage("check");
  Facts facts;
  report.findings = check_pass.finish(&result.hardening, &facts);
  report.facts = std::move(facts);
  // Triage: which vulnerable components a boot-started (network) program runs or links.
  assess_reachability(report, opt.out);
  if (fleet) {
    auto shared = fleet->join(report);
    if (!shared) return std::unexpected(with_context(shared.error(), "--fleet-index"));
    report.findings.insert(report.findings.end(), shared->begin(), shared->end());
  }
  auto from_components = component_findings(report);
  report.findings.insert(report.findings.end(), from_components.begin(), from_components.end());

  stage("judge");
  result.unmatched_suppressions = apply_suppressions(report, suppressions);
  for (const auto& id : result.unmatched_suppressions)
    report.tree.warnings.push_back(
        {"suppression-unmatched",
         "suppression for '" + id + "' matches no finding or vulnerability", 0, id, 0});
  report.data_missing = missing_data_files(data_dir());
  report.verdict = judge(*policy, report);
  if (opt.fail_on) apply_fail_on(*report.verdict, report, *opt.fail_on);

  if (!opt.write_outputs) return result;
  stage("write");
  std::vector<std::pair<std::string, nlohmann::json>> outputs = {
      {"report.json", report_json(report)},
      {"sbom.cdx.json", cyclonedx_json(report)},
      {"sbom.spdx.json", spdx_json(report)},
      {"findings.sarif", sarif_json(report)}};
  if (!suppressions.empty()) {
    // The VEX refers into the SBOM by bom-link, and the SBOM names the VEX.
    auto& sbom = outputs[1].second;
    auto vex = vex_json(report, sbom["serialNumber"].get<std::string>());
    sbom["externalReferences"] = nlohmann::json::array(
        {{{"type", "exploitability-statement"},
          {"url", "urn:cdx:" + vex["serialNumber"].get<std::string>().substr(9) + "/1"},
          {"comment", "vex.cdx.json"}}});
    outputs.emplace_back("vex.cdx.json", std::move(vex));
  }
  if (auto st = write_text(opt.out / "report.html",
                           html_report(outputs.front().second, html_extras(report, opt.out)),
                           &result.written);
      !st)
    return std::unexpected(st.error());
  for (const auto& [name, j] : outputs)
    if (auto st = write_text(opt.out / name, dump_json(j) + "\n", &result.written); !st)
      return std::unexpected(st.error());
  return result;
}

}  // namespace probity
