// identify(): package metadata, then one signature pass over every regular file (in parallel,
// one vectorscan scratch per worker), then components: one per product, version and file copy.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <regex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_pass.hpp"
#include "identify/elf_facts.hpp"
#include "identify/pass.hpp"
#include "probity/identify.hpp"
#include "probity/mapped_file.hpp"
#include "probity/task_pool.hpp"
#include "probity/tree_files.hpp"
#include "probity/version.hpp"

namespace probity {
namespace {

std::string_view base_name(std::string_view path) {
  auto s = path.rfind('/');
  return s == std::string_view::npos ? path : path.substr(s + 1);
}

/// The ELF-fact rules of all signatures (`sonames`, `symbol_versions`), compiled once a run.
struct ElfRule {
  std::size_t signature;
  bool soname;  ///< on DT_SONAME, else on defined symbol-version nodes
  std::regex re;
};

std::vector<ElfRule> elf_rules(const std::vector<Signature>& sigs) {
  std::vector<ElfRule> out;
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    for (const auto& r : sigs[i].sonames)
      out.push_back({i, true, std::regex(r, std::regex::ECMAScript)});
    for (const auto& r : sigs[i].symbol_versions)
      out.push_back({i, false, std::regex(r, std::regex::ECMAScript)});
  }
  return out;
}

/// What the ELF facts of one file say of one product: its SONAME and/or the newest version node
/// it defines (a lower bound of its version).
struct ElfHit {
  std::size_t signature = 0;
  std::string soname;  ///< DT_SONAME when a `sonames` rule matched it
  std::string node;    ///< the newest matching version node, e.g. "ZLIB_1.2.13"
  std::string bound;   ///< its lower bound, e.g. "1.2.13"
};

std::vector<ElfHit> elf_hits(const std::vector<ElfRule>& rules, const elf::ElfFacts& facts) {
  std::map<std::size_t, ElfHit> by_sig;
  for (const auto& r : rules) {
    if (r.soname) {
      if (!facts.soname.empty() && std::regex_match(facts.soname, r.re)) {
        auto& h = by_sig[r.signature];
        h.signature = r.signature;
        h.soname = facts.soname;
      }
      continue;
    }
    for (const auto& node : facts.defined_versions)
      if (auto bound = symbol_version_bound(r.re, node)) {
        auto& h = by_sig[r.signature];
        h.signature = r.signature;
        if (h.bound.empty() || compare_versions(*bound, h.bound) > 0)
          h.bound = *bound, h.node = node;
      }
  }
  std::vector<ElfHit> out;
  for (auto& [sig, h] : by_sig) out.push_back(std::move(h));
  return out;
}

/// The evidence of ELF facts: one entry per fact, with what it does and does not tell.
std::vector<Evidence> elf_evidence(const ElfHit& h, const Signature& s, const FileRecord& f) {
  std::vector<Evidence> out;
  if (!h.soname.empty())
    out.push_back({f.path, f.container, 0, "DT_SONAME " + h.soname, "elf-soname:" + s.id,
                   "elf-soname", kConfidenceElfSoname});
  if (!h.node.empty())
    out.push_back({f.path, f.container, 0,
                   fmt::format("defines symbol version {} (version >= {})", h.node, h.bound),
                   "symbol-version:" + s.id, "symbol-version", kConfidenceSymbolVersion});
  return out;
}

/// A distribution's build named in a version banner: "GNU C Library (Debian GLIBC
/// 2.36-9+deb12u14)" or "(Ubuntu GLIBC 2.35-0ubuntu3.8)" gives distro and package version, so
/// backported fixes can be judged (vulndb: distro_fix).
void distro_from_banner(Component& c, std::string_view excerpt) {
  for (const auto& [word, distro] :
       {std::pair<std::string_view, std::string_view>{"(Debian ", "debian"},
        {"(Ubuntu ", "ubuntu"}}) {
    const auto at = excerpt.find(word);
    if (at == std::string_view::npos) continue;
    // "(Debian GLIBC 2.36-9+deb12u14)": the last word before ')'.
    const auto close = excerpt.find(')', at);
    if (close == std::string_view::npos) continue;
    const auto inner = excerpt.substr(at + 1, close - at - 1);
    const auto sp = inner.rfind(' ');
    if (sp == std::string_view::npos || sp + 1 >= inner.size()) continue;
    const auto ver = inner.substr(sp + 1);
    if (!std::isdigit(static_cast<unsigned char>(ver.front()))) continue;
    c.distro = std::string(distro);
    c.distro_version = std::string(ver);
    return;
  }
}

}  // namespace

double combined_confidence(const std::vector<Evidence>& evidence) {
  std::map<std::string, double> best;  // per kind: two copies of one string are one method
  for (const auto& e : evidence) best[e.kind] = std::max(best[e.kind], e.confidence);
  double doubt = 1.0;
  for (const auto& [kind, c] : best) doubt *= 1.0 - std::clamp(c, 0.0, 1.0);
  return 1.0 - doubt;
}

