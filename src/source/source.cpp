// probity::source_scan: the pipeline on a source tree (include/probity/source.hpp,
// docs/source-audit.md). walk (bounded, symlinks never followed) → components (versions.cpp) →
// match (as scan) → checks (the image checks on every file, build_steps.cpp on build files,
// clang_checks.cpp on C/C++) → judge (the policy; what was not read or parsed is inconclusive)
// → report.json, sbom.cdx.json, findings.sarif, report.html.
#include "probity/source.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "pipeline/stages.hpp"
#include "probity/checks.hpp"
#include "probity/data.hpp"
#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/identify.hpp"
#include "probity/inventory.hpp"
#include "probity/json.hpp"
#include "probity/outputs.hpp"
#include "probity/policy.hpp"
#include "probity/task_pool.hpp"
#include "probity/tree_files.hpp"
#include "probity/vulndb.hpp"
#include "source/internal.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;
using source_detail::ClangParser;

using Clock = std::chrono::steady_clock;

std::uint64_t ms_since(Clock::time_point t) {
  return std::uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

/// Whether the symlink at `rel` (relative to the root) with target `target` stays inside the
/// root when resolved lexically (absolute targets never do).
bool link_stays_inside(const std::string& rel, const std::string& target) {
  if (target.empty() || target.front() == '/') return false;
  const fs::path joined = (fs::path(rel).parent_path() / target).lexically_normal();
  const std::string j = joined.string();
  return !(j == ".." || j.starts_with("../"));
}

bool not_source_dir(std::string_view name);

struct Walk {
  std::vector<FileRecord> files;
  std::vector<SourceSkip> skipped;
};

/// Every regular file under `root`, depth-first in name order; nothing is followed.
Walk walk(const fs::path& root, const SourceOptions& opt) {
  Walk w;
  std::vector<std::pair<fs::path, std::uint32_t>> stack = {{fs::path(), 0}};
  bool files_cap = false;
  std::uint64_t over_cap = 0;
  while (!stack.empty()) {
    auto [rel, depth] = stack.back();
    stack.pop_back();
    std::error_code ec;
    fs::directory_iterator it(root / rel, fs::directory_options::none, ec);
    if (ec) {
      w.skipped.push_back({rel.string(), "unreadable", ec.message(), true});
      continue;
    }
    std::vector<fs::directory_entry> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      entries.push_back(*it);
      if (entries.size() > kMaxDirEntries) break;
    }
    if (ec) w.skipped.push_back({rel.string(), "unreadable", ec.message(), true});
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename() > b.path().filename();
    });
    for (const auto& e : entries) {
      const fs::path r = rel / e.path().filename();
      const std::string rs = r.string();
      const auto st = e.symlink_status(ec);
      if (ec) {
        w.skipped.push_back({rs, "unreadable", ec.message(), true});
        continue;
      }
      if (fs::is_symlink(st)) {
        const std::string target = fs::read_symlink(e.path(), ec).string();
        if (!link_stays_inside(rs, target))
          w.skipped.push_back({rs, "symlink-escape",
                               "points out of the tree (" + target + "): not followed", true});
        continue;  // a link inside the tree: its target is walked where it is
      }
      if (fs::is_directory(st)) {
        if (not_source_dir(e.path().filename().string())) {
          w.skipped.push_back({rs, "not-source-dir",
                               "version-control or patch-system data: not read by policy", false});
          continue;
        }
        if (depth + 1 > opt.max_depth) {
          w.skipped.push_back({rs, "cap-depth",
                               "deeper than " + std::to_string(opt.max_depth) +
                                   " directories (kMaxSourceDepth): not descended into",
                               true});
          continue;
        }
        stack.push_back({r, depth + 1});
        continue;
      }
      if (!fs::is_regular_file(st)) {
        w.skipped.push_back({rs, "not-regular", "a device, FIFO or socket: not read", false});
        continue;
      }
      if (w.files.size() >= opt.max_files) {
        files_cap = true;
        ++over_cap;
        continue;
      }
      const std::uint64_t size = e.file_size(ec);
      if (!ec && size > opt.max_file_bytes) {
        w.skipped.push_back({rs, "cap-file-bytes",
                             std::to_string(size) + " bytes, more than " +
                                 std::to_string(opt.max_file_bytes) +
                                 " (kMaxSourceFileBytes): not read",
                             true});
        continue;
      }
      FileRecord f;
      f.path = rs;
      f.extracted = rs;
      f.container = 0;
      f.type = EntryType::kFile;
      f.size = ec ? 0 : size;
      w.files.push_back(std::move(f));
    }
  }
  if (files_cap)
    w.skipped.push_back({"", "cap-files",
                         std::to_string(over_cap) + " files past the first " +
                             std::to_string(opt.max_files) + " (kMaxSourceFiles): not read",
                         true});
  std::sort(w.files.begin(), w.files.end(),
            [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
  return w;
}

/// 1-based line of byte `offset` in `text`.
std::uint32_t line_at(std::string_view text, std::uint64_t offset) {
  offset = std::min<std::uint64_t>(offset, text.size());
  return 1 + std::uint32_t(std::count(text.begin(), text.begin() + long(offset), '\n'));
}

std::string excerpt_line(std::string_view text, std::uint32_t line) {
  std::size_t pos = 0;
  for (std::uint32_t n = 1; n < line && pos < text.size(); ++n) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  auto e = text.find('\n', pos);
  std::string out(text.substr(
      pos, std::min<std::size_t>(e == std::string_view::npos ? text.size() - pos : e - pos, 200)));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  return out;
}

/// Finds the signature a source's product name stands for: by id, package name or CPE product.
const Signature* signature_for(const std::vector<Signature>& sigs, const std::string& product) {
  for (const auto& s : sigs)
    if (s.id == product) return &s;
  for (const auto& s : sigs)
    if (std::find(s.packages.begin(), s.packages.end(), product) != s.packages.end()) return &s;
  for (const auto& s : sigs)
    if (s.product == product) return &s;
  return nullptr;
}

/// Findings under test and example directories are about test data, not the product: their
/// severity drops to low (a reviewer still sees them).
bool test_path(std::string_view p) {
  // Any directory component named test*, regress*, example*, fuzz*, demo* or t.
  std::size_t start = 0;
  for (std::size_t slash; (slash = p.find('/', start)) != std::string_view::npos;
       start = slash + 1) {
    const std::string_view d = p.substr(start, slash - start);
    for (std::string_view w : {"test", "regress", "example", "fuzz", "demo", "unittest"})
      if (d.starts_with(w)) return true;
    if (d == "t") return true;
  }
  // ... or a file whose own name says it is a test (telnetd.IAC_test.sh).
  const std::string_view base = p.substr(start);
  return base.find("test") != std::string_view::npos;
}

/// Directories that hold no source the build uses: version-control data and quilt's copies of
/// files before their patches (.pc). Listed as not read, by policy.
bool not_source_dir(std::string_view name) {
  return name == ".git" || name == ".svn" || name == ".hg" || name == ".pc" || name == ".bzr";
}

/// Rules about what a device runs (boot services, update scripts, accounts): in a source tree
/// a file is not known to be installed or run, so they count at most medium there.
bool runtime_category(std::string_view category) {
  return category == "remote-access" || category == "update-integrity" || category == "account";
}

/// A finding and its line.
using Located = std::pair<Finding, std::uint32_t>;

Located make_finding(const std::string& rule, const std::string& category, Severity sev,
                     const std::string& path, std::uint32_t line, const std::string& excerpt,
                     const std::string& message) {
  Finding f;
  f.rule = rule;
  f.category = category;
  f.severity = sev;
  f.path = path;
  f.message = message;
  f.evidence.excerpt = excerpt;
  f.id = finding_id(rule, "source:" + path, excerpt);
  return {std::move(f), line};
}

/// "# serial N" (or "dnl serial N") in the first lines of an m4 file; -1 when none.
long m4_serial(std::string_view text) {
  std::size_t pos = 0;
  for (int n = 0; n < 60 && pos < text.size(); ++n) {
    auto e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    const std::string_view line = text.substr(pos, e - pos);
    pos = e + 1;
    if (!line.starts_with("#") && !line.starts_with("dnl")) continue;
    const auto at = line.find("serial ");
    if (at == std::string_view::npos) continue;
    long v = 0;
    std::size_t k = at + 7;
    if (k >= line.size() || !std::isdigit(static_cast<unsigned char>(line[k]))) continue;
    while (k < line.size() && std::isdigit(static_cast<unsigned char>(line[k])) && v < 1000000)
      v = v * 10 + (line[k++] - '0');
    return v;
  }
  return -1;
}

/// A tree's m4 file against upstream's file of the same name and serial: a finding when the
/// content differs (high when a differing line decodes or runs something, as build_steps()
/// rates it), with the first differing line of the tree's copy.
std::optional<Located> compare_m4(const std::vector<std::pair<fs::path, TreeFiles>>& upstream,
                                  const FileRecord& f, const std::string& text) {
  const std::string name = fs::path(f.path).filename().string();
  const long serial = m4_serial(text);
  if (serial < 0) return std::nullopt;
  for (const auto& [dir_path, dir] : upstream) {
    auto theirs = dir.read_path("", name, kMaxSourceFileBytes);
    if (!theirs || m4_serial(*theirs) != serial) continue;
    // Line-end whitespace, CRs and blank lines at the end are not content.
    auto normal = [](const std::string& s) {
      std::string out;
      std::size_t pos = 0;
      while (pos <= s.size()) {
        auto e = s.find('\n', pos);
        if (e == std::string::npos) e = s.size();
        std::string_view l(s.data() + pos, e - pos);
        while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
          l.remove_suffix(1);
        out.append(l);
        out += '\n';
        pos = e + 1;
      }
      while (out.size() > 1 && out.ends_with("\n\n")) out.pop_back();  // trailing blank lines
      return out;
    };
    if (normal(*theirs) == normal(text)) return std::nullopt;
    const auto delta =
        source_detail::line_delta(normal(*theirs), normal(text), "upstream/" + name, f.path);
    const std::string& added = delta.added_text;
    const std::uint32_t first = delta.first, added_lines = delta.added;
    Severity sev = Severity::kMedium;
    std::string why;
    for (const auto& step : build_steps(f.path, added))
      if (step.severity > sev || why.empty()) {
        if (step.severity > sev) sev = step.severity;
        why = step.message;
      }
    if (sev < Severity::kHigh) why.clear();
    // Most of the file differing is another release that kept the serial (libtool.m4 keeps
    // "serial 59" across releases), not an edit of upstream's: low, unless a line decodes or
    // runs something.
    const auto total_lines = std::uint32_t(std::count(text.begin(), text.end(), '\n') + 1);
    const bool rewritten = added_lines * 5 > total_lines;
    if (rewritten && sev < Severity::kHigh) sev = Severity::kLow;
    std::string excerpt = excerpt_line(text, first ? first : 1);
    return make_finding(
        "m4-differs-from-upstream", "build", sev, f.path, first ? first : 1, excerpt,
        name + " has upstream's serial " + std::to_string(serial) + " (" + dir_path.string() +
            ") but other content: " + std::to_string(added_lines) + " line(s) not upstream's" +
            (rewritten ? " (most of the file: another release under the same serial?)" : "") +
            (why.empty() ? std::string() : "; one of them: " + why));
  }
  return std::nullopt;
}

}  // namespace

