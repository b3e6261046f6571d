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

/// High findings printed in the summary (report.json has them all).
/// How many the summary prints, not a cap.
constexpr std::size_t kMaxPrintedFindings = 20;

struct SourceArgs {
  std::string dir, out, db, signatures, policy, image, scan_dir, toolchain;
  bool no_toolchain = false, no_regenerate = false;
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
  opt.image = args.image;
  opt.scan_dir = args.scan_dir;
  opt.toolchain = args.toolchain;
  opt.learn_toolchain = !args.no_toolchain;
  opt.regenerate = !args.no_regenerate;
  if (!args.image.empty() && !std::filesystem::is_regular_file(args.image)) {
    fmt::print(stderr, "probity source: not a file: {}\n", args.image);
    return kExitUsage;
  }
  if (!args.scan_dir.empty() &&
      !std::filesystem::is_regular_file(std::filesystem::path(args.scan_dir) / "report.json")) {
    fmt::print(stderr, "probity source: no report.json in {}\n", args.scan_dir);
    return kExitUsage;
  }
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
    std::size_t shown = 0, high = 0;
    for (const auto& f : rep.findings) {
      if (f.severity < Severity::kHigh) continue;
      if (++high > kMaxPrintedFindings) continue;
      ++shown;
      const auto line = r->lines.find(f.id);
      if (line != r->lines.end())
        fmt::print("  {} {}:{} {}\n", to_string(f.severity), f.path, line->second, f.message);
      else  // a binary's finding: the string, symbol or file is the point
        fmt::print("  {} {} [{}] \"{}\"\n", to_string(f.severity), f.path, f.rule,
                   f.evidence.excerpt);
    }
    if (high > shown)
      fmt::print("  ... {} more high or critical findings in {}/report.json\n", high - shown,
                 args.out);
    for (const auto& b : r->binaries)
      fmt::print(
          "  binary {}: {} of {} strings explained ({:.1f} %: {} source, {} toolchain), "
          "{} of {} symbols, {} unexplained\n",
          b.path, b.strings_source + b.strings_toolchain, b.strings, 100.0 * b.string_share(),
          b.strings_source, b.strings_toolchain, b.symbols_source + b.symbols_toolchain, b.symbols,
          b.unexplained_total);
    std::map<std::string, int> skipped;
    for (const auto& k : r->skipped) ++skipped[k.reason];
    for (const auto& [reason, n] : skipped) fmt::print("  not parsed: {} {}\n", n, reason);
    fmt::print("  verdict: {}\n", rep.verdict->result);
    fmt::print("  outputs: {0}/report.json {0}/report.html {0}/findings.sarif {0}/sbom.cdx.json\n",
               args.out);
  }
  return verdict_exit_code(*rep.verdict);
}

struct SourceDiffArgs {
  std::string old_dir, new_dir, out, db, signatures, policy;
  bool force = false, quiet = false;
  unsigned threads = 0;
  std::uint32_t parse_seconds = kSourceParseSeconds;
  std::vector<std::string> fail_on;
};

int run_source_diff(const SourceDiffArgs& args) {
  for (const auto& d : {args.old_dir, args.new_dir})
    if (!std::filesystem::is_directory(d)) {
      fmt::print(stderr, "probity source diff: not a directory: {}\n", d);
      return kExitUsage;
    }
  std::error_code ec;
  const bool out_existed = std::filesystem::exists(args.out, ec);
  if (!prepare_out_dir("source diff", args.out, args.force)) return kExitUsage;
  SourceDiffOptions opt;
  opt.old_dir = args.old_dir;
  opt.new_dir = args.new_dir;
  opt.out = args.out;
  opt.db = args.db;
  opt.signatures = args.signatures;
  opt.policy = args.policy;
  opt.threads = args.threads;
  opt.parse_seconds = args.parse_seconds;
  auto r = source_diff(opt);
  if (!r) {
    if (!out_existed) std::filesystem::remove_all(args.out, ec);
    fmt::print(stderr, "probity source diff: {}\n", r.error().to_string());
    return kExitUsage;
  }
  std::size_t high = 0;
  for (const auto& c : r->changes) high += c.severity >= Severity::kHigh;
  if (!args.quiet) {
    fmt::print(
        "{} -> {}: {} files changed, {} added, {} removed; {} security-relevant changes "
        "({} high); verdicts {} -> {}\n",
        args.old_dir, args.new_dir, r->files_changed, r->files_added, r->files_removed,
        r->changes.size(), high, r->old_result, r->new_result);
    std::size_t shown = 0;
    for (const auto& c : r->changes) {
      if (c.severity < Severity::kMedium || ++shown > kMaxPrintedFindings) continue;
      fmt::print("  {} {} {}:{} (old {}:{}) {}\n", to_string(c.severity), c.kind, c.path,
                 c.new_line, c.old_path.empty() ? "-" : c.old_path, c.old_line, c.message);
    }
    if (shown > kMaxPrintedFindings)
      fmt::print("  ... {} more in {}/diff.json\n", shown - kMaxPrintedFindings, args.out);
    fmt::print("  outputs: {0}/diff.json {0}/diff.html\n", args.out);
  }
  for (const auto& gate : args.fail_on) {
    std::size_t n = 0;
    if (gate == "new-high")
      for (const auto& c : r->changes)
        n += c.kind == "finding-new" && c.severity >= Severity::kHigh;
    if (gate == "high-change") n = high;
    if (n) {
      fmt::print(stderr, "probity source diff: FAIL: {} ({})\n", gate, n);
      return kExitFail;
    }
  }
  if (r->old_result == "inconclusive" || r->new_result == "inconclusive") {
    fmt::print(stderr, "probity source diff: INCONCLUSIVE: a tree was not fully read or parsed\n");
    return kExitInconclusive;
  }
  return kExitOk;
}

}  // namespace

