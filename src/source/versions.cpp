// The versions a source tree states about itself and what it vendors (docs/source-audit.md,
// "Components"). Hand-written line scanners: no library parses Makefiles, autoconf, meson,
// BitBake recipes and Debian changelogs for their version alone, and these formats are read
// only for one assignment each. Regexes run only on lines of at most kMaxSourceVersionLine bytes,
// so a hostile file cannot make std::regex recurse deeply; the whole scan is linear in the input.
#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

#include "core/text.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/source.hpp"
#include "source/internal.hpp"

namespace probity {
namespace {

std::string_view base_name(std::string_view p) {
  const auto s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

/// A version must start with a digit and hold only version characters.
bool plausible_version(std::string_view v) {
  if (v.empty() || v.size() > 64 || !std::isdigit(static_cast<unsigned char>(v[0]))) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == '+' || c == '~';
  });
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

/// Calls fn(line number, line) for every line (lines past kMaxSourceVersionLine are cut to it).
template <typename Fn>
void for_lines(std::string_view text, Fn&& fn) {
  std::uint32_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    ++n;
    std::string_view line = text.substr(pos, std::min(e - pos, kMaxSourceVersionLine));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!fn(n, line)) return;
    pos = e + 1;
  }
}

std::uint32_t line_of(std::string_view text, std::size_t off) {
  return 1 +
         std::uint32_t(std::count(text.begin(), text.begin() + std::min(off, text.size()), '\n'));
}

/// Upstream version of a Debian version: no epoch, no Debian revision.
std::string debian_upstream(std::string_view v) {
  if (auto c = v.find(':'); c != std::string_view::npos && c < 4) v.remove_prefix(c + 1);
  if (auto d = v.rfind('-'); d != std::string_view::npos) v = v.substr(0, d);
  return std::string(v);
}

struct Macro {
  const char* name;
  const char* product;  // "" when the value names the product (OPENSSL_VERSION_TEXT)
};
// Version macros of products commonly vendored into firmware sources.
constexpr Macro kMacros[] = {
    {"OPENSSL_VERSION_TEXT", "openssl"},   {"BB_VER", "busybox"},
    {"DROPBEAR_VERSION", "dropbear"},      {"SSH_VERSION", "openssh"},
    {"LIGHTTPD_VERSION_ID", "lighttpd"},   {"ZLIB_VERSION", "zlib"},
    {"LIBCURL_VERSION", "curl"},           {"SQLITE_VERSION", "sqlite"},
    {"MBEDTLS_VERSION_STRING", "mbedtls"}, {"WOLFSSL_VERSION_STRING", "wolfssl"},
    {"LIBSSH_VERSION", "libssh"},
};

}  // namespace