struct IdentifyPass::State {
  const ArtifactTree& tree;
  const Identifier& identifier;
  Identification result;
  std::vector<char> wanted;  ///< files scanned for signatures
  std::vector<char> seen;    ///< ... whose bytes the pass handed over
  std::vector<std::vector<Hit>> hits;
  std::vector<ElfRule> rules;
  std::vector<std::vector<ElfHit>> elf;
  std::vector<char> truncated;
  std::vector<std::optional<Identifier::Scanner>> scanners;  ///< one per worker slot
  std::atomic<std::uint64_t> bytes{0}, files{0};
};

IdentifyPass::IdentifyPass(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                           const Identifier& identifier, const IdentifyOptions& options)
    : s_(new State{tree, identifier, {}, {}, {}, {}, {}, {}, {}, {}}) {
  auto& st = *s_;
  if (options.package_metadata)
    st.result.components = package_components(tree, out_dir, identifier, options.plain_directory);
  st.wanted.assign(tree.files.size(), 0);
  st.seen.assign(tree.files.size(), 0);
  for (std::size_t i = 0; i < tree.files.size(); ++i) {
    const auto& f = tree.files[i];
    if (f.type != EntryType::kFile || f.extracted.empty() || f.size == 0) continue;
    if (f.size > kMaxScanFileBytes) {
      st.result.warnings.push_back({"cap-identify-file",
                                    fmt::format("not scanned for versions: {} bytes is over the {} "
                                                "byte cap (kMaxScanFileBytes)",
                                                f.size, kMaxScanFileBytes),
                                    f.container, f.path, 0});
      continue;
    }
    st.wanted[i] = 1;
  }
  st.hits.resize(tree.files.size());
  st.rules = elf_rules(identifier.signatures());
  st.elf.resize(tree.files.size());
  st.truncated.assign(tree.files.size(), 0);
}

IdentifyPass::~IdentifyPass() = default;

void IdentifyPass::start(unsigned slots) {
  s_->scanners.clear();
  s_->scanners.resize(slots);
}

void IdentifyPass::visit(std::size_t i, Bytes content, unsigned slot) {
  auto& st = *s_;
  if (!st.wanted[i]) return;
  auto& scanner = st.scanners[slot] ? *st.scanners[slot] : st.scanners[slot].emplace(st.identifier);
  const auto& f = st.tree.files[i];
  const auto name = base_name(f.path);
  auto& out = st.hits[i];
  out = scanner.scan_name(name);
  st.seen[i] = 1;
  bool cut = false;
  auto found = scanner.scan(content, name, &cut);
  st.truncated[i] = cut;
  out.insert(out.end(), std::make_move_iterator(found.begin()),
             std::make_move_iterator(found.end()));
  if (!st.rules.empty())
    if (auto facts = elf::read_elf_facts(content)) st.elf[i] = elf_hits(st.rules, *facts);
  st.bytes += content.size();
  ++st.files;
}

