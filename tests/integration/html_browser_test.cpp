// report.html in headless Chromium (tests/browser/render.mjs, playwright-core driving Debian's
// chromium): it loads offline without script errors, the key content renders, search and sort
// work, and a screenshot is produced.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_support.hpp"
#include "probity/checks.hpp"
#include "probity/diff.hpp"
#include "probity/outputs.hpp"

namespace probity::testing {

TEST(HtmlInBrowser, RendersVerdictChartAndTables) {
  nlohmann::json findings = nlohmann::json::array();
  const char* sev[] = {"critical", "high", "low", "medium"};
  const char* rules[] = {"telnetd-shell", "default-root-password", "hardening-no-canary",
                         "private-key-pem"};
  for (int i = 0; i < 4; ++i)
    findings.push_back(
        {{"id", "f00" + std::to_string(i)},
         {"rule", rules[i]},
         {"category", i == 2 ? "hardening" : "remote-access"},
         {"severity", sev[i]},
         {"path", "etc/init.d/S50telnet"},
         {"message", "finding " + std::to_string(i)},
         {"evidence",
          {{"excerpt", "telnetd -l /bin/sh"}, {"offset", 12}, {"related", {"etc/shadow"}}}}});
  nlohmann::json report = {
      {"image", {{"name", "sysupgrade.bin"}, {"sha256", std::string(64, 'e')}, {"size", 9961476}}},
      {"files", nlohmann::json::array({{{"path", "bin/busybox"}, {"type", "file"}}})},
      {"components",
       {{{"name", "busybox"},
         {"version", "1.35.0"},
         {"cpe", "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*"}},
        {{"name", "openssl"},
         {"version", "1.1.1w"},
         {"eol", {{"cycle", "1.1.1"}, {"date", "2023-09-11"}, {"reached", true}}}}}},
      {"facts",
       {{"accounts",
         {{{"name", "root"}, {"uid", 0}, {"gid", 0}, {"shell", "/bin/ash"}, {"path", "etc/passwd"}},
          {{"name", "support"},
           {"uid", 0},
           {"gid", 0},
           {"shell", "/bin/sh"},
           {"path", "etc/passwd"}}}},
        {"services",
         {{{"name", "telnetd"},
           {"how", "init.d"},
           {"command", "telnetd -l /bin/sh"},
           {"path", "etc/init.d/S50telnet"}}}},
        {"keys",
         {{{"role", "private-key"},
           {"type", "rsa"},
           {"bits", 2048},
           {"fingerprint", "SHA256:abc"},
           {"path", "etc/ssl/private/key.pem"}}}},
        {"endpoints",
         {{{"value", "45.33.32.156"},
           {"kind", "ipv4"},
           {"class", "public"},
           {"path", "bin/cloudd"}}}}}},
      {"vulnerabilities",
       {{{"id", "CVE-2022-48174"},
         {"component", "busybox"},
         {"version", "1.35.0"},
         {"severity", "critical"},
         {"cvss", 9.8},
         {"description", "stack overflow in the line editing of busybox's ash"}}}},
      {"findings", findings},
      {"verdict",
       {{"policy", "default"},
        {"result", "fail"},
        {"clauses",
         {{{"id", "no-unauthenticated-remote-access"},
           {"text", "No telnet shells"},
           {"result", "fail"},
           {"findings", {"f000"}}},
          {{"id", "no-private-keys"},
           {"text", "No keys"},
           {"result", "pass"},
           {"findings", nlohmann::json::array()}}}}}}};
  Scratch s("html");
  const auto html = s.path() / "report.html";
  const auto png = s.path() / "report.png";
  // The extras a scan adds: the image map and a file view for f000.
  const nlohmann::json extras = {
      {"image_size", 9961476},
      {"regions",
       {{{"offset", 0}, {"size", 64}, {"format", "uimage"}, {"understood", true}, {"entropy", 4.1}},
        {{"offset", 64},
         {"size", 2000000},
         {"format", "lzma"},
         {"understood", true},
         {"entropy", 7.9}},
        {{"offset", 2000064},
         {"size", 7000000},
         {"format", "squashfs"},
         {"understood", true},
         {"entropy", 7.9}},
        {{"offset", 9000064},
         {"size", 961412},
         {"format", ""},
         {"understood", false},
         {"entropy", 7.99}}}},
      {"evidence",
       {{"f000",
         {{"chain", "sysupgrade.bin @0x0 (uimage) \u2192 etc/init.d/S50telnet"},
          {"size", 40},
          {"offset", 12},
          {"hexdump",
           {"00000000  74 65 6c 6e 65 74 64 20 2d 6c 20 2f 62 69 6e 2f  telnetd -l /bin/"}},
          {"strings", {{{"offset", 0}, {"text", "telnetd -l /bin/sh"}}}}}}}}};
  std::ofstream(html) << html_report(report, extras);
  const std::string cmd = "node '" PROBITY_SOURCE_DIR "/tests/browser/render.mjs' '" +
                          html.string() + "' '" + png.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 10000u) << "a real screenshot, not an empty page";
  // Keep the screenshot for a person to look at: build/report-screenshot.png.
  std::filesystem::copy_file(png, PROBITY_FIXTURES_DIR "/../report-screenshot.png",
                             std::filesystem::copy_options::overwrite_existing);
}

