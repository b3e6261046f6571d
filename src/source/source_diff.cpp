// `probity source diff OLD NEW` (issue 18 item 3, docs/source-audit.md "Review only what
// changed"): the source pipeline on both trees, diff_reports() on the two reports (components,
// findings by stable id, vulnerabilities, verdicts), and the changed hunks of C/C++ and build
// files that touch authentication, listeners, credentials, crypto, exec or build steps, with
// their lines on both sides.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "pipeline/stages.hpp"
#include "probity/equiv.hpp"
#include "probity/json.hpp"
#include "probity/source.hpp"
#include "probity/tree_files.hpp"
#include "probity/version.hpp"
#include "source/internal.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

bool has_any(std::string_view s, std::initializer_list<std::string_view> words) {
  for (auto w : words)
    if (s.find(w) != std::string_view::npos) return true;
  return false;
}

/// An 8+ digit hexadecimal constant (a key, an S-box, a magic value).
bool long_hex_constant(std::string_view s) {
  for (std::size_t p = s.find("0x"); p != std::string_view::npos; p = s.find("0x", p + 2)) {
    std::size_t n = 0;
    while (p + 2 + n < s.size() && std::isxdigit(static_cast<unsigned char>(s[p + 2 + n]))) ++n;
    if (n >= 8) return true;
  }
  return false;
}

/// A hunk of a unified diff with its place on both sides.
struct Hunk {
  std::uint32_t old_start = 0, old_count = 0, new_start = 0, new_count = 0;
  std::vector<std::string> removed, added;
  std::uint32_t first_old = 0, first_new = 0;  ///< lines of the first change on each side
};

