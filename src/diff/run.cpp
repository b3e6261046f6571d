// probity::diff: the whole `probity diff` run as one library call (issue 14 item 1). The CLI
// (cli/diff.cpp) parses flags into DiffRunOptions, calls this and prints.
#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <future>

#include "pipeline/stages.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"
#include "probity/policy.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

/// One side: its report, and where its extracted files are ("" when not there).
struct Side {
  Report report;
  fs::path root;
};

/// A JSON object is taken for a report (read_report then says precisely what is wrong if it is
/// not a good one); anything else is an image: no firmware format starts with '{'.
bool is_json(const fs::path& input) {
  std::ifstream in(input, std::ios::binary);
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

Result<Side> load_side(const DiffRunOptions& o, const fs::path& input, const char* side) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec))
    return fail(fmt::format("{} {}: not a readable file (give an image or a report.json)", side,
                            input.string()));
  if (!is_json(input)) {
    ScanOptions scan = o.scan;
    scan.image = input;
    scan.out = o.out / side;
    if (o.on_scan) o.on_scan(side, input);
    // A failed policy is no reason not to diff: only a refused scan is an error.
    auto r = probity::scan(scan);
    if (!r) return std::unexpected(r.error());
    return Side{std::move(r->report), scan.out};
  }
  auto r = read_report(input);
  if (!r) return fail(fmt::format("{} report: {}", side, r.error().to_string()));
  Side s{std::move(*r), input.parent_path()};
  // The extracted files are beside the report when it is a scan's output directory.
  bool any = false;
  for (const auto& f : s.report.tree.files)
    if (!f.extracted.empty()) {
      any = fs::exists(s.root / f.extracted, ec);
      break;
    }
  if (!any) s.root.clear();
  return s;
}

}  // namespace

Result<DiffRun> diff(const DiffRunOptions& o) {
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return fail("cannot create the output directory: " + ec.message(), 0, o.out.string());
  // Two reports are read at once (parsing is most of a report-to-report diff); images are
  // scanned one after the other (each scan uses every core).
  Result<Side> old_side = fail("not run"), new_side = fail("not run");
  if (is_json(o.old_input) && is_json(o.new_input)) {
    auto later = std::async(std::launch::async, [&] { return load_side(o, o.new_input, "new"); });
    old_side = load_side(o, o.old_input, "old");
    new_side = later.get();
  } else {
    old_side = load_side(o, o.old_input, "old");
    if (old_side) new_side = load_side(o, o.new_input, "new");
  }
  if (!old_side) return std::unexpected(old_side.error());
  if (!new_side) return std::unexpected(new_side.error());

  DiffOptions opt;
  opt.old_root = old_side->root;
  opt.new_root = new_side->root;
  opt.move_similarity = o.move_similarity;
  opt.max_similarity_pairs = o.max_similarity_pairs;
  DiffRun run;
  run.delta = diff_reports(old_side->report, new_side->report, opt);
  run.json = delta_json(run.delta);
  if (auto w = write_text(o.out / "diff.json", dump_json(run.json) + "\n", &run.written); !w)
    return std::unexpected(w.error());
  if (auto w = write_text(o.out / "diff.html", diff_html(run.json), &run.written); !w)
    return std::unexpected(w.error());

  const Delta& d = run.delta;
  for (const auto& gate : o.fail_on) {
    if (gate == "clause-regression" && !d.verdict.regressions.empty())
      run.tripped.push_back(
          fmt::format("clause-regression ({} clauses)", d.verdict.regressions.size()));
    if (gate == "new-high") {
      std::size_t n = 0;
      for (const auto& f : d.findings.added) n += !f.suppression && f.severity >= Severity::kHigh;
      // Ranked as scan --fail-on ranks them (apply_fail_on): parse_severity.
      for (const auto& v : d.vulnerabilities.introduced) {
        const auto s = parse_severity(v.severity);
        n += !v.suppression && s && *s >= Severity::kHigh;
      }
      if (n) run.tripped.push_back(fmt::format("new-high ({} new)", n));
    }
  }
  return run;
}

int diff_exit_code(const DiffRun& run) {
  // Gates first (a tripped gate is a failure whatever else is true), then whether both sides
  // were fully seen: a diff against an image not fully read proves nothing.
  if (!run.tripped.empty()) return 1;
  const auto& v = run.delta.verdict;
  if (v.old_result == "inconclusive" || v.new_result == "inconclusive") return 3;
  return 0;
}

}  // namespace probity
