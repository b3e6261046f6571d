// remote-access: debug and factory modes left in binaries and scripts ("factory mode",
// "debug shell", manufacturing "mfg" hooks): hidden switches that open a way in.
#include <array>
#include <set>

#include "checks_support/check.hpp"
#include "checks_support/literals.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "remote-access";

constexpr std::array<std::string_view, 14> kMarkers = {
    "factory mode", "factory_mode", "factorymode",  "debug shell",    "debug_shell",
    "debugshell",   "mfg mode",     "mfg_mode",     "mfgmode",        "engineering mode",
    "backdoor",     "back door",    "hidden shell", "telnet_backdoor"};

std::shared_ptr<void> prepare(Context&) {
  return std::make_shared<Literals>(std::vector<std::string>(kMarkers.begin(), kMarkers.end()),
                                    /*single=*/true);
}

void on_file(const Context&, void* state, const FileView& f, Emitter& em) {
  if (!f.is_elf() && f.kind() != "script") return;
  std::size_t n = 0;
  static_cast<const Literals*>(state)->scan(f.bytes(), [&](unsigned id, std::uint64_t end) {
    std::uint64_t start = 0;
    auto s = string_around(f.bytes(), end - 1, &start);
    em.add("debug-mode", kCat, Severity::kMedium, f.rec(), f.location(),
           "debug/factory mode marker '" + std::string(kMarkers[id]) + "'",
           std::string(kMarkers[id]), excerpt(s), start);
    return ++n < kMaxDebugHitsPerFile;
  });
  if (n >= kMaxDebugHitsPerFile) em.cap_hit(f, kCat, "kMaxDebugHitsPerFile", kMaxDebugHitsPerFile);
}

}  // namespace

const Check kCheck_debug_modes{.id = "debug_modes",
                               .category = kCat,
                               .description = "debug, factory and manufacturing mode markers",
                               .prepare = prepare,
                               .on_file = on_file};

}  // namespace probity::checks
