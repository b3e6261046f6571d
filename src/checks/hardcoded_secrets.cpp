// credentials: hard-coded passwords and tokens: `key = literal` in configs and scripts
// (password/passwd/secret/token/psk keys) and `key=literal` strings inside binaries.
#include <algorithm>
#include <array>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "checks_support/check.hpp"
#include "checks_support/literals.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "credentials";

constexpr std::array<std::string_view, 12> kKeys = {
    "password", "passwd",  "passphrase", "pwd", "secret", "token",
    "apikey",   "api_key", "auth_key",   "psk", "pass",   "access_key"};

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool placeholder(std::string_view v) {
  static constexpr std::array<std::string_view, 14> kNot = {
      "none",     "null",     "nil",  "true", "false",  "yes",      "no",
      "required", "optional", "xxxx", "****", "string", "password", "undefined"};
  std::string l = lower(v);
  for (auto p : kNot)
    if (l == p) return true;
  // Variable references, format strings, templates, globs, paths, alternatives: not literals.
  if (v.find_first_of("$%<>{}`()[]\\*/|") != std::string_view::npos) return true;
  // PASSWORD, STRING, PASS: placeholders in usage texts.
  if (std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }))
    return true;
  if (v.find("...") != std::string_view::npos) return true;
  return false;
}

/// In `s`, a key naming a secret followed by '=' or ':' (or, after "option", a space) and a
/// literal value. Returns {key, value}.
/// `quoted_only`: in program code (Python, Perl, ...) an unquoted value is a variable.
std::optional<std::pair<std::string, std::string>> key_value(std::string_view s, bool binary,
                                                             bool quoted_only = false) {
  std::string l = lower(s);
  for (auto k : kKeys) {
    for (std::size_t at = l.find(k); at != std::string::npos; at = l.find(k, at + 1)) {
      // Expand to the whole identifier (admin_password, wpa_psk, ...).
      std::size_t a = at, b = at + k.size();
      while (a > 0 && ident_char(s[a - 1])) --a;
      while (b < s.size() && ident_char(s[b])) ++b;
      std::string_view ident = s.substr(a, b - a);
      // Command-line options (--password=PASS) are documentation, not configuration.
      if (ident.size() > 40 || ident.starts_with("-")) continue;
      std::string li = lower(ident);
      // "pass" must be the whole word or end the identifier (not "passive", "bypass_x").
      if (k == "pass" && !(li == "pass" || li.ends_with("_pass"))) continue;
      if (k == "pwd" && !(li == "pwd" || li.ends_with("_pwd"))) continue;
      if (k == "psk" && !(li == "psk" || li.ends_with("_psk") || li.ends_with("psk"))) continue;
      std::size_t i = b;
      if (i < s.size() && (s[i] == '"' || s[i] == '\'')) ++i;
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      bool option_style = !binary && trim(s.substr(0, a)).ends_with("option");
      if (i < s.size() && (s[i] == '=' || s[i] == ':')) {
        // "key: value" only as a line's key (YAML/JSON style), not inside prose.
        if (s[i] == ':' && !binary) {
          auto head = trim(s.substr(0, a));
          if (!(head.empty() || head == "\"" || head == "'" || head.ends_with("{") ||
                head.ends_with(",")))
            continue;
        }
        ++i;
        if (i < s.size() && s[i] == '=') continue;  // "==" is a comparison
      } else if (!option_style) {
        continue;
      }
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      char q = 0;
      if (i < s.size() && (s[i] == '"' || s[i] == '\'')) q = s[i++];
      std::size_t j = i;
      while (j < s.size() && (q ? s[j] != q
                                : (s[j] != ' ' && s[j] != '\t' && s[j] != ';' && s[j] != ',' &&
                                   s[j] != '&' && s[j] != '"')))
        ++j;
      if (q && j >= s.size()) continue;  // unterminated quote: not a literal
      if (quoted_only && !q) continue;
      std::string_view v = s.substr(i, j - i);
      if (v.size() < 4 || v.size() > kMaxSecretLength || placeholder(v)) continue;
      // A value that is itself an identifier-like key name (password=password_file) is a
      // reference, not a secret, when it contains the key word again.
      if (lower(v).find(k) != std::string::npos && v.find('_') != std::string_view::npos) continue;
      return std::pair{std::string(ident), std::string(v)};
    }
  }
  return std::nullopt;
}

