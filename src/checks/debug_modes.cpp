// remote-access: debug and factory modes left in binaries and scripts ("factory mode",
// "debug shell", manufacturing "mfg" hooks): hidden switches that open a way in.
#include <array>
#include <set>

#include "checks_support/check.hpp"
#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "remote-access";
/// Findings per file.
constexpr std::size_t kMaxDebugHitsPerFile = 10;

constexpr std::array<std::string_view, 14> kMarkers = {
    "factory mode", "factory_mode", "factorymode",  "debug shell",    "debug_shell",
    "debugshell",   "mfg mode",     "mfg_mode",     "mfgmode",        "engineering mode",
    "backdoor",     "back door",    "hidden shell", "telnet_backdoor"};

void on_file(const Context&, void*, const FileView& f, Emitter& em) {
  if (!f.is_elf() && f.kind() != "script") return;
  std::size_t n = 0;
  std::set<std::string_view> seen;
  for_each_string(f.bytes(), [&](std::string_view s, std::uint64_t off) {
    if (n >= kMaxDebugHitsPerFile) return;
    std::string l = lower(s);
    for (auto m : kMarkers)
      if (l.find(m) != std::string::npos && seen.insert(m).second) {
        ++n;
        em.add("debug-mode", kCat, Severity::kMedium, f.rec(), f.location(),
               "debug/factory mode marker '" + std::string(m) + "'", std::string(m), excerpt(s),
               off);
        return;
      }
  });
}

}  // namespace

const Check kCheck_debug_modes{.id = "debug_modes",
                               .category = kCat,
                               .description = "debug, factory and manufacturing mode markers",
                               .on_file = on_file};

}  // namespace probity::checks
