// The SQLite store: schema, import (one transaction, prepared statements), status, snapshot id
// and matching with the AND/OR structure of configurations.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/sqlite.hpp"
#include "probity/data.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/task_pool.hpp"
#include "probity/version.hpp"
#include "probity/vulndb.hpp"
#include "vuln/feed.hpp"
#include "vuln/record.hpp"

namespace probity {

/// A coarse, order-preserving key of a plainly numeric version: major * 1e9 + minor from its
/// leading "MAJOR[.MINOR]" digits; nullopt for anything else (an epoch, a leading letter, more
/// than nine digits). For two versions with keys, key(a) > key(b) implies a > b under
/// compare_versions, so a row whose upper bound has a smaller key than the component's version
/// can be skipped without reading it (VulnDb::match); equal keys decide nothing.
std::optional<std::int64_t> vuln::range_key(std::string_view v) {
  if (v.empty() || v.find(':') != std::string_view::npos) return std::nullopt;
  auto digits = [&](std::size_t& at) -> std::optional<std::int64_t> {
    std::size_t n = 0;
    std::int64_t x = 0;
    while (at < v.size() && v[at] >= '0' && v[at] <= '9') {
      if (++n > 9) return std::nullopt;
      x = x * 10 + (v[at++] - '0');
    }
    if (n == 0) return std::nullopt;
    return x;
  };
  std::size_t at = 0;
  const auto major = digits(at);
  if (!major) return std::nullopt;
  // Only "MAJOR" or "MAJOR.": compare_versions reads "5-1.16" as 5.1.16, so any other
  // separator after the major number gives no key.
  if (at < v.size() && v[at] != '.') return std::nullopt;
  std::int64_t minor = 0;
  if (at + 1 < v.size() && v[at] == '.' && v[at + 1] >= '0' && v[at + 1] <= '9') {
    ++at;
    const auto m = digits(at);
    if (!m) return std::nullopt;
    minor = *m;
  }
  return *major * 1'000'000'000 + minor;
}

using sql::Stmt;
using vuln::Configuration;
using vuln::MatchEntry;
using vuln::Node;
using vuln::Record;

namespace {

// Bump when the schema changes; an older database is refused with a message to re-import.
constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source(
  path TEXT NOT NULL, format TEXT NOT NULL, records INTEGER NOT NULL,
  imported_at TEXT NOT NULL, bytes INTEGER NOT NULL, data_date TEXT);
CREATE TABLE IF NOT EXISTS cve(
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,            -- nvd | osv
  published TEXT, modified TEXT, status TEXT, description TEXT,
  cvss31_score REAL, cvss31_vector TEXT, cvss31_severity TEXT,
  cvss30_score REAL, cvss30_vector TEXT, cvss30_severity TEXT,
  cvss40_score REAL, cvss40_vector TEXT, cvss40_severity TEXT,
  cvss2_score REAL, cvss2_vector TEXT, cvss2_severity TEXT,
  cwe TEXT,                      -- comma-separated CWE ids
  aliases TEXT,                  -- comma-separated (OSV)
  digest TEXT NOT NULL);         -- sha256 of the normalised record (snapshot id input)
-- One row per cpeMatch entry. The configuration and node structure rides on the rows: entries
-- of node (cve, cfg, node) combine with node_op and are negated when node_negate; the nodes of
-- (cve, cfg) combine with cfg_op and are negated when cfg_negate. A node without entries keeps
-- one placeholder row (criteria '') so that AND configurations evaluate exactly.
CREATE TABLE IF NOT EXISTS cpe_match(
  cve INTEGER NOT NULL, cfg INTEGER NOT NULL, node INTEGER NOT NULL,
  cfg_and INTEGER NOT NULL, cfg_negate INTEGER NOT NULL,   -- cfg_and: 1 AND, 0 OR
  node_and INTEGER NOT NULL, node_negate INTEGER NOT NULL,
  vulnerable INTEGER NOT NULL,
  criteria TEXT NOT NULL,        -- the CPE 2.3 string (purl or osv:<ecosystem>/<name> for OSV)
  vendor TEXT, product TEXT,     -- from criteria, lower-cased: the lookup key
  vsi TEXT, vse TEXT, vei TEXT, vee TEXT,
  hi INTEGER NOT NULL);          -- range_key of the upper bound (vei/vee); max int64 when none
-- Triage and judgement data keyed by CVE id (docs/vulndb.md).
CREATE TABLE IF NOT EXISTS kev(cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT,
  vendor TEXT, product TEXT, name TEXT, ransomware TEXT);
CREATE TABLE IF NOT EXISTS epss(cve TEXT PRIMARY KEY, score REAL NOT NULL,
  percentile REAL NOT NULL, date TEXT);
CREATE TABLE IF NOT EXISTS branch_fix(cve TEXT NOT NULL, product TEXT NOT NULL,
  branch TEXT NOT NULL, fixed TEXT NOT NULL, PRIMARY KEY(cve, product, branch));
CREATE TABLE IF NOT EXISTS distro_fix(cve TEXT NOT NULL, distro TEXT NOT NULL,
  release TEXT NOT NULL, package TEXT NOT NULL, fixed TEXT NOT NULL, advisory TEXT NOT NULL,
  PRIMARY KEY(cve, distro, release, package));
CREATE TABLE IF NOT EXISTS eol(product TEXT NOT NULL, cycle TEXT NOT NULL, release_date TEXT,
  eol TEXT, latest TEXT, source TEXT, PRIMARY KEY(product, cycle));
CREATE TABLE IF NOT EXISTS eol_name(name TEXT NOT NULL, product TEXT NOT NULL,
  PRIMARY KEY(name, product));
CREATE TABLE IF NOT EXISTS alias(id TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
  PRIMARY KEY(id, vendor, product));
CREATE INDEX IF NOT EXISTS alias_product ON alias(product, vendor);
)sql";

// Secondary indexes. (product, hi) is dropped during an import into an empty database and built
// once at the end: its rows arrive in no order. (cve, cfg) is kept: rows arrive in that order
// (a record's rows after the one before), so keeping it up costs appends on the storing thread
// while the parsing thread works, where building it at the end ran alone (0.19 s of a 1.84 s
// 33,000-record import). (product, hi) also serves lookups by product alone: the (product,
// vendor) index that databases imported before December 2026 have is not built any more (it
// cost a third of the index build).
constexpr const char* kIndexes = R"sql(
CREATE INDEX IF NOT EXISTS cpe_match_hi ON cpe_match(product, hi);
CREATE INDEX IF NOT EXISTS cpe_match_cve ON cpe_match(cve, cfg);
)sql";
constexpr const char* kDropIndexes = R"sql(
DROP INDEX IF EXISTS cpe_match_product;
DROP INDEX IF EXISTS cpe_match_hi;
)sql";

/// The `hi` column: the key of the row's upper bound (its exact version when it has no range:
/// NVD lists old kernels one version per row, 80k rows); the largest key when it has none or
/// the bound is not plainly numeric (the row is then always read).
std::int64_t upper_key(const MatchEntry& m) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  if (!m.has_range()) {
    // The version the stored row means: a CPE row's is in its criteria (what load_config reads
    // back), an OSV row's is kept beside it ("@@").
    std::string v = m.cpe.version;
    if (m.criteria.starts_with("cpe:")) {
      const auto c = parse_cpe23(m.criteria);
      if (!c) return kNone;
      v = c->version;
    }
    if (v.empty() || v == "*" || v == "-") return kNone;
    return vuln::range_key(v).value_or(kNone);
  }
  std::optional<std::int64_t> k;
  for (const auto& b : {m.vei, m.vee})
    if (!b.empty()) {
      const auto kb = vuln::range_key(b);
      if (!kb) return kNone;
      k = std::max(k.value_or(*kb), *kb);
    }
  return k.value_or(kNone);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

