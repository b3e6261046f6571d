// The comparison itself: Report x Report -> Delta (docs/report-schema.md, "diff.json").
#include <fcntl.h>
#include <fuzzy.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "probity/checks.hpp"
#include "probity/diff.hpp"
#include "probity/limits.hpp"
#include "probity/mapped_file.hpp"
#include "probity/tree_files.hpp"
#include "probity/version.hpp"

namespace probity {
namespace {

/// The ssdeep signature of an extracted file ("" when unreadable), read through TreeFiles:
/// resolved inside its container, never a link.
std::string fuzzy_of(const std::optional<TreeFiles>& files, const FileRecord& f) {
  if (!files || f.extracted.empty()) return {};
  auto m = files->map(f);
  if (!m) return {};
  auto b = m->bytes();
  if (b.size() < kMinSimilarityBytes) return {};
  char out[FUZZY_MAX_RESULT];
  if (fuzzy_hash_buf(b.data(),
                     std::uint32_t(std::min<std::uint64_t>(b.size(), kMaxSimilarityFileBytes)),
                     out) != 0)
    return {};
  return out;
}

std::optional<TreeFiles> open_tree(const std::filesystem::path& p) {
  if (p.empty()) return std::nullopt;
  auto t = TreeFiles::open(p);
  if (!t) return std::nullopt;
  return std::move(*t);
}

/// The last path component ("" for none).
std::string_view base(std::string_view p) {
  auto k = p.rfind('/');
  return k == std::string_view::npos ? p : p.substr(k + 1);
}

void diff_files(const Report& a, const Report& b, const DiffOptions& opt, Delta& d) {
  // Normalised locations, computed once per record.
  std::vector<std::string> la(a.tree.files.size()), lb(b.tree.files.size());
  for (std::size_t i = 0; i < la.size(); ++i) la[i] = normalised_location(a.tree.files[i]);
  for (std::size_t i = 0; i < lb.size(); ++i) lb[i] = normalised_location(b.tree.files[i]);
  std::unordered_map<std::string_view, std::size_t> old_by, new_by;
  old_by.reserve(la.size());
  new_by.reserve(lb.size());
  for (std::size_t i = 0; i < la.size(); ++i) old_by.emplace(la[i], i);
  for (std::size_t i = 0; i < lb.size(); ++i) new_by.emplace(lb[i], i);
  std::vector<const FileRecord*> removed, added;
  for (std::size_t i = 0; i < la.size(); ++i) {
    const FileRecord& f = a.tree.files[i];
    auto it = new_by.find(la[i]);
    if (it == new_by.end()) {
      removed.push_back(&f);
      continue;
    }
    const FileRecord& g = b.tree.files[it->second];
    FileChange c;
    if (f.type != g.type) c.changes.emplace_back("type");
    if (f.type == g.type && f.type == EntryType::kFile && f.sha256 != g.sha256)
      c.changes.emplace_back("content");
    if (f.mode != g.mode) c.changes.emplace_back("mode");
    if (f.uid != g.uid || f.gid != g.gid) c.changes.emplace_back("owner");
    if (f.type == g.type && (f.type == EntryType::kSymlink || f.type == EntryType::kHardlink) &&
        f.link != g.link)
      c.changes.emplace_back("symlink-target");
    if (c.changes.empty()) continue;
    c.from = f;
    c.to = g;
    d.files.changed.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < lb.size(); ++i)
    if (!old_by.contains(lb[i])) added.push_back(&b.tree.files[i]);

  // Moves by content: a removed and an added regular file with the same (non-empty) content.
  // Several candidates: prefer the same file name, then the first in path order.
  std::unordered_map<std::string, std::vector<const FileRecord*>> added_by_hash;
  for (const auto* g : added)
    if (g->type == EntryType::kFile && g->size > 0 && !g->sha256.empty())
      added_by_hash[g->sha256].push_back(g);
  std::set<const FileRecord*> used_old, used_new;
  for (const auto* f : removed) {
    if (f->type != EntryType::kFile || f->size == 0 || f->sha256.empty()) continue;
    auto it = added_by_hash.find(f->sha256);
    if (it == added_by_hash.end()) continue;
    const FileRecord* best = nullptr;
    for (const auto* g : it->second) {
      if (used_new.contains(g)) continue;
      if (!best || (base(g->path) == base(f->path) && base(best->path) != base(f->path))) best = g;
    }
    if (!best) continue;
    used_old.insert(f);
    used_new.insert(best);
    d.files.moved.push_back({*f, *best, "sha256", 100});
  }

  // Moves by similarity (moved and edited): ssdeep over what is left, when contents are there.
  const auto ra = open_tree(opt.old_root), rb = open_tree(opt.new_root);
  d.files.similarity_available = ra && rb;
  if (d.files.similarity_available) {
    auto candidates = [&](const std::vector<const FileRecord*>& v,
                          const std::set<const FileRecord*>& used) {
      std::vector<const FileRecord*> out;
      for (const auto* f : v)
        if (f->type == EntryType::kFile && f->size >= kMinSimilarityBytes && !used.contains(f))
          out.push_back(f);
      return out;
    };
    auto ro = candidates(removed, used_old), an = candidates(added, used_new);
    if (!ro.empty() && !an.empty()) {
      std::vector<std::string> ho(ro.size()), hn(an.size());
      for (std::size_t i = 0; i < ro.size(); ++i) ho[i] = fuzzy_of(ra, *ro[i]);
      for (std::size_t j = 0; j < an.size(); ++j) hn[j] = fuzzy_of(rb, *an[j]);
      struct Pair {
        int score;
        std::size_t i, j;
      };
      std::vector<Pair> pairs;
      std::uint64_t compared = 0;
      bool capped = false;
      for (std::size_t i = 0; i < ro.size() && !capped; ++i) {
        if (ho[i].empty()) continue;
        for (std::size_t j = 0; j < an.size(); ++j) {
          if (hn[j].empty() || ro[i]->kind != an[j]->kind) continue;
          // ssdeep compares only signatures of neighbouring block sizes: files more than about
          // four times apart in size never score, so they are not compared.
          const auto lo = std::min(ro[i]->size, an[j]->size),
                     hi = std::max(ro[i]->size, an[j]->size);
          if (hi > 4 * lo) continue;
          if (compared++ >= opt.max_similarity_pairs) {
            capped = true;
            break;
          }
          int s = fuzzy_compare(ho[i].c_str(), hn[j].c_str());
          if (s >= opt.move_similarity) pairs.push_back({s, i, j});
        }
      }
      if (capped)
        d.warnings.push_back(
            {"cap-similarity-pairs",
             "similarity comparison stopped at kMaxSimilarityPairs = " +
                 std::to_string(opt.max_similarity_pairs) +
                 " pairs; remaining moved-and-edited files are reported as removed and added "
                 "(raise it with --max-similarity-pairs)",
             0, "", 0});
      // Best pairs first; each file in at most one move.
      std::stable_sort(pairs.begin(), pairs.end(),
                       [](const Pair& x, const Pair& y) { return x.score > y.score; });
      for (const auto& p : pairs) {
        if (used_old.contains(ro[p.i]) || used_new.contains(an[p.j])) continue;
        used_old.insert(ro[p.i]);
        used_new.insert(an[p.j]);
        d.files.moved.push_back({*ro[p.i], *an[p.j], "ssdeep", p.score});
      }
    }
  }
  for (const auto* f : removed)
    if (!used_old.contains(f)) d.files.removed.push_back(*f);
  for (const auto* g : added)
    if (!used_new.contains(g)) d.files.added.push_back(*g);
  std::sort(d.files.moved.begin(), d.files.moved.end(),
            [](const FileMove& x, const FileMove& y) { return x.from.path < y.from.path; });
}

void diff_components(const Report& a, const Report& b, Delta& d) {
  // Several copies of one product and version are one; several versions of one product are
  // paired oldest with oldest after the versions both sides share are set aside.
  std::map<std::string, std::map<std::string, const Component*>> ov, nv;
  auto cmp = [](const std::string& x, const std::string& y) { return compare_versions(x, y) < 0; };
  for (const auto& c : a.components) ov[c.name].emplace(c.version, &c);
  for (const auto& c : b.components) nv[c.name].emplace(c.version, &c);
  std::set<std::string> names;
  for (const auto& [n, _] : ov) names.insert(n);
  for (const auto& [n, _] : nv) names.insert(n);
  for (const auto& name : names) {
    std::vector<const Component*> gone, came;
    for (const auto& [v, c] : ov[name])
      if (!nv[name].contains(v)) gone.push_back(c);
    for (const auto& [v, c] : nv[name])
      if (!ov[name].contains(v)) came.push_back(c);
    auto by_version = [&](const Component* x, const Component* y) {
      return cmp(x->version, y->version);
    };
    std::stable_sort(gone.begin(), gone.end(), by_version);
    std::stable_sort(came.begin(), came.end(), by_version);
    std::size_t k = 0;
    for (; k < gone.size() && k < came.size(); ++k) {
      int c = compare_versions(gone[k]->version, came[k]->version);
      d.components.changed.push_back(
          {name, gone[k]->version, came[k]->version, c <= 0 ? "upgrade" : "downgrade"});
      // Versions equal by ordering but spelt differently ("2.9" and "2.9.0") are still listed:
      // the strings changed, and "upgrade" is the honest direction for equal order.
    }
    for (std::size_t i = k; i < gone.size(); ++i) d.components.removed.push_back(*gone[i]);
    for (std::size_t i = k; i < came.size(); ++i) d.components.added.push_back(*came[i]);
  }
}

void diff_vulnerabilities(const Report& a, const Report& b, Delta& d) {
  std::set<std::pair<std::string, std::string>> in_a, in_b;
  for (const auto& v : a.vulnerabilities) in_a.insert({v.id, v.component});
  for (const auto& v : b.vulnerabilities) in_b.insert({v.id, v.component});
  std::set<std::pair<std::string, std::string>> done;
  for (const auto& v : a.vulnerabilities)
    if (!in_b.contains({v.id, v.component}) && done.insert({v.id, v.component}).second)
      d.vulnerabilities.fixed.push_back(v);
  done.clear();
  for (const auto& v : b.vulnerabilities)
    if (!in_a.contains({v.id, v.component}) && done.insert({v.id, v.component}).second)
      d.vulnerabilities.introduced.push_back(v);
}

void diff_findings(const Report& a, const Report& b, Delta& d) {
  std::unordered_map<std::string_view, const Finding*> ia, ib;
  for (const auto& f : a.findings) ia.emplace(f.id, &f);
  for (const auto& f : b.findings) ib.emplace(f.id, &f);
  for (const auto& f : b.findings)
    (ia.contains(f.id) ? d.findings.persisting : d.findings.added).push_back(f);
  for (const auto& f : a.findings)
    if (!ib.contains(f.id)) d.findings.fixed.push_back(f);
  auto order = [](std::vector<Finding>& v) {
    std::stable_sort(v.begin(), v.end(), [](const Finding& x, const Finding& y) {
      return std::tie(y.severity, x.category, x.path, x.id) <
             std::tie(x.severity, y.category, y.path, y.id);
    });
  };
  order(d.findings.added);
  order(d.findings.fixed);
  order(d.findings.persisting);
}

std::vector<std::string> protections(const HardeningFact& h) {
  std::vector<std::string> p;
  if (h.nx) p.emplace_back("nx");
  if (h.executable && h.pie) p.emplace_back("pie");
  if (h.relro == "partial" || h.relro == "full") p.emplace_back("relro");
  if (h.relro == "full") p.emplace_back("relro-full");
  if (h.canary) p.emplace_back("canary");
  if (h.fortify) p.emplace_back("fortify");
  if (h.rpath.empty()) p.emplace_back("no-rpath");
  return p;
}

void diff_hardening(const Facts& a, const Facts& b, const std::vector<FileMove>& moved, Delta& d) {
  // A binary that moved is compared with itself under its new name.
  std::unordered_map<std::string, std::string> renamed;
  for (const auto& m : moved)
    renamed.emplace(normalised_location(m.from), normalised_location(m.to));
  std::unordered_map<std::string, const HardeningFact*> nb;
  for (const auto& h : b.hardening) nb.emplace(h.location, &h);
  for (const auto& h : a.hardening) {
    auto loc = h.location;
    if (auto r = renamed.find(loc); r != renamed.end()) loc = r->second;
    auto it = nb.find(loc);
    if (it == nb.end()) continue;
    auto pa = protections(h), pb = protections(*it->second);
    std::sort(pa.begin(), pa.end());
    std::sort(pb.begin(), pb.end());
    HardeningChange c{it->second->path, it->second->location, h.path, {}, {}};
    std::set_difference(pa.begin(), pa.end(), pb.begin(), pb.end(), std::back_inserter(c.lost));
    std::set_difference(pb.begin(), pb.end(), pa.begin(), pa.end(), std::back_inserter(c.gained));
    if (!c.lost.empty()) {
      auto r = c;
      r.gained.clear();
      d.hardening.regressions.push_back(std::move(r));
    }
    if (!c.gained.empty()) {
      c.lost.clear();
      d.hardening.improvements.push_back(std::move(c));
    }
  }
}

/// Elements of `a` whose key is not among `b`'s keys (a multiset difference keeps duplicates).
template <class T, class K>
std::vector<T> minus(const std::vector<T>& a, const std::vector<T>& b, K key) {
  std::multiset<decltype(key(a.front()))> kb;
  for (const auto& x : b) kb.insert(key(x));
  std::vector<T> out;
  for (const auto& x : a) {
    auto it = kb.find(key(x));
    if (it == kb.end())
      out.push_back(x);
    else
      kb.erase(it);
  }
  return out;
}

void diff_facts(const Facts& a, const Facts& b, Delta& d) {
  // Accounts: by (passwd location, name).
  std::map<std::pair<std::string, std::string>, const AccountFact*> aa, ab;
  for (const auto& x : a.accounts) aa.emplace(std::pair{x.location, x.name}, &x);
  for (const auto& x : b.accounts) ab.emplace(std::pair{x.location, x.name}, &x);
  for (const auto& [k, x] : aa) {
    auto it = ab.find(k);
    if (it == ab.end()) {
      d.accounts.removed.push_back(*x);
      continue;
    }
    const AccountFact& y = *it->second;
    AccountChange c{*x, y, {}};
    if (x->uid != y.uid) c.changes.emplace_back("uid");
    if (x->gid != y.gid) c.changes.emplace_back("gid");
    if (x->shell != y.shell) c.changes.emplace_back("shell");
    if (x->home != y.home) c.changes.emplace_back("home");
    if (x->password != y.password || x->password_digest != y.password_digest)
      c.changes.emplace_back("password");
    if (!c.changes.empty()) d.accounts.changed.push_back(std::move(c));
  }
  for (const auto& [k, y] : ab)
    if (!aa.contains(k)) d.accounts.added.push_back(*y);

  auto svc = [](const ServiceFact& s) { return std::tie(s.location, s.how, s.name, s.command); };
  d.services.added = minus(b.services, a.services, svc);
  d.services.removed = minus(a.services, b.services, svc);
  // Endpoints and keys: by what they are, wherever they are (a URL that moved to another binary
  // is not new; one first seen in this release is).
  auto ep = [](const EndpointFact& e) { return std::tie(e.kind, e.value); };
  std::set<std::tuple<std::string, std::string>> ea, eb;
  for (const auto& e : a.endpoints) ea.insert(ep(e));
  for (const auto& e : b.endpoints) eb.insert(ep(e));
  for (const auto& e : b.endpoints)
    if (!ea.contains(ep(e))) d.endpoints.added.push_back(e);
  for (const auto& e : a.endpoints)
    if (!eb.contains(ep(e))) d.endpoints.removed.push_back(e);
  auto key = [](const KeyFact& k) { return std::tie(k.role, k.fingerprint); };
  std::set<std::tuple<std::string, std::string>> ka, kb;
  for (const auto& k : a.keys) ka.insert(key(k));
  for (const auto& k : b.keys) kb.insert(key(k));
  for (const auto& k : b.keys)
    if (!ka.contains(key(k))) d.keys.added.push_back(k);
  for (const auto& k : a.keys)
    if (!kb.contains(key(k))) d.keys.removed.push_back(k);
}

}  // namespace

/// Clauses by id: a clause the old image passed and the new one fails is a regression.
static void diff_verdicts(const Report& a, const Report& b, Delta& d) {
  if (a.verdict) {
    d.verdict.old_result = a.verdict->result;
    d.verdict.old_reasons = a.verdict->reasons;
  }
  if (b.verdict) {
    d.verdict.new_result = b.verdict->result;
    d.verdict.new_reasons = b.verdict->reasons;
  }
  if (!a.verdict || !b.verdict) return;
  std::map<std::string, bool> old_pass;
  for (const auto& c : a.verdict->clauses) old_pass[c.id] = c.pass;
  for (const auto& c : b.verdict->clauses) {
    const auto it = old_pass.find(c.id);
    // A clause the old policy did not have is not a regression (a stricter policy is not a
    // worse image); the new verdict's own result still says it fails.
    if (it == old_pass.end()) continue;
    if (it->second && !c.pass) d.verdict.regressions.push_back(c);
    if (!it->second && c.pass) d.verdict.fixed.push_back(c);
  }
}

Delta diff_reports(const Report& a, const Report& b, const DiffOptions& opt) {
  Delta d;
  d.old_image = a.tree.image;
  d.new_image = b.tree.image;
  d.files.similarity_threshold = opt.move_similarity;
  diff_files(a, b, opt, d);
  diff_components(a, b, d);
  diff_vulnerabilities(a, b, d);
  diff_findings(a, b, d);
  diff_verdicts(a, b, d);
  if (a.facts && b.facts) {
    diff_hardening(*a.facts, *b.facts, d.files.moved, d);
    diff_facts(*a.facts, *b.facts, d);
  } else {
    std::string which = !a.facts && !b.facts ? "neither report has"
                        : !a.facts           ? "the OLD report has no"
                                             : "the NEW report has no";
    d.warnings.push_back({"no-facts",
                          which +
                              " \"facts\" (written by a probity before facts were recorded): "
                              "hardening, accounts, services, endpoints and keys are not compared; "
                              "rescan the image to compare them",
                          0, "", 0});
  }
  if (!d.files.similarity_available)
    d.warnings.push_back({"no-similarity",
                          "file contents are not available on both sides: moved files are "
                          "matched by equal content only, not by similarity",
                          0, "", 0});
  return d;
}

}  // namespace probity
