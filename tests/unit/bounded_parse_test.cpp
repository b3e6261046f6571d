// The size and depth pre-scans every JSON and TOML reader runs (include/probity/json.hpp,
// src/core/toml_bounded.hpp), and the policy's range and address checks (docs/policy.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "probity/identify.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/policy.hpp"
#include "probity/vulndb.hpp"

namespace probity {
namespace {

std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

std::string policy_with(const std::string& clause_line, const std::string& residency = "") {
  return "[residency]\n" + residency + "\n[[clause]]\nid = 'c'\ntext = 't'\n" + clause_line + "\n";
}

}  // namespace

TEST(JsonBounds, DepthUpToTheCapPassesOneMoreFails) {
  EXPECT_TRUE(check_json_bounds(nested(kMaxJsonDepth), "f.json", kMaxReportBytes));
  const auto deep = check_json_bounds(nested(kMaxJsonDepth + 1), "f.json", kMaxReportBytes);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, "cap-json-depth");
  EXPECT_EQ(deep.error().file, "f.json");
  EXPECT_EQ(deep.error().offset, kMaxJsonDepth) << "the offset of the first bracket too deep";
}

TEST(JsonBounds, BracketsInStringsAndEscapesDoNotCount) {
  const std::string many(10 * kMaxJsonDepth, '[');
  EXPECT_TRUE(check_json_bounds(R"({"k": ")" + many + R"("})", "f", 1 << 20));
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  EXPECT_TRUE(check_json_bounds(R"({"k": "\")" + many + R"("})", "f", 1 << 20));
  EXPECT_FALSE(check_json_bounds(R"({"k": "\\")" + many + R"("})", "f", 1 << 20));
  EXPECT_FALSE(check_json_bounds(R"(["\\\\")" + many, "f", 1 << 20));
  EXPECT_TRUE(check_json_bounds(R"(["\\\")" + many + "\"]", "f", 1 << 20));
}

TEST(JsonBounds, TheErrorNamesThePathToTheDeepValue) {
  const std::string text =
      R"({"files": [], "verdict": {"clauses": [1, 2, {"x/y": )" + nested(100) + "}]}}";
  const auto r = check_json_bounds(text, "report.json", 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/verdict/clauses/2/x~1y/0/0/0"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(text[r.error().offset], '[');
  EXPECT_NE(r.error().to_string().find("report.json@0x"), std::string::npos);
}

TEST(JsonBounds, SizeCap) {
  const auto r = check_json_bounds("[1, 2, 3]", "f.json", 8);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "cap-json-bytes");
  EXPECT_TRUE(check_json_bounds("[1, 2, 3]", "f.json", 9));
}

TEST(JsonBounds, ParseReportsSyntaxErrorsWithTheirOffset) {
  auto r = parse_json_bounded(R"({"a": [1, 2,, 3]})", "f.json", 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "f.json");
  EXPECT_EQ(r.error().offset, 12u) << r.error().message;
  auto ok = parse_json_bounded(R"({"a": [1, 2, 3], "b": {"c": null}})", "f.json", 1 << 20);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["a"][2], 3);
  EXPECT_FALSE(parse_json_bounded(R"({"a": )" + nested(100000) + "}", "f.json", 1 << 20));
}

// The TOML pre-scan runs inside every TOML reader; here through the suppressions reader, whose
// errors keep the pre-scan's code (cap-toml-depth) apart from what toml++ or the reader say.
namespace {
std::string toml_code(const std::string& text) {
  const auto r = parse_suppressions(text, "t.toml");
  return r ? "ok" : r.error().code;
}
}  // namespace