const char* format_name(vuln::ItemFormat f) {
  switch (f) {
    case vuln::ItemFormat::kNvd20:
      return "nvd-api-2.0";
    case vuln::ItemFormat::kNvd11:
      return "nvd-1.1";
    case vuln::ItemFormat::kOsv:
      return "osv";
    case vuln::ItemFormat::kCve5:
      return "cve5";
    case vuln::ItemFormat::kKev:
      return "kev";
    case vuln::ItemFormat::kCurlTable:
      return "vendor-curl";
    case vuln::ItemFormat::kKernelBranches:
      return "kernel-branches";
    default:
      return "unknown";
  }
}

bool is_any(const std::string& s) {
  return s.empty() || s == "*";
}

// OSV rows store "<purl or osv:eco/name>@@<version>" for an exact version.
std::optional<std::string> osv_version(std::string_view criteria) {
  if (criteria.starts_with("cpe:")) return std::nullopt;
  const auto at = criteria.rfind("@@");
  if (at == std::string_view::npos) return std::string("*");
  return std::string(criteria.substr(at + 2));
}

CpeName entry_cpe(std::string_view criteria) {
  if (auto c = parse_cpe23(criteria)) return std::move(*c);
  return CpeName{"a", "*", "*", "*", "*", "*", "*", "*", "*", "*", "*"};
}

bool in_range(const MatchEntry& m, std::string_view v) {
  if (v.empty() || v == "*" || v == "-") return false;
  if (!m.vsi.empty() && compare_versions(v, m.vsi) < 0) return false;
  if (!m.vse.empty() && compare_versions(v, m.vse) <= 0) return false;
  if (!m.vei.empty() && compare_versions(v, m.vei) > 0) return false;
  if (!m.vee.empty() && compare_versions(v, m.vee) >= 0) return false;
  return true;
}

// Does entry `m` admit version `v` ("" when the version is unknown)?
bool version_matches(const MatchEntry& m, std::string_view v) {
  if (m.has_range()) return in_range(m, v);
  const std::string& cv = m.cpe.version;
  if (is_any(cv)) return true;
  if (cv == "-") return v.empty() || v == "-";
  if (v.empty() || v == "*" || v == "-") return false;
  // NVD splits some versions into version and update ("openssh:7.2:p2", "openssl:1.0.1:beta1").
  if (!is_any(m.cpe.update) && m.cpe.update != "-")
    return compare_versions(cv + m.cpe.update, v) == 0;
  return compare_versions(cv, v) == 0;
}

bool attr_matches(const std::string& pattern, const std::string& value) {
  return is_any(pattern) || pattern == value;
}

// The query with every CPE name of the component (its own and its aliases).
struct Query {
  const VulnQuery& q;
  std::vector<std::pair<std::string, std::string>> names;  // (vendor or "", product)
};

// Does entry `m` hold for the component under test?
bool matches_component(const MatchEntry& m, const Query& q) {
  bool named = false;
  for (const auto& [vendor, product] : q.names)
    if (m.cpe.product == product &&
        (vendor.empty() || m.cpe.vendor == "*" || m.cpe.vendor == vendor)) {
      named = true;
      break;
    }
  return named && version_matches(m, q.q.version);
}

// Does entry `m` hold for a platform CPE of the image? An unknown platform version ("*") counts
// as present: the platform is known to be there even when its version is not.
bool matches_platform(const MatchEntry& m, const CpeName& p) {
  if (!attr_matches(m.cpe.part, p.part) || !attr_matches(m.cpe.vendor, p.vendor) ||
      !attr_matches(m.cpe.product, p.product))
    return false;
  if (p.version == "*") return true;
  return version_matches(m, p.version == "-" ? std::string_view("-") : p.version);
}

struct Eval {
  bool value = false;
  const MatchEntry* attributed = nullptr;  // a vulnerable entry that matched the component
};

Eval evaluate(const Configuration& cfg, const Query& q, const std::vector<CpeName>& platform) {
  Eval out;
  bool acc = cfg.is_and;
  for (const Node& n : cfg.nodes) {
    bool nacc = n.is_and;
    for (const MatchEntry& m : n.entries) {
      bool hit = false;
      if (matches_component(m, q)) {
        hit = true;
        if (m.vulnerable && !n.negate && !cfg.negate && !out.attributed) out.attributed = &m;
      } else {
        for (const auto& p : platform)
          if (matches_platform(m, p)) {
            hit = true;
            break;
          }
      }
      nacc = n.is_and ? (nacc && hit) : (nacc || hit);
    }
    if (n.entries.empty()) nacc = false;
    if (n.negate) nacc = !nacc;
    acc = cfg.is_and ? (acc && nacc) : (acc || nacc);
  }
  if (cfg.nodes.empty()) acc = false;
  out.value = cfg.negate ? !acc : acc;
  return out;
}

}  // namespace

struct VulnDb::Impl {
  sqlite3* db = nullptr;
  std::filesystem::path path;
  Stmt load_stmt;  // finalized before the connection closes (declared after db)
  ~Impl() {
    load_stmt = Stmt();
    if (db) sqlite3_close_v2(db);
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      return fail("SQLite: " + msg, 0, path.string());
    }
    return {};
  }
  Result<Stmt> prepare(std::string_view sql) {
    Stmt s(db, sql);
    if (!s.ok()) return fail(std::string("SQLite: ") + sqlite3_errmsg(db), 0, path.string());
    return s;
  }
  std::unexpected<Error> sql_error() const {
    return fail(std::string("SQLite: ") + sqlite3_errmsg(db), 0, path.string());
  }
  Result<std::int64_t> scalar(std::string_view sql) {
    auto s = prepare(sql);
    if (!s) return std::unexpected(s.error());
    if (!s->step()) return s->failed() ? Result<std::int64_t>(sql_error()) : 0;
    return s->i64(0);
  }

  Result<std::string> compute_snapshot() {
    auto s = prepare("SELECT id, digest FROM cve ORDER BY id");
    if (!s) return std::unexpected(s.error());
    Sha256 h;
    while (s->step()) {
      const auto id = s->text(0), dg = s->text(1);
      h.update({reinterpret_cast<const std::uint8_t*>(id.data()), id.size()});
      h.update({reinterpret_cast<const std::uint8_t*>("\t"), 1});
      h.update({reinterpret_cast<const std::uint8_t*>(dg.data()), dg.size()});
      h.update({reinterpret_cast<const std::uint8_t*>("\n"), 1});
    }
    if (s->failed()) return sql_error();
    // Triage and judgement tables count too: the same CVE records with other KEV or EPSS data
    // are another snapshot.
    for (const char* sql :
         {"SELECT 'kev', cve, date_added, ifnull(due_date,'') FROM kev ORDER BY cve",
          "SELECT 'epss', cve, printf('%.9f', score), printf('%.9f', percentile) FROM epss "
          "ORDER BY cve",
          "SELECT 'branch', cve, product || ' ' || branch, fixed FROM branch_fix "
          "ORDER BY cve, product, branch",
          "SELECT 'distro', cve, distro || ' ' || release || ' ' || package, fixed || ' ' || "
          "advisory FROM distro_fix ORDER BY cve, distro, release, package",
          "SELECT 'eol', product, cycle, ifnull(eol,'') || ' ' || ifnull(release_date,'') FROM "
          "eol ORDER BY product, cycle",
          "SELECT 'alias', id, vendor, product FROM alias ORDER BY id, vendor, product"}) {
      auto t = prepare(sql);
      if (!t) return std::unexpected(t.error());
      while (t->step()) {
        for (int c = 0; c < 4; ++c) {
          const auto v = t->text(c);
          h.update({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});
          h.update({reinterpret_cast<const std::uint8_t*>(c == 3 ? "\n" : "\t"), 1});
        }
      }
      if (t->failed()) return sql_error();
    }
    return "sha256:" + h.hex();
  }

  // KEV and EPSS for each vulnerability, and its status against the component's stable branch
  // (linux_kernel: branch_fix) or distribution version (distro_fix).
  Status triage(std::vector<Vulnerability>& vulns, const VulnQuery& q);

  // Loads configuration `cfg` of record `rid` with its nodes and entries.
  Result<Configuration> load_config(std::int64_t rid, std::int64_t cfg) {
    Configuration c;
    // Prepared once per connection: a product such as linux_kernel has thousands of candidates.
    if (!load_stmt.ok()) {
      auto p = prepare(
          "SELECT cfg_and, cfg_negate, node, node_and, node_negate, vulnerable, criteria, "
          "vendor, product, vsi, vse, vei, vee FROM cpe_match WHERE cve=?1 AND cfg=?2 "
          "ORDER BY node, rowid");
      if (!p) return std::unexpected(p.error());
      load_stmt = std::move(*p);
    }
    Stmt* ms = &load_stmt;
    ms->reset();
    ms->bind(1, rid).bind(2, cfg);
    std::int64_t last_node = -1;
    while (ms->step()) {
      c.is_and = ms->i64(0) != 0;
      c.negate = ms->i64(1) != 0;
      if (ms->i64(2) != last_node) {
        last_node = ms->i64(2);
        Node n;
        n.is_and = ms->i64(3) != 0;
        n.negate = ms->i64(4) != 0;
        c.nodes.push_back(std::move(n));
      }
      if (ms->text(6).empty()) continue;  // the placeholder of an empty node
      MatchEntry m;
      m.vulnerable = ms->i64(5) != 0;
      m.criteria = ms->text(6);
      m.cpe = entry_cpe(m.criteria);
      // OSV rows keep their vendor (ANY) and name in the columns, not in a CPE string.
      m.cpe.vendor = ms->text(7);
      m.cpe.product = ms->text(8);
      if (auto v = osv_version(m.criteria)) m.cpe.version = *v;
      m.vsi = ms->text(9);
      m.vse = ms->text(10);
      m.vei = ms->text(11);
      m.vee = ms->text(12);
      c.nodes.back().entries.push_back(std::move(m));
    }
    if (ms->failed()) return sql_error();
    return c;
  }
};

