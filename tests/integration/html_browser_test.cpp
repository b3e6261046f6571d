// report.html in headless Chromium (tests/browser/render.mjs, playwright-core driving Debian's
// chromium): it loads offline without script errors, the key content renders, search and sort
// work, and a screenshot is produced.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_support.hpp"
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
        {{"name", "openssl"}, {"version", "3.0.15"}}}},
      {"vulnerabilities",
       {{{"id", "CVE-2022-48174"},
         {"component", "busybox"},
         {"version", "1.35.0"},
         {"severity", "critical"},
         {"cvss", 9.8}}}},
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
  std::ofstream(html) << html_report(report);
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

}  // namespace probity::testing
