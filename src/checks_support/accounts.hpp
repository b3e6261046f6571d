// passwd/shadow/group files of a tree, grouped per root (internal; used by the account and
// credential checks).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "checks_support/check.hpp"
#include "probity/limits.hpp"

namespace probity::checks {

struct PasswdEntry {
  std::string name, password, gecos, home, shell;
  long uid = -1, gid = -1;
  std::uint64_t offset = 0;
};
struct ShadowEntry {
  std::string name, hash;
  std::uint64_t offset = 0;
};
struct GroupEntry {
  std::string name;
  long gid = -1;
};

/// One etc/ directory: its passwd, and the shadow and group beside it when present.
struct AccountDb {
  const FileRecord* passwd = nullptr;
  const FileRecord* shadow = nullptr;
  const FileRecord* group = nullptr;
  std::vector<PasswdEntry> users;
  std::vector<ShadowEntry> shadows;
  std::vector<GroupEntry> groups;
  /// Files whose entries stopped at kMaxAccountEntries (the account check reports each).
  std::vector<const FileRecord*> capped;
};

/// Every etc/passwd (any container, any depth) with its siblings, parsed.
std::vector<AccountDb> load_account_dbs(const Context& ctx);

}  // namespace probity::checks