TEST(TomlBounds, DottedHeadersKeysArraysAndInlineTablesAreCapped) {
  // These crash toml++ (stack overflow freeing the tables) without the pre-scan.
  std::string header = "[a", key = "a";
  for (int i = 0; i < 1'000'000; ++i) header += ".a", key += ".a";
  for (const std::string& text :
       {header + "]\nx = 1\n", key + " = 1\n", "x = " + nested(300) + "\n",
        "x = " + std::string(300, '{') + "}\n", "[[" + header.substr(1) + "]]\n"}) {
    const auto r = parse_policy(text, "deep.toml");
    ASSERT_FALSE(r) << text.substr(0, 40);
    EXPECT_EQ(r.error().code, "cap-toml-depth") << r.error().message;
    EXPECT_EQ(r.error().file, "deep.toml");
    EXPECT_NE(r.error().message.find("line 1"), std::string::npos) << r.error().message;
  }
  // Depth adds up across the header, the dotted key and the brackets: under [a.b] (4 deep: each
  // segment may be an array of tables) a key of n segments puts its value n deeper, and each
  // array one more. (Parsed ones then fail as suppressions, with no code: 'a' is unknown.)
  auto key_of = [](std::uint32_t segments) {
    std::string k = "k";
    for (std::uint32_t i = 1; i < segments; ++i) k += ".k";
    return "[a.b]\n" + k;
  };
  EXPECT_EQ(toml_code(key_of(kMaxTomlDepth - 4) + " = 1\n"), "");
  EXPECT_EQ(toml_code(key_of(kMaxTomlDepth - 3) + " = 1\n"), "cap-toml-depth");
  EXPECT_EQ(toml_code(key_of(kMaxTomlDepth - 5) + " = [[1]]\n"), "");
  EXPECT_EQ(toml_code(key_of(kMaxTomlDepth - 5) + " = [[[1]]]\n"), "cap-toml-depth");
  EXPECT_EQ(toml_code(key_of(kMaxTomlDepth - 5) + " = {a = {b = 1}}\n"), "cap-toml-depth");
  const std::string many(1000, '[');
  EXPECT_EQ(toml_code("x = '" + many + "'\n"), "") << "brackets in strings do not count";
  EXPECT_EQ(toml_code("x = \"\\\"" + many + "\"\n"), "");
  EXPECT_EQ(toml_code("x = \"\"\"\n" + many + "\n\"\"\"\n"), "");
  EXPECT_EQ(toml_code("x = '''\n" + many + "'''\n"), "");
  EXPECT_EQ(toml_code("# " + many + "\nx = 1\n"), "") << "nor in comments";
  EXPECT_EQ(toml_code("x = 1.5\ny = [1.5, 2.5, {a = 1.5}]\n"), "")
      << "dots in numbers are not key segments";
  EXPECT_EQ(toml_code("x = \"\\\\\"" + many + "\n"), "cap-toml-depth")
      << "an escaped backslash does not escape the quote after it";
}

TEST(TomlBounds, SizeCapAndSyntaxErrorOffset) {
  const auto big = parse_policy(std::string(kMaxTomlBytes + 1, '#'), "big.toml");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "cap-toml-bytes");
  const auto bad = parse_policy("a = 1\nb = = 2\n", "bad.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_GE(bad.error().offset, 6u);
  EXPECT_EQ(bad.error().file, "bad.toml");
}

TEST(PolicyValidation, CvssThresholdMustBeAFiniteScoreFromZeroToTen) {
  for (const char* v : {"nan", "+nan", "inf", "-inf", "11", "10.5", "-1", "-0.1", "'9'", "true"}) {
    const auto p = parse_policy(policy_with(std::string("max_cvss = ") + v), "p.toml");
    ASSERT_FALSE(p) << v;
    EXPECT_NE(p.error().message.find("max_cvss"), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find("from 0 to 10"), std::string::npos) << p.error().message;
    EXPECT_GT(p.error().offset, 0u);
  }
  for (const char* v : {"0", "0.0", "9", "9.0", "10"}) {
    const auto p = parse_policy(policy_with(std::string("max_cvss = ") + v), "p.toml");
    ASSERT_TRUE(p) << v << ": " << p.error().to_string();
    EXPECT_EQ(p->clauses[0].max_cvss, std::stod(v));
  }
}

