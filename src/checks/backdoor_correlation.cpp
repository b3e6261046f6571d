// Correlation: a credential finding names the service that accepts it. A default (or empty)
// password plus a login service started at boot in the same filesystem is one critical back-door
// finding ("backdoor-login") that replaces the credential finding and lists both files.
#include <map>

#include "checks_support/check.hpp"
#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

/// Which service findings accept which credentials.
struct Accepts {
  bool any_user;     ///< false: root only
  bool default_pw;   ///< accepts a (known) password
  bool empty_pw;     ///< accepts an empty password
  const char* name;  ///< for the message
};
const std::map<std::string_view, Accepts>& services() {
  static const std::map<std::string_view, Accepts> kServices = {
      {"telnetd-enabled", {true, true, true, "telnetd"}},
      {"dropbear-root-password-login", {true, true, false, "dropbear (password login)"}},
      {"dropbear-password-login", {true, true, false, "dropbear (password login, not root)"}},
      {"dropbear-blank-password", {true, false, true, "dropbear -B (blank passwords)"}},
      {"sshd-root-login", {false, true, false, "sshd (PermitRootLogin yes)"}},
      {"sshd-password-login", {true, true, false, "sshd (PasswordAuthentication yes)"}},
      {"sshd-empty-passwords", {true, false, true, "sshd (PermitEmptyPasswords yes)"}},
  };
  return kServices;
}

void on_findings(const Context& ctx, std::vector<Finding>& all) {
  std::vector<Finding> added;
  std::vector<bool> drop(all.size(), false);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Finding& c = all[i];
    bool is_default = c.rule == "default-password";
    bool is_empty = c.rule == "account-empty-password";
    if (!is_default && !is_empty) continue;
    std::string user = c.evidence.excerpt.substr(0, c.evidence.excerpt.find(':'));
    std::vector<const Finding*> via;
    for (const auto& s : all) {
      auto it = services().find(s.rule);
      if (it == services().end() || s.container != c.container) continue;
      const Accepts& a = it->second;
      if (!a.any_user && user != "root") continue;
      if (s.rule == "dropbear-password-login" && user == "root") continue;
      if ((is_default && a.default_pw) || (is_empty && a.empty_pw)) via.push_back(&s);
    }
    if (via.empty()) continue;
    Finding f;
    f.rule = "backdoor-login";
    f.category = "credentials";
    f.severity = Severity::kCritical;
    f.path = c.path;
    f.container = c.container;
    std::string names, key = c.id;
    for (const auto* s : via) {
      names += (names.empty() ? "" : ", ") + std::string(services().at(s->rule).name) + " (" +
               s->path + ")";
      key += "|" + s->rule + "@" + s->path;
      f.evidence.related.push_back(s->path);
    }
    for (const auto& r : c.evidence.related) f.evidence.related.push_back(r);
    f.message = c.message + "; it logs in remotely through " + names;
    f.evidence.excerpt = c.evidence.excerpt;
    f.evidence.offset = c.evidence.offset;
    std::string loc;
    for (const auto& r : ctx.tree.files)
      if (r.container == c.container && r.path == c.path) {
        loc = ctx.location(r);
        break;
      }
    f.id = finding_id(f.rule, loc, key);
    added.push_back(std::move(f));
    drop[i] = true;
  }
  std::vector<Finding> out;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!drop[i]) out.push_back(std::move(all[i]));
  for (auto& f : added) out.push_back(std::move(f));
  all = std::move(out);
}

}  // namespace

const Check kCheck_backdoor_correlation{
    .id = "backdoor_correlation",
    .category = "credentials",
    .description = "joins a default/empty password with the login service that accepts it",
    .on_findings = on_findings};

}  // namespace probity::checks