std::vector<SourceVersion> source_versions(std::string_view rel_path, std::string_view text) {
  std::vector<SourceVersion> out;
  if (text.size() > kMaxSourceFileBytes) text = text.substr(0, kMaxSourceFileBytes);
  const std::string name = lower(base_name(rel_path));
  auto add = [&](std::string product, std::string version, std::uint32_t line, std::string method,
                 std::string_view excerpt) {
    if (!plausible_version(version) || product.empty()) return;
    out.push_back({lower(product), std::move(version), line, std::move(method),
                   std::string(excerpt.substr(0, 200))});
  };

  const bool c_like = name.ends_with(".h") || name.ends_with(".c") || name.ends_with(".in") ||
                      name.ends_with(".hpp") || name.ends_with(".cpp");
  if (c_like) {
    static const std::regex kDefine(R"(^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$)");
    std::string ssh_version;
    std::uint32_t ssh_line = 0;
    std::string ssh_excerpt;
    std::string portable;
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      if (line.find("define") == std::string_view::npos) return true;
      std::match_results<std::string_view::const_iterator> m;
      if (!std::regex_match(line.begin(), line.end(), m, kDefine)) return true;
      const std::string macro = m[1].str();
      std::string value = trim(m[2].str());
      // The quoted value, if any.
      if (auto q = value.find('"'); q != std::string::npos) {
        auto e = value.find('"', q + 1);
        value = e == std::string::npos ? "" : value.substr(q + 1, e - q - 1);
      } else {
        value = "";
      }
      if (macro == "SSH_PORTABLE") portable = value;
      for (const auto& mac : kMacros) {
        if (macro != mac.name || !*mac.product) continue;
        if (macro == "OPENSSL_VERSION_TEXT") {
          // "OpenSSL 1.1.1w  11 Sep 2023" (or "LibreSSL 3.8.2").
          auto sp = value.find(' ');
          if (sp == std::string::npos) break;
          std::string prod = lower(value.substr(0, sp));
          std::string ver = value.substr(sp + 1);
          ver = ver.substr(0, ver.find(' '));
          add(prod == "libressl" ? "libressl" : "openssl", ver, n, "macro:" + macro, line);
        } else if (macro == "SSH_VERSION") {
          // "OpenSSH_9.2" (+ SSH_PORTABLE "p1" in the portable release).
          if (value.starts_with("OpenSSH_")) {
            ssh_version = value.substr(8);
            ssh_line = n;
            ssh_excerpt = std::string(line);
          }
        } else {
          add(mac.product, value, n, "macro:" + macro, line);
        }
      }
      return true;
    });
    if (!ssh_version.empty())
      add("openssh", ssh_version + portable, ssh_line, "macro:SSH_VERSION", ssh_excerpt);
    // config.h of an autoconf project: PACKAGE_VERSION with its PACKAGE_TARNAME.
    std::string pkg, pkg_version;
    std::uint32_t pv_line = 0;
    std::string pv_excerpt;
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      auto grab = [&](std::string_view key) -> std::optional<std::string> {
        const auto k = line.find(key);
        if (k == std::string_view::npos || line.find("define") == std::string_view::npos)
          return std::nullopt;
        auto q = line.find('"', k);
        if (q == std::string_view::npos) return std::nullopt;
        auto e = line.find('"', q + 1);
        if (e == std::string_view::npos) return std::nullopt;
        return std::string(line.substr(q + 1, e - q - 1));
      };
      if (auto v = grab("PACKAGE_TARNAME "); v && pkg.empty()) pkg = *v;
      if (auto v = grab("PACKAGE_VERSION "); v) {
        pkg_version = *v;
        pv_line = n;
        pv_excerpt = std::string(line);
      }
      return true;
    });
    if (!pkg.empty() && !pkg_version.empty())
      add(pkg, pkg_version, pv_line, "macro:PACKAGE_VERSION", pv_excerpt);
  }

  if (name == "configure.ac" || name == "configure.in") {
    // AC_INIT([name], [version], ...) or AC_INIT(name, version, ...), on one line.
    static const std::regex kInit(R"(^\s*AC_INIT\(\s*\[?([^\],\)]+)\]?\s*,\s*\[?([^\],\)]+)\]?)");
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      std::match_results<std::string_view::const_iterator> m;
      if (line.find("AC_INIT") == std::string_view::npos ||
          !std::regex_search(line.begin(), line.end(), m, kInit))
        return true;
      add(trim(m[1].str()), trim(m[2].str()), n, "ac-init", line);
      return false;
    });
  }

  if (name == "cmakelists.txt") {
    static const std::regex kProject(
        R"(^\s*project\s*\(\s*([A-Za-z0-9_.+-]+)[^)]*\bVERSION\s+([0-9][0-9A-Za-z.]*))",
        std::regex::icase);
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      std::match_results<std::string_view::const_iterator> m;
      if (!std::regex_search(line.begin(), line.end(), m, kProject)) return true;
      add(m[1].str(), m[2].str(), n, "cmake-project", line);
      return false;
    });
  }

  if (name == "meson.build") {
    // project('name', 'c', version: '1.2.3', ...) over several lines.
    const auto p = text.find("project(");
    if (p != std::string_view::npos) {
      std::string_view call = text.substr(p, kMaxSourceCallBytes);
      call = call.substr(0, call.find(')'));
      const auto q = call.find('\'');
      const auto qe = q == std::string_view::npos ? q : call.find('\'', q + 1);
      const auto v = call.find("version");
      if (qe != std::string_view::npos && v != std::string_view::npos) {
        const auto vq = call.find('\'', v);
        const auto vqe = vq == std::string_view::npos ? vq : call.find('\'', vq + 1);
        if (vqe != std::string_view::npos)
          add(std::string(call.substr(q + 1, qe - q - 1)),
              std::string(call.substr(vq + 1, vqe - vq - 1)), line_of(text, p + v), "meson-project",
              call.substr(v, vqe + 1 - v));
      }
    }
  }

  if (name == "makefile" || name.ends_with(".mk")) {
    // OpenWrt (PKG_NAME:=x, PKG_VERSION:=1.2), Buildroot (FOO_VERSION = 1.2 in package/foo/foo.mk)
    // and the Linux/busybox top Makefile (VERSION, PATCHLEVEL, SUBLEVEL, EXTRAVERSION).
    static const std::regex kAssign(R"(^\s*([A-Za-z0-9_]+)\s*[:?]?=\s*(\S*)\s*$)");
    std::string pkg_name, pkg_version, ver, patch, sub, extra;
    std::uint32_t pkg_line = 0, ver_line = 0;
    std::string pkg_excerpt, ver_excerpt;
    std::string buildroot_prefix;
    if (name.ends_with(".mk")) {
      // package/foo-bar/foo-bar.mk → FOO_BAR_VERSION
      std::string stem(base_name(rel_path));
      stem = stem.substr(0, stem.size() - 3);
      for (char c : stem) buildroot_prefix += c == '-' ? '_' : char(std::toupper((unsigned char)c));
    }
    std::string br_name, br_version;
    std::uint32_t br_line = 0;
    std::string br_excerpt;
    bool sub_seen = false;
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      std::match_results<std::string_view::const_iterator> m;
      if (line.find('=') == std::string_view::npos ||
          !std::regex_match(line.begin(), line.end(), m, kAssign))
        return true;
      const std::string k = m[1].str(), v = m[2].str();
      if (k == "PKG_NAME" && pkg_name.empty()) pkg_name = v;
      if (k == "PKG_VERSION" && pkg_version.empty()) {
        pkg_version = v;
        pkg_line = n;
        pkg_excerpt = std::string(line);
      }
      if (n < 20) {  // the top Makefile states them in its first lines
        if (k == "VERSION" && ver.empty()) {
          ver = v;
          ver_line = n;
          ver_excerpt = std::string(line);
        }
        if (k == "PATCHLEVEL") patch = v;
        if (k == "SUBLEVEL") {
          sub = v;
          sub_seen = true;
        }
        if (k == "EXTRAVERSION") extra = v;
      }
      if (!buildroot_prefix.empty() && k == buildroot_prefix + "_VERSION" && br_version.empty()) {
        br_name = lower(std::string(base_name(rel_path)).substr(0, base_name(rel_path).size() - 3));
        br_version = v;
        br_line = n;
        br_excerpt = std::string(line);
      }
      return true;
    });
    if (!pkg_name.empty() && !pkg_version.empty())
      add(pkg_name, pkg_version, pkg_line, "pkg-version", pkg_excerpt);
    if (!br_version.empty()) add(br_name, br_version, br_line, "pkg-version", br_excerpt);
    if (name == "makefile" && !ver.empty() && !patch.empty() && sub_seen) {
      std::string product;
      if (text.find("BusyBox") != std::string_view::npos ||
          text.find("busybox") != std::string_view::npos)
        product = "busybox";
      else if (text.find("vmlinux") != std::string_view::npos)
        product = "linux_kernel";
      if (!product.empty())
        add(product, ver + "." + patch + (sub.empty() ? "" : "." + sub) + extra, ver_line,
            "makefile", ver_excerpt);
    }
  }

  if ((name.ends_with(".bb") || name.ends_with(".bbappend")) &&
      rel_path.find("recipes-") != std::string_view::npos) {
    // Yocto: recipe-name_1.2.3.bb, or PV = "1.2.3" inside.
    std::string stem(base_name(rel_path));
    stem = stem.substr(0, stem.rfind('.'));
    std::string pv;
    std::uint32_t pv_line = 1;
    std::string pv_excerpt;
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      static const std::regex kPv(R"(^\s*PV\s*[:?]?=\s*"([^"$]+)\"\s*$)");
      std::match_results<std::string_view::const_iterator> m;
      if (line.find("PV") != std::string_view::npos &&
          std::regex_match(line.begin(), line.end(), m, kPv)) {
        pv = m[1].str();
        pv_line = n;
        pv_excerpt = std::string(line);
        return false;
      }
      return true;
    });
    const auto us = stem.find('_');
    const std::string recipe = stem.substr(0, us);
    if (!pv.empty())
      add(recipe, pv, pv_line, "yocto-recipe", pv_excerpt);
    else if (us != std::string::npos)
      add(recipe, stem.substr(us + 1), 1, "yocto-recipe", base_name(rel_path));
  }

  if (name == "changelog" && rel_path.find("debian/") != std::string_view::npos) {
    // First entry: "package (epoch:upstream-revision) distribution; urgency=..."
    static const std::regex kEntry(R"(^([a-z0-9][a-z0-9+.-]*)\s+\(([^)\s]+)\)\s+.*;.*$)");
    for_lines(text, [&](std::uint32_t n, std::string_view line) {
      std::match_results<std::string_view::const_iterator> m;
      if (!std::regex_match(line.begin(), line.end(), m, kEntry)) return n < 5;
      add(m[1].str(), debian_upstream(m[2].str()), n, "debian-changelog", line);
      return false;
    });
  }

  if (name == "package.json" && rel_path.find("node_modules/") == std::string_view::npos) {
    // The package's own name and version (a web UI's npm manifest).
    auto j = parse_json_bounded(text, std::string(rel_path), kMaxSourceFileBytes);
    if (j && j->is_object() && j->contains("name") && j->contains("version") &&
        (*j)["name"].is_string() && (*j)["version"].is_string()) {
      const std::string n = (*j)["name"].get<std::string>();
      const std::string v = (*j)["version"].get<std::string>();
      const auto at = text.find("\"version\"");
      add(n, v, at == std::string_view::npos ? 1 : line_of(text, at), "package-json",
          "\"version\": \"" + v + "\"");
    }
  }
  return out;
}

}  // namespace probity
