// credentials: password hashes in shadow/passwd tried with libcrypt against the bundled list of
// vendor-default and botnet credentials (data/credentials/default-passwords.txt); weak schemes.
#include <crypt.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <set>

#include "checks_support/accounts.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "credentials";
/// Wall-clock budget for trying the list against one hash (bcrypt/yescrypt are slow on purpose).
constexpr auto kCrackBudget = std::chrono::milliseconds(4000);

struct Candidate {
  std::string user, password, source;
};

/// Reads the list; `capped` is set when entries beyond kMaxCredentialCandidates were left out.
std::vector<Candidate> load_list(const std::filesystem::path& file, bool& capped) {
  std::vector<Candidate> out;
  std::ifstream in(file);
  std::string line, source = "vendor default";
  while (std::getline(in, line)) {
    auto t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (out.size() == kMaxCredentialCandidates && t.front() != '[') {
      capped = true;
      break;
    }
    if (t.front() == '[' && t.back() == ']') {
      source = std::string(t.substr(1, t.size() - 2));
      continue;
    }
    auto c = t.find(':');
    if (c == std::string_view::npos) continue;
    out.push_back({std::string(t.substr(0, c)), std::string(t.substr(c + 1)), source});
  }
  return out;
}

/// The crypt scheme of a hash ("" when locked or not a hash).
std::string scheme(std::string_view h) {
  if (h.empty() || h[0] == '!' || h[0] == '*' || h == "x") return "";
  if (h.starts_with("$1$")) return "md5";
  if (h.starts_with("$5$")) return "sha256";
  if (h.starts_with("$6$")) return "sha512";
  if (h.starts_with("$2a$") || h.starts_with("$2b$") || h.starts_with("$2y$")) return "bcrypt";
  if (h.starts_with("$y$")) return "yescrypt";
  if (h.starts_with("$gy$")) return "gost-yescrypt";
  if (h.starts_with("$7$")) return "scrypt";
  if (h.size() == 20 && h[0] == '_') return "bsdi-des";
  if (h.size() == 13 &&
      h.find_first_not_of("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                          "rstuvwxyz") == std::string_view::npos)
    return "des";
  if (h.starts_with("$")) return "unknown";
  return "";
}

struct Hit {
  std::string password, source;
};

std::optional<Hit> crack(const std::string& user, const std::string& hash,
                         const std::vector<Candidate>& list, bool& budget_hit) {
  auto data = std::make_unique<crypt_data>();
  auto start = std::chrono::steady_clock::now();
  std::set<std::string> tried;
  // Pairs naming this user first, then every other password on the list.
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& c : list) {
      if ((pass == 0) != (c.user == user)) continue;
      if (!tried.insert(c.password).second) continue;
      if (std::chrono::steady_clock::now() - start > kCrackBudget) {
        budget_hit = true;
        return std::nullopt;
      }
      std::memset(data.get(), 0, sizeof(crypt_data));
      const char* r = crypt_r(c.password.c_str(), hash.c_str(), data.get());
      if (r && r[0] != '*' && hash == r) return Hit{c.password, c.source};
    }
  return std::nullopt;
}

void on_tree(Context& ctx, void*, Emitter& em) {
  auto dbs = load_account_dbs(ctx);
  if (dbs.empty()) return;
  bool capped = false;
  auto list = load_list(ctx.data_dir / "credentials" / "default-passwords.txt", capped);
  if (capped)
    em.add_image("check-cap", kCat, Severity::kInfo,
                 "the default-password list was read up to kMaxCredentialCandidates = " +
                     std::to_string(kMaxCredentialCandidates) + " entries; the rest was not tried",
                 "kMaxCredentialCandidates");
  for (const auto& db : dbs) {
    struct Item {
      const FileRecord* file;
      std::string user, hash;
      std::uint64_t offset;
    };
    std::vector<Item> items;
    for (const auto& u : db.users) items.push_back({db.passwd, u.name, u.password, u.offset});
    for (const auto& s : db.shadows) items.push_back({db.shadow, s.name, s.hash, s.offset});
    for (const auto& it : items) {
      std::string sch = scheme(it.hash);
      if (sch.empty()) continue;
      const std::string& loc = ctx.location(*it.file);
      std::string shown =
          it.user + ":" + it.hash.substr(0, 24) + (it.hash.size() > 24 ? "..." : "");
      if (sch == "des" || sch == "md5" || sch == "bsdi-des")
        em.add("weak-password-hash", kCat, Severity::kMedium, *it.file, loc,
               "account '" + it.user + "' uses the weak password hash scheme " + sch +
                   " (crackable offline; use yescrypt or sha512crypt)",
               it.user + ":" + sch, shown, it.offset);
      if (it.file == db.passwd && !db.users.empty() && it.hash != "x")
        em.add("hash-in-passwd", kCat, Severity::kMedium, *it.file, loc,
               "account '" + it.user + "' keeps its password hash in the world-readable passwd",
               it.user, shown, it.offset);
      bool budget_hit = false;
      if (auto hit = crack(it.user, it.hash, list, budget_hit)) {
        auto& f = em.add("default-password", kCat, Severity::kHigh, *it.file, loc,
                         "account '" + it.user + "' has the default password '" + hit->password +
                             "' (" + hit->source + " list)",
                         it.user + ":" + hit->password, shown, it.offset);
        f.evidence.related.push_back(db.passwd->path);
      } else if (budget_hit) {
        em.add("password-check-incomplete", kCat, Severity::kInfo, *it.file, loc,
               "the default-password list was not fully tried against '" + it.user + "' (" + sch +
                   " is slow; kCrackBudget reached)",
               it.user, shown, it.offset);
      }
    }
  }
}

}  // namespace

const Check kCheck_default_credentials{
    .id = "default_credentials",
    .category = kCat,
    .description = "default and botnet passwords (libcrypt), weak password hash schemes",
    .on_tree = on_tree};

}  // namespace probity::checks
