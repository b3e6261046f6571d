// report.json is one schema with one reader (read_report, used by diff, attest and fleet
// workers) and one writer (report_json): reading a report and writing it again gives the same
// document (issue 14). A field the writer adds and the reader forgets fails here.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"
#include "probity/scan.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

TEST(ReportRoundTrip, WriteReadWriteIsIdentical) {
  for (const char* image :
       {"checks/planted.sqfs", "hostile/nested-17.gz", "hostile/chain-link.tar"}) {
    SCOPED_TRACE(image);
    Scratch s(std::string("roundtrip-") + fs::path(image).stem().string());
    ScanOptions opt;
    opt.image = fixture(image);
    opt.out = s.path() / "out";
    opt.unpack.threads = 2;
    auto r = scan(opt);
    ASSERT_TRUE(r) << r.error().to_string();
    const auto written = read_json(opt.out / "report.json");
    auto back = read_report(opt.out / "report.json");
    ASSERT_TRUE(back) << back.error().to_string();
    const auto again = nlohmann::json::parse(dump_json(report_json(*back)));
    if (again != written) {
      // Name the fields that differ, not two whole documents.
      const auto patch = nlohmann::json::diff(written, again);
      ADD_FAILURE() << "read_report then report_json changes: " << patch.dump().substr(0, 4000);
    }
  }
}

}  // namespace probity::testing
