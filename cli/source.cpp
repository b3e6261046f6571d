// `probity source DIR --out OUT`: a thin shell over probity::source_scan
// (include/probity/source.hpp).
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <memory>

#include "commands.hpp"
#include "probity/scan.hpp"
#include "probity/source.hpp"

namespace probity::cli {
namespace {

struct SourceArgs {
  std::string dir, out, db, signatures, policy;
  bool force = false, quiet = false, prefilter = false;
  unsigned threads = 0;
  std::uint32_t parse_seconds = kSourceParseSeconds;
};

int run_source(const SourceArgs& args) {
  SourceOptions opt;
  opt.dir = args.dir;
  opt.out = args.out;
  opt.db = args.db;
  opt.signatures = args.signatures;
  opt.policy = args.policy;
  opt.threads = args.threads;
  opt.prefilter = args.prefilter;
  opt.parse_seconds = args.parse_seconds;
  if (!std::filesystem::is_directory(args.dir)) {
    fmt::print(stderr, "probity source: not a directory: {}\n", args.dir);
    return kExitUsage;
  }
  std::error_code ec;
  const bool out_existed = std::filesystem::exists(args.out, ec);
  if (!prepare_out_dir("source", args.out, args.force)) return kExitUsage;
  auto r = source_scan(opt);
  if (!r) {
    if (!out_existed) std::filesystem::remove(args.out, ec);
    fmt::print(stderr, "probity source: {}\n", r.error().to_string());
    return kExitUsage;
  }
  const Report& rep = r->report;
  if (!args.quiet) {
    const auto& s = r->stats;
    fmt::print("{}: {} files, {} C/C++ ({} parsed by libclang in {} ms), {} ms in all\n", args.dir,
               s.files, s.c_files, s.parsed, s.parse_ms, s.elapsed_ms);
    for (const auto& c : rep.components)
      fmt::print("  component {} {} {}\n", c.name, c.version, c.cpe);
    std::map<Severity, int> sev;
    for (const auto& f : rep.findings) ++sev[f.severity];
    fmt::print("  findings: {} ({} high or critical), vulnerabilities: {}\n", rep.findings.size(),
               sev[Severity::kHigh] + sev[Severity::kCritical], rep.vulnerabilities.size());
    for (const auto& f : rep.findings)
      if (f.severity >= Severity::kHigh) {
        const auto line = r->lines.find(f.id);
        fmt::print("  {} {}:{} {}\n", to_string(f.severity), f.path,
                   line == r->lines.end() ? 0u : line->second, f.message);
      }
    std::map<std::string, int> skipped;
    for (const auto& k : r->skipped) ++skipped[k.reason];
    for (const auto& [reason, n] : skipped) fmt::print("  not parsed: {} {}\n", n, reason);
    fmt::print("  verdict: {}\n", rep.verdict->result);
    fmt::print("  outputs: {0}/report.json {0}/report.html {0}/findings.sarif {0}/sbom.cdx.json\n",
               args.out);
  }
  return verdict_exit_code(*rep.verdict);
}

}  // namespace

Command add_source(CLI::App& parent) {
  auto args = std::make_shared<SourceArgs>();
  CLI::App* app = parent.add_subcommand(
      "source",
      "Audit a source tree a vendor hands over (docs/source-audit.md): vendored components with\n"
      "their versions matched against the vulnerability database, back-door checks on C/C++\n"
      "through libclang, build-file checks, secrets, keys and endpoints; writes OUT/report.json\n"
      "(the scan schema, findings with path and line), OUT/sbom.cdx.json, OUT/findings.sarif and\n"
      "OUT/report.html. Exit codes: 0 policy passed, 1 policy failed, 2 bad usage,\n"
      "3 inconclusive (files not read or not parsed).");
  app->add_option("DIR", args->dir, "Source tree")->required();
  add_out_flags(*app, args->out, args->force);
  app->add_flag("--quiet,-q", args->quiet, "No summary");
  app->add_option("--db", args->db, "Vulnerability database (SQLite; default: the built-in one)");
  app->add_option("--signatures", args->signatures,
                  "Directory of signatures naming products (default: data/signatures)");
  app->add_option("--policy", args->policy, "Policy (TOML; default: data/policy/default.toml)");
  app->add_option("--threads", args->threads, "Worker threads (0: every core)");
  app->add_flag("--prefilter", args->prefilter,
                "Parse only C/C++ files holding a comparison or socket call and an\n"
                "access-granting word (the others are listed as not-parsed-by-policy)");
  app->add_option("--parse-seconds", args->parse_seconds,
                  "Wall-clock budget of all libclang parses (files left are listed, inconclusive)");
  return {app, [args]() -> int { return run_source(*args); }};
}

}  // namespace probity::cli