Status VulnDb::Impl::triage(std::vector<Vulnerability>& vulns, const VulnQuery& q) {
  if (vulns.empty()) return {};
  auto kev = prepare("SELECT date_added, ifnull(due_date, '') FROM kev WHERE cve=?1");
  auto epss = prepare("SELECT score, percentile FROM epss WHERE cve=?1");
  auto branch = prepare("SELECT fixed FROM branch_fix WHERE cve=?1 AND product=?2 AND branch=?3");
  auto branches = prepare("SELECT count(*) FROM branch_fix WHERE cve=?1 AND product=?2");
  auto distro = prepare(
      "SELECT fixed, advisory, release FROM distro_fix WHERE cve=?1 AND distro=?2 AND "
      "package=?3 ORDER BY release");
  for (auto* st : {&kev, &epss, &branch, &branches, &distro})
    if (!*st) return std::unexpected(st->error());
  // The kernel's stable branch: "4.4.182" → "4.4".
  std::string kbranch;
  if (q.product == "linux_kernel") {
    const auto d1 = q.version.find('.');
    const auto d2 =
        d1 == std::string::npos ? d1 : q.version.find_first_not_of("0123456789", d1 + 1);
    kbranch = q.version.substr(0, d2);
    if (d1 == std::string::npos) kbranch.clear();
  }
  std::string distro_name = q.distro;
  for (auto& c : distro_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& v : vulns) {
    kev->reset();
    kev->bind(1, v.id);
    if (kev->step()) v.kev = KevEntry{std::string(kev->text(0)), std::string(kev->text(1))};
    epss->reset();
    epss->bind(1, v.id);
    if (epss->step()) v.epss = EpssScore{epss->dbl(0), epss->dbl(1)};
    if (!kbranch.empty()) {
      branch->reset();
      branch->bind(1, v.id).bind(2, q.product).bind(3, kbranch);
      if (branch->step()) {
        const std::string fixed(branch->text(0));
        if (compare_versions(q.version, fixed) >= 0) {
          v.status = "not-affected";
          v.status_evidence = fmt::format(
              "fixed on the {}.y stable branch in {} (kernel branch fix data)", kbranch, fixed);
        } else {
          v.status_evidence = fmt::format("fixed on the {}.y stable branch in {}", kbranch, fixed);
          v.fixed_in = fixed;
        }
      } else {
        branches->reset();
        branches->bind(1, v.id).bind(2, q.product);
        if (branches->step() && branches->i64(0) > 0)
          v.status_evidence = fmt::format("no fix on the {}.y stable branch in the data", kbranch);
      }
    }
    if (!distro_name.empty() && !q.distro_version.empty()) {
      distro->reset();
      distro->bind(1, v.id).bind(2, distro_name).bind(3, q.product);
      bool any = false;
      while (distro->step()) {
        any = true;
        const std::string fixed(distro->text(0));
        if (compare_versions(q.distro_version, fixed) >= 0) {
          v.status = "not-affected";
          v.status_evidence =
              fmt::format("{} {} {}: fixed in {} ({}), the image has {}", distro_name,
                          distro->text(2), q.product, fixed, distro->text(1), q.distro_version);
          break;
        }
        v.status_evidence = fmt::format("{} fixed it in {} ({}); the image has {}", distro_name,
                                        fixed, distro->text(1), q.distro_version);
      }
      // A distribution build whose fixes the data does not list may carry a backport: say so.
      if (!any && v.status == "affected") {
        v.status = "unknown";
        v.status_evidence = fmt::format(
            "{} package {}: upstream {} is in range, but the distribution may have backported "
            "the fix (no {} fix data for it)",
            distro_name, q.distro_version, q.version, distro_name);
      }
    }
    for (auto* st : {&kev, &epss, &branch, &branches, &distro})
      if ((*st)->failed()) return std::unexpected(sql_error().error());
  }
  return {};
}

// Prepared statements for one import.
struct Importer {
  VulnDb::Impl& db;
  Stmt find, del_match, del_cve, ins_cve, ins_match;
  Stmt ins_kev, ins_epss, ins_branch, ins_distro, ins_eol, ins_eol_name, ins_alias;
  bool fresh = false;                    // the database was empty when the import began
  std::unordered_set<std::string> seen;  // ids stored by this import (fresh only)

