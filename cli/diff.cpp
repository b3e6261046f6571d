// probity diff OLD NEW --out DIR [--quiet]: what an update changed. OLD and NEW are images
// (scanned into DIR/old and DIR/new with scan's pipeline) or report.json files from `probity scan`
// (nothing is rescanned). Flags into DiffRunOptions, probity::diff (src/diff/run.cpp), the
// summary.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"

namespace probity::cli {
namespace {

struct DiffArgs {
  std::string old_input, new_input, out;
  bool quiet = false, force = false;
  std::string format = "table";  ///< --format: json prints diff.json, table the summary
  int similarity = kMoveSimilarity;
  std::uint64_t max_pairs = kMaxSimilarityPairs;
  std::vector<std::string> fail_on;  ///< gates: new-high, clause-regression
  ScanArgs scan;                     ///< the scan options used for image inputs
};

void print_summary(std::FILE* to, const Delta& d, const nlohmann::json& j, const std::string& out) {
  fmt::print(to, "probity diff: {} -> {}\n", d.old_image.name, d.new_image.name);
  // Clause regressions first: what the new image breaks that the old one passed.
  auto upper = [](std::string s) {
    for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s.empty() ? std::string("NONE") : s;
  };
  fmt::print(to, "  verdict: {} -> {}\n", upper(d.verdict.old_result), upper(d.verdict.new_result));
  for (const auto& c : d.verdict.regressions)
    fmt::print(to, "  CLAUSE REGRESSION {}: {} ({} findings, {} vulnerabilities)\n", c.id, c.text,
               c.findings.size(), c.vulnerabilities.size());
  for (const auto& why : d.verdict.old_reasons)
    fmt::print(to, "  OLD NOT SEEN {}: {}\n", why.code, why.text);
  for (const auto& why : d.verdict.new_reasons)
    fmt::print(to, "  NEW NOT SEEN {}: {}\n", why.code, why.text);
  const auto& s = j["summary"];
  for (const auto& [section, counts] : s.items()) {
    std::string line;
    for (const auto& [k, v] : counts.items())
      if (v.get<std::size_t>() > 0)
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", v.get<std::size_t>(), k);
    fmt::print(to, "  {:<16} {}\n", section, line.empty() ? "no change" : line);
  }
  // What a reviewer must look at first.
  for (const auto& f : d.findings.added)
    if (f.severity >= Severity::kHigh && !f.suppression)
      fmt::print(to, "  NEW {:<8} {} {} ({})\n", to_string(f.severity), f.rule, f.path, f.message);
  for (const auto& a : d.accounts.added)
    fmt::print(to, "  ACCOUNT added  {} uid {} shell {}{}\n", a.name, a.uid, a.shell,
               a.uid == 0 ? "  <-- uid 0" : "");
  for (const auto& c : d.accounts.changed)
    if (c.to.uid == 0 && c.from.uid != 0) fmt::print(to, "  ACCOUNT {} now has uid 0\n", c.to.name);
  for (const auto& a : d.accounts.removed)
    fmt::print(to, "  ACCOUNT removed {} uid {}\n", a.name, a.uid);
  for (const auto& sv : d.services.added)
    fmt::print(to, "  SERVICE added  {} ({}, {})\n", sv.name, sv.how, sv.path);
  for (const auto& sv : d.services.removed)
    fmt::print(to, "  SERVICE removed {} ({}, {})\n", sv.name, sv.how, sv.path);
  for (const auto& k : d.keys.added)
    fmt::print(to, "  KEY added  {} {} {} {} ({})\n", k.role, k.type, k.bits, k.fingerprint,
               k.path);
  for (const auto& c : d.components.changed)
    fmt::print(to, "  {} {} {} -> {}\n", c.direction == "downgrade" ? "DOWNGRADE" : "upgrade  ",
               c.name, c.from, c.to);
  for (const auto& v : d.vulnerabilities.introduced)
    fmt::print(to, "  CVE introduced {} {} {} ({})\n", v.id, v.component, v.version,
               v.severity.empty() ? "?" : v.severity);
  for (const auto& h : d.hardening.regressions)
    fmt::print(to, "  HARDENING {} lost {}\n", h.path, fmt::join(h.lost, ", "));
  for (const auto& w : d.warnings) fmt::print(to, "  warning: {}\n", w.message);
  fmt::print(to, "  outputs: {0}/diff.json {0}/diff.html\n", out);
}

}  // namespace

Command add_diff(CLI::App& parent) {
  auto args = std::make_shared<DiffArgs>();
  CLI::App* app = parent.add_subcommand(
      "diff",
      R"(Compare two releases: OLD and NEW are images (scanned into DIR/old and DIR/new) or
report.json files from `probity scan` (nothing rescanned). Writes DIR/diff.json and
DIR/diff.html: files added/removed/changed/moved, components up- and downgraded, CVEs
fixed and introduced, findings new/fixed/persisting by stable id, hardening regressions,
accounts, boot-time services, endpoints and keys added or removed.
Exit codes: 0 diff written, 1 a --fail-on gate tripped, 2 bad usage or unreadable input,
3 a side's verdict is inconclusive (not fully seen).)");
  app->add_option("OLD", args->old_input, "Older image or its report.json")->required();
  app->add_option("NEW", args->new_input, "Newer image or its report.json")->required();
  add_out_flags(*app, args->out, args->force);
  app->add_flag("--quiet,-q", args->quiet, "No progress and no summary");
  add_format_flag(*app, args->format, {"table", "json"});
  app->add_option("--similarity", args->similarity,
                  "Smallest ssdeep score (0-100) for a removed and an added file to be one moved "
                  "file")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app->add_option("--max-similarity-pairs", args->max_pairs,
                  "Most file pairs compared by similarity")
      ->capture_default_str();
  app->add_option("--fail-on", args->fail_on,
                  R"(CI gates (comma-separated): new-high (exit 1 when NEW adds a high or critical
finding or vulnerability), clause-regression (exit 1 when NEW fails a policy
clause OLD passed))")
      ->delimiter(',')
      ->check(CLI::IsMember({"new-high", "clause-regression"}));
  add_scan_flags(*app, args->scan);
  return {app, [args]() -> int {
            namespace fs = std::filesystem;
            if (!prepare_out_dir("diff", args->out, args->force)) return kExitUsage;
            auto scan = scan_options(args->scan, "diff");
            if (!scan) return kExitUsage;
            DiffRunOptions opt{.old_input = args->old_input,
                               .new_input = args->new_input,
                               .out = args->out,
                               .scan = std::move(*scan),
                               .move_similarity = args->similarity,
                               .max_similarity_pairs = args->max_pairs,
                               .fail_on = args->fail_on,
                               .on_scan = {}};
            if (!args->quiet)
              opt.on_scan = [&](std::string_view side, const fs::path& image) {
                fmt::print(stderr, "probity diff: scanning {} into {}\n", image.string(),
                           (fs::path(args->out) / side).string());
              };
            auto run = probity::diff(opt);
            if (!run) {
              fmt::print(stderr, "probity diff: {}\n", run.error().to_string());
              return kExitUsage;
            }
            const Delta& d = run->delta;
            const bool table = args->format == "table";
            if (!args->quiet) print_summary(table ? stdout : stderr, d, run->json, args->out);
            if (!table && !print_file("diff", fs::path(args->out) / "diff.json")) return kExitUsage;
            const int code = diff_exit_code(*run);
            if (code == kExitFail)
              fmt::print(stderr, "probity diff: FAIL: {}\n", fmt::join(run->tripped, ", "));
            if (code == kExitInconclusive) {
              const bool both = d.verdict.old_result == d.verdict.new_result;
              fmt::print(stderr, "probity diff: INCONCLUSIVE: {} not fully seen\n",
                         both ? "neither image was"
                              : (d.verdict.old_result == "inconclusive" ? "the OLD image was"
                                                                        : "the NEW image was"));
            }
            return code;
          }};
}

}  // namespace probity::cli
