#include "checks_support/yara_rules.hpp"

#include <yara.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

std::mutex g_init_mutex;
int g_init_count = 0;

struct CompileErrors {
  std::string text;
};

void on_compile_message(int level, const char* file, int line, const YR_RULE*, const char* msg,
                        void* user) {
  if (level != YARA_ERROR_LEVEL_ERROR) return;
  auto* e = static_cast<CompileErrors*>(user);
  if (!e->text.empty()) e->text += "; ";
  e->text += std::string(file ? file : "?") + ":" + std::to_string(line) + ": " + msg;
}

YaraMatch describe(const YR_RULE* rule) {
  YaraMatch m;
  m.rule = rule->identifier;
  const YR_META* meta;
  yr_rule_metas_foreach(rule, meta) {
    if (meta->type == META_TYPE_STRING)
      m.meta[meta->identifier] = meta->string;
    else
      m.meta[meta->identifier] = std::to_string(meta->integer);
  }
  return m;
}

struct ScanState {
  std::vector<YaraMatch>* out;
};

int on_scan_message(YR_SCAN_CONTEXT* ctx, int message, void* data, void* user) {
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  auto* st = static_cast<ScanState*>(user);
  const auto* rule = static_cast<const YR_RULE*>(data);
  YaraMatch m = describe(rule);
  bool got = false;
  const YR_STRING* s;
  yr_rule_strings_foreach(rule, s) {
    // libyara 4.2 allocates YR_MATCH records from a notebook that does not align them (UBSan:
    // misaligned member access), so each one is copied out before it is read, instead of
    // yr_string_matches_foreach dereferencing it in place.
    for (const void* at = ctx->matches[s->idx].head; at != nullptr && !got;) {
      YR_MATCH match;
      std::memcpy(&match, at, sizeof match);
      at = match.next;
      if (match.is_private) continue;
      m.matched = excerpt(std::string_view(reinterpret_cast<const char*>(match.data),
                                           std::size_t(match.data_length)),
                          120);
      m.offset = std::uint64_t(match.base + match.offset);
      got = true;
    }
    if (got) break;
  }
  st->out->push_back(std::move(m));
  return CALLBACK_CONTINUE;
}

}  // namespace

Result<std::shared_ptr<YaraRules>> YaraRules::compile(
    const std::vector<std::filesystem::path>& dirs) {
  {
    std::lock_guard lock(g_init_mutex);
    if (g_init_count++ == 0 && yr_initialize() != ERROR_SUCCESS) {
      --g_init_count;
      return fail("libyara failed to initialise");
    }
  }
  std::shared_ptr<YaraRules> r(new YaraRules());
  YR_COMPILER* c = nullptr;
  if (yr_compiler_create(&c) != ERROR_SUCCESS) return fail("cannot create a YARA compiler");
  CompileErrors errors;
  yr_compiler_set_callback(c, on_compile_message, &errors);
  int failures = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.is_regular_file() &&
          (e.path().extension() == ".yar" || e.path().extension() == ".yara"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      FILE* fp = std::fopen(p.c_str(), "r");
      if (!fp) {
        ++failures;
        errors.text += (errors.text.empty() ? "" : "; ") + p.string() + ": cannot open";
        continue;
      }
      failures += yr_compiler_add_file(c, fp, nullptr, p.c_str());
      std::fclose(fp);
      if (failures) break;  // libyara: no more files may be added after an error
    }
    if (failures) break;
  }
  if (failures) {
    yr_compiler_destroy(c);
    return fail("YARA rules do not compile: " + errors.text + " (fix the rule file)");
  }
  if (yr_compiler_get_rules(c, &r->rules_) != ERROR_SUCCESS) {
    yr_compiler_destroy(c);
    return fail("YARA rules could not be built");
  }
  yr_compiler_destroy(c);
  return r;
}

YaraRules::~YaraRules() {
  if (rules_) yr_rules_destroy(rules_);
  std::lock_guard lock(g_init_mutex);
  if (--g_init_count == 0) yr_finalize();
}

std::vector<YaraMatch> YaraRules::scan(Bytes b) const {
  std::vector<YaraMatch> out;
  if (!rules_ || b.empty()) return out;
  ScanState st{&out};
  yr_rules_scan_mem(rules_, b.data(), b.size(), SCAN_FLAGS_FAST_MODE, on_scan_message, &st,
                    kYaraTimeoutSeconds);
  return out;
}

std::vector<YaraMatch> YaraRules::rules() const {
  std::vector<YaraMatch> out;
  if (!rules_) return out;
  const YR_RULE* rule;
  yr_rules_foreach(rules_, rule) out.push_back(describe(rule));
  return out;
}

}  // namespace probity::checks
