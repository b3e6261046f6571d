// Package metadata: when the image says what it installed, that is the authoritative answer.
// Each component records the metadata file as its source and the stanza's offset as evidence.
#include <fmt/format.h>

#include <fnmatch.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <span>
#include <string_view>

#include "core/bytes.hpp"
#include "core/sqlite.hpp"
#include "probity/identify.hpp"
#include "probity/json.hpp"
#include "probity/mapped_file.hpp"
#include "probity/tree_files.hpp"

namespace probity {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

/// Upstream version of a package version: no epoch ("1:"), no packaging revision ("-3+deb12u1"
/// for dpkg, "-1" for opkg), no repack suffixes ("+dfsg", ".dfsg", "~deb12u1").
std::string upstream_version(std::string v) {
  if (auto c = v.find(':'); c != std::string::npos && c < 4) v = v.substr(c + 1);
  if (auto d = v.rfind('-'); d != std::string::npos && d > 0) v = v.substr(0, d);
  for (const char* suffix : {"+dfsg", ".dfsg", "+ds", "~", "+really"})
    if (auto p = v.find(suffix); p != std::string::npos && p > 0) v = v.substr(0, p);
  return v;
}

struct Stanza {
  std::map<std::string, std::string> fields;
  std::uint64_t offset = 0;
};

/// RFC-822-style stanzas separated by blank lines (dpkg status, opkg status and .control).
std::vector<Stanza> parse_stanzas(std::string_view text) {
  std::vector<Stanza> out;
  Stanza cur;
  bool open = false;
  std::string last;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) {
      if (open) out.push_back(std::move(cur));
      cur = {};
      open = false;
    } else if (line.front() == ' ' || line.front() == '\t') {
      // continuation of a multi-line field (Description...): not needed
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      if (!open) cur.offset = pos;
      open = true;
      last = std::string(line.substr(0, colon));
      cur.fields[last] = trim(line.substr(colon + 1));
    }
    pos = nl + 1;
  }
  if (open) out.push_back(std::move(cur));
  return out;
}

/// KEY=value files (os-release, openwrt_release).
std::map<std::string, std::string> parse_env(std::string_view text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string line = trim(text.substr(pos, nl - pos));
    if (auto eq = line.find('='); eq != std::string::npos && line[0] != '#')
      out[line.substr(0, eq)] = unquote(trim(std::string_view(line).substr(eq + 1)));
    pos = nl + 1;
  }
  return out;
}