  static Result<Importer> make(VulnDb::Impl& db) {
    Importer im{db, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, false, {}};
    struct {
      Stmt* s;
      const char* sql;
    } all[] = {
        {&im.find, "SELECT rid, modified, digest, kind FROM cve WHERE id=?1"},
        {&im.ins_kev,
         "INSERT OR REPLACE INTO kev(cve, date_added, due_date, vendor, product, name, "
         "ransomware) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&im.ins_epss,
         "INSERT OR REPLACE INTO epss(cve, score, percentile, date) VALUES(?1, ?2, ?3, ?4)"},
        {&im.ins_branch,
         "INSERT OR REPLACE INTO branch_fix(cve, product, branch, fixed) VALUES(?1, ?2, ?3, ?4)"},
        {&im.ins_distro,
         "INSERT OR REPLACE INTO distro_fix(cve, distro, release, package, fixed, advisory) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
        {&im.ins_eol,
         "INSERT OR REPLACE INTO eol(product, cycle, release_date, eol, latest, source) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
        {&im.ins_eol_name, "INSERT OR IGNORE INTO eol_name(name, product) VALUES(?1, ?2)"},
        {&im.ins_alias, "INSERT OR IGNORE INTO alias(id, vendor, product) VALUES(?1, ?2, ?3)"},
        {&im.del_match, "DELETE FROM cpe_match WHERE cve=?1"},
        {&im.del_cve, "DELETE FROM cve WHERE rid=?1"},
        {&im.ins_cve,
         "INSERT INTO cve(id, kind, published, modified, status, description, cvss31_score, "
         "cvss31_vector, cvss31_severity, cvss30_score, cvss30_vector, cvss30_severity, "
         "cvss40_score, cvss40_vector, cvss40_severity, cvss2_score, cvss2_vector, "
         "cvss2_severity, cwe, aliases, digest) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
         "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"},
        {&im.ins_match,
         "INSERT INTO cpe_match(cve, cfg, node, cfg_and, cfg_negate, node_and, node_negate, "
         "vulnerable, criteria, vendor, product, vsi, vse, vei, vee, hi) VALUES(?1, ?2, ?3, ?4, "
         "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"},
    };
    for (auto& [s, sql] : all) {
      auto p = db.prepare(sql);
      if (!p) return std::unexpected(p.error());
      *s = std::move(*p);
    }
    return im;
  }

  static void bind_opt(Stmt& s, int i, std::string_view v) {
    if (v.empty())
      s.bind_null(i);
    else
      s.bind_static(i, v);
  }

  // Runs a side-table insert whose parameters `bind` sets.
  template <class F>
  Status row(Stmt& s, F&& bind) {
    s.reset();
    bind(s);
    s.step();
    if (s.failed()) return std::unexpected(db.sql_error().error());
    return {};
  }

  // NVD's analysis wins over a CVE 5 record of the same id, whatever the order of import.
  static int rank(std::string_view kind) { return kind == "nvd" ? 2 : kind == "cve5" ? 1 : 0; }

  // OSV records of a distribution (ecosystem "Debian:12", "Ubuntu:22.04", "Alpine:v3.18") state
  // the distribution's own fixed package version: they judge backports (distro_fix) and never
  // match an upstream version.
  Status divert_distro(Record& r) {
    if (r.kind != "osv") return {};
    std::vector<std::string> cves;
    for (const auto& a : r.aliases)
      if (a.starts_with("CVE-")) cves.push_back(a);
    if (r.id.starts_with("CVE-")) cves.push_back(r.id);
    for (auto& cfg : r.configurations)
      for (auto& n : cfg.nodes)
        std::erase_if(n.entries, [&](const MatchEntry& m) {
          const std::string& eco = m.cpe.target_sw;  // lower-cased ecosystem
          const auto colon = eco.find(':');
          const std::string distro = eco.substr(0, colon);
          if (distro != "debian" && distro != "ubuntu" && distro != "alpine" && distro != "openwrt")
            return false;
          if (m.vee.empty()) return true;  // no fixed version: nothing to judge with
          const std::string release = colon == std::string::npos ? "" : eco.substr(colon + 1);
          for (const auto& cve : cves)
            (void)row(ins_distro, [&](Stmt& s) {
              s.bind(1, cve).bind(2, distro).bind(3, release).bind(4, m.cpe.product);
              s.bind(5, m.vee).bind(6, r.id);
            });
          return true;
        });
    std::erase_if(r.configurations, [](const Configuration& c) {
      return std::all_of(c.nodes.begin(), c.nodes.end(),
                         [](const Node& n) { return n.entries.empty(); });
    });
    return {};
  }

  // Stores one record; returns false when it was skipped as not newer than the stored one.
  Result<bool> store(const Record& r, const std::string& digest, std::uint64_t& matches) {
    // Into an empty database only records of this import can clash: skip the lookup otherwise.
    bool lookup = true;
    if (fresh) lookup = !seen.insert(r.id).second;
    find.reset();
    find.bind_static(1, r.id);
    if (lookup && find.step()) {
      const std::int64_t rid = find.i64(0);
      const std::string old_modified(find.text(1)), old_digest(find.text(2));
      const int old_rank = rank(find.text(3)), new_rank = rank(r.kind);
      find.reset();
      // A better source wins; then the newest; equal times fall back to the digest so the
      // outcome is order-independent.
      if (old_rank > new_rank) return false;
      if (old_rank == new_rank && (old_digest == digest || r.modified < old_modified ||
                                   (r.modified == old_modified && digest < old_digest)))
        return false;
      for (Stmt* s : {&del_match, &del_cve}) {
        s->reset();
        s->bind(1, rid);
        s->step();
        if (s->failed()) return db.sql_error();
      }
    } else if (lookup && find.failed()) {
      return db.sql_error();
    }
    find.reset();

    Stmt& c = ins_cve;
    c.reset();
    c.bind_static(1, r.id).bind_static(2, r.kind);
    bind_opt(c, 3, r.published);
    bind_opt(c, 4, r.modified);
    bind_opt(c, 5, r.status);
    bind_opt(c, 6, r.description);
    int col = 7;
    for (const vuln::Cvss* v : {&r.cvss31, &r.cvss30, &r.cvss40, &r.cvss2}) {
      if (v->score >= 0)
        c.bind_double(col, v->score);
      else
        c.bind_null(col);
      bind_opt(c, col + 1, v->vector);
      bind_opt(c, col + 2, v->severity);
      col += 3;
    }
    const std::string cwe = join(r.cwe), aliases = join(r.aliases);
    bind_opt(c, 19, cwe);
    bind_opt(c, 20, aliases);
    c.bind_static(21, digest);
    c.step();
    if (c.failed()) return db.sql_error();
    const std::int64_t rid = sqlite3_last_insert_rowid(db.db);

    static const MatchEntry kPlaceholder{false, "", CpeName{}, "", "", "", ""};
    for (std::size_t ci = 0; ci < r.configurations.size(); ++ci) {
      const Configuration& cfg = r.configurations[ci];
      for (std::size_t ni = 0; ni < cfg.nodes.size(); ++ni) {
        const Node& n = cfg.nodes[ni];
        auto insert = [&](const MatchEntry& m) -> Status {
          Stmt& s = ins_match;
          s.reset();
          s.bind(1, rid).bind(2, std::int64_t(ci)).bind(3, std::int64_t(ni));
          s.bind(4, std::int64_t(cfg.is_and)).bind(5, std::int64_t(cfg.negate));
          s.bind(6, std::int64_t(n.is_and)).bind(7, std::int64_t(n.negate));
          s.bind(8, std::int64_t(m.vulnerable));
          if (m.criteria.starts_with("cpe:") || m.criteria.empty())
            s.bind_static(9, m.criteria);
          else  // OSV: keep the exact version of a `versions` entry with the package name
            s.bind(9, m.cpe.version == "*" ? m.criteria : m.criteria + "@@" + m.cpe.version);
          bind_opt(s, 10, m.cpe.vendor);
          bind_opt(s, 11, m.cpe.product);
          bind_opt(s, 12, m.vsi);
          bind_opt(s, 13, m.vse);
          bind_opt(s, 14, m.vei);
          bind_opt(s, 15, m.vee);
          s.bind(16, m.hi ? *m.hi : upper_key(m));
          s.step();
          if (s.failed()) return db.sql_error();
          return {};
        };
        if (n.entries.empty())
          if (auto st = insert(kPlaceholder); !st) return std::unexpected(st.error());
        for (const MatchEntry& m : n.entries) {
          if (auto st = insert(m); !st) return std::unexpected(st.error());
          ++matches;
        }
      }
    }
    return true;
  }
};

namespace {

// Feed items of one import batch: their text (each followed by simdjson's padding) and, once
// parsed on a pool thread, what they hold. Parsing needs no database; storing happens in order
// on the importing thread.
struct Batch {
  static constexpr std::size_t kItems = 256;         // records per batch
  static constexpr std::size_t kBytes = 8ull << 20;  // or this much text
  struct Item {
    std::size_t at = 0, size = 0;
    std::uint64_t offset = 0;  // in the feed, for messages
    vuln::ItemFormat kind{};
    std::string error;  // a warning: the item was rejected
    std::optional<Record> record;
    std::string digest;  // of record
    std::optional<vuln::KevRow> kev;
    std::optional<std::vector<vuln::BranchFixRow>> branches;
  };
  std::string text;
  std::vector<Item> items;

  void add(std::string_view t, std::uint64_t offset) {
    items.push_back(Item{text.size(), t.size(), offset, {}, {}, {}, {}, {}, {}});
    text.append(t);
    text.append(vuln::kFeedPadding, '\0');
  }
  [[nodiscard]] bool full() const { return items.size() >= kItems || text.size() >= kBytes; }

  void parse(simdjson::dom::parser& parser) {
    static_assert(vuln::kFeedPadding >= simdjson::SIMDJSON_PADDING);
    for (Item& it : items) {
      simdjson::dom::element item;
      if (auto err = parser.parse(text.data() + it.at, it.size, false).get(item); err) {
        it.error = fmt::format("record at offset {}: invalid JSON ({})", it.offset,
                               simdjson::error_message(err));
        continue;
      }
      it.kind = vuln::detect_item(item);
      Result<Record> r = fail(
          "unrecognised record (neither NVD, CVE 5, OSV, KEV nor a "
          "vendor or kernel-branch table)");
      switch (it.kind) {
        case vuln::ItemFormat::kNvd20:
          r = vuln::nvd20_record(item);
          break;
        case vuln::ItemFormat::kNvd11:
          r = vuln::nvd11_record(item);
          break;
        case vuln::ItemFormat::kOsv:
          r = vuln::osv_record(item);
          break;
        case vuln::ItemFormat::kCve5:
          r = vuln::cve5_record(item);
          break;
        case vuln::ItemFormat::kCurlTable:
          r = vuln::curl_table_record(item);
          break;
        case vuln::ItemFormat::kKev: {
          auto k = vuln::kev_row(item);
          if (k)
            it.kev = std::move(*k);
          else
            it.error = fmt::format("record at offset {}: {}", it.offset, k.error().message);
          continue;
        }
        case vuln::ItemFormat::kKernelBranches: {
          auto rows = vuln::kernel_branch_rows(item);
          if (rows)
            it.branches = std::move(*rows);
          else
            it.error = fmt::format("record at offset {}: {}", it.offset, rows.error().message);
          continue;
        }
        default:
          break;
      }
      if (!r) {
        it.error = fmt::format("record at offset {}: {}", it.offset, r.error().message);
        continue;
      }
      it.digest = r->digest();
      for (auto& cfg : r->configurations)
        for (auto& n : cfg.nodes)
          for (auto& m : n.entries) m.hi = upper_key(m);
      it.record = std::move(*r);
    }
  }
};

}  // namespace

VulnDb::VulnDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VulnDb::VulnDb(VulnDb&&) noexcept = default;
VulnDb& VulnDb::operator=(VulnDb&&) noexcept = default;
VulnDb::~VulnDb() = default;

Result<VulnDb> VulnDb::open(const std::filesystem::path& path, bool read_only) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // One instance per thread (above), so SQLite's per-call connection mutex is not needed.
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
    std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return fail("cannot open vulnerability database: " + msg +
                    (read_only ? " (build probity, or run `probity db import` first)" : ""),
                0, path.string());
  }
  sqlite3_busy_timeout(impl->db, 5000);
  if (!read_only) {
    if (auto s = impl->exec(kSchema); !s) return std::unexpected(s.error());
    if (auto s = impl->exec(kIndexes); !s) return std::unexpected(s.error());
  }
  auto version = impl->prepare("SELECT value FROM meta WHERE key='schema'");
  if (!version)
    return fail("not a probity vulnerability database (" + version.error().message + ")", 0,
                path.string());
  if (version->step()) {
    if (version->text(0) != std::to_string(kSchemaVersion))
      return fail(fmt::format("vulnerability database schema {} (this probity reads {}): import "
                              "the feeds again into a new file",
                              version->text(0), kSchemaVersion),
                  0, path.string());
  } else if (!read_only) {
    const auto sql =
        fmt::format("INSERT INTO meta(key, value) VALUES('schema', '{}')", kSchemaVersion);
    if (auto s = impl->exec(sql.c_str()); !s) return std::unexpected(s.error());
  } else {
    return fail("vulnerability database without a schema version", 0, path.string());
  }
  return VulnDb(std::move(impl));
}