Command add_source(CLI::App& parent) {
  auto args = std::make_shared<SourceArgs>();
  CLI::App* app = parent.add_subcommand(
      "source",
      R"(Audit a source tree a vendor hands over (docs/source-audit.md): vendored components with
their versions matched against the vulnerability database, back-door checks on C/C++
through libclang, build-file checks, secrets, keys and endpoints; writes OUT/report.json
(the scan schema, findings with path and line), OUT/sbom.cdx.json, OUT/findings.sarif and
OUT/report.html. Exit codes: 0 policy passed, 1 policy failed, 2 bad usage,
3 inconclusive (files not read or not parsed).)");
  app->add_option("DIR", args->dir, "Source tree (a tree named `diff`: write ./diff)");
  auto dargs = std::make_shared<SourceDiffArgs>();
  CLI::App* diff = app->add_subcommand(
      "diff",
      R"(Review only what changed between two source releases (docs/source-audit.md): new, fixed
and changed findings, vendored component versions, and the changed hunks that touch
authentication, listeners, credentials, crypto, exec or build steps, each with its line
on both sides; writes OUT/diff.json and OUT/diff.html. Exit codes: 0 done, 1 a --fail-on
gate tripped, 2 bad usage, 3 a tree not fully read or parsed.)");
  diff->add_option("OLD", dargs->old_dir, "Older source tree")->required();
  diff->add_option("NEW", dargs->new_dir, "Newer source tree")->required();
  add_out_flags(*diff, dargs->out, dargs->force);
  diff->add_flag("--quiet,-q", dargs->quiet, "No summary");
  diff->add_option("--db", dargs->db, "Vulnerability database (default: the built-in one)");
  diff->add_option("--signatures", dargs->signatures, "Directory of signatures naming products");
  diff->add_option("--policy", dargs->policy, "Policy (TOML; default: data/policy/default.toml)");
  diff->add_option("--threads", dargs->threads, "Worker threads (0: every core)");
  diff->add_option("--parse-seconds", dargs->parse_seconds,
                   "Wall-clock budget of all libclang parses, per tree");
  diff->add_option("--fail-on", dargs->fail_on,
                   R"(Gates (comma-separated): new-high (exit 1 when NEW adds a high finding),
high-change (exit 1 on any high change: a finding, a downgraded component, a
changed authentication/listener/exec hunk))")
      ->delimiter(',')
      ->check(CLI::IsMember({"new-high", "high-change"}));
  app->require_subcommand(0, 1);
  add_out_flags(*app, args->out, args->force);
  // Required for `source DIR`, not for `source diff` (which has its own): checked in the run.
  app->get_option("--out")->required(false);
  app->add_flag("--quiet,-q", args->quiet, "No summary");
  app->add_option("--db", args->db, "Vulnerability database (SQLite; default: the built-in one)");
  app->add_option("--signatures", args->signatures,
                  "Directory of signatures naming products (default: data/signatures)");
  app->add_option("--policy", args->policy, "Policy (TOML; default: data/policy/default.toml)");
  app->add_option("--threads", args->threads, "Worker threads (0: every core)");
  app->add_flag("--prefilter", args->prefilter,
                R"(Parse only C/C++ files holding a comparison or socket call and an
access-granting word (the others are listed as not-parsed-by-policy))");
  auto* image = app->add_option(
      "--image", args->image,
      R"(Firmware image (or one ELF): map each of its ELF files to the source and report the
strings, symbols and DWARF files the source does not explain (unpacked into OUT/image))");
  app->add_option("--scan", args->scan_dir,
                  R"(Directory of an earlier `probity scan --out` (its report.json and extracted
files), instead of --image)")
      ->excludes(image);
  app->add_option("--toolchain", args->toolchain,
                  R"(The toolchain's include directory, whose headers (those the tree includes)
explain compiler/libc strings (default: /usr/include))");
  app->add_flag("--no-toolchain", args->no_toolchain,
                "Do not learn strings from toolchain headers");
  app->add_flag("--no-regenerate", args->no_regenerate,
                R"(Do not regenerate configure/Makefile.in with Autoconf/Automake (in a sandbox:
a new network namespace, as nobody) to compare them with the shipped ones)");
  app->add_option("--parse-seconds", args->parse_seconds,
                  "Wall-clock budget of all libclang parses (files left are listed, inconclusive)");
  return {app, [args, dargs, diff]() -> int {
            if (diff->parsed()) return run_source_diff(*dargs);
            if (args->dir.empty() || args->out.empty()) {
              fmt::print(stderr,
                         "probity source: give a source tree and --out (DIR --out OUT), or "
                         "`diff OLD NEW --out OUT`\n");
              return kExitUsage;
            }
            return run_source(*args);
          }};
}

}  // namespace probity::cli
