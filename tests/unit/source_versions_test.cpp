// probity source's hand-written parsers (src/source/versions.cpp, build_steps.cpp) and the
// libclang checks (clang_checks.cpp) on small inputs written as real trees carry them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "probity/source.hpp"
#include "source/internal.hpp"

namespace probity {
namespace {

std::vector<std::pair<std::string, std::string>> pv(const std::vector<SourceVersion>& v) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& x : v) out.emplace_back(x.product, x.version);
  return out;
}
using P = std::pair<std::string, std::string>;

TEST(SourceVersions, VersionMacros) {
  auto v =
      source_versions("include/openssl/opensslv.h",
                      "#ifndef X\n# define OPENSSL_VERSION_TEXT \"OpenSSL 1.1.1w  11 Sep 2023\"\n");
  ASSERT_EQ(pv(v), (std::vector<P>{{"openssl", "1.1.1w"}}));
  EXPECT_EQ(v[0].line, 2u);
  EXPECT_EQ(pv(source_versions("sysoptions.h", "/* x */\n#define DROPBEAR_VERSION \"2022.83\"\n")),
            (std::vector<P>{{"dropbear", "2022.83"}}));
  EXPECT_EQ(pv(source_versions("version.h",
                               "#define SSH_VERSION\t\"OpenSSH_9.2\"\n\n"
                               "#define SSH_PORTABLE\t\"p1\"\n")),
            (std::vector<P>{{"openssh", "9.2p1"}}));
  EXPECT_EQ(pv(source_versions("config.h",
                               "#define PACKAGE_TARNAME \"lighttpd\"\n"
                               "#define PACKAGE_VERSION \"1.4.69\"\n")),
            (std::vector<P>{{"lighttpd", "1.4.69"}}));
  // A macro that is not a version is not one.
  EXPECT_TRUE(source_versions("x.h", "#define DROPBEAR_VERSION SOMETHING\n").empty());
}

TEST(SourceVersions, BuildSystems) {
  EXPECT_EQ(pv(source_versions("configure.ac",
                               "AC_PREREQ(2.60)\nAC_INIT([lighttpd],[1.4.69],[https://x])\n")),
            (std::vector<P>{{"lighttpd", "1.4.69"}}));
  // openssh's AC_INIT([OpenSSH], [Portable], ...) states no version.
  EXPECT_TRUE(source_versions("configure.ac", "AC_INIT([OpenSSH], [Portable], [a@b])\n").empty());
  EXPECT_EQ(pv(source_versions("CMakeLists.txt",
                               "cmake_minimum_required(VERSION 3.7)\n"
                               "project(lighttpd VERSION 1.4.69 LANGUAGES C)\n")),
            (std::vector<P>{{"lighttpd", "1.4.69"}}));
  EXPECT_EQ(pv(source_versions("meson.build",
                               "project(\n  'lighttpd',\n  'c',\n"
                               "  version: '1.4.69',\n)\n")),
            (std::vector<P>{{"lighttpd", "1.4.69"}}));
  EXPECT_EQ(pv(source_versions("Makefile",
                               "VERSION = 1\nPATCHLEVEL = 35\nSUBLEVEL = 0\n"
                               "EXTRAVERSION =\nNAME = Unnamed\n# busybox\n")),
            (std::vector<P>{{"busybox", "1.35.0"}}));
  EXPECT_EQ(pv(source_versions("package/network/services/dropbear/Makefile",
                               "PKG_NAME:=dropbear\nPKG_VERSION:=2022.82\nPKG_RELEASE:=5\n")),
            (std::vector<P>{{"dropbear", "2022.82"}}));
  EXPECT_EQ(pv(source_versions("package/dnsmasq/dnsmasq.mk", "DNSMASQ_VERSION = 2.89\n")),
            (std::vector<P>{{"dnsmasq", "2.89"}}));
  EXPECT_EQ(pv(source_versions("meta/recipes-core/busybox/busybox_1.36.1.bb", "SUMMARY = \"x\"\n")),
            (std::vector<P>{{"busybox", "1.36.1"}}));
  EXPECT_TRUE(source_versions("regress/testdata/dsa_1.fp.bb", "xx\n").empty());
  EXPECT_EQ(pv(source_versions("debian/changelog",
                               "openssh (1:9.2p1-2+deb12u2) bookworm; urgency=medium\n\n  * x\n")),
            (std::vector<P>{{"openssh", "9.2p1"}}));
  EXPECT_EQ(
      pv(source_versions("www/package.json", "{\"name\": \"webui\", \"version\": \"2.1.0\"}")),
      (std::vector<P>{{"webui", "2.1.0"}}));
}

TEST(SourceVersions, HostileInputIsBounded) {
  // A 1 MiB line, an unterminated meson call, JSON nesting: no crash, nothing invented.
  std::string big(1 << 20, 'A');
  EXPECT_TRUE(source_versions("x.h", "#define BB_VER " + big).empty());
  EXPECT_TRUE(source_versions("meson.build", "project('a', version: '" + big).empty());
  EXPECT_TRUE(source_versions("package.json", std::string(100000, '[')).empty());
  EXPECT_TRUE(build_steps("Makefile", big + "\\\n" + big).empty());
}

