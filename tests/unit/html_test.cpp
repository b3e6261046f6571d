#include <gtest/gtest.h>

#include "probity/outputs.hpp"

namespace probity {

TEST(HtmlReport, SelfContainedAndScriptSafe) {
  nlohmann::json r = {{"image", {{"name", "fw.bin"}, {"sha256", "ab"}, {"size", 1}}},
                      {"findings",
                       {{{"id", "x"},
                         {"severity", "high"},
                         {"category", "remote-access"},
                         {"rule", "r"},
                         {"path", "etc/x"},
                         {"message", "evil </script><script>alert(1)</script>"}}}}};
  const std::string html = html_report(r);
  EXPECT_EQ(html.find("</script><script>alert"), std::string::npos)
      << "embedded data must not be able to close the data element";
  EXPECT_NE(html.find("<\\/script>"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "no network references besides the SVG namespace";
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // The embedded document parses back to the same JSON.
  const std::string open = "<script id=\"report-data\" type=\"application/json\">";
  const auto a = html.find(open) + open.size();
  const auto b = html.find("</script>", a);
  EXPECT_EQ(nlohmann::json::parse(html.substr(a, b - a)), r);
}

}  // namespace probity
