// What the source does not explain (src/source/explain.cpp): the literal index on C written as
// real trees write it, and the ELF side on a binary the host compiler builds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "probity/source.hpp"

namespace probity {
namespace {

using M = SourceIndex::Match;

SourceIndex index_of(std::initializer_list<std::string_view> files) {
  SourceIndex idx;
  for (auto f : files) idx.add_c(f);
  idx.finish();
  return idx;
}

TEST(SourceExplain, LiteralsEscapesAndAdjacentConcatenation) {
  const auto idx = index_of({R"c(
    static const char *a = "plain";
    const char *b = "tab\there\n" "and more";
    const char *c = "\x41\102C\u00e9";
    const char *d = u8"utf" L"wide";
    const char *e = R"raw(no \n escape)raw";
    char q = '"';  /* "in a comment" */ const char *f = "after";
  )c"});
  EXPECT_EQ(idx.explain("plain"), M::kLiteral);
  EXPECT_EQ(idx.explain("tab\there\nand more"), M::kLiteral);
  EXPECT_EQ(idx.explain("ABC\xc3\xa9"), M::kLiteral);
  EXPECT_EQ(idx.explain("no \\n escape"), M::kLiteral);
  EXPECT_EQ(idx.explain("after"), M::kLiteral);
  // Tail merging: the linker keeps "more" as the end of another string.
  EXPECT_EQ(idx.explain("here\nand more"), M::kSuffix);
  EXPECT_EQ(idx.explain("dr0pb3ar-maint"), M::kNone);
}

TEST(SourceExplain, StringMacrosAndGapsInSequences) {
  const auto idx = index_of({
      R"c(#define OPT_STR "I:LH:f:hil"
          #define VERSION_X  "2022.83")c",
      R"c(int main(void) {
            getopt32(argv, "^" OPT_STR "\0" "-2", &x);
            puts("SSH-2.0-dropbear_" VERSION_X);
            printf("BusyBox v" BB_VER " (" BB_EXTRA ")\n");
            opt = getopt32(argv, "abcd" IF_FEATURE_X("e:") "fg");
            const char *nul = "one\0two";
          })c",
  });
  EXPECT_EQ(idx.explain("^I:LH:f:hil"), M::kLiteral);  // macro from another file
  EXPECT_EQ(idx.explain("SSH-2.0-dropbear_2022.83"), M::kLiteral);
  EXPECT_EQ(idx.explain("BusyBox v1.35.0 (Debian 1:1.35.0-4)\n"), M::kPattern);
  EXPECT_EQ(idx.explain("abcde:fg"), M::kPattern);
  EXPECT_EQ(idx.explain("abcdfg"), M::kPattern);  // the feature off: an empty gap
  EXPECT_EQ(idx.explain("two"), M::kLiteral);
  // The pattern pins its literal ends: a string that only shares the gap does not match.
  EXPECT_EQ(idx.explain("Busybox 1.35.0 (x)\n"), M::kNone);
}

TEST(SourceExplain, IdentifiersCommentsAndPieces) {
  const auto idx = index_of({R"c(
    //applet:IF_BLKDISCARD(APPLET(blkdiscard, BB_DIR_USR_SBIN, BB_SUID_DROP))
    static const char units[8] = " KMGTPEZ";
    const char *g = "getaddrinfo: %s";
  )c"});
  EXPECT_EQ(idx.explain("blkdiscard"), M::kIdentifier);  // busybox's applet table
  EXPECT_EQ(idx.explain("KMGTPEZgetaddrinfo: %s"), M::kPieces);
  EXPECT_EQ(idx.explain("KMGTPEZgetXXX"), M::kNone);
}

TEST(SourceExplain, StringifiedExpressionsAndInterruptedSequences) {
  const auto idx = index_of({R"c(
    #define dropbear_assert(X) do { if (!(X)) fail(#X, __FILE__); } while (0)
    void f(struct buf *cbuf) { dropbear_assert(cbuf->used   <=
                                                cbuf->size); }
    static const char help[] = "Available options:\n"
    #if DO_PORT
      "\tPort\n"
    #endif
    #if DO_SYSLOG
      "\tUseSyslog\n"
    #endif
    ;
  )c"});
  EXPECT_EQ(idx.explain("cbuf->used <= cbuf->size"), M::kStringified);
  EXPECT_EQ(idx.explain("Available options:\n\tPort\n\tUseSyslog\n"), M::kPieces);
  EXPECT_EQ(idx.explain("Available options:\n\tUseSyslog\n"), M::kPieces);
  EXPECT_EQ(idx.explain("Available options:\n\tBackdoor\n"), M::kNone);
}

TEST(SourceExplain, HostileTextIsBounded) {
  // Unterminated everything, stray quotes and directives, deep parentheses.
  std::string t = "#define A \"x\n\"unterminated\n'c\n";
  t += std::string(10000, '(') + "\"in\" A (" + std::string(10000, ')');
  t += "#include <" + std::string(1000, 'a') + "\n/* open R\"delim(never closed ";
  SourceIndex idx;
  EXPECT_TRUE(idx.add_c(t));
  idx.finish();
  EXPECT_EQ(idx.explain("in"), M::kLiteral);
}

TEST(SourceExplain, SeverityOfUnexplainedStrings) {
  EXPECT_EQ(unexplained_string_severity("dr0pb3ar-maint"), Severity::kHigh);
  EXPECT_EQ(unexplained_string_severity("hunter2!"), Severity::kHigh);
  EXPECT_EQ(unexplained_string_severity("usage: %s [options]"), Severity::kMedium);
  EXPECT_EQ(unexplained_string_severity("onlyletters"), Severity::kMedium);
}

TEST(SourceExplain, BinaryTextOfAHostBuiltProgram) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "probity-explain-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "m.c") << "#include <stdio.h>\n"
                                "const char *magic_token = \"planted-Xy9#\";\n"
                                "int helper_function(int x) { return x * 3; }\n"
                                "int main(int argc, char **argv) {\n"
                                "  printf(\"usage: %s FILE\\n\", argv[0]);\n"
                                "  return helper_function(argc) == 7 ? puts(magic_token) : 0;\n"
                                "}\n";
  const std::string cmd = "cc -O1 -g -o " + (dir / "m").string() + " " + (dir / "m.c").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir / "m", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto t =
      binary_text(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(t);
  bool magic = false, usage = false, helper = false, unit = false;
  for (const auto& s : t->strings) {
    magic |= s.text == "planted-Xy9#";
    usage |= s.text == "usage: %s FILE\n";
    if (s.text == "planted-Xy9#") {
      EXPECT_EQ(bytes.compare(s.offset, 12, "planted-Xy9#"), 0);
    }
  }
  for (const auto& s : t->symbols) helper |= s.name == "helper_function" && s.function;
  for (const auto& u : t->units) unit |= u.ends_with("m.c");
  EXPECT_TRUE(magic);
  EXPECT_TRUE(usage);
  EXPECT_TRUE(helper);
  EXPECT_TRUE(unit);
  EXPECT_FALSE(binary_text(std::span(reinterpret_cast<const std::uint8_t*>("\x7f"
                                                                           "ELFjunk"),
                                     8)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace probity