std::vector<Hunk> hunks_of(const std::string& unified) {
  std::vector<Hunk> out;
  std::size_t pos = 0;
  std::uint32_t ol = 0, nl = 0;
  while (pos < unified.size()) {
    auto e = unified.find('\n', pos);
    if (e == std::string::npos) e = unified.size();
    const std::string_view line(unified.data() + pos, e - pos);
    pos = e + 1;
    if (line.starts_with("@@ ")) {
      Hunk h;
      if (std::sscanf(std::string(line).c_str(), "@@ -%u,%u +%u,%u @@", &h.old_start, &h.old_count,
                      &h.new_start, &h.new_count) != 4)
        continue;
      ol = h.old_start;
      nl = h.new_start;
      out.push_back(std::move(h));
      continue;
    }
    if (out.empty() || line.starts_with("--- ") || line.starts_with("+++ ")) continue;
    Hunk& h = out.back();
    if (line.starts_with("-")) {
      if (!h.first_old) h.first_old = ol, h.first_new = h.first_new ? h.first_new : nl;
      h.removed.emplace_back(line.substr(1));
      ++ol;
    } else if (line.starts_with("+")) {
      if (!h.first_new) h.first_new = nl, h.first_old = h.first_old ? h.first_old : ol;
      h.added.emplace_back(line.substr(1));
      ++nl;
    } else {
      ++ol, ++nl;
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (std::size_t k = 0; k < lines.size() && k < kMaxSourceDiffHunkLines; ++k) {
    s += lines[k].substr(0, 300);
    s += '\n';
  }
  if (lines.size() > kMaxSourceDiffHunkLines)
    s += "... " + std::to_string(lines.size() - kMaxSourceDiffHunkLines) + " more lines\n";
  return s;
}

/// Topics ranked: the first one a hunk touches names it.
constexpr std::string_view kTopicOrder[] = {"authentication", "listener", "exec",
                                            "credentials",    "crypto",   "build-step"};

Severity topic_severity(std::string_view topic) {
  return topic == "authentication" || topic == "listener" || topic == "exec" ? Severity::kHigh
                                                                             : Severity::kMedium;
}

Result<SourceResult> run_side(const SourceDiffOptions& opt, const fs::path& dir) {
  SourceOptions o;
  o.dir = dir;
  o.db = opt.db;
  o.signatures = opt.signatures;
  o.policy = opt.policy;
  o.threads = opt.threads;
  o.parse_seconds = opt.parse_seconds;
  o.write_outputs = false;
  return source_scan(o);
}

}  // namespace

std::vector<std::string> change_topics(std::string_view raw) {
  std::string s(raw);
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  // A comment-only line changes no behaviour.
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const std::string_view t = std::string_view(s).substr(first);
  if (t.starts_with("//") || t.starts_with("/*") || t.starts_with("*") || t.starts_with("#!"))
    return {};
  std::vector<std::string> out;
  if (has_any(t, {"passw", "auth", "login", "pam_", "getspnam", "shadow", "setuid", "setgid",
                  "seteuid", "setresuid", "uid == 0", "uid==0", "allow_root", "permit"}))
    out.emplace_back("authentication");
  if (has_any(t, {"bind(", "listen(", "accept(", "socket(", "htons(", "inaddr_any", "sin_port",
                  "sin6_port", "listen_port", "listenaddr"}))
    out.emplace_back("listener");
  if (has_any(t, {"system(", "popen(", "execl", "execv", "/bin/sh", "/bin/ash", "fork("}))
    out.emplace_back("exec");
  if (has_any(t, {"secret", "token", "private key", "private_key", "privkey", "-----begin",
                  "api_key", "apikey", "credential"}))
    out.emplace_back("credentials");
  if (has_any(t, {"aes", "des_", "3des", "sha1", "sha256", "sha512", "md5", "hmac", "rsa", "ecdsa",
                  "ed25519", "curve25519", "chacha", "cipher", "nonce", "urandom", "srand(",
                  "rand(", "random("}) ||
      long_hex_constant(t))
    out.emplace_back("crypto");
  return out;
}

Result<SourceDiffResult> source_diff(const SourceDiffOptions& opt) {
  std::error_code ec;
  for (const auto& d : {opt.old_dir, opt.new_dir})
    if (!fs::is_directory(d, ec)) return fail("not a directory: " + d.string(), 0, d.string());
  auto old_files = TreeFiles::open_directory(opt.old_dir);
  if (!old_files) return std::unexpected(old_files.error());
  auto new_files = TreeFiles::open_directory(opt.new_dir);
  if (!new_files) return std::unexpected(new_files.error());
  if (!opt.db.empty() && !fs::is_regular_file(opt.db))
    return fail("cannot read the database " + opt.db.string(), 0, opt.db.string());
  auto old_run = run_side(opt, opt.old_dir);
  if (!old_run) return std::unexpected(old_run.error());
  auto new_run = run_side(opt, opt.new_dir);
  if (!new_run) return std::unexpected(new_run.error());
  const SourceResult& old_side = *old_run;
  const SourceResult& new_side = *new_run;

  SourceDiffResult res;
  DiffOptions dopt;
  dopt.old_root = opt.old_dir;
  dopt.new_root = opt.new_dir;
  res.delta = diff_reports(old_side.report, new_side.report, dopt);
  res.old_result = old_side.report.verdict->result;
  res.new_result = new_side.report.verdict->result;
  auto line_of = [](const SourceResult& side, const std::string& id) -> std::uint32_t {
    const auto it = side.lines.find(id);
    return it == side.lines.end() ? 0 : it->second;
  };

  // Findings: new and fixed by stable id; one of each with the same rule in the same file is
  // the same check on changed code.
  std::vector<const Finding*> fixed;
  for (const auto& f : res.delta.findings.fixed) fixed.push_back(&f);
  for (const auto& f : res.delta.findings.added) {
    SourceChange c;
    c.severity = f.severity;
    c.path = f.path;
    c.rule = f.rule;
    c.new_line = line_of(new_side, f.id);
    c.new_text = f.evidence.excerpt;
    const auto was = std::find_if(fixed.begin(), fixed.end(), [&](const Finding* o) {
      return o && o->rule == f.rule && o->path == f.path;
    });
    if (was != fixed.end()) {
      c.kind = "finding-changed";
      c.old_line = line_of(old_side, (*was)->id);
      c.old_text = (*was)->evidence.excerpt;
      c.old_path = (*was)->path;
      c.message = f.message + " (the code of an earlier finding of this rule changed)";
      *was = nullptr;
    } else {
      c.kind = "finding-new";
      c.message = f.message;
    }
    res.changes.push_back(std::move(c));
  }
  for (const Finding* f : fixed) {
    if (!f) continue;
    SourceChange c;
    c.kind = "finding-fixed";
    c.severity = Severity::kInfo;
    c.path = c.old_path = f->path;
    c.rule = f->rule;
    c.old_line = line_of(old_side, f->id);
    c.old_text = f->evidence.excerpt;
    c.message = "no longer found: " + f->message;
    res.changes.push_back(std::move(c));
  }

  // Vendored component versions: each statement (product, file) compared across the trees,
  // so that a version header moved back while a changelog still names the old release is a
  // change of that header, with its line on both sides.
  struct Stated {
    std::string version;
    std::uint32_t line = 0;
  };
  auto statements = [](const Report& r) {
    std::map<std::pair<std::string, std::string>, Stated> out;
    for (const auto& c : r.components)
      for (const auto& e : c.evidence)
        out.emplace(std::pair{c.name, e.path}, Stated{c.version, std::uint32_t(e.offset)});
    return out;
  };
  const auto old_stated = statements(old_side.report), new_stated = statements(new_side.report);
  for (const auto& [key, now] : new_stated) {
    const auto was = old_stated.find(key);
    if (was != old_stated.end() && was->second.version == now.version) continue;
    SourceChange c;
    c.kind = "component";
    c.rule = key.first;
    c.path = key.second;
    c.new_line = now.line;
    c.new_text = now.version;
    if (was == old_stated.end()) {
      c.severity = Severity::kMedium;
      c.message = key.first + " " + now.version + " stated in a new place";
    } else {
      c.old_path = key.second;
      c.old_line = was->second.line;
      c.old_text = was->second.version;
      const bool down = compare_versions(now.version, was->second.version) < 0;
      c.severity = down ? Severity::kHigh : Severity::kMedium;
      c.message = key.first + " " + was->second.version + " -> " + now.version +
                  (down ? " (downgrade)" : " (upgrade)");
    }
    res.changes.push_back(std::move(c));
  }
  for (const auto& [key, was] : old_stated) {
    if (new_stated.contains(key)) continue;
    SourceChange c;
    c.kind = "component";
    c.severity = Severity::kMedium;
    c.rule = key.first;
    c.path = c.old_path = key.second;
    c.old_line = was.line;
    c.old_text = was.version;
    c.message = key.first + " " + was.version + " no longer stated here";
    res.changes.push_back(std::move(c));
  }

  // Changed files: the hunks of C/C++ and build files that touch a security topic.
  std::map<std::string, std::string> old_hash, new_hash;
  std::map<std::string, const FileRecord*> old_rec, new_rec;
  for (const auto& f : old_side.report.tree.files)
    old_hash[f.path] = f.sha256, old_rec[f.path] = &f;
  for (const auto& f : new_side.report.tree.files)
    new_hash[f.path] = f.sha256, new_rec[f.path] = &f;
  std::set<std::string> paths;
  for (const auto& [p, h] : old_hash)
    if (!new_hash.contains(p)) ++res.files_removed, paths.insert(p);
  for (const auto& [p, h] : new_hash) {
    const auto o = old_hash.find(p);
    if (o == old_hash.end())
      ++res.files_added, paths.insert(p);
    else if (o->second != h)
      ++res.files_changed, paths.insert(p);
  }
  std::vector<SourceChange> hunk_changes;
  for (const auto& p : paths) {
    const bool build = is_build_file(p);
    if (!build && !source_detail::is_c_file(p)) continue;
    const auto o = old_rec.find(p);
    const auto n = new_rec.find(p);
    std::string a, b;
    if (o != old_rec.end()) a = old_files->read(*o->second, kMaxSourceFileBytes).value_or("");
    if (n != new_rec.end()) b = new_files->read(*n->second, kMaxSourceFileBytes).value_or("");
    const std::string unified =
        unified_line_diff(a, b, "a/" + p, "b/" + p, std::numeric_limits<std::size_t>::max());
    for (auto& h : hunks_of(unified)) {
      std::set<std::string_view> topics;
      bool changed_code = false;
      for (const auto* side : {&h.removed, &h.added})
        for (const auto& line : *side) {
          for (const auto& t : change_topics(line))
            for (auto known : kTopicOrder)
              if (known == t) topics.insert(known);
          changed_code |= line.find_first_not_of(" \t\r") != std::string::npos;
        }
      if (build && changed_code) topics.insert("build-step");
      if (topics.empty()) continue;
      ++res.hunks_total;
      if (hunk_changes.size() >= kMaxSourceDiffHunks) continue;
      SourceChange c;
      for (auto known : kTopicOrder)
        if (topics.contains(known)) {
          if (c.kind.empty()) c.kind = std::string(known);
          if (!c.message.empty()) c.message += ", ";
          c.message += known;
        }
      c.severity = topic_severity(c.kind);
      c.path = n != new_rec.end() ? p : "";
      c.old_path = o != old_rec.end() ? p : "";
      if (c.path.empty()) c.path = p;
      // Where the change is on each side; a side without lines (old_lines or new_lines 0)
      // gets the line the change sits before, 0 for a file that side does not have.
      c.old_line = o == old_rec.end() ? 0 : h.first_old;
      c.new_line = n == new_rec.end() ? 0 : h.first_new;
      c.old_lines = std::uint32_t(h.removed.size());
      c.new_lines = std::uint32_t(h.added.size());
      c.message = (o == old_rec.end()   ? "new file: "
                   : n == new_rec.end() ? "removed file: "
                                        : "changed code: ") +
                  c.message;
      c.old_text = joined(h.removed);
      c.new_text = joined(h.added);
      hunk_changes.push_back(std::move(c));
    }
  }
  res.changes.insert(res.changes.end(), std::make_move_iterator(hunk_changes.begin()),
                     std::make_move_iterator(hunk_changes.end()));
  std::stable_sort(res.changes.begin(), res.changes.end(),
                   [](const SourceChange& x, const SourceChange& y) {
                     return std::tie(y.severity, x.path, x.new_line, x.old_line) <
                            std::tie(x.severity, y.path, y.new_line, y.old_line);
                   });
  if (!opt.write_outputs) return res;

  fs::create_directories(opt.out, ec);
  if (ec)
    return fail("cannot create " + opt.out.string() + ": " + ec.message(), 0, opt.out.string());
  nlohmann::json j = delta_json(res.delta);
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : res.changes)
    changes.push_back({{"kind", c.kind},
                       {"severity", to_string(c.severity)},
                       {"path", c.path},
                       {"old_path", c.old_path},
                       {"old_line", c.old_line},
                       {"new_line", c.new_line},
                       {"old_lines", c.old_lines},
                       {"new_lines", c.new_lines},
                       {"rule", c.rule},
                       {"message", c.message},
                       {"old_text", c.old_text},
                       {"new_text", c.new_text}});
  j["old"]["name"] = opt.old_dir.filename().empty() ? opt.old_dir.parent_path().filename().string()
                                                    : opt.old_dir.filename().string();
  j["new"]["name"] = opt.new_dir.filename().empty() ? opt.new_dir.parent_path().filename().string()
                                                    : opt.new_dir.filename().string();
  j["source"] = {{"old", opt.old_dir.string()},        {"new", opt.new_dir.string()},
                 {"files_changed", res.files_changed}, {"files_added", res.files_added},
                 {"files_removed", res.files_removed}, {"hunks_total", res.hunks_total},
                 {"changes", std::move(changes)}};
  if (auto st = write_text(opt.out / "diff.json", dump_json(j) + "\n"); !st)
    return std::unexpected(st.error());
  res.written.push_back(opt.out / "diff.json");
  if (auto st = write_text(opt.out / "diff.html", diff_html(j)); !st)
    return std::unexpected(st.error());
  res.written.push_back(opt.out / "diff.html");
  return res;
}

