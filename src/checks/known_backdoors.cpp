// known-backdoor: the YARA rule pack of real historical back doors (data/rules/*.yar, each rule
// citing its public source) plus the user's own rules (CheckOptions::rules_dir).
#include "checks_support/check.hpp"
#include "checks_support/yara_rules.hpp"
#include "probity/data.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "known-backdoor";

struct State {
  std::shared_ptr<YaraRules> rules;
  std::string error;
};

std::shared_ptr<void> prepare(Context& ctx) {
  auto st = std::make_shared<State>();
  auto r = YaraRules::compile({ctx.data_dir / "rules", ctx.opt.rules_dir});
  if (r)
    st->rules = *r;
  else
    st->error = r.error().message;
  return st;
}

Severity severity_of(const std::map<std::string, std::string>& meta) {
  auto it = meta.find("severity");
  if (it == meta.end()) return Severity::kCritical;
  if (it->second == "info") return Severity::kInfo;
  if (it->second == "low") return Severity::kLow;
  if (it->second == "medium") return Severity::kMedium;
  if (it->second == "high") return Severity::kHigh;
  return Severity::kCritical;
}

void on_file(const Context&, void* state, const FileView& f, Emitter& em) {
  auto* st = static_cast<State*>(state);
  if (!st->rules) return;
  for (const auto& m : st->rules->scan(f.bytes())) {
    auto get = [&](const char* k) {
      auto it = m.meta.find(k);
      return it == m.meta.end() ? std::string() : it->second;
    };
    std::string desc = get("description");
    std::string source = get("source");
    em.add("yara:" + m.rule, kCat, severity_of(m.meta), f.rec(), f.location(),
           (desc.empty() ? "matches YARA rule " + m.rule : desc) +
               (source.empty() ? "" : " (source: " + source + ")"),
           m.rule + "\n" + m.matched, m.matched, m.offset);
  }
}

void on_tree(Context&, void* state, Emitter& em) {
  auto* st = static_cast<State*>(state);
  if (!st->error.empty())
    em.add_image("yara-rules-error", kCat, Severity::kHigh,
                 "the known-backdoor check did not run: " + st->error, "rules");
}

}  // namespace

const Check kCheck_known_backdoors{.id = "known_backdoors",
                                   .category = kCat,
                                   .description = "YARA rule pack of historical back doors",
                                   .prepare = prepare,
                                   .on_file = on_file,
                                   .on_tree = on_tree};

}  // namespace probity::checks

namespace probity {

Status validate_rules(const std::filesystem::path& rules_dir,
                      const std::filesystem::path& data_dir) {
  const auto data = data_dir.empty() ? probity::data_dir() : data_dir;
  if (!rules_dir.empty() && !std::filesystem::is_directory(rules_dir))
    return fail("not a directory (--rules takes a directory of .yar files)", 0, rules_dir.string());
  auto r = checks::YaraRules::compile({data / "rules", rules_dir});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace probity
