// hardening: per ELF: NX, PIE, RELRO, stack canary, FORTIFY, RPATH/RUNPATH, stripped, imports of
// unsafe functions; image-level statistics (HardeningStats) as in Finite State's 2019 study.
// The verdicts follow checksec 2.6's rules (tests/unit/checks_hardening_test.cpp compares).
#include <array>
#include <ranges>

#include "checks_support/check.hpp"
#include "checks_support/elf_info.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "hardening";

constexpr std::array<std::string_view, 16> kUnsafe = {
    "strcpy", "strcat", "sprintf", "vsprintf", "gets",   "system", "popen",  "scanf",
    "sscanf", "fscanf", "stpcpy",  "strncpy",  "memcpy", "execl",  "execlp", "realpath"};
/// The worst of the unsafe ones (no bounds at all, or a shell).
bool very_unsafe(std::string_view n) {
  return n == "gets" || n == "strcpy" || n == "strcat" || n == "sprintf" || n == "vsprintf" ||
         n == "system" || n == "popen";
}

void on_file(const Context& ctx, void*, const FileView& f, Emitter& em) {
  if (!f.is_elf()) return;
  const ElfInfo* e = f.elf();
  if (!e || !(e->exec_type || e->dyn_type)) return;
  for (const auto& cap : e->caps_hit) em.cap_hit(f, kCat, cap.name, cap.value);
  const bool exe = e->executable();
  std::vector<std::string> unsafe;
  for (auto n : kUnsafe)
    if (e->imports.contains(std::string(n))) unsafe.emplace_back(n);
  {
    std::lock_guard lock(ctx.stats_mutex);
    auto& s = ctx.stats;
    ++s.binaries;
    if (exe) ++s.executables;
    if (e->nx()) ++s.nx;
    if (exe && e->pie()) ++s.pie;
    if (e->relro() == Relro::kPartial) ++s.relro_partial;
    if (e->relro() == Relro::kFull) ++s.relro_full;
    if (e->canary_symbol) ++s.canary;
    if (e->fortify_symbol) ++s.fortify;
    if (!e->rpath.empty() || !e->runpath.empty()) ++s.rpath;
    if (!e->has_symtab) ++s.stripped;
    for (const auto& n : unsafe) ++s.unsafe_calls[n];
    if (!unsafe.empty()) ++s.with_unsafe_calls;
  }
  {
    HardeningFact h{.path = f.path(),
                    .location = f.location(),
                    .executable = exe,
                    .nx = e->nx(),
                    .pie = exe && e->pie(),
                    .canary = e->canary_symbol,
                    .fortify = e->fortify_symbol,
                    .stripped = !e->has_symtab,
                    .relro = e->relro() == Relro::kFull      ? "full"
                             : e->relro() == Relro::kPartial ? "partial"
                                                             : "none",
                    .rpath = !e->rpath.empty() ? e->rpath : e->runpath};
    std::lock_guard lock(ctx.facts_mutex);
    ctx.facts.hardening.push_back(std::move(h));
  }
  const auto& r = f.rec();
  const auto& loc = f.location();
  if (!e->nx())
    em.add("hardening-no-nx", kCat, Severity::kMedium, r, loc,
           e->has_gnu_stack ? "executable stack (PT_GNU_STACK has PF_X)"
                            : "no PT_GNU_STACK: the stack is executable on most kernels",
           "nx");
  if (exe && !e->pie())
    em.add("hardening-no-pie", kCat, Severity::kLow, r, loc,
           "executable is not position independent (no ASLR)", "pie");
  if (e->relro() == Relro::kNone && e->has_dynamic)
    em.add("hardening-no-relro", kCat, Severity::kLow, r, loc, "no RELRO (GOT writable)", "relro");
  if (!e->canary_symbol && e->has_dynamic)
    em.add("hardening-no-canary", kCat, Severity::kLow, r, loc,
           "no stack canary (__stack_chk_fail not used)", "canary");
  auto origin_only = [](const std::string& p) {
    for (auto part : std::views::split(p, ':'))
      if (!std::string_view(part.begin(), part.end()).starts_with("$ORIGIN")) return false;
    return true;
  };
  if (!e->rpath.empty() || !e->runpath.empty())
    em.add("hardening-rpath", kCat,
           origin_only(e->rpath) && origin_only(e->runpath) ? Severity::kInfo : Severity::kLow, r,
           loc,
           std::string(!e->rpath.empty() ? "RPATH " + e->rpath : "RUNPATH " + e->runpath) +
               " (libraries may be loaded from an unexpected directory)",
           e->rpath + "|" + e->runpath);
  if (!unsafe.empty()) {
    std::string list;
    bool worst = false;
    for (const auto& n : unsafe) {
      list += (list.empty() ? "" : ", ") + n;
      worst = worst || very_unsafe(n);
    }
    if (worst)
      em.add("hardening-unsafe-functions", kCat,
             e->imports.contains("gets") ? Severity::kMedium : Severity::kLow, r, loc,
             "imports unsafe functions: " + list, list, list);
  }
}

void on_tree(Context& ctx, void*, Emitter& em) {
  const auto& s = ctx.stats;
  if (s.binaries == 0) return;
  auto pct = [](std::uint64_t a, std::uint64_t b) {
    return b ? std::to_string((a * 1000 / b) / 10) + "." + std::to_string((a * 1000 / b) % 10) + "%"
             : std::string("n/a");
  };
  std::string msg = std::to_string(s.binaries) + " ELF binaries (" + std::to_string(s.executables) +
                    " executables): NX " + pct(s.nx, s.binaries) + ", PIE " +
                    pct(s.pie, s.executables) + " of executables, RELRO full " +
                    pct(s.relro_full, s.binaries) + " partial " + pct(s.relro_partial, s.binaries) +
                    ", canary " + pct(s.canary, s.binaries) + ", FORTIFY " +
                    pct(s.fortify, s.binaries) + ", stripped " + pct(s.stripped, s.binaries) +
                    ", RPATH/RUNPATH " + std::to_string(s.rpath) + ", importing unsafe functions " +
                    pct(s.with_unsafe_calls, s.binaries);
  std::string calls;
  for (const auto& [n, c] : s.unsafe_calls)
    calls += (calls.empty() ? "" : ", ") + n + "=" + std::to_string(c);
  auto& f = em.add_image("hardening-stats", kCat, Severity::kInfo, msg, "stats");
  f.evidence.excerpt = calls;
}

}  // namespace

const Check kCheck_hardening{
    .id = "hardening",
    .category = kCat,
    .description = "NX, PIE, RELRO, canary, FORTIFY, RPATH, unsafe imports",
    .on_file = on_file,
    .on_tree = on_tree};

}  // namespace probity::checks