/// PEP 503 normalised Python distribution name: lower case, runs of "-", "_" and "." one "-".
std::string pypi_name(std::string_view n) {
  std::string out;
  for (char c : n) {
    if (c == '-' || c == '_' || c == '.') {
      if (!out.empty() && out.back() != '-') out += '-';
    } else {
      out += char(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

/// One RPM header as rpmdb stores it (no lead, no magic): big-endian index entry count and data
/// size, 16-byte index entries (tag, type, offset into the data, count), then the data. Only the
/// STRING (type 6) tags NAME 1000, VERSION 1001 and RELEASE 1002 are read; any entry or size that
/// points outside the blob makes the header unreadable.
std::optional<RpmPackage> parse_rpm_header(Bytes b) {
  const auto il = read_be<std::uint32_t>(b, 0), dl = read_be<std::uint32_t>(b, 4);
  if (!il || !dl || *il == 0 || *il > kMaxRpmHeaderEntries) return std::nullopt;
  const std::uint64_t data_at = 8 + std::uint64_t(*il) * 16;
  if (data_at + *dl > b.size()) return std::nullopt;
  const Bytes data = sub(b, data_at, *dl);
  RpmPackage out;
  for (std::uint64_t e = 8; e < data_at; e += 16) {  // every entry lies before the data
    const std::uint32_t tag = *read_be<std::uint32_t>(b, e),
                        type = *read_be<std::uint32_t>(b, e + 4),
                        off = *read_be<std::uint32_t>(b, e + 8);
    if (type != 6 || tag < 1000 || tag > 1002 || off >= data.size()) continue;
    const Bytes str = sub(data, off);
    const auto* nul = static_cast<const std::uint8_t*>(std::memchr(str.data(), 0, str.size()));
    if (!nul) return std::nullopt;
    std::string v(reinterpret_cast<const char*>(str.data()), std::size_t(nul - str.data()));
    (tag == 1000 ? out.name : tag == 1001 ? out.version : out.release) = std::move(v);
  }
  if (out.name.empty() || out.version.empty()) return std::nullopt;
  return out;
}

}  // namespace

/// Table Packages(hnum, blob) of an rpmdb.sqlite. The bytes are copied and opened in memory,
/// read-only, with SQLite's defensive mode and an instruction budget; a WAL-mode header is read
/// as rollback (what is still in a -wal file beside it is not read).
std::vector<RpmPackage> rpm_database_packages(std::span<const std::uint8_t> bytes) {
  std::vector<RpmPackage> out;
  if (bytes.size() < 100 || !starts_with(bytes, {"SQLite format 3\0", 16})) return out;
  auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(bytes.size()));
  if (!copy) return out;
  std::memcpy(copy, bytes.data(), bytes.size());
  if (copy[18] == 2) copy[18] = 1;  // file format versions: WAL -> legacy
  if (copy[19] == 2) copy[19] = 1;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_free(copy);
    sqlite3_close(db);
    return out;
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  if (sqlite3_deserialize(
          db, "main", copy, sqlite3_int64(bytes.size()), sqlite3_int64(bytes.size()),
          SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  constexpr int kEvery = 10000;
  std::uint64_t budget = kMaxRpmdbInstructions / kEvery;
  sqlite3_progress_handler(
      db, kEvery,
      [](void* left) {
        auto& n = *static_cast<std::uint64_t*>(left);
        return n == 0 ? 1 : (--n, 0);
      },
      &budget);
  {
    sql::Stmt st(db, "SELECT hnum, blob FROM Packages");
    while (st.ok() && out.size() < kMaxRpmPackages && st.step())
      if (auto pkg = parse_rpm_header(st.blob(1))) {
        pkg->hnum = std::uint64_t(st.i64(0));
        out.push_back(std::move(*pkg));
      }
  }
  sqlite3_close(db);
  return out;
}

namespace {

struct Builder {
  const Identifier& id;
  std::map<std::string, long> by_package;
  std::vector<Component> out;

  std::map<std::string, long> by_purl;  // "npm/react", "pypi/requests": a signature's purl

  explicit Builder(const Identifier& i) : id(i) {
    const auto& sigs = id.signatures();
    for (std::size_t k = 0; k < sigs.size(); ++k) {
      for (const auto& p : sigs[k].packages) by_package.emplace(p, long(k));
      for (const char* type : {"npm", "pypi"})
        if (const std::string pre = fmt::format("pkg:{}/", type); sigs[k].purl.starts_with(pre)) {
          // A scoped npm name is percent-encoded in its purl: pkg:npm/%40novnc/novnc.
          std::string name = sigs[k].purl.substr(pre.size());
          if (name.starts_with("%40")) name = "@" + name.substr(3);
          by_purl.emplace(fmt::format("{}/{}", type, name), long(k));
        }
    }
  }

  /// `raw_version` as the metadata gives it; distribution packages (dpkg, opkg, apk, Buildroot,
  /// Yocto) lose their epoch and packaging revision, language packages (npm, PyPI) and RPM's
  /// VERSION tag are upstream versions already. npm and PyPI names are looked up by the
  /// signatures' purls only: an npm "less" is not GNU less.
  void add(const std::string& package, const std::string& raw_version, const FileRecord& f,
           std::uint64_t offset, const std::string& method, const std::string& purl_type,
           std::string excerpt = {}) {
    if (package.empty() || raw_version.empty()) return;
    const bool language = purl_type == "npm" || purl_type == "pypi";
    Component c;
    c.version = language || purl_type == "rpm" ? raw_version : upstream_version(raw_version);
    c.source = f.path;
    // The distribution's own version judges backported fixes (vulndb: distro_fix).
    if (method == "dpkg-status") c.distro = "debian", c.distro_version = raw_version;
    if (method == "opkg-status") c.distro = "openwrt", c.distro_version = raw_version;
    if (method == "apk-installed") c.distro = "alpine", c.distro_version = raw_version;
    long k = -1;
    if (language) {
      if (auto p = by_purl.find(fmt::format("{}/{}", purl_type, package)); p != by_purl.end())
        k = p->second;
    } else {
      auto it = by_package.find(package);
      if (it == by_package.end()) it = by_package.find(package + "*");
      k = it != by_package.end() ? it->second : id.find(package);
    }
    if (k >= 0) {
      const auto& s = id.signatures()[std::size_t(k)];
      c.name = s.id;
      c.vendor = s.vendor;
      c.purl = make_purl(s, c.version);
      c.cpe = make_cpe(s, c.version);
      c.cpe_aliases = make_cpe_aliases(s, c.version);
    } else {
      // A package no signature knows: named as packaged, no CPE (a guess would mis-match CVEs).
      c.name = package;
      Signature generic;
      generic.purl = fmt::format("pkg:{}/{}", purl_type,
                                 package.starts_with('@') ? "%40" + package.substr(1) : package);
      c.purl = make_purl(generic, c.version);
    }
    if (excerpt.empty()) excerpt = fmt::format("{} {}", package, raw_version);
    c.evidence.push_back({f.path, f.container, offset, std::move(excerpt), method,
                          "package-metadata", kConfidencePackageMetadata});
    // Several packages of one product (libssl3 and openssl) are one component of that source.
    for (auto& e : out)
      if (e.name == c.name && e.version == c.version && e.source == c.source) {
        e.evidence.push_back(c.evidence.front());
        return;
      }
    out.push_back(std::move(c));
  }

  /// Every stanza of `text` that has both fields: one package each (apk, Yocto).
  void add_stanzas(std::string_view text, const char* name_key, const char* version_key,
                   const FileRecord& f, const std::string& method, const std::string& purl_type) {
    for (const auto& s : parse_stanzas(text)) {
      auto n = s.fields.find(name_key);
      auto v = s.fields.find(version_key);
      if (n != s.fields.end() && v != s.fields.end())
        add(n->second, v->second, f, s.offset, method, purl_type);
    }
  }
};

bool path_is(const std::string& p, std::string_view want) {
  return p == want ||
         (p.size() > want.size() && p.ends_with(want) && p[p.size() - want.size() - 1] == '/');
}

}  // namespace

std::vector<Component> package_components(const ArtifactTree& tree,
                                          const std::filesystem::path& out_dir,
                                          const Identifier& identifier, bool plain_directory) {
  Builder b(identifier);
  std::optional<TreeFiles> files;  // opened at the first metadata file
  for (const auto& f : tree.files) {
    if (f.type != EntryType::kFile || f.extracted.empty() || f.size > kMaxMetadataBytes) continue;
    const std::string& p = f.path;
    enum class Kind {
      kNone,
      kDpkg,
      kOpkg,
      kApk,
      kRpmSqlite,
      kNpm,
      kPython,
      kOsRelease,
      kOpenwrt,
      kBuildroot,
      kYocto
    } kind = Kind::kNone;
    if (path_is(p, "var/lib/dpkg/status"))
      kind = Kind::kDpkg;
    else if (path_is(p, "usr/lib/opkg/status") || path_is(p, "var/lib/opkg/status") ||
             (p.ends_with(".control") && p.find("opkg/info/") != std::string::npos))
      kind = Kind::kOpkg;
    else if (path_is(p, "lib/apk/db/installed"))
      kind = Kind::kApk;
    else if (path_is(p, "var/lib/rpm/rpmdb.sqlite") ||
             path_is(p, "usr/lib/sysimage/rpm/rpmdb.sqlite"))
      kind = Kind::kRpmSqlite;
    else if (path_is(p, "package.json"))
      kind = Kind::kNpm;
    else if (p.ends_with(".dist-info/METADATA") || p.ends_with(".egg-info/PKG-INFO") ||
             p.ends_with(".egg-info"))
      kind = Kind::kPython;
    else if (path_is(p, "etc/os-release") || path_is(p, "usr/lib/os-release"))
      kind = Kind::kOsRelease;
    else if (path_is(p, "etc/openwrt_release"))
      kind = Kind::kOpenwrt;
    else if (fnmatch("*manifest.csv", p.c_str(), 0) == 0 &&
             p.find("legal-info") != std::string::npos)
      kind = Kind::kBuildroot;
    else if (p.ends_with("license.manifest"))
      kind = Kind::kYocto;
    if (kind == Kind::kNone) continue;
    if (!files) {
      auto opened = plain_directory ? TreeFiles::open_directory(out_dir) : TreeFiles::open(out_dir);
      if (!opened) break;
      files = std::move(*opened);
    }
    auto mf = files->map(f);  // resolved inside the container, never a link
    if (!mf) continue;
    const auto bytes = mf->bytes();
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    switch (kind) {
      case Kind::kDpkg:
      case Kind::kOpkg:
        for (const auto& s : parse_stanzas(text)) {
          auto get = [&](const char* k) {
            auto it = s.fields.find(k);
            return it == s.fields.end() ? std::string() : it->second;
          };
          const std::string status = get("Status");
          // A removed package leaves a stanza behind ("deinstall ok config-files").
          if (!status.empty() && status.find(" installed") == std::string::npos) continue;
          b.add(get("Package"), get("Version"), f, s.offset,
                kind == Kind::kDpkg ? "dpkg-status" : "opkg-status",
                kind == Kind::kDpkg ? "deb" : "generic");
        }
        break;
      case Kind::kApk:
        // Alpine's database: stanzas of one-letter fields, P: name, V: version ("1.36.1-r2").
        b.add_stanzas(text, "P", "V", f, "apk-installed", "apk");
        break;
      case Kind::kRpmSqlite:
        for (const auto& pkg : rpm_database_packages(bytes))
          b.add(pkg.name, pkg.version, f, 0, "rpm-database", "rpm",
                fmt::format("{} {}-{} (header {})", pkg.name, pkg.version, pkg.release, pkg.hnum));
        break;
      case Kind::kNpm: {
        // An npm manifest: every deployed package has one (node_modules, Debian's
        // usr/share/nodejs); "name" and "version" must both be strings.
        auto j = parse_json_bounded(text, p, kMaxMetadataBytes);
        if (!j || !j->is_object()) break;
        auto n = j->find("name"), v = j->find("version");
        if (n == j->end() || v == j->end() || !n->is_string() || !v->is_string()) break;
        const std::string name = n->get<std::string>(), version = v->get<std::string>();
        if (name.size() > 214 || version.size() > kMaxVersionLength || version.empty() ||
            !std::isdigit(static_cast<unsigned char>(version[0])))
          break;
        const auto at = text.find("\"version\"");
        b.add(name, version, f, at == std::string_view::npos ? 0 : at, "npm-package-json", "npm",
              fmt::format("\"name\": \"{}\", \"version\": \"{}\"", name, version));
        break;
      }
      case Kind::kPython: {
        // Core metadata (PEP 241/566): the header block's Name and Version; the description
        // that follows the blank line may quote other headers.
        auto stanzas = parse_stanzas(text.substr(0, text.find("\n\n")));
        if (stanzas.empty()) break;
        auto n = stanzas.front().fields.find("Name");
        auto v = stanzas.front().fields.find("Version");
        if (n == stanzas.front().fields.end() || v == stanzas.front().fields.end() ||
            v->second.size() > kMaxVersionLength)
          break;
        b.add(pypi_name(n->second), v->second, f, 0, "python-metadata", "pypi",
              fmt::format("Name: {} Version: {}", n->second, v->second));
        break;
      }
      case Kind::kOsRelease: {
        auto env = parse_env(text);
        std::string version = env["VERSION_ID"];
        if (version.empty()) version = env["VERSION"];
        b.add(env["ID"], version, f, 0, "os-release", "generic");
        break;
      }
      case Kind::kOpenwrt: {
        auto env = parse_env(text);
        std::string name = env["DISTRIB_ID"];
        std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
        b.add(name, env["DISTRIB_RELEASE"], f, 0, "openwrt-release", "generic");
        break;
      }
      case Kind::kBuildroot: {
        // legal-info/manifest.csv: "PACKAGE","VERSION","LICENSE",...
        std::size_t pos = 0;
        while (pos < text.size()) {
          std::size_t nl = text.find('\n', pos);
          if (nl == std::string_view::npos) nl = text.size();
          std::string line(text.substr(pos, nl - pos));
          std::vector<std::string> cols;
          std::string cell;
          bool q = false;
          for (char c : line) {
            if (c == '"')
              q = !q;
            else if (c == ',' && !q) {
              cols.push_back(cell);
              cell.clear();
            } else
              cell += c;
          }
          cols.push_back(cell);
          if (cols.size() >= 2 && cols[0] != "PACKAGE")
            b.add(trim(cols[0]), trim(cols[1]), f, pos, "buildroot-manifest", "generic");
          pos = nl + 1;
        }
        break;
      }
      case Kind::kYocto: {
        // license.manifest: "PACKAGE NAME: x" / "PACKAGE VERSION: y" blocks.
        b.add_stanzas(text, "PACKAGE NAME", "PACKAGE VERSION", f, "yocto-manifest", "generic");
        break;
      }
      case Kind::kNone:
        break;
    }
  }
  return std::move(b.out);
}

}  // namespace probity
