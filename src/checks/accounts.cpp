// account: passwd/shadow/group, read together per etc/ directory (any container).
#include <map>
#include <set>

#include "checks_support/accounts.hpp"
#include "checks_support/text.hpp"
#include "probity/hash.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "account";

bool login_shell(std::string_view shell) {
  auto b = basename(shell);
  return b == "sh" || b == "ash" || b == "bash" || b == "dash" || b == "zsh" || b == "ksh" ||
         b == "mksh" || b == "hush" || b == "csh" || b == "tcsh" || b == "login";
}

/// The account as a fact for report.json (diff reports accounts added, removed and changed).
AccountFact account_fact(const Context& ctx, const AccountDb& db, const PasswdEntry& u,
                         const ShadowEntry* sh) {
  AccountFact a{.name = u.name,
                .uid = u.uid,
                .gid = u.gid,
                .shell = u.shell,
                .home = u.home,
                .path = db.passwd->path,
                .location = ctx.location(*db.passwd)};
  std::string_view hash = u.password;
  if (u.password == "x") {
    if (sh)
      hash = sh->hash;
    else
      a.password = db.shadow ? "locked" : "unknown";
  }
  if (a.password.empty()) {
    if (hash.empty())
      a.password = "none";
    else if (hash[0] == '!' || hash[0] == '*')
      a.password = "locked";
    else {
      a.password = "hash";
      a.password_digest =
          sha256_hex({reinterpret_cast<const std::uint8_t*>(hash.data()), hash.size()})
              .substr(0, 16);
    }
  }
  return a;
}

void on_tree(Context& ctx, void*, Emitter& em) {
  for (const auto& db : load_account_dbs(ctx)) {
    const FileRecord& pw = *db.passwd;
    const std::string& loc = ctx.location(pw);
    for (const FileRecord* f : db.capped)
      em.cap_hit(*f, ctx.location(*f), kCat, "kMaxAccountEntries", kMaxAccountEntries);
    std::map<std::string, const ShadowEntry*> shadow;
    for (const auto& s : db.shadows) shadow.emplace(s.name, &s);
    std::set<long> gids;
    for (const auto& g : db.groups) gids.insert(g.gid);
    std::set<std::string> seen;
    for (const auto& u : db.users) {
      const std::string line = u.name + ":" + u.password + ":" + std::to_string(u.uid) + ":" +
                               std::to_string(u.gid) + ":" + u.gecos + ":" + u.home + ":" + u.shell;
      if (!seen.insert(u.name).second)
        em.add("account-duplicate", kCat, Severity::kMedium, pw, loc,
               "account '" + u.name + "' is defined more than once", u.name, line, u.offset);
      if (u.uid == 0 && u.name != "root")
        em.add("account-extra-uid0", kCat, Severity::kHigh, pw, loc,
               "account '" + u.name + "' has uid 0 (root privileges) besides root", u.name, line,
               u.offset);
      auto sh = shadow.find(u.name);
      {
        std::lock_guard lock(ctx.facts_mutex);
        ctx.facts.accounts.push_back(
            account_fact(ctx, db, u, sh == shadow.end() ? nullptr : sh->second));
      }
      bool empty = u.password.empty() ||
                   (u.password == "x" && sh != shadow.end() && sh->second->hash.empty());
      if (empty && login_shell(u.shell)) {
        auto& f = em.add("account-empty-password", kCat, Severity::kHigh, pw, loc,
                         "account '" + u.name + "' (uid " + std::to_string(u.uid) +
                             ") has an empty password and a login shell",
                         u.name, line, u.offset);
        if (u.password == "x" && db.shadow) f.evidence.related.push_back(db.shadow->path);
      }
      if (u.uid > 0 && u.uid < 1000 && login_shell(u.shell) && u.name != "root")
        em.add("account-service-shell", kCat, Severity::kLow, pw, loc,
               "service account '" + u.name + "' (uid " + std::to_string(u.uid) +
                   ") has the login shell " + u.shell,
               u.name, line, u.offset);
      if (u.password == "x" && db.shadow && sh == shadow.end())
        em.add("account-inconsistent", kCat, Severity::kLow, pw, loc,
               "account '" + u.name + "' points to shadow but has no shadow entry",
               "no-shadow:" + u.name, line, u.offset)
            .evidence.related.push_back(db.shadow->path);
      if (db.group && u.gid >= 0 && !gids.contains(u.gid))
        em.add("account-inconsistent", kCat, Severity::kLow, pw, loc,
               "account '" + u.name + "' has primary group " + std::to_string(u.gid) +
                   " which is not in group",
               "no-group:" + u.name, line, u.offset)
            .evidence.related.push_back(db.group->path);
    }
    if (db.shadow)
      for (const auto& s : db.shadows)
        if (!seen.contains(s.name))
          em.add("account-inconsistent", kCat, Severity::kLow, *db.shadow, ctx.location(*db.shadow),
                 "shadow entry '" + s.name + "' has no account in passwd", "no-passwd:" + s.name,
                 s.name, s.offset)
              .evidence.related.push_back(pw.path);
  }
}

}  // namespace

const Check kCheck_accounts{.id = "accounts",
                            .category = kCat,
                            .description =
                                "extra uid-0 accounts, empty passwords, service "
                                "accounts with shells, passwd/shadow/group mismatches",
                            .on_tree = on_tree};

}  // namespace probity::checks