/// Runs a node render script on HTML; returns its exit status and output.
std::pair<int, std::string> render(const char* script, const std::filesystem::path& html,
                                   const std::filesystem::path& png) {
  const std::string cmd = "node '" PROBITY_SOURCE_DIR "/tests/browser/" + std::string(script) +
                          "' '" + html.string() + "' '" + png.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(HtmlInBrowser, DiffPageRendersEverySection) {
  Report a, b;
  a.tree.image.name = "fw-1.0.bin";
  b.tree.image.name = "fw-1.1.bin";
  FileRecord f;
  f.path = "usr/sbin/upd";
  f.origin = {{"fw.bin", 0, "squashfs"}};
  f.sha256 = std::string(64, 'a');
  f.size = 1000;
  a.tree.files = {f};
  f.sha256 = std::string(64, 'b');
  b.tree.files = {f};
  a.components = {{.name = "openssl", .version = "1.1.1w"},
                  {.name = "busybox", .version = "1.36.1"}};
  b.components = {{.name = "openssl", .version = "3.0.13"},
                  {.name = "busybox", .version = "1.35.0"}};
  b.vulnerabilities = {{.id = "CVE-2022-48174",
                        .component = "busybox",
                        .version = "1.35.0",
                        .severity = "critical",
                        .cvss = 9.8}};
  auto mk = [](std::string rule, std::string key, Severity s) {
    Finding x;
    x.id = finding_id(rule, "squashfs:etc/passwd", key);
    x.rule = std::move(rule);
    x.category = "account";
    x.severity = s;
    x.path = "etc/passwd";
    x.message = "finding " + key;
    return x;
  };
  a.findings = {mk("account-service-shell", "ftp", Severity::kLow),
                mk("account-empty-password", "guest", Severity::kHigh)};
  b.findings = {mk("account-service-shell", "ftp", Severity::kLow),
                mk("account-extra-uid0", "systemd-netd", Severity::kHigh)};
  a.facts = Facts{};
  b.facts = Facts{};
  a.facts->accounts = {{.name = "alice", .uid = 1000, .path = "etc/passwd", .location = "l"}};
  b.facts->accounts = {{.name = "systemd-netd", .uid = 0, .path = "etc/passwd", .location = "l"}};
  b.facts->services = {{.name = "telnetd",
                        .command = "telnetd -l /bin/sh",
                        .path = "etc/inittab",
                        .location = "squashfs:etc/inittab",
                        .how = "inittab:respawn"}};
  auto j = delta_json(diff_reports(a, b));
  // `probity source diff` adds its changes to review (src/source/source_diff.cpp).
  j["source"] = {{"files_changed", 1},
                 {"files_added", 0},
                 {"files_removed", 0},
                 {"hunks_total", 1},
                 {"changes",
                  {{{"kind", "authentication"},
                    {"severity", "high"},
                    {"path", "svr-authpasswd.c"},
                    {"old_path", "svr-authpasswd.c"},
                    {"old_line", 67},
                    {"new_line", 68},
                    {"old_lines", 0},
                    {"new_lines", 1},
                    {"rule", ""},
                    {"message", "changed code: authentication"},
                    {"old_text", ""},
                    {"new_text", "if (strcmp(password, \"x\") == 0) grant();\n"}}}}};
  Scratch s("diff-html");
  const auto html = s.path() / "diff.html";
  const auto png = s.path() / "diff.png";
  std::ofstream(html) << diff_html(j);
  auto [status, out] = render("render-diff.mjs", html, png);
  ASSERT_EQ(status, 0) << out;
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 10000u) << "a real screenshot, not an empty page";
  std::filesystem::copy_file(png, PROBITY_FIXTURES_DIR "/../diff-screenshot.png",
                             std::filesystem::copy_options::overwrite_existing);
}

}  // namespace probity::testing
