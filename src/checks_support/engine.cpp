// The checks driver: reads each regular file once, runs every check's per-file hook on it in a
// pool of threads, then the tree-level hooks, then correlation.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <tuple>

#include "checks_support/check.hpp"
#include "checks_support/elf_info.hpp"
#include "checks_support/pass.hpp"
#include "probity/data.hpp"
#include "probity/hash.hpp"
#include "probity/inventory.hpp"
#include "probity/mapped_file.hpp"
#include "probity/task_pool.hpp"

namespace probity {
namespace checks {

FileView::~FileView() = default;

const ElfInfo* FileView::elf() const {
  if (!elf_done_) {
    elf_done_ = true;
    if (auto e = parse_elf(bytes_)) elf_ = std::make_unique<ElfInfo>(std::move(*e));
  }
  return elf_.get();
}

const std::vector<const Check*>& all_checks() {
  static const std::vector<const Check*> kAll = {
#define PROBITY_CHECK(id) &kCheck_##id,
#include "checks/checks.def"
#undef PROBITY_CHECK
  };
  return kAll;
}

std::vector<const FileRecord*> Context::find(std::string_view suffix) const {
  std::vector<const FileRecord*> out;
  for (const auto& f : tree.files)
    if (f.type == EntryType::kFile && !f.extracted.empty() &&
        (f.path == suffix || (f.path.size() > suffix.size() && f.path.ends_with(suffix) &&
                              f.path[f.path.size() - suffix.size() - 1] == '/')))
      out.push_back(&f);
  return out;
}

std::optional<std::string> Context::read(const FileRecord& f, std::uint64_t cap) const {
  auto s = files.read(f, cap);
  if (!s) return std::nullopt;
  return std::move(*s);
}

const std::string& Context::location(const FileRecord& f) const {
  static const std::string kEmpty;
  std::size_t i = std::size_t(&f - tree.files.data());
  return i < locations.size() ? locations[i] : kEmpty;
}

Finding& Emitter::add(std::string_view rule, std::string_view category, Severity severity,
                      const FileRecord& file, const std::string& location, std::string message,
                      std::string_view evidence_key, std::string excerpt, std::uint64_t offset) {
  Finding f;
  f.id = finding_id(rule, location, evidence_key);
  f.rule = rule;
  f.category = category;
  f.severity = severity;
  f.path = file.path;
  f.container = file.container;
  f.message = std::move(message);
  f.evidence.excerpt = std::move(excerpt);
  f.evidence.offset = offset;
  findings.push_back(std::move(f));
  return findings.back();
}

void Emitter::cap_hit(const FileView& f, std::string_view category, std::string_view cap,
                      std::uint64_t value) {
  cap_hit(f.rec(), f.location(), category, cap, value);
}

void Emitter::cap_hit(const FileRecord& file, const std::string& location,
                      std::string_view category, std::string_view cap, std::uint64_t value) {
  add("check-cap", category, Severity::kInfo, file, location,
      std::string(category) + " findings for this file stopped at " + std::string(cap) + " = " +
          std::to_string(value) + "; the rest of the file was not reported",
      cap);
}

Finding& Emitter::add_image(std::string_view rule, std::string_view category, Severity severity,
                            std::string message, std::string_view evidence_key) {
  Finding f;
  f.id = finding_id(rule, "", evidence_key);
  f.rule = rule;
  f.category = category;
  f.severity = severity;
  f.message = std::move(message);
  findings.push_back(std::move(f));
  return findings.back();
}

}  // namespace checks

std::string finding_id(std::string_view rule, std::string_view location,
                       std::string_view evidence_key) {
  std::string s;
  s.reserve(rule.size() + location.size() + evidence_key.size() + 2);
  s.append(rule).append("\n").append(location).append("\n").append(evidence_key);
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}).substr(0, 16);
}

std::string normalised_location(const FileRecord& f) {
  std::string loc;
  for (std::size_t i = 0; i < f.origin.size(); ++i) {
    if (i > 0) loc += ">" + f.origin[i].source + ">";
    loc += f.origin[i].format;
  }
  return loc + ":" + f.path;
}

std::vector<std::string> check_ids() {
  std::vector<std::string> ids;
  for (const auto* c : checks::all_checks()) ids.emplace_back(c->id);
  return ids;
}

struct CheckPass::State {
  std::filesystem::path out_dir;
  CheckOptions opt;
  checks::Context ctx;
  std::vector<std::shared_ptr<void>> states;
  std::vector<checks::Emitter> emitters;
  State(const ArtifactTree& tree, std::filesystem::path dir, CheckOptions o)
      : out_dir(std::move(dir)), opt(std::move(o)), ctx{tree, out_dir, opt} {}
};