TEST(PolicyValidation, AddressListsAreChecked) {
  for (const char* net :
       {"10.0.0.0/33", "10.0.0/8", "192.0.2.0/", "fe80::/129", "acme.example", "10.0.0.0/8x", ""}) {
    const auto p =
        parse_policy(policy_with("no_eol = true",
                                 std::string("allow_networks = ['192.0.2.0/24', '") + net + "']"),
                     "p.toml");
    ASSERT_FALSE(p) << net;
    EXPECT_NE(p.error().message.find("residency.allow_networks"), std::string::npos)
        << p.error().message;
    EXPECT_NE(p.error().message.find("'" + std::string(net) + "'"), std::string::npos)
        << p.error().message;
  }
  for (const char* list : {"allow_domains = ['https://acme.example']", "allow_domains = ['a..b']",
                           "allow_domains = ['']", "allow_countries = ['gb']",
                           "allow_countries = ['GBR']", "allow_networks = '10.0.0.0/8'",
                           "allow_networks = [10]", "allow_netwroks = ['10.0.0.0/8']"}) {
    EXPECT_FALSE(parse_policy(policy_with("no_eol = true", list), "p.toml")) << list;
  }
  const auto ok =
      parse_policy(policy_with("no_eol = true",
                               "allow_networks = ['192.0.2.0/24', '2001:db8::/32', '10.1.2.3']\n"
                               "allow_domains = ['acme.example', '.ntp.example', 'a_b.example']\n"
                               "allow_countries = ['GB', 'DE']"),
                   "p.toml");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->allow_networks.size(), 3u);
  EXPECT_EQ(ok->allow_domains.size(), 3u);
}

TEST(PolicyValidation, WrongTypesAreErrorsNotDefaults) {
  for (const char* line : {"no_eol = 'yes'", "categories = 'account'", "min_severity = 3",
                           "categories = ['account', 1]", "no_eol = true\nrules = [['x']]"}) {
    EXPECT_FALSE(parse_policy(policy_with(line), "p.toml")) << line;
  }
  EXPECT_FALSE(parse_policy("name = 5\n[[clause]]\nid='c'\ntext='t'\nno_eol=true\n", "p.toml"));
  EXPECT_FALSE(parse_policy("residency = 1\n[[clause]]\nid='c'\ntext='t'\nno_eol=true\n", "p"));
}

TEST(SuppressionValidation, DatesAreCalendarDays) {
  const std::string head =
      "[[suppress]]\nid = 'CVE-1'\nstate = 'accepted'\nby = 'me'\n"
      "detail = 'why'\n";
  for (const char* d : {"'2026-11-20'", "2026-11-20", "'2024-02-29'"}) {
    const auto s = parse_suppressions(head + "date = " + d + "\n", "s.toml");
    ASSERT_TRUE(s) << d << ": " << s.error().to_string();
    EXPECT_EQ((*s)[0].decision.date.size(), 10u);
  }
  for (const char* d : {"'2026-13-01'", "'2023-02-29'", "'20.11.2026'", "'2026-11-20T00:00:00Z'",
                        "20261120", "'yesterday'"}) {
    const auto s = parse_suppressions(head + "date = " + d + "\n", "s.toml");
    ASSERT_FALSE(s) << d;
    EXPECT_NE(s.error().message.find("date"), std::string::npos) << s.error().message;
  }
  EXPECT_FALSE(parse_suppressions("[suppress]\nid = 'x'\n", "s.toml"))
      << "a table where [[suppress]] tables belong is not silently ignored";
}

TEST(BoundedReaders, SignatureFilesAndEolDataAreBounded) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("probity-bounded-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sigs");
  fs::create_directories(dir / "eol");
  std::string header = "[a";
  for (int i = 0; i < 100'000; ++i) header += ".a";
  std::ofstream(dir / "sigs" / "deep.toml") << header << "]\n";
  const auto sigs = load_signatures(dir / "sigs");
  ASSERT_FALSE(sigs);
  EXPECT_EQ(sigs.error().code, "cap-toml-depth");
  EXPECT_EQ(sigs.error().file, (dir / "sigs" / "deep.toml").string());
  // A too-deep EOL file is skipped like one that names no product; a good one still answers.
  std::ofstream(dir / "eol" / "deep.json")
      << R"({"product": "deep", "cycles": [)" << nested(100'000) << "]}";
  std::ofstream(dir / "eol" / "good.json")
      << R"({"product": "good", "cycles": [{"cycle": "1.0", "eol": "2020-01-01"}]})";
  EXPECT_FALSE(eol_for("deep", "1.0", "2026-01-01", dir / "eol"));
  const auto good = eol_for("good", "1.0.3", "2026-01-01", dir / "eol");
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->reached);
  fs::remove_all(dir);
}

}  // namespace probity