Result<SourceResult> source_scan(const SourceOptions& opt) {
  const auto t0 = Clock::now();
  auto stage = [&](std::string_view name) {
    if (opt.on_stage) opt.on_stage(name);
  };
  std::error_code ec;
  if (!fs::is_directory(opt.dir, ec))
    return fail("not a directory: " + opt.dir.string(), 0, opt.dir.string());
  if (!opt.db.empty() && !fs::is_regular_file(opt.db))
    return fail("cannot read the database " + opt.db.string(), 0, opt.db.string());
  auto policy = load_policy(opt.policy.empty() ? default_policy_path() : opt.policy);
  if (!policy) {
    Error e = policy.error();
    e.message = "policy: " + e.message;
    return std::unexpected(e);
  }
  auto sigs = load_signatures(opt.signatures.empty() ? default_signature_dir() : opt.signatures);
  if (!sigs) return std::unexpected(sigs.error());
  auto tree_files = TreeFiles::open_directory(opt.dir);
  if (!tree_files) return std::unexpected(tree_files.error());
  if (opt.write_outputs) {
    fs::create_directories(opt.out, ec);
    if (ec)
      return fail("cannot create " + opt.out.string() + ": " + ec.message(), 0, opt.out.string());
  }
  TaskPool pool(opt.threads);

  SourceResult result;
  Report& report = result.report;
  const fs::path root = fs::absolute(opt.dir).lexically_normal();
  report.tree.image.path = opt.dir.string();
  report.tree.image.name =
      root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();

  stage("walk");
  Walk w = walk(root, opt);
  result.skipped = std::move(w.skipped);
  report.tree.files = std::move(w.files);
  inventory(report.tree, root, pool);  // a plain directory: see inventory.cpp
  {
    // Content hashes (report.json's files[].sha256; `source diff` compares trees by them).
    std::atomic<std::size_t> at{0};
    pool.for_each(pool.concurrency(), [&](unsigned, std::size_t) {
      for (std::size_t i; (i = at.fetch_add(1)) < report.tree.files.size();) {
        FileRecord& f = report.tree.files[i];
        if (auto m = tree_files->map(f)) f.sha256 = sha256_hex(m->bytes());
      }
    });
  }
  for (const auto& f : report.tree.files) {
    ++result.stats.files;
    result.stats.bytes += f.size;
  }
  report.tree.stats.files = result.stats.files;
  // What was read is what was looked at; what was not is in the skipped list (its own reasons).
  report.tree.image.size = result.stats.bytes;
  report.tree.coverage = {result.stats.bytes, result.stats.bytes};
  report.tree.stats.entries = result.stats.files;

  // Text of every file the per-file stages read (components, build steps, lines of findings),
  // read once through the confined reader.
  auto read = [&](const FileRecord& f) -> std::optional<std::string> {
    auto t = tree_files->read(f, opt.max_file_bytes);
    if (!t) return std::nullopt;
    return std::move(*t);
  };

  stage("components");
  struct Found {
    SourceVersion v;
    std::string path;
  };
  std::vector<Found> versions;
  std::vector<Located> findings;
  std::mutex mu;
  std::vector<std::size_t> c_files;
  std::atomic<std::size_t> next{0};
  std::vector<SourceSkip> unreadable;
  std::vector<std::pair<fs::path, TreeFiles>> upstream_m4;
  for (const auto& d : opt.m4_dirs)
    if (auto t = TreeFiles::open_directory(d)) upstream_m4.emplace_back(d, std::move(*t));
  pool.for_each(pool.concurrency(), [&](unsigned, std::size_t) {
    for (std::size_t i; (i = next.fetch_add(1)) < report.tree.files.size();) {
      const FileRecord& f = report.tree.files[i];
      const bool c = source_detail::is_c_file(f.path);
      const bool build = is_build_file(f.path);
      const std::string name = fs::path(f.path).filename().string();
      const bool versiony = c || build || name == "changelog" || name == "package.json" ||
                            name.ends_with(".bb") || name.ends_with(".bbappend");
      if (!c && !build && !versiony) continue;
      auto text = read(f);
      if (!text) {
        std::lock_guard lock(mu);
        unreadable.push_back({f.path, "unreadable", "could not be opened inside the tree", true});
        continue;
      }
      auto v = source_versions(f.path, *text);
      std::vector<Located> local;
      if (build)
        for (auto& s : build_steps(f.path, *text)) {
          Severity sev = s.severity;
          if (test_path(f.path) && sev > Severity::kLow) sev = Severity::kLow;
          local.push_back(make_finding(s.rule, "build", sev, f.path, s.line, s.excerpt, s.message));
        }
      if (build && f.path.ends_with(".m4"))
        if (auto m = compare_m4(upstream_m4, f, *text)) {
          if (test_path(f.path) && m->first.severity > Severity::kLow)
            m->first.severity = Severity::kLow;
          local.push_back(std::move(*m));
        }
      std::lock_guard lock(mu);
      for (auto& x : v) versions.push_back({std::move(x), f.path});
      findings.insert(findings.end(), local.begin(), local.end());
      if (c) c_files.push_back(i);
    }
  });
  result.skipped.insert(result.skipped.end(), unreadable.begin(), unreadable.end());
  std::sort(versions.begin(), versions.end(), [](const Found& a, const Found& b) {
    return std::tie(a.v.product, a.v.version, a.path, a.v.line) <
           std::tie(b.v.product, b.v.version, b.path, b.v.line);
  });
  for (const auto& [v, path] : versions) {
    const Signature* sig = signature_for(*sigs, v.product);
    const std::string name = sig ? sig->id : v.product;
    auto it =
        std::find_if(report.components.begin(), report.components.end(),
                     [&](const Component& c) { return c.name == name && c.version == v.version; });
    if (it == report.components.end()) {
      Component c;
      c.name = name;
      c.version = v.version;
      if (sig) {
        c.vendor = sig->vendor;
        c.purl = make_purl(*sig, v.version);
        c.cpe = make_cpe(*sig, v.version);
        c.cpe_aliases = make_cpe_aliases(*sig, v.version);
      } else {
        c.purl = "pkg:generic/" + name + "@" + v.version;
      }
      c.source = "source";
      report.components.push_back(std::move(c));
      it = report.components.end() - 1;
    }
    Evidence e;
    e.path = path;
    e.offset = v.line;  // source evidence: the line (docs/source-audit.md)
    e.excerpt = v.excerpt;
    e.method = v.method;
    e.kind = v.method == "debian-changelog" || v.method == "package-json" ? "package-metadata"
                                                                          : "version-string";
    e.confidence = v.method.starts_with("macro:") || v.method == "debian-changelog" ? 0.9 : 0.8;
    it->evidence.push_back(std::move(e));
  }
  const auto db_path = opt.db.empty() ? default_vuln_db_path() : opt.db;
  add_eol(report.components, db_path);

  stage("match");
  if (auto st = match_vulnerabilities(report, db_path); !st) return std::unexpected(st.error());

  stage("check");
  // The image checks (secrets, keys, endpoints, credentials, YARA rules) on every file.
  CheckOptions copt;
  copt.allowed_domains = policy->allow_domains;
  copt.allowed_networks = policy->allow_networks;
  copt.allowed_countries = policy->allow_countries;
  copt.pool = &pool;
  Facts facts;
  auto image_findings = run_checks(report.tree, root, copt, nullptr, &facts);
  report.facts = std::move(facts);
  {
    std::map<std::string, const FileRecord*> by_path;
    for (const auto& f : report.tree.files) by_path[f.path] = &f;
    std::string cached_path, cached_text;
    for (auto& f : image_findings) {
      if (f.rule == "hardening" || f.category == "hardening")
        continue;  // binaries in a source tree
      if (auto it = by_path.find(f.path); it != by_path.end()) {
        if (cached_path != f.path) {
          cached_path = f.path;
          cached_text = read(*it->second).value_or("");
        }
      }
      const std::uint32_t line = f.path.empty() ? 0 : line_at(cached_text, f.evidence.offset);
      if (test_path(f.path) && f.severity > Severity::kLow) {
        f.severity = Severity::kLow;
        f.message += " (under a test or example directory)";
      } else if (runtime_category(f.category) && f.severity > Severity::kMedium) {
        f.severity = Severity::kMedium;
        f.message += " (a source file: whether it is installed and run is not known)";
      }
      findings.emplace_back(std::move(f), line);
    }
  }

  if (opt.regenerate) {
    stage("regenerate");
    const fs::path scratch =
        opt.write_outputs
            ? opt.out / ".regenerate"
            : fs::temp_directory_path() / ("probity-regenerate-" + std::to_string(::getpid()) +
                                           "-" + std::to_string(std::uintptr_t(&result)));
    std::vector<std::string> hit_paths;
    auto hits =
        source_detail::regenerate_and_compare(root, report.tree.files, *tree_files, scratch,
                                              result.stats.regenerated, result.skipped, hit_paths);
    for (std::size_t k = 0; k < hits.size(); ++k) {
      const std::string& path = hit_paths[k];
      std::string text;
      for (const auto& f : report.tree.files)
        if (f.path == path) text = read(f).value_or("");
      auto& h = hits[k];
      Severity sev = h.severity;
      if (test_path(path) && sev > Severity::kLow) sev = Severity::kLow;
      findings.push_back(make_finding(h.rule, h.category, sev, path, h.line,
                                      excerpt_line(text, h.line), h.message));
    }
  }

  stage("parse");
  // libclang on the C/C++ files that can hold what the AST checks look for.
  std::sort(c_files.begin(), c_files.end());
  const auto parse_start = Clock::now();
  const auto deadline = parse_start + std::chrono::seconds(opt.parse_seconds);
  std::vector<std::optional<ClangParser>> parsers(pool.concurrency());
  std::vector<std::vector<Located>> per_slot(pool.concurrency());
  std::vector<std::vector<SourceSkip>> skips(pool.concurrency());
  std::atomic<std::uint64_t> parsed{0}, with_errors{0};
  next = 0;
  pool.for_each(pool.concurrency(), [&](unsigned slot, std::size_t) {
    for (std::size_t k; (k = next.fetch_add(1)) < c_files.size();) {
      const FileRecord& f = report.tree.files[c_files[k]];
      if (f.size > opt.max_parse_bytes) {
        skips[slot].push_back({f.path, "cap-parse-bytes",
                               std::to_string(f.size) + " bytes, more than " +
                                   std::to_string(opt.max_parse_bytes) +
                                   " (kMaxSourceParseBytes): not parsed",
                               true});
        continue;
      }
      if (Clock::now() > deadline) {
        skips[slot].push_back({f.path, "cap-parse-time",
                               "the parse budget of " + std::to_string(opt.parse_seconds) +
                                   " s (kSourceParseSeconds) ran out: not parsed",
                               true});
        continue;
      }
      auto text = read(f);
      if (!text) continue;  // already listed as unreadable
      if (opt.prefilter && !source_detail::worth_parsing(*text)) {
        skips[slot].push_back({f.path, "not-parsed-by-policy",
                               "holds no comparison/socket call together with an "
                               "access-granting word",
                               false});
        continue;
      }
      if (!parsers[slot]) parsers[slot].emplace();
      auto outcome = parsers[slot]->parse(root, root / f.path);
      if (!outcome.parsed) {
        skips[slot].push_back({f.path, "parse-failed", outcome.first_error, true});
        continue;
      }
      ++parsed;
      if (outcome.errors) ++with_errors;
      for (auto& h : outcome.hits) {
        Severity sev = h.severity;
        std::string msg = h.message;
        if (test_path(f.path) && sev > Severity::kLow) {
          sev = Severity::kLow;
          msg += " (under a test or example directory)";
        }
        per_slot[slot].push_back(make_finding(h.rule, h.category, sev, f.path, h.line,
                                              excerpt_line(*text, h.line), msg));
      }
    }
  });
  result.stats.c_files = c_files.size();
  result.stats.parsed = parsed;
  result.stats.parsed_with_errors = with_errors;
  result.stats.parse_ms = ms_since(parse_start);
  for (auto& v : per_slot) findings.insert(findings.end(), v.begin(), v.end());
  for (auto& v : skips) result.skipped.insert(result.skipped.end(), v.begin(), v.end());
  std::sort(result.skipped.begin(), result.skipped.end(),
            [](const SourceSkip& a, const SourceSkip& b) {
              return std::tie(a.reason, a.path) < std::tie(b.reason, b.path);
            });
  std::sort(findings.begin(), findings.end(), [](const Located& a, const Located& b) {
    return std::tie(a.first.path, a.second, a.first.rule, a.first.id) <
           std::tie(b.first.path, b.second, b.first.rule, b.first.id);
  });
  for (auto& [f, line] : findings) {
    if (!result.lines.emplace(f.id, line).second) continue;  // the same finding twice
    if (!line) result.lines.erase(f.id);
    report.findings.push_back(std::move(f));
  }
  if (!opt.image.empty() || !opt.scan_dir.empty()) {
    stage("explain");
    auto explained = source_detail::explain_binaries(opt, root, report.tree.files, *tree_files,
                                                     pool, policy->evidence.min_coverage, result);
    report.findings.insert(report.findings.end(), std::make_move_iterator(explained.begin()),
                           std::make_move_iterator(explained.end()));
  }
  auto from_components = component_findings(report);
  report.findings.insert(report.findings.end(), from_components.begin(), from_components.end());

  stage("judge");
  // A source tree has no image coverage or root filesystem; what was not read or parsed takes
  // their place among the reasons for inconclusive.
  Policy p = *policy;
  p.evidence.require_root_filesystem = false;
  p.evidence.min_coverage = 0;
  report.data_missing = missing_data_files(data_dir());
  report.verdict = judge(p, report);
  std::map<std::string, std::pair<std::uint64_t, std::string>> by_reason;
  for (const auto& s : result.skipped)
    if (s.counts) {
      auto& [n, first] = by_reason[s.reason];
      if (!n++) first = s.path;
    }
  for (const auto& [reason, v] : by_reason) {
    report.verdict->reasons.push_back(
        {"source-" + reason,
         std::to_string(v.first) + " file(s) not read or not parsed (" + reason + ")", v.second});
  }
  if (!by_reason.empty()) {
    report.verdict->pass = false;
    if (report.verdict->result == "pass") report.verdict->result = "inconclusive";
  }
  result.stats.elapsed_ms = ms_since(t0);
  report.tree.stats.elapsed_ms = result.stats.elapsed_ms;
  if (!opt.write_outputs) return result;

  stage("write");
  nlohmann::json rj = report_json(report, /*with_files=*/false);
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : result.skipped)
    skipped.push_back(
        {{"path", s.path}, {"reason", s.reason}, {"detail", s.detail}, {"inconclusive", s.counts}});
  for (auto& f : rj["findings"])
    if (auto it = result.lines.find(f["id"].get<std::string>()); it != result.lines.end())
      f["line"] = it->second;
  rj["source"] = {{"root", opt.dir.string()},
                  {"files", result.stats.files},
                  {"bytes", result.stats.bytes},
                  {"c_files", result.stats.c_files},
                  {"parsed", result.stats.parsed},
                  {"parsed_with_errors", result.stats.parsed_with_errors},
                  {"parse_ms", result.stats.parse_ms},
                  {"elapsed_ms", result.stats.elapsed_ms},
                  {"regenerated", result.stats.regenerated},
                  {"not_parsed", std::move(skipped)}};
  if (!opt.image.empty() || !opt.scan_dir.empty()) {
    nlohmann::json bins = nlohmann::json::array();
    for (const auto& b : result.binaries) {
      nlohmann::json un = nlohmann::json::array();
      for (const auto& u : b.unexplained)
        un.push_back({{"kind", u.kind},
                      {"text", u.text},
                      {"offset", u.offset},
                      {"severity", to_string(u.severity)}});
      bins.push_back({{"path", b.path},
                      {"container", b.container},
                      {"sha256", b.sha256},
                      {"strings", b.strings},
                      {"strings_source", b.strings_source},
                      {"strings_toolchain", b.strings_toolchain},
                      {"string_share", b.string_share()},
                      {"symbols", b.symbols},
                      {"symbols_source", b.symbols_source},
                      {"symbols_toolchain", b.symbols_toolchain},
                      {"units", b.units},
                      {"units_source", b.units_source},
                      {"units_toolchain", b.units_toolchain},
                      {"unexplained_total", b.unexplained_total},
                      {"truncated", b.truncated},
                      {"unexplained", std::move(un)}});
    }
    rj["source"]["image"] = opt.image.empty() ? opt.scan_dir.string() : opt.image.string();
    rj["source"]["toolchain_headers"] = result.stats.toolchain_headers;
    rj["source"]["explain_ms"] = result.stats.explain_ms;
    rj["source"]["binaries"] = std::move(bins);
  }
  // SARIF regions by line (a source file is text), not by byte offset.
  nlohmann::json sarif = sarif_json(report);
  for (auto& run : sarif["runs"])
    for (auto& res : run["results"]) {
      const std::string id = res["partialFingerprints"]["probityFindingId/v1"].get<std::string>();
      auto it = result.lines.find(id);
      if (it == result.lines.end()) continue;
      for (auto& loc : res["locations"]) {
        nlohmann::json region = {{"startLine", it->second}};
        if (loc["physicalLocation"].contains("region") &&
            loc["physicalLocation"]["region"].contains("snippet"))
          region["snippet"] = loc["physicalLocation"]["region"]["snippet"];
        loc["physicalLocation"]["region"] = region;
      }
    }
  const std::vector<std::pair<std::string, nlohmann::json>> outputs = {
      {"report.json", rj}, {"sbom.cdx.json", cyclonedx_json(report)}, {"findings.sarif", sarif}};
  if (auto st = write_text(opt.out / "report.html", html_report(rj)); !st)
    return std::unexpected(st.error());
  result.written.push_back(opt.out / "report.html");
  for (const auto& [name, j] : outputs) {
    if (auto st = write_text(opt.out / name, dump_json(j) + "\n"); !st)
      return std::unexpected(st.error());
    result.written.push_back(opt.out / name);
  }
  return result;
}

}  // namespace probity