CheckPass::CheckPass(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                     const CheckOptions& opt)
    : s_(std::make_unique<State>(tree, out_dir, opt)) {
  using namespace checks;
  auto& ctx = s_->ctx;
  ctx.data_dir = opt.data_dir.empty() ? data_dir() : opt.data_dir;
  // A plain directory (a source tree, `probity source`) rather than an unpack output: its
  // records' `extracted` paths are inside it, not under extracted/<id>-<format>/.
  const bool plain = std::any_of(tree.files.begin(), tree.files.end(), [](const FileRecord& f) {
    return !f.extracted.empty() && !f.extracted.starts_with("extracted/");
  });
  if (auto opened = plain ? TreeFiles::open_directory(out_dir) : TreeFiles::open(out_dir))
    ctx.files = std::move(*opened);
  ctx.locations.reserve(tree.files.size());
  for (const auto& f : tree.files) ctx.locations.push_back(normalised_location(f));
  const auto& all = all_checks();
  s_->states.resize(all.size());
  for (std::size_t c = 0; c < all.size(); ++c)
    if (all[c]->prepare) s_->states[c] = all[c]->prepare(ctx);
}

CheckPass::~CheckPass() = default;

const TreeFiles& CheckPass::files() const {
  return s_->ctx.files;
}

void CheckPass::start(unsigned slots) {
  s_->emitters.resize(slots);
}

void CheckPass::visit(std::size_t i, Bytes b, unsigned slot) {
  using namespace checks;
  auto& ctx = s_->ctx;
  const auto& all = all_checks();
  Emitter& em = s_->emitters[slot];
  const FileRecord& f = ctx.tree.files[i];
  if (b.size() > kMaxCheckFileBytes) {
    b = b.first(kMaxCheckFileBytes);
    em.add("check-file-cap", "hardening", Severity::kInfo, f, ctx.locations[i],
           "only the first " + std::to_string(kMaxCheckFileBytes) +
               " bytes were checked (kMaxCheckFileBytes)",
           "cap");
  }
  FileView view(
      f, ctx.locations[i], b,
      f.kind.empty() ? classify(b.first(std::min<std::size_t>(b.size(), 65536))) : f.kind);
  for (std::size_t c = 0; c < all.size(); ++c)
    if (all[c]->on_file) all[c]->on_file(ctx, s_->states[c].get(), view, em);
}

std::vector<Finding> CheckPass::finish(HardeningStats* stats, Facts* facts) {
  using namespace checks;
  auto& ctx = s_->ctx;
  const auto& all = all_checks();
  auto& states = s_->states;
  Emitter tree_em;
  for (std::size_t c = 0; c < all.size(); ++c)
    if (all[c]->on_tree) all[c]->on_tree(ctx, states[c].get(), tree_em);

  std::vector<Finding> out = std::move(tree_em.findings);
  for (auto& em : s_->emitters)
    std::move(em.findings.begin(), em.findings.end(), std::back_inserter(out));
  // Per-thread emitters finish in any order: sort before the correlation hooks too, so what they
  // build from the order they see (evidence keys, hence finding ids) is the same every run.
  auto canonical = [](std::vector<Finding>& v) {
    std::sort(v.begin(), v.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.path, a.rule, a.id) < std::tie(b.path, b.rule, b.id);
    });
  };
  canonical(out);
  for (const auto* c : all)
    if (c->on_findings) c->on_findings(ctx, out);
  canonical(out);
  // The same problem found twice (e.g. one string at two offsets) is one finding.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Finding& a, const Finding& b) { return a.id == b.id; }),
            out.end());
  if (stats) *stats = ctx.stats;
  if (facts) {
    // Hooks ran on several threads: a canonical order makes equal trees give equal facts.
    auto& x = ctx.facts;
    auto by = [](auto& v, auto key) {
      std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
      v.erase(std::unique(v.begin(), v.end(),
                          [&](const auto& a, const auto& b) { return key(a) == key(b); }),
              v.end());
    };
    by(x.accounts, [](const AccountFact& a) { return std::tie(a.location, a.name, a.uid); });
    by(x.services,
       [](const ServiceFact& a) { return std::tie(a.location, a.how, a.name, a.command); });
    by(x.endpoints, [](const EndpointFact& a) { return std::tie(a.location, a.kind, a.value); });
    by(x.keys, [](const KeyFact& a) { return std::tie(a.location, a.role, a.fingerprint); });
    by(x.hardening, [](const HardeningFact& a) { return std::tie(a.location); });
    *facts = std::move(x);
  }
  states.clear();
  return out;
}

std::vector<Finding> run_checks(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                                const CheckOptions& opt, HardeningStats* stats, Facts* facts) {
  CheckPass pass(tree, out_dir, opt);
  std::optional<TaskPool> own;
  TaskPool& pool = opt.pool ? *opt.pool : own.emplace(opt.threads);
  FileVisitor* visitors[] = {&pass};
  run_file_pass(tree, pass.files(), pool, visitors);
  return pass.finish(stats, facts);
}

}  // namespace probity