Identification IdentifyPass::finish() {
  auto& st = *s_;
  const auto& tree = st.tree;
  const auto& identifier = st.identifier;
  Identification& result = st.result;
  auto& hits = st.hits;
  auto& elf = st.elf;
  auto& truncated = st.truncated;
  // A file the pass could not read still has a name that may carry a version.
  if (st.seen.size() == tree.files.size()) {
    Identifier::Scanner scanner(identifier);
    for (std::size_t i = 0; i < tree.files.size(); ++i)
      if (st.wanted[i] && !st.seen[i]) hits[i] = scanner.scan_name(base_name(tree.files[i].path));
  }
  result.bytes_scanned = st.bytes;
  result.files_scanned = st.files;

  const auto& sigs = identifier.signatures();
  // Signature hits of a (product, version) that package metadata declared confirm that component
  // (more evidence); any other hit is a copy of its own.
  std::map<std::pair<std::string, std::string>, std::size_t> declared;
  std::multimap<std::string, std::size_t> declared_by_name;
  for (std::size_t i = 0; i < result.components.size(); ++i) {
    declared.emplace(std::pair{result.components[i].name, result.components[i].version}, i);
    declared_by_name.emplace(result.components[i].name, i);
  }
  std::vector<Component> found;
  struct PendingElf {
    std::size_t signature;
    std::string bound;
    std::uint32_t container;
    std::vector<Evidence> evidence;
  };
  std::vector<PendingElf> pending;
  for (std::size_t i = 0; i < tree.files.size(); ++i) {
    const auto& f = tree.files[i];
    if (truncated[i])
      result.warnings.push_back({"cap-identify-matches",
                                 fmt::format("version scan stopped after {} matches "
                                             "(kMaxMatchesPerFile)",
                                             kMaxMatchesPerFile),
                                 f.container, f.path, 0});
    // One component per (product, version) in this file; its first hit is its first evidence.
    // A file's name and its bytes can both say so (libz.so.1.2.13 and "deflate 1.2.13"): each is
    // evidence of the one component, so its confidence combines both methods.
    std::map<std::pair<std::size_t, std::string>, std::vector<const Hit*>> per_file;
    for (const auto& h : hits[i]) per_file[std::pair{h.signature, h.version}].push_back(&h);
    for (const auto& [key, file_hits] : per_file) {
      const Hit* h = file_hits.front();
      const auto& s = sigs[h->signature];
      const auto evidence_of = [&](const Hit& x) {
        const bool by_name = x.offset == 0 && x.length == 0 && x.excerpt == base_name(f.path);
        return Evidence{f.path,
                        f.container,
                        x.offset,
                        x.excerpt,
                        by_name ? "filename:" + s.id : "signature:" + s.id,
                        by_name    ? "filename"
                        : x.hinted ? "hinted-version-string"
                                   : "version-string",
                        by_name    ? kConfidenceFilename
                        : x.hinted ? kConfidenceHintedVersionString
                                   : kConfidenceVersionString};
      };
      if (auto d = declared.find({s.id, h->version}); d != declared.end()) {
        for (const Hit* x : file_hits)
          result.components[d->second].evidence.push_back(evidence_of(*x));
        continue;
      }
      Component c;
      c.name = s.id;
      c.version = h->version;
      c.vendor = s.vendor;
      c.purl = make_purl(s, h->version);
      c.cpe = make_cpe(s, h->version);
      c.cpe_aliases = make_cpe_aliases(s, h->version);
      c.source = "signature";
      for (const Hit* x : file_hits) {
        c.evidence.push_back(evidence_of(*x));
        if (c.distro.empty()) distro_from_banner(c, x->excerpt);
      }
      found.push_back(std::move(c));
    }
    // ELF facts of the file: evidence of the product's components found in it (when their
    // version is not below the facts' lower bound), of the product declared by package metadata
    // when none was, else a component of their own without a version (a symbol version is a
    // lower bound, never the release).
    for (const auto& h : elf[i]) {
      const auto& s = sigs[h.signature];
      const auto ev = elf_evidence(h, s, f);
      bool attached = false;
      const auto attach = [&](Component& c) {
        if (!h.bound.empty() && !c.version.empty() && compare_versions(c.version, h.bound) < 0)
          return;
        c.evidence.insert(c.evidence.end(), ev.begin(), ev.end());
        attached = true;
      };
      bool named = false;  // by a version in this file, even one below the bound
      for (const auto& [key, file_hits] : per_file) {
        if (key.first != h.signature) continue;
        named = true;
        if (auto d = declared.find({s.id, key.second}); d != declared.end())
          attach(result.components[d->second]);
        else
          for (auto& c : found)
            if (c.name == s.id && c.version == key.second && c.evidence.front().path == f.path &&
                c.evidence.front().container == f.container)
              attach(c);
      }
      if (attached || named) continue;
      for (auto [d, end] = declared_by_name.equal_range(s.id); d != end; ++d)
        attach(result.components[d->second]);
      if (attached) continue;
      pending.push_back({h.signature, h.bound, f.container, ev});
    }
  }
  // ELF facts no version in their own file explained: evidence of the product's component found
  // elsewhere in the same container (libssl.so.3 beside the libcrypto.so.3 whose banner names
  // the release), when its version is not below their bound; else one component of the
  // product without a version per container.
  for (auto& p : pending) {
    const auto& s = sigs[p.signature];
    const auto fits = [&](const Component& c) {
      return c.name == s.id && !c.evidence.empty() && c.evidence.front().container == p.container &&
             (p.bound.empty() || c.version.empty() || compare_versions(c.version, p.bound) >= 0);
    };
    Component* into = nullptr;
    for (auto& c : found)
      if (!into && fits(c)) into = &c;
    for (auto& c : result.components)
      if (!into && fits(c)) into = &c;
    if (into) {
      into->evidence.insert(into->evidence.end(), p.evidence.begin(), p.evidence.end());
      continue;
    }
    Component c;
    c.name = s.id;
    c.vendor = s.vendor;
    c.purl = make_purl(s, "");
    c.cpe = make_cpe(s, "");
    c.cpe_aliases = make_cpe_aliases(s, "");
    c.source = "elf";
    c.evidence = std::move(p.evidence);
    found.push_back(std::move(c));
  }
  result.components.insert(result.components.end(), std::make_move_iterator(found.begin()),
                           std::make_move_iterator(found.end()));
  std::ranges::stable_sort(result.components, [](const Component& a, const Component& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.version != b.version) return a.version < b.version;
    return a.evidence.front().path < b.evidence.front().path;
  });
  return std::move(result);
}

Identification identify(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                        const Identifier& identifier, const IdentifyOptions& options) {
  IdentifyPass pass(tree, out_dir, identifier, options);
  auto opened =
      options.plain_directory ? TreeFiles::open_directory(out_dir) : TreeFiles::open(out_dir);
  if (opened) {
    std::optional<TaskPool> own;
    TaskPool& pool = options.pool ? *options.pool : own.emplace(options.threads);
    FileVisitor* visitors[] = {&pass};
    run_file_pass(tree, *opened, pool, visitors);
  }
  return pass.finish();
}

}  // namespace probity
