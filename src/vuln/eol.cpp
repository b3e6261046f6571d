// End-of-life lookup over data/eol/*.json (format: data/eol/README.md).
#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>
#include <map>
#include <mutex>
#include <vector>

#include "core/text.hpp"
#include "probity/data.hpp"
#include "probity/json.hpp"
#include "probity/mapped_file.hpp"
#include "probity/vulndb.hpp"

namespace probity {
namespace {

// "1.0.2k" is in cycle "1.0.2"; "5.10.1" is in "5.10" but not in "5.1".
bool in_cycle(std::string_view version, std::string_view cycle) {
  if (cycle.empty() || !version.starts_with(cycle)) return false;
  if (version.size() == cycle.size()) return true;
  return !std::isdigit(static_cast<unsigned char>(version[cycle.size()]));
}

// The parsed files of one data directory, read once per process (a scan looks up every
// component; the tag-derived files hold up to ~100 lines each).
const std::vector<nlohmann::json>& eol_docs(const std::filesystem::path& dir) {
  static std::mutex mu;
  static std::map<std::filesystem::path, std::vector<nlohmann::json>> cache;
  const std::lock_guard lock(mu);
  if (auto it = cache.find(dir); it != cache.end()) return it->second;
  auto& docs = cache[dir];
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    // A file over kMaxEolFileBytes or kMaxJsonDepth, or not JSON, is skipped like any other
    // file that names no product.
    const auto text = read_file_capped(entry.path(), kMaxEolFileBytes);
    if (!text) continue;
    auto parsed = parse_json_bounded(*text, entry.path().string(), kMaxEolFileBytes);
    if (!parsed || !parsed->is_object()) continue;
    docs.push_back(std::move(*parsed));
  }
  return docs;
}

}  // namespace

namespace {
std::string utc_now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string today_utc() {
  return utc_now("%Y-%m-%d");
}

std::string now_utc() {
  return utc_now("%Y-%m-%dT%H:%M:%SZ");
}

std::optional<Eol> eol_for(std::string_view product, std::string_view version,
                           std::string_view today, const std::filesystem::path& eol_dir) {
  namespace fs = std::filesystem;
  const fs::path dir = eol_dir.empty() ? data_dir() / "eol" : eol_dir;
  const std::string want = lower(product);
  if (want.empty() || version.empty()) return std::nullopt;
  std::string_view v = version;
  if (v.size() > 1 && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  for (const nlohmann::json& doc : eol_docs(dir)) {
    bool named = lower(doc.value("product", "")) == want;
    if (const auto it = doc.find("names"); !named && it != doc.end() && it->is_array())
      for (const auto& n : *it)
        if (n.is_string() && lower(n.get<std::string>()) == want) named = true;
    if (!named) continue;
    const auto cycles = doc.find("cycles");
    if (cycles == doc.end() || !cycles->is_array()) return std::nullopt;
    const nlohmann::json* best = nullptr;
    std::size_t best_len = 0;
    for (const auto& c : *cycles) {
      if (!c.is_object() || !c.contains("cycle") || !c["cycle"].is_string()) continue;
      const auto cycle = c["cycle"].get<std::string>();
      if (in_cycle(v, cycle) && cycle.size() > best_len) best = &c, best_len = cycle.size();
    }
    if (!best || !best->contains("eol") || !(*best)["eol"].is_string()) return std::nullopt;
    Eol e;
    e.cycle = (*best)["cycle"].get<std::string>();
    e.date = (*best)["eol"].get<std::string>();
    e.reached = !today.empty() && std::string_view(e.date) <= today;
    return e;
  }
  return std::nullopt;
}

}  // namespace probity