TEST(SourceBuildSteps, XzStyleDecodingOfTestDataIsHigh) {
  auto s = build_steps("m4/build-to-host.m4",
                       "dnl comment\n  gl_x=`cat $srcdir/tests/files/bad-3-corrupt_lzma2.xz | \\\n"
                       "   tr \"\\t \\-_\" \" \\t_\\-\" | xz -d 2>/dev/null`\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].rule, "build-decodes-test-data");
  EXPECT_EQ(s[0].severity, Severity::kHigh);
  EXPECT_EQ(s[0].line, 2u);
  auto d = build_steps("Makefile", "all:\n\twget http://example.com/blob.bin\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, "build-downloads");
  EXPECT_EQ(d[0].line, 2u);
  // automake's dist rule unpacks its own tarball: low, not high.
  auto a = build_steps("Makefile.in",
                       "\teval GZIP= gzip $(GZIP_ENV) -dc $(distdir).tar.gz | $(am__untar)\n");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].severity, Severity::kLow);
  EXPECT_TRUE(is_build_file("m4/x.m4"));
  EXPECT_TRUE(is_build_file("debian/rules"));
  EXPECT_FALSE(is_build_file("src/main.c"));
}

class SourceClang : public ::testing::Test {
 protected:
  std::filesystem::path dir;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("probity-clang-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::vector<source_detail::CodeHit> parse(const std::string& name, const std::string& code) {
    std::ofstream(dir / name) << code;
    source_detail::ClangParser p;
    auto out = p.parse(dir, dir / name);
    EXPECT_TRUE(out.parsed);
    return out.hits;
  }
};

TEST_F(SourceClang, MagicValueSwitchingOnAShellOrDebugModeIsHigh) {
  auto hits = parse("cmd.c",
                    "static int valid, allow_big, debug_shell_enabled;\n"
                    "int handle(struct req *r, struct hdr *h) {\n"
                    "  if (h->magic == 0x27051956) { valid = 1; parse(h); }\n"
                    "  if (r->len == 65536) allow_big = 1;\n"
                    "  if (ntohl(r->cookie) == 0x1337C0DE) {\n"
                    "    system(\"/usr/sbin/telnetd -l /bin/sh\");\n"
                    "  }\n"
                    "  if (r->code != 0xDEADBEEF) return 0;\n"
                    "  else debug_shell_enabled = 1;\n"
                    "  if (r->flags == 0xFFFFFFFF) system(\"reboot\");\n"
                    "  return 0;\n"
                    "}\n");
  std::vector<std::uint32_t> lines;
  for (const auto& h : hits) {
    EXPECT_EQ(h.rule, "magic-value-backdoor");
    EXPECT_EQ(h.severity, Severity::kHigh);
    lines.push_back(h.line);
  }
  // The format magic (line 3, sets "valid"), a round size and a mask of ones are not.
  EXPECT_EQ(lines, (std::vector<std::uint32_t>{5, 8}));
}

TEST_F(SourceClang, LiteralPasswordGrantingAccessIsHighAtItsLine) {
  auto hits = parse("auth.c",
                    "#include \"includes.h\"\n"
                    "int check_password(const char *user, const char *password) {\n"
                    "  struct passwd *pw = getpwnam(user);\n"
                    "  if (strcmp(password, \"s3cr3t-maint\") == 0)\n"
                    "    return 1;\n"
                    "  return verify(pw, password);\n"
                    "}\n");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].rule, "literal-credential-check");
  EXPECT_EQ(hits[0].severity, Severity::kHigh);
  EXPECT_EQ(hits[0].line, 4u);
}

TEST_F(SourceClang, MismatchBranchAndDispatchAreNotBackDoors) {
  // strcmp(...) as a truth value means "differs": the then-branch is the mismatch path; an SSH
  // method name is a dispatch.
  auto hits = parse("a.c",
                    "int auth_user(const char *pw, const char *method) {\n"
                    "  if (strcmp(pw, \"x\"))\n"
                    "    return 1;\n"
                    "  if (strcmp(method, \"password\") == 0)\n"
                    "    return 1;\n"
                    "  return 0;\n"
                    "}\n");
  EXPECT_TRUE(hits.empty());
}

TEST_F(SourceClang, ListenerThatExecsAShell) {
  auto hits = parse("d.c",
                    "struct sockaddr_in { unsigned short sin_port; };\n"
                    "void backdoor(void) {\n"
                    "  struct sockaddr_in a; int s = socket(2, 1, 0);\n"
                    "  a.sin_port = htons(31337);\n"
                    "  bind(s, (void*)&a, sizeof a);\n"
                    "  listen(s, 1);\n"
                    "  int c = accept(s, 0, 0); dup2(c, 0);\n"
                    "  execl(\"/bin/sh\", \"sh\", (char*)0);\n"
                    "}\n");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].rule, "hidden-listener-shell");
  EXPECT_EQ(hits[0].severity, Severity::kHigh);
  EXPECT_TRUE(hits[0].line == 5u || hits[0].line == 6u);  // the bind or listen call
}

TEST_F(SourceClang, CodeBehindAnUnknownConfigOptionIsSeen) {
  // Single-file mode: HAVE_MAINT comes from no header, so both branches are parsed.
  auto hits = parse("m.c",
                    "int login_ok(const char *pass) {\n"
                    "#ifdef HAVE_MAINT\n"
                    "  if (!strcmp(pass, \"factory\")) { grant_access(); return 1; }\n"
                    "#endif\n"
                    "  return 0;\n"
                    "}\n");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].line, 3u);
}

}  // namespace
}  // namespace probity
