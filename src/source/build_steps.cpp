// Build-file checks of `probity source` (docs/source-audit.md, "Build files"): the xz-utils back
// door lived in an m4 file that decoded a "test file" into the build. Shell, make and m4 have no
// parser that would see through their quoting and expansion (the attack relied on that), so
// these are word checks per logical line (backslash continuations joined), kept narrow so that
// the unmodified trees of the test set raise nothing high.
#include <algorithm>
#include <array>
#include <cctype>

#include "probity/limits.hpp"
#include "probity/source.hpp"

namespace probity {
namespace {

std::string_view base_name(std::string_view p) {
  const auto s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

bool has_word(std::string_view line, std::string_view word) {
  for (std::size_t p = line.find(word); p != std::string_view::npos; p = line.find(word, p + 1)) {
    const bool left = p == 0 || !(std::isalnum(static_cast<unsigned char>(line[p - 1])) ||
                                  line[p - 1] == '_' || line[p - 1] == '-' || line[p - 1] == '.');
    const std::size_t e = p + word.size();
    const bool right = e >= line.size() || !(std::isalnum(static_cast<unsigned char>(line[e])) ||
                                             line[e] == '_' || line[e] == '-');
    if (left && right) return true;
  }
  return false;
}

/// A command that decodes or decompresses data (a blob turned into code or objects).
std::string decoder(std::string_view l) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kPairs = {{
      {"xz", "-d"},
      {"xz", "--decompress"},
      {"xz", "-dc"},
      {"lzma", "-d"},
      {"base64", "-d"},
      {"base64", "--decode"},
      {"gzip", "-d"},
      {"gzip", "-dc"},
      {"bzip2", "-d"},
      {"openssl", "enc"},
      {"base32", "-d"},
      {"zstd", "-d"},
  }};
  for (const auto& [cmd, flag] : kPairs)
    if (has_word(l, cmd) && l.find(flag) != std::string_view::npos)
      return std::string(cmd) + " " + std::string(flag);
  for (std::string_view w : {"unxz", "xzcat", "unlzma", "uudecode", "gunzip", "zcat", "bunzip2"})
    if (has_word(l, w)) return std::string(w);
  return {};
}

/// Reads or slices raw bytes (the xz attack's `head -c`, `tr` byte mapping, `dd`).
bool byte_slicer(std::string_view l) {
  return (has_word(l, "head") && l.find("-c") != std::string_view::npos) ||
         (has_word(l, "dd") &&
          (l.find("if=") != std::string_view::npos || l.find("skip=") != std::string_view::npos)) ||
         (has_word(l, "tr") && l.find('|') != std::string_view::npos);
}

bool test_data(std::string_view l) {
  for (std::string_view w : {"tests/", "test/", "testdata/", "test-data/", "testfiles/",
                             "tests/files", "fixtures/", "/files/"})
    if (l.find(w) != std::string_view::npos) return true;
  return false;
}

bool runs_output(std::string_view l) {
  for (std::string_view w : {"| sh", "|sh", "| bash", "|bash", "| /bin/sh", "|/bin/sh",
                             "| /bin/bash", "|/bin/bash", "| $SHELL", "| $(SHELL)"})
    if (l.find(w) != std::string_view::npos) return true;
  return false;
}

std::string downloader(std::string_view l) {
  if (has_word(l, "wget")) return "wget";
  if (has_word(l, "curl") &&
      (l.find("http") != std::string_view::npos || l.find("-o") != std::string_view::npos ||
       l.find("-O") != std::string_view::npos))
    return "curl";
  if (has_word(l, "git") && has_word(l, "clone")) return "git clone";
  return {};
}

/// A comment line of sh/make/m4/cmake (the check looks at what runs).
bool comment(std::string_view l) {
  while (!l.empty() && std::isspace(static_cast<unsigned char>(l.front()))) l.remove_prefix(1);
  return l.starts_with("#") || l.starts_with("dnl") || l.starts_with("//");
}

std::string printable(std::string_view s) {
  std::string o;
  for (char c : s.substr(0, 200))
    o += (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) ? c : '?';
  return o;
}

}  // namespace

bool is_build_file(std::string_view rel_path) {
  const std::string_view n = base_name(rel_path);
  static constexpr std::string_view kNames[] = {
      "configure",   "configure.ac", "configure.in",   "Makefile",    "GNUmakefile",
      "Makefile.am", "Makefile.in",  "CMakeLists.txt", "meson.build", "autogen.sh",
      "bootstrap",   "build.sh",     "Kbuild",         "Config.in"};
  if (std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames)) return true;
  if (n == "rules" && rel_path.find("debian/") != std::string_view::npos) return true;
  for (std::string_view ext : {".mk", ".m4", ".am", ".cmake", ".bb", ".bbappend", ".bbclass"})
    if (n.ends_with(ext)) return true;
  return false;
}

std::vector<BuildStep> build_steps(std::string_view rel_path, std::string_view text) {
  std::vector<BuildStep> out;
  if (text.size() > kMaxSourceFileBytes) text = text.substr(0, kMaxSourceFileBytes);
  (void)rel_path;
  std::uint32_t n = 0, start = 0;
  std::string logical;
  std::size_t pos = 0;
  auto judge = [&](std::uint32_t line_no) {
    const std::string_view l = logical;
    if (l.empty() || comment(l)) return;
    const std::string dec = decoder(l);
    if (!dec.empty() && (test_data(l) || byte_slicer(l))) {
      out.push_back({"build-decodes-test-data", Severity::kHigh, line_no, printable(l),
                     "a build step decodes (" + dec +
                         ") bytes taken from test data or sliced out of a file: the shape of "
                         "the xz-utils back door"});
    } else if (!dec.empty() && runs_output(l)) {
      out.push_back({"build-decodes-and-runs", Severity::kHigh, line_no, printable(l),
                     "a build step decodes (" + dec + ") data and runs the result"});
    } else if (byte_slicer(l) && test_data(l) &&
               (runs_output(l) || l.find("eval") != std::string_view::npos)) {
      out.push_back({"build-reads-test-data", Severity::kHigh, line_no, printable(l),
                     "a build step slices bytes out of test data and evaluates them"});
    } else if (!dec.empty()) {
      out.push_back({"build-decodes-blob", Severity::kLow, line_no, printable(l),
                     "a build step decodes or unpacks data (" + dec + ")"});
    }
    if (const std::string d = downloader(l); !d.empty())
      out.push_back({"build-downloads", Severity::kMedium, line_no, printable(l),
                     "the build downloads (" + d + "): what it fetches is not in the source"});
  };
  while (pos < text.size()) {
    auto e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    ++n;
    std::string_view line = text.substr(pos, e - pos);
    pos = e + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (logical.empty()) start = n;
    const bool cont = !line.empty() && line.back() == '\\';
    if (logical.size() < kMaxBuildLogicalLine)
      logical.append(line.substr(
          0, std::min(line.size() - (cont ? 1 : 0), kMaxBuildLogicalLine - logical.size())));
    if (cont) continue;
    judge(start);
    logical.clear();
  }
  if (!logical.empty()) judge(start);
  return out;
}

}  // namespace probity