bool is_shell_script(std::string_view text) {
  auto first = text.substr(0, text.find('\n'));
  for (std::string_view sh : {"/sh", "/ash", "/bash", "/dash", "/ksh", "/zsh", "env sh", "busybox"})
    if (first.find(sh) != std::string_view::npos) return true;
  return false;
}

/// Sample values stock configuration files ship with (data/credentials/stock-config-samples.txt):
/// {file name, key, value}.
using Sample = std::tuple<std::string, std::string, std::string>;

struct State {
  Literals literals{std::vector<std::string>(kKeys.begin(), kKeys.end()), /*single=*/false};
  std::set<Sample> samples;
};

std::shared_ptr<void> prepare(Context& ctx) {
  auto st = std::make_shared<State>();
  std::ifstream in(ctx.data_dir / "credentials" / "stock-config-samples.txt");
  std::string line;
  while (st->samples.size() < kMaxSecretSamples && std::getline(in, line)) {
    std::istringstream words(line);
    std::string file, key, value;
    if (!(words >> file >> key >> value) || file.starts_with("#")) continue;
    st->samples.insert({file, lower(key), value});
  }
  return st;
}

/// Whether `key = value` in the file is the stock file's own sample value.
bool stock_sample(const State& st, const FileView& f, const std::string& key,
                  const std::string& value) {
  const std::string path = f.path();
  const auto slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return st.samples.contains({name, lower(key), value});
}

void on_file(const Context&, void* state, const FileView& f, Emitter& em) {
  const auto& st = *static_cast<const State*>(state);
  std::size_t n = 0;
  if (f.is_text()) {
    if (f.bytes().size() > kMaxConfigBytes) return;
    // Scripts other than shell (python, perl, node...): only quoted values are literals.
    const bool code = f.kind() == "script" && !is_shell_script(f.text());
    for_each_line(f.text(), [&](std::string_view line, std::uint64_t off) {
      if (n >= kMaxSecretsPerFile) return;
      auto t = trim(line);
      if (t.empty() || t[0] == '#' || t.starts_with("//") || t.starts_with(";")) return;
      if (auto kv = key_value(t, false, code)) {
        if (stock_sample(st, f, kv->first, kv->second)) return;
        ++n;
        em.add("hardcoded-secret", kCat, Severity::kMedium, f.rec(), f.location(),
               "hard-coded " + kv->first + " with a literal value", kv->first + "=" + kv->second,
               excerpt(t), off);
      }
    });
  } else if (f.is_elf()) {
    // One vectorscan pass for the key words; only the strings around a hit are parsed.
    std::set<std::uint64_t> done;
    st.literals.scan(f.bytes(), [&](unsigned, std::uint64_t end) {
      std::uint64_t off = 0;
      auto s = string_around(f.bytes(), end - 1, &off);
      if (s.size() < kMinStringLength || !done.insert(off).second) return true;
      if (auto kv = key_value(s, true)) {
        ++n;
        em.add("hardcoded-secret-binary", kCat, Severity::kLow, f.rec(), f.location(),
               "string in binary assigns a literal to " + kv->first, kv->first + "=" + kv->second,
               excerpt(s), off);
      }
      return n < kMaxSecretsPerFile;
    });
  }
  if (n >= kMaxSecretsPerFile) em.cap_hit(f, kCat, "kMaxSecretsPerFile", kMaxSecretsPerFile);
}

}  // namespace

const Check kCheck_hardcoded_secrets{
    .id = "hardcoded_secrets",
    .category = kCat,
    .description = "hard-coded passwords, secrets and tokens in configs, scripts and binaries",
    .prepare = prepare,
    .on_file = on_file};

}  // namespace probity::checks