namespace source_detail {

LineDelta line_delta(std::string_view a, std::string_view b, const std::string& name_a,
                     const std::string& name_b) {
  LineDelta out;
  const std::string diff =
      unified_line_diff(a, b, name_a, name_b, std::numeric_limits<std::size_t>::max());
  std::uint32_t line = 0;
  for (std::size_t pos = 0; pos < diff.size();) {
    auto e = diff.find('\n', pos);
    if (e == std::string::npos) e = diff.size();
    const std::string_view l(diff.data() + pos, e - pos);
    pos = e + 1;
    unsigned oa = 0, ob = 0, nc = 0, nd = 0;
    if (l.starts_with("@@ ") &&
        std::sscanf(std::string(l).c_str(), "@@ -%u,%u +%u,%u @@", &oa, &ob, &nc, &nd) == 4) {
      line = nc;
      continue;
    }
    if (l.starts_with("+++") || l.starts_with("---")) continue;
    if (l.starts_with("+")) {
      if (!out.first) out.first = line;
      ++out.added;
      if (out.added_text.size() < kMaxSourceFileBytes) {
        out.added_text.append(l.substr(1));
        out.added_text += '\n';
      }
      ++line;
    } else if (l.starts_with("-")) {
      if (!out.first) out.first = line;
      ++out.removed;
    } else {
      ++line;
    }
  }
  return out;
}

}  // namespace source_detail
}  // namespace probity
