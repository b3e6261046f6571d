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
#include "probity/policy.hpp"
#include "probity/scan.hpp"

namespace probity::cli {
namespace {

void print_summary(std::FILE* to, const ScanResult& result, const std::string& out) {
  const Report& r = result.report;
  const HardeningStats& hs = result.hardening;
  const auto& t = r.tree;
  fmt::print(to, "probity scan: {} ({} bytes, sha256 {})\n", t.image.name, t.image.size,
             t.image.sha256);
  // Say it first: the verdict and why, then what was seen, then the rest.
  if (r.verdict) {
    std::string result = r.verdict->result;
    for (char& c : result) c = char(std::toupper(static_cast<unsigned char>(c)));
    fmt::print(to, "  verdict: {} against \"{}\"\n", result, r.verdict->policy);
    for (const auto& c : r.verdict->clauses)
      if (!c.pass)
        fmt::print(to, "    FAIL {}: {} ({} findings, {} vulnerabilities)\n", c.id, c.text,
                   c.findings.size(), c.vulnerabilities.size());
    for (const auto& why : r.verdict->reasons)
      fmt::print(to, "    NOT SEEN {}: {}{}\n", why.code, why.text,
                 why.evidence.empty() ? "" : " [" + why.evidence + "]");
  }
  const auto roots = find_root_filesystems(t);
  const auto encrypted = find_encrypted_regions(t);
  std::uint64_t dense = 0;  // not understood and high-entropy: encrypted-looking
  for (const auto& e : encrypted) dense += e.region->size;
  std::string root_list;
  for (const auto& rf : roots)
    root_list += fmt::format("{}#{} {}", root_list.empty() ? ": " : ", ", rf.container, rf.format);
  fmt::print(
      to,
      "  coverage: {:.1f}% of the image understood; {} containers; {} root filesystems{}; {} "
      "encrypted-looking regions ({} bytes)\n",
      t.coverage.share() * 100, t.containers.size(), roots.size(), root_list, encrypted.size(),
      dense);
  // The worst findings first, with their paths.
  std::vector<const Finding*> top;
  for (const auto& f : r.findings)
    if (!f.suppression && f.severity >= Severity::kHigh) top.push_back(&f);
  std::stable_sort(top.begin(), top.end(),
                   [](const Finding* a, const Finding* b) { return a->severity > b->severity; });
  for (std::size_t i = 0; i < top.size() && i < 8; ++i)
    fmt::print(to, "    {:<8} {:<28} {}\n", to_string(top[i]->severity), top[i]->rule,
               top[i]->path.empty() ? top[i]->message : top[i]->path);
  if (top.size() > 8) fmt::print(to, "    ... {} more critical/high findings\n", top.size() - 8);
  fmt::print(to, "  {} files, {:.1f} MiB scanned for versions; {} components\n",
             result.files_scanned, double(result.bytes_scanned) / (1 << 20), r.components.size());
  // One line per product and version; copies are counted, not repeated.
  std::map<std::pair<std::string, std::string>, int> copies;
  for (const auto& c : r.components) ++copies[{c.name, c.version}];
  for (const auto& [key, n] : copies)
    fmt::print(to, "    {:<20} {}{}\n", key.first, key.second.empty() ? "?" : key.second,
               n > 1 ? fmt::format("  ({} copies)", n) : "");
  std::map<std::string, int> sev;
  for (const auto& v : r.vulnerabilities) ++sev[v.severity];
  std::string s;
  for (const auto& [k, n] : sev) s += fmt::format("{}{} {}", s.empty() ? " (" : ", ", n, k);
  if (!s.empty()) s += ")";
  fmt::print(
      to, "  vulnerabilities: {}{}{}\n", r.vulnerabilities.size(), s,
      r.db_snapshot.empty() ? " [no vulnerability database]" : " [db " + r.db_snapshot + "]");
  if (!t.warnings.empty()) {
    std::map<std::string, int> codes;
    for (const auto& w : t.warnings) ++codes[w.code];
    std::string named;
    for (const auto& [code, n] : codes)
      named += fmt::format("{}{}{}", named.empty() ? "" : ", ", code,
                           n > 1 ? fmt::format(" x{}", n) : "");
    fmt::print(to, "  warnings: {} (report.json lists each)\n", named);
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
  fmt::print(to, "  findings: {}{}\n", r.findings.size() - suppressed,
             suppressed ? fmt::format(" (+{} suppressed)", suppressed) : "");
  for (const auto& [cat, sevs] : by_cat) {
    std::string line;
    for (Severity s : kOrder)
      if (auto it = sevs.find(s); it != sevs.end())
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", it->second, to_string(s));
    fmt::print(to, "    {:<22} {}\n", cat, line);
  }
  if (hs.binaries)
    fmt::print(to,
               "  hardening: {} ELF binaries; NX {:.0f}%, PIE {:.0f}% of executables, full RELRO "
               "{:.0f}%, canary {:.0f}%, FORTIFY {:.0f}%\n",
               hs.binaries, 100.0 * hs.nx / hs.binaries,
               hs.executables ? 100.0 * hs.pie / hs.executables : 0.0,
               100.0 * hs.relro_full / hs.binaries, 100.0 * hs.canary / hs.binaries,
               100.0 * hs.fortify / hs.binaries);
  fmt::print(to,
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

std::optional<ScanOptions> scan_options(const ScanArgs& args, const char* who) {
  ScanOptions opt;
  if (!args.fail_on.empty()) {
    opt.fail_on = parse_severity(args.fail_on);
    if (!opt.fail_on) {
      fmt::print(stderr,
                 "probity {}: --fail-on: expected info, low, medium, high or critical, got '{}'\n",
                 who, args.fail_on);
      return std::nullopt;
    }
  }
  auto unpack = unpack_options(who, args.flags);
  if (!unpack) return std::nullopt;
  opt.unpack = std::move(*unpack);
  opt.image = args.image;
  opt.out = args.out;
  opt.db = args.db;
  opt.signatures = args.signatures;
  opt.policy = args.policy;
  opt.suppressions = args.suppressions;
  opt.rules = args.rules;
  opt.geoip = args.geoip;
  opt.fleet_index = args.fleet_index;
  return opt;
}

int run_scan(const ScanArgs& args, const char* who) {
  auto parsed = scan_options(args, who);
  if (!parsed) return kExitUsage;
  ScanOptions opt = std::move(*parsed);
  // Progress on stderr while unpacking (the stage that takes long), none after.
  Progress progress;
  opt.unpack.progress = &progress;
  std::optional<ProgressPrinter> printer;
  opt.on_stage = [&](std::string_view stage) {
    if (stage == "unpack")
      printer.emplace(who, progress.bytes, progress.files, args.quiet);
    else
      printer.reset();
  };
  std::error_code ec;
  const bool out_existed = std::filesystem::exists(args.out, ec);
  if (!prepare_out_dir(who, args.out, args.force)) return kExitUsage;
  auto result = probity::scan(opt);
  printer.reset();
  if (!result) {
    // A refused input (policy, rules, GeoIP...) leaves no trace: the directory made for this run
    // goes again when nothing was written into it (remove() never removes a non-empty one).
    if (!out_existed) std::filesystem::remove(args.out, ec);
    fmt::print(stderr, "probity {}: {}\n", who, result.error().to_string());
    return kExitUsage;
  }
  const Report& report = result->report;
  // --format: the file of that format goes to stdout, the summary to stderr.
  const bool table = args.format == "table";
  if (!args.quiet) print_summary(table ? stdout : stderr, *result, args.out);
  if (!table) {
    static const std::map<std::string, std::string> kFiles = {{"json", "report.json"},
                                                              {"sarif", "findings.sarif"},
                                                              {"cyclonedx", "sbom.cdx.json"},
                                                              {"spdx", "sbom.spdx.json"}};
    if (!print_file(who, std::filesystem::path(args.out) / kFiles.at(args.format)))
      return kExitUsage;
  }
  const int code = verdict_exit_code(*report.verdict);
  if (code == kExitInconclusive && args.quiet) {
    // Loud even with --quiet: an image not fully seen must never look like a pass.
    std::string codes;
    for (const auto& why : report.verdict->reasons) codes += (codes.empty() ? "" : ", ") + why.code;
    fmt::print(stderr, "probity {}: verdict INCONCLUSIVE, not fully seen: {} (see {})\n", who,
               codes, (std::filesystem::path(args.out) / "report.json").string());
  }
  return code;
}

Command add_scan(CLI::App& parent) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* app = parent.add_subcommand(
      "scan",
      R"(Unpack IMAGE into DIR, identify its third-party components, match known vulnerabilities,
and write DIR/manifest.json, DIR/report.json, DIR/sbom.cdx.json (CycloneDX 1.6) and
DIR/sbom.spdx.json (SPDX 2.3), then check for back-door indicators and judge the image
against the policy: DIR/findings.sarif (SARIF 2.1.0), DIR/report.html, DIR/vex.cdx.json.
Exit codes: 0 policy passed, 1 policy failed, 2 bad usage or unreadable input,
3 inconclusive (the image was not fully seen).)");
  app->add_option("IMAGE", args->image, "Firmware image")->required();
  add_out_flags(*app, args->out, args->force);
  app->add_flag("--quiet,-q", args->quiet, "No progress and no summary");
  add_format_flag(*app, args->format, {"table", "json", "sarif", "cyclonedx", "spdx"});
  add_scan_flags(*app, *args);
  app->add_option("--fail-on", args->fail_on,
                  R"(CI gate: also fail (exit 1) when any finding or vulnerability is at or above
this severity (info, low, medium, high, critical))");
  app->add_option("--fleet-index", args->fleet_index,
                  R"(Fleet store kept across scans (SQLite file, created if absent, or
postgresql://...; docs/fleet.md): a key also found in another image scanned
with or ingested into the same store is a fleet-wide-key finding)");
  return {app, [args]() -> int { return run_scan(*args, "scan"); }};
}

}  // namespace probity::cli