Result<VulnImportStats> VulnDb::import_file(const std::filesystem::path& path) {
  auto all = import_files(std::span<const std::filesystem::path>(&path, 1));
  if (!all) return std::unexpected(all.error());
  return std::move(all->front());
}

Result<std::vector<VulnImportStats>> VulnDb::import_files(
    std::span<const std::filesystem::path> paths, TaskPool* shared_pool) {
  Impl& d = *impl_;
  // Two threads are all the pipeline uses: one parses, this one stores.
  std::optional<TaskPool> own_pool;
  TaskPool& pool = shared_pool ? *shared_pool : own_pool.emplace(2);
  // One transaction for the lot; durability of a half-written import is not needed (import
  // again), so the journal stays in memory and SQLite does not fsync. An 8 MiB page cache:
  // pages that fall out of it are read back from the OS's page cache, which costs the storing
  // thread less than the page faults of a large cache (100,000 NVD records: 195k preads and
  // 86k pwrites of 4 KiB against 59k and 72k with 128 MiB, yet 128 MiB took 25 % more CPU on
  // that thread and 303 MB peak RSS instead of 120 MB; a second import of the same feed takes
  // the same time with either).
  if (auto s = d.exec("PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY; "
                      "PRAGMA cache_size=-8192; BEGIN IMMEDIATE");
      !s)
    return std::unexpected(s.error());
  auto rollback = [&](Error e) {
    (void)d.exec("ROLLBACK");
    return std::unexpected<Error>(std::move(e));
  };
  auto count = d.scalar("SELECT count(*) FROM cve");
  if (!count) return rollback(count.error());
  const bool fresh = *count == 0;
  if (fresh)
    if (auto s = d.exec(kDropIndexes); !s) return rollback(s.error());

  auto im = Importer::make(d);
  if (!im) return rollback(im.error());
  im->fresh = fresh;
  auto src = d.prepare(
      "INSERT INTO source(path, format, records, imported_at, bytes, data_date) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  if (!src) return rollback(src.error());

  std::vector<VulnImportStats> all;
  simdjson::dom::parser parser;
  for (const auto& path : paths) {
    VulnImportStats st;
    std::map<std::string, std::uint64_t> formats;
    std::optional<Error> fatal;
    std::string data_date;  // newest date the data carries
    auto date = [&](std::string_view d) {
      if (d.size() >= 10 && d.substr(0, 10) > data_date) data_date = std::string(d.substr(0, 10));
    };
    auto warn = [&](std::string w) {
      ++st.rejected;
      if (st.warnings.size() < kMaxVulnDbWarnings) st.warnings.push_back(std::move(w));
    };
    auto check = [&](const Status& s) {
      if (!s && !fatal) fatal = s.error();
    };
    std::uint64_t bytes = 0;
    const std::string name = path.filename().string();
    auto ends = [&](std::string_view ext) {
      return name.ends_with(ext) || name.ends_with(std::string(ext) + ".gz");
    };
    if (ends(".csv") || ends(".md") || ends(".tsv")) {
      // Text sources: EPSS scores, endoflife.date product files, the CPE alias table. Each is
      // small; read whole under the record cap.
      auto text = vuln::read_text_source(path, kMaxVulnRecordBytes);
      if (!text) return rollback(text.error());
      bytes = text->size();
      Result<vuln::TextImport> t = fail("unknown text source");
      if (ends(".csv")) {
        st.format = "epss";
        t = vuln::parse_epss_csv(*text, [&](std::string_view cve, double score, double pct) {
          check(im->row(im->ins_epss, [&](Stmt& s) {
            s.bind(1, cve).bind_double(2, score).bind_double(3, pct);
            s.bind_null(4);
          }));
        });
        if (t && !t->data_date.empty()) {
          auto up = d.prepare("UPDATE epss SET date=?1 WHERE date IS NULL");
          if (!up) return rollback(up.error());
          up->bind(1, t->data_date);
          up->step();
          if (up->failed()) return rollback(d.sql_error().error());
        }
      } else if (ends(".md")) {
        st.format = "endoflife";
        std::string product = name.substr(0, name.find(".md"));
        std::vector<std::string> names;
        t = vuln::parse_endoflife_md(
            *text, product,
            [&](const vuln::EolRow& r) {
              date(r.release_date);
              check(im->row(im->ins_eol, [&](Stmt& s) {
                s.bind(1, r.product).bind(2, r.cycle);
                Importer::bind_opt(s, 3, r.release_date);
                Importer::bind_opt(s, 4, r.eol);
                Importer::bind_opt(s, 5, r.latest);
                Importer::bind_opt(s, 6, r.source);
              }));
            },
            names);
        for (const auto& n : names)
          check(im->row(im->ins_eol_name, [&](Stmt& s) { s.bind(1, n).bind(2, product); }));
      } else {
        st.format = "cpe-aliases";
        t = vuln::parse_alias_tsv(
            *text, [&](std::string_view id, std::string_view vendor, std::string_view product) {
              check(im->row(im->ins_alias,
                            [&](Stmt& s) { s.bind(1, id).bind(2, vendor).bind(3, product); }));
            });
      }
      if (!t) {
        Error e = t.error();
        e.file = path.string();
        return rollback(std::move(e));
      }
      if (fatal) return rollback(*fatal);
      if (!t->data_date.empty()) date(t->data_date);
      st.records = t->rows + t->rejected;
      st.stored = t->rows;
      st.rejected = t->rejected;
      st.warnings = t->warnings;
    } else {
      // Pipelined: a pool thread reads the next batch of records from the feed, splits and
      // parses it, while this thread stores the batch before it (SQLite stays on this thread).
      // Items are stored in feed order, so the outcome equals a sequential import.
      auto reader = name.ends_with(".zip") ? vuln::open_zip_feed(path) : vuln::open_feed(path);
      if (!reader) return rollback(reader.error());
      Batch in_flight;
      // Declared before `parsing`, whose destructor waits for the last task: the tasks write
      // them and free `stored`'s batch, so all must outlive the wait (ASan found the text buffer
      // of the last batch leaked into a destroyed `recycled`).
      std::shared_ptr<Batch> stored;
      std::string recycled;
      bool more = true;
      std::optional<Error> read_error;
      TaskGroup parsing(pool);
      // Stores the items of a parsed batch, in order.
      auto store_batch = [&](Batch& b) {
        for (auto& it : b.items) {
          if (fatal) return;
          ++st.records;
          if (!it.error.empty()) {
            warn(std::move(it.error));
            continue;
          }
          ++formats[format_name(it.kind)];
          if (it.kev) {
            const auto& k = *it.kev;
            date(k.date_added);
            check(im->row(im->ins_kev, [&](Stmt& s) {
              s.bind(1, k.cve).bind(2, k.date_added);
              Importer::bind_opt(s, 3, k.due_date);
              Importer::bind_opt(s, 4, k.vendor);
              Importer::bind_opt(s, 5, k.product);
              Importer::bind_opt(s, 6, k.name);
              Importer::bind_opt(s, 7, k.ransomware);
            }));
            ++st.stored;
            continue;
          }
          if (it.branches) {
            for (const auto& r : *it.branches)
              check(im->row(im->ins_branch, [&](Stmt& s) {
                s.bind(1, r.cve).bind(2, r.product).bind(3, r.branch).bind(4, r.fixed);
              }));
            // One document, one row per CVE and branch.
            if (!it.branches->empty()) st.records += it.branches->size() - 1;
            st.stored += it.branches->size();
            continue;
          }
          Record& r = *it.record;
          date(r.modified.empty() ? r.published : r.modified);
          check(im->divert_distro(r));
          auto stored = im->store(r, it.digest, st.cpe_matches);
          if (!stored) {
            fatal = stored.error();
            return;
          }
          ++(*stored ? st.stored : st.skipped);
        }
      };
      // Each round: take the batch the pool thread has read and parsed, start it on the next
      // one, and store the taken one meanwhile. The batch stored in the round before is freed
      // on the pool thread (its records' destructors and the text buffer cost the storing
      // thread a few per cent) and its text buffer comes back (`recycled`, read only after the
      // next wait) for a later batch: a fresh buffer per batch cost ~15 % of the import in
      // copies while it grew and in page faults on new memory. Reading and splitting the feed
      // on the pool thread too leaves this thread only SQLite (issue 13's import floor).
      for (;;) {
        parsing.wait();
        Batch done = std::move(in_flight);
        const bool last = !more || read_error || fatal;
        if (!last) {
          in_flight = Batch{};
          in_flight.text = std::exchange(recycled, std::string());
          in_flight.text.clear();
          in_flight.items.reserve(Batch::kItems);
          parsing.submit([&, old = std::move(stored)]() mutable {
            if (old) {
              old->items = {};
              recycled = std::move(old->text);
              old.reset();
            }
            while (more && !in_flight.full()) {
              auto r = (*reader)->next([&](std::string_view text, std::uint64_t offset) {
                in_flight.add(text, offset);
              });
              if (!r) {
                read_error = std::move(r.error());
                break;
              }
              more = *r;
            }
            if (!in_flight.items.empty()) in_flight.parse(parser);
          });
        }
        store_batch(done);
        stored = std::make_shared<Batch>(std::move(done));
        if (last) break;
      }
      parsing.wait();
      if (read_error) return rollback(*read_error);
      if (fatal) return rollback(*fatal);
      const vuln::FeedStats* feed = &(*reader)->stats();
      bytes = feed->bytes;
      st.rejected += feed->oversized;
      if (feed->oversized)
        st.warnings.push_back(
            fmt::format("{} records over kMaxVulnRecordBytes skipped", feed->oversized));
      // The file's format is the one most of its records have.
      st.format = "unknown";
      std::uint64_t best = 0;
      for (auto& [f, n] : formats)
        if (n > best) best = n, st.format = f;
    }
    st.data_date = data_date;
    src->reset();
    src->bind(1, std::filesystem::absolute(path).lexically_normal().string())
        .bind(2, st.format)
        .bind(3, std::int64_t(st.records - st.rejected))
        .bind(4, now_utc())
        .bind(5, std::int64_t(bytes));
    Importer::bind_opt(*src, 6, data_date);
    src->step();
    if (src->failed()) return rollback(d.sql_error().error());
    all.push_back(std::move(st));
  }

  if (fresh)
    if (auto s = d.exec(kIndexes); !s) return rollback(s.error());
  auto snap = d.compute_snapshot();
  if (!snap) return rollback(snap.error());
  auto meta = d.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('snapshot', ?1)");
  if (!meta) return rollback(meta.error());
  meta->bind(1, *snap);
  meta->step();
  if (meta->failed()) return rollback(d.sql_error().error());
  if (auto s = d.exec("INSERT OR REPLACE INTO meta(key, value) SELECT 'snapshot_date', "
                      "ifnull(max(data_date), '') FROM source");
      !s)
    return rollback(s.error());
  if (auto s = d.exec("COMMIT"); !s) return rollback(s.error());
  return all;
}

Result<std::string> VulnDb::snapshot_id() {
  auto s = impl_->prepare("SELECT value FROM meta WHERE key='snapshot'");
  if (!s) return std::unexpected(s.error());
  if (s->step()) return std::string(s->text(0));
  return impl_->compute_snapshot();
}

Result<VulnDbStatus> VulnDb::status() {
  Impl& d = *impl_;
  VulnDbStatus st;
  auto s = d.prepare(
      "SELECT path, format, records, imported_at, bytes, ifnull(data_date, '') FROM source "
      "ORDER BY rowid");
  if (!s) return std::unexpected(s.error());
  std::map<std::string, VulnSourceSummary> by;
  while (s->step()) {
    st.sources.push_back(VulnSource{std::string(s->text(0)), std::string(s->text(1)),
                                    std::uint64_t(s->i64(2)), std::string(s->text(3)),
                                    std::uint64_t(s->i64(4)), std::string(s->text(5))});
    const auto& src = st.sources.back();
    auto& sum = by[src.format];
    sum.format = src.format;
    ++sum.files;
    sum.records += src.records;
    sum.data_date = std::max(sum.data_date, src.data_date);
    sum.imported_at = std::max(sum.imported_at, src.imported_at);
    st.snapshot_date = std::max(st.snapshot_date, src.data_date);
  }
  if (s->failed()) return d.sql_error();
  for (auto& [f, sum] : by) st.by_format.push_back(std::move(sum));
  struct {
    std::uint64_t* out;
    const char* sql;
  } counts[] = {{&st.kev, "SELECT count(*) FROM kev"},
                {&st.epss, "SELECT count(*) FROM epss"},
                {&st.branch_fixes, "SELECT count(*) FROM branch_fix"},
                {&st.distro_fixes, "SELECT count(*) FROM distro_fix"},
                {&st.eol_products, "SELECT count(DISTINCT product) FROM eol"},
                {&st.eol_cycles, "SELECT count(*) FROM eol"},
                {&st.aliases, "SELECT count(*) FROM alias"}};
  for (auto& [out, sql] : counts) {
    auto n = d.scalar(sql);
    if (!n) return std::unexpected(n.error());
    *out = std::uint64_t(*n);
  }
  auto n = d.scalar("SELECT count(*) FROM cve");
  if (!n) return std::unexpected(n.error());
  st.vulnerabilities = std::uint64_t(*n);
  n = d.scalar("SELECT count(*) FROM cpe_match WHERE criteria<>''");
  if (!n) return std::unexpected(n.error());
  st.cpe_matches = std::uint64_t(*n);
  n = d.scalar("SELECT count(*) FROM (SELECT DISTINCT cve, cfg FROM cpe_match)");
  if (!n) return std::unexpected(n.error());
  st.configurations = std::uint64_t(*n);
  auto snap = d.compute_snapshot();  // recomputed: status is how an audit checks the stored id
  if (!snap) return std::unexpected(snap.error());
  st.snapshot = *snap;
  return st;
}

Result<std::vector<Vulnerability>> VulnDb::match(const VulnQuery& query) {
  Impl& d = *impl_;
  std::vector<Vulnerability> out;
  if (query.product.empty()) return out;
  VulnQuery q = query;
  for (auto* s : {&q.vendor, &q.product})
    for (auto& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<CpeName> platform;
  for (const auto& p : q.platform_cpes)
    if (auto c = parse_cpe23(p)) platform.push_back(std::move(*c));
  // One read transaction for the query's statements (hundreds of configuration loads for a
  // kernel): outside one, SQLite takes and drops its shared lock, and stats the journal, at
  // every statement.
  struct ReadTxn {
    sqlite3* db;
    bool on = false;
    explicit ReadTxn(sqlite3* h) : db(h) {
      if (sqlite3_get_autocommit(db))
        on = sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~ReadTxn() {
      if (on) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
  } txn(d.db);

  // The component's names: its own CPE vendor/product and, from the alias table, every CPE
  // name of the same product (curl is haxx:curl and haxx:libcurl).
  Query qq{q, {{q.vendor, q.product}}};
  {
    auto al = d.prepare(
        "SELECT DISTINCT b.vendor, b.product FROM alias a JOIN alias b ON a.id=b.id WHERE "
        "(a.product=?1 AND (?2='' OR a.vendor=?2)) OR a.id=?3 ORDER BY 1, 2");
    if (!al) return std::unexpected(al.error());
    std::string comp = q.component;
    for (auto& c : comp) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    al->bind(1, q.product).bind(2, q.vendor).bind(3, comp.empty() ? q.product : comp);
    while (al->step()) {
      std::pair<std::string, std::string> n{std::string(al->text(0)), std::string(al->text(1))};
      if (std::find(qq.names.begin(), qq.names.end(), n) == qq.names.end())
        qq.names.push_back(std::move(n));
    }
    if (al->failed()) return d.sql_error();
  }
  // Candidates: configurations with a vulnerable entry of one of the names whose version range
  // admits the component's version. Only such an entry can be attributed (evaluate), so the
  // others are never loaded: linux_kernel has ~2k configurations per name, most for other
  // versions.
  auto cand = d.prepare(
      "SELECT m.cve, m.cfg, m.criteria, m.vsi, m.vse, m.vei, m.vee FROM cpe_match m "
      "WHERE m.product=?1 AND m.hi>=?3 AND "
      "(?2='' OR m.vendor=?2 OR m.vendor='*') AND m.vulnerable=1");
  if (!cand) return std::unexpected(cand.error());
  std::set<std::pair<std::int64_t, std::int64_t>> cand_set;
  for (const auto& [vendor, product] : qq.names) {
    cand->reset();
    // Rows whose upper bound is below the version's key end before it (range_key).
    cand->bind(1, product)
        .bind(2, vendor)
        .bind(3, vuln::range_key(q.version).value_or(std::numeric_limits<std::int64_t>::min()));
    while (cand->step()) {
      std::pair<std::int64_t, std::int64_t> key{cand->i64(0), cand->i64(1)};
      if (cand_set.contains(key)) continue;
      const std::string_view vsi = cand->text(3), vse = cand->text(4), vei = cand->text(5),
                             vee = cand->text(6);
      bool admits = false;
      if (!vsi.empty() || !vse.empty() || !vei.empty() || !vee.empty()) {
        // in_range without copying the row (83k rows for linux_kernel).
        const std::string_view v = q.version;
        admits = !(v.empty() || v == "*" || v == "-") &&
                 (vsi.empty() || compare_versions(v, vsi) >= 0) &&
                 (vse.empty() || compare_versions(v, vse) > 0) &&
                 (vei.empty() || compare_versions(v, vei) <= 0) &&
                 (vee.empty() || compare_versions(v, vee) < 0);
      } else {
        MatchEntry m;
        const auto criteria = cand->text(2);
        m.cpe = entry_cpe(criteria);
        if (auto v = osv_version(criteria)) m.cpe.version = *v;
        admits = version_matches(m, q.version);
      }
      if (admits) cand_set.insert(key);
    }
    if (cand->failed()) return d.sql_error();
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> candidates(cand_set.begin(), cand_set.end());

  std::map<std::int64_t, std::string> fixed;  // rid → fixed_in of the attributed entry
  for (auto [rid, cfg] : candidates) {
    if (fixed.contains(rid) && !fixed[rid].empty()) continue;
    auto c = d.load_config(rid, cfg);
    if (!c) return std::unexpected(c.error());
    const Eval e = evaluate(*c, qq, platform);
    if (!e.value || !e.attributed) continue;
    auto& f = fixed[rid];
    if (f.empty()) f = e.attributed->vee;
  }

  auto row = d.prepare(
      "SELECT id, kind, published, status, description, cvss31_score, cvss31_vector, "
      "cvss31_severity, cvss30_score, cvss30_vector, cvss30_severity, cvss40_score, "
      "cvss40_vector, cvss40_severity, cvss2_score, cvss2_vector, cvss2_severity, cwe, aliases "
      "FROM cve WHERE rid=?1");
  if (!row) return std::unexpected(row.error());
  std::set<std::string> nvd_ids;
  std::vector<std::vector<std::string>> osv_aliases;
  for (auto& [rid, fix] : fixed) {
    row->reset();
    row->bind(1, rid);
    if (!row->step()) continue;
    const auto status = row->text(3);
    if (status == "Rejected" || status == "Withdrawn") continue;
    Vulnerability v;
    v.id = row->text(0);
    // A vendor's advisory table row is about exactly one CVE: reported under that id.
    if (row->text(1) == "vendor")
      for (const auto& a : split(row->text(18)))
        if (a.starts_with("CVE-")) v.id = a;
    v.component = q.component.empty() ? q.product : q.component;
    v.version = q.version;
    v.published = std::string(row->text(2).substr(0, 10));
    v.description = row->text(4);
    // CVSS v3.1 first, then v3.0, v4.0, and v2 for records that never had a newer score.
    for (int col : {5, 8, 11, 14}) {
      if (row->is_null(col) && row->is_null(col + 1) && row->is_null(col + 2)) continue;
      v.cvss = row->is_null(col) ? 0.0 : row->dbl(col);
      v.cvss_vector = row->text(col + 1);
      v.severity = row->text(col + 2);
      if (v.severity.empty() && !row->is_null(col)) v.severity = vuln::cvss_severity(v.cvss);
      break;
    }
    v.cwe = split(row->text(17));
    v.fixed_in = fix;
    if (row->text(1) == "osv" || row->text(1) == "vendor")
      osv_aliases.push_back(split(row->text(18)));
    else
      nvd_ids.insert(v.id), osv_aliases.emplace_back();
    out.push_back(std::move(v));
  }
  // An OSV record that only restates an NVD CVE already matched adds nothing.
  std::vector<Vulnerability> kept;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dup = std::any_of(osv_aliases[i].begin(), osv_aliases[i].end(),
                                 [&](const std::string& a) { return nvd_ids.contains(a); });
    if (!dup) kept.push_back(std::move(out[i]));
  }
  std::sort(kept.begin(), kept.end(),
            [](const Vulnerability& a, const Vulnerability& b) { return a.id < b.id; });
  kept.erase(
      std::unique(kept.begin(), kept.end(),
                  [](const Vulnerability& a, const Vulnerability& b) { return a.id == b.id; }),
      kept.end());
  if (auto st = d.triage(kept, q); !st) return std::unexpected(st.error());
  return kept;
}

Result<VulnDbStatus> VulnDb::brief_status() {
  Impl& d = *impl_;
  VulnDbStatus st;
  auto s = d.prepare("SELECT max(imported_at), ifnull(max(data_date), '') FROM source");
  if (!s) return std::unexpected(s.error());
  if (s->step()) {
    VulnSource newest;
    newest.imported_at = s->text(0);
    newest.data_date = s->text(1);
    st.sources.push_back(std::move(newest));
  }
  if (s->failed()) return d.sql_error();
  auto n = d.scalar("SELECT count(*) FROM cve");
  if (!n) return std::unexpected(n.error());
  st.vulnerabilities = std::uint64_t(*n);
  auto snap = snapshot_id();
  if (!snap) return std::unexpected(snap.error());
  st.snapshot = *snap;
  auto date = snapshot_date();
  if (!date) return std::unexpected(date.error());
  st.snapshot_date = *date;
  return st;
}

Result<std::string> VulnDb::meta(std::string_view key) {
  auto s = impl_->prepare("SELECT value FROM meta WHERE key=?1");
  if (!s) return std::unexpected(s.error());
  s->bind(1, key);
  if (s->step()) return std::string(s->text(0));
  if (s->failed()) return impl_->sql_error();
  return std::string();
}

Status VulnDb::set_meta(std::string_view key, std::string_view value) {
  auto s = impl_->prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
  if (!s) return std::unexpected(s.error());
  s->bind(1, key).bind(2, value);
  s->step();
  if (s->failed()) return std::unexpected(impl_->sql_error().error());
  return {};
}

Status VulnDb::integrity_check() {
  auto s = impl_->prepare("PRAGMA integrity_check");
  if (!s) return std::unexpected(s.error());
  if (s->step() && s->text(0) == "ok") return {};
  return fail("database integrity check failed: " + std::string(s->text(0)), 0,
              impl_->path.string());
}

Result<std::vector<std::string>> VulnDb::eol_products() {
  // Only endoflife.date's own products: curated entries have no file there.
  auto s = impl_->prepare(
      "SELECT DISTINCT product FROM eol WHERE source LIKE 'https://endoflife.date/%' ORDER BY "
      "product");
  if (!s) return std::unexpected(s.error());
  std::vector<std::string> out;
  while (s->step()) out.emplace_back(s->text(0));
  if (s->failed()) return impl_->sql_error();
  return out;
}

Result<std::string> VulnDb::snapshot_date() {
  auto s = impl_->prepare("SELECT value FROM meta WHERE key='snapshot_date'");
  if (!s) return std::unexpected(s.error());
  if (s->step()) return std::string(s->text(0));
  return std::string();
}

Result<std::optional<Eol>> VulnDb::eol(std::string_view name, std::string_view version,
                                       std::string_view today) {
  Impl& d = *impl_;
  std::string want(name);
  for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view v = version;
  if (v.size() > 1 && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  if (want.empty() || v.empty()) return std::optional<Eol>();
  auto s = d.prepare(
      "SELECT e.cycle, ifnull(e.eol, ''), e.product FROM eol e WHERE e.product IN "
      "(SELECT product FROM eol_name WHERE name=?1 UNION SELECT ?1) ORDER BY e.product");
  if (!s) return std::unexpected(s.error());
  s->bind(1, want);
  std::optional<Eol> best;
  while (s->step()) {
    const auto cycle = s->text(0);
    // "1.0.2k" is in cycle "1.0.2"; "5.10.1" is in "5.10" but not in "5.1".
    if (cycle.empty() || !v.starts_with(cycle) ||
        (v.size() > cycle.size() && std::isdigit(static_cast<unsigned char>(v[cycle.size()]))))
      continue;
    if (best && best->cycle.size() >= cycle.size()) continue;
    Eol e;
    e.cycle = cycle;
    e.date = s->text(1) == "ended" ? "" : std::string(s->text(1));
    e.reached = s->text(1) == "ended" || (!e.date.empty() && !today.empty() && e.date <= today);
    best = std::move(e);
  }
  if (s->failed()) return d.sql_error();
  return best;
}

std::filesystem::path default_vuln_db_path() {
  if (const char* env = std::getenv("PROBITY_DB"); env && *env) return env;
  // An installed probity (make install) keeps its database with its data.
  std::error_code ec;
  if (const auto installed = data_dir() / "vuln.db";
      std::filesystem::is_regular_file(installed, ec))
    return installed;
#ifdef PROBITY_DEFAULT_DB
  return PROBITY_DEFAULT_DB;
#else
  return "vuln.db";
#endif
}

}  // namespace probity
