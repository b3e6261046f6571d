// Package metadata: when the image says what it installed, that is the authoritative answer.
// Each component records the metadata file as its source and the stanza's offset as evidence.
#include <fmt/format.h>

#include <fnmatch.h>
#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "probity/identify.hpp"
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

struct Builder {
  const Identifier& id;
  std::map<std::string, long> by_package;
  std::vector<Component> out;

  explicit Builder(const Identifier& i) : id(i) {
    const auto& sigs = id.signatures();
    for (std::size_t k = 0; k < sigs.size(); ++k)
      for (const auto& p : sigs[k].packages) by_package.emplace(p, long(k));
  }

  void add(const std::string& package, const std::string& raw_version, const FileRecord& f,
           std::uint64_t offset, const std::string& method, const std::string& purl_type) {
    if (package.empty() || raw_version.empty()) return;
    Component c;
    c.version = upstream_version(raw_version);
    c.source = f.path;
    // The distribution's own version judges backported fixes (vulndb: distro_fix).
    if (method == "dpkg-status") c.distro = "debian", c.distro_version = raw_version;
    if (method == "opkg-status") c.distro = "openwrt", c.distro_version = raw_version;
    auto it = by_package.find(package);
    if (it == by_package.end()) it = by_package.find(package + "*");
    long k = it != by_package.end() ? it->second : id.find(package);
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
      generic.purl = fmt::format("pkg:{}/{}", purl_type, package);
      c.purl = make_purl(generic, c.version);
    }
    c.evidence.push_back({f.path, f.container, offset, fmt::format("{} {}", package, raw_version),
                          method, "package-metadata", kConfidencePackageMetadata});
    // Several packages of one product (libssl3 and openssl) are one component of that source.
    for (auto& e : out)
      if (e.name == c.name && e.version == c.version && e.source == c.source) {
        e.evidence.push_back(c.evidence.front());
        return;
      }
    out.push_back(std::move(c));
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
        for (const auto& s : parse_stanzas(text)) {
          auto n = s.fields.find("PACKAGE NAME");
          auto v = s.fields.find("PACKAGE VERSION");
          if (n != s.fields.end() && v != s.fields.end())
            b.add(n->second, v->second, f, s.offset, "yocto-manifest", "generic");
        }
        break;
      }
      case Kind::kNone:
        break;
    }
  }
  return std::move(b.out);
}

}  // namespace probity
