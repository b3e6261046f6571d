#include "checks_support/accounts.hpp"

#include <charconv>

#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

long to_long(std::string_view s) {
  long v = -1;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() ? v : -1;
}

const FileRecord* sibling(const Context& ctx, const FileRecord& passwd, std::string_view name) {
  std::string dir = passwd.path.substr(0, passwd.path.size() - 6);  // keeps ".../etc/"
  for (const auto& f : ctx.tree.files)
    if (f.type == EntryType::kFile && f.container == passwd.container &&
        f.path == dir + std::string(name))
      return &f;
  return nullptr;
}

}  // namespace

std::vector<AccountDb> load_account_dbs(const Context& ctx) {
  std::vector<AccountDb> out;
  for (const FileRecord* p : ctx.find("etc/passwd")) {
    AccountDb db;
    // True (and the file noted once) when a table already holds kMaxAccountEntries entries.
    auto full = [&db](const auto& table, const FileRecord* file) {
      if (table.size() < kMaxAccountEntries) return false;
      if (db.capped.empty() || db.capped.back() != file) db.capped.push_back(file);
      return true;
    };
    db.passwd = p;
    db.shadow = sibling(ctx, *p, "shadow");
    db.group = sibling(ctx, *p, "group");
    if (auto t = ctx.read(*p)) {
      for_each_line(*t, [&](std::string_view line, std::uint64_t off) {
        if (line.empty() || line[0] == '#' || full(db.users, p)) return;
        auto f = split(line, ':');
        if (f.size() < 7) return;
        db.users.push_back({std::string(f[0]), std::string(f[1]), std::string(f[4]),
                            std::string(f[5]), std::string(trim(f[6])), to_long(f[2]),
                            to_long(f[3]), off});
      });
    }
    if (db.shadow)
      if (auto t = ctx.read(*db.shadow)) {
        for_each_line(*t, [&](std::string_view line, std::uint64_t off) {
          if (line.empty() || line[0] == '#' || full(db.shadows, db.shadow)) return;
          auto f = split(line, ':');
          if (f.size() < 2) return;
          db.shadows.push_back({std::string(f[0]), std::string(f[1]), off});
        });
      }
    if (db.group)
      if (auto t = ctx.read(*db.group)) {
        for_each_line(*t, [&](std::string_view line, std::uint64_t) {
          if (line.empty() || line[0] == '#' || full(db.groups, db.group)) return;
          auto f = split(line, ':');
          if (f.size() < 3) return;
          db.groups.push_back({std::string(f[0]), to_long(f[2])});
        });
      }
    out.push_back(std::move(db));
  }
  return out;
}

}  // namespace probity::checks
