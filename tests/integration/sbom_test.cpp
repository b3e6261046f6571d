// SBOM writers on a report with vulnerabilities, several copies of one product, an operating
// system component and an unmapped package: both documents pass the official schemas.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "probity/json.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

Report sample() {
  Report r;
  r.tree.image = {"fw.bin", "fw.bin", std::string(64, 'a'), 1234};
  FileRecord f;
  f.path = "usr/lib/libcrypto.so.1.0.0";
  f.container = 1;
  f.sha256 = std::string(64, 'b');
  r.tree.files.push_back(f);
  Component ssl{"openssl",
                "1.0.2k",
                "openssl",
                "pkg:generic/openssl@1.0.2k",
                "cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:*",
                "signature"};
  ssl.evidence.push_back({f.path, 1, 4096, "OpenSSL 1.0.2k  26 Jan 2017", "signature:openssl"});
  r.components.push_back(ssl);
  ssl.evidence[0].path = "usr/sbin/vendord";  // a second, static copy
  r.components.push_back(ssl);
  Component os{"openwrt",
               "19.07.3",
               "openwrt",
               "pkg:generic/openwrt@19.07.3",
               "cpe:2.3:o:openwrt:openwrt:19.07.3:*:*:*:*:*:*:*",
               "etc/openwrt_release"};
  os.evidence.push_back({"etc/openwrt_release", 1, 0, "openwrt 19.07.3", "openwrt-release"});
  r.components.push_back(os);
  Component pkg{"some-tool", "0.9", "", "pkg:generic/some-tool@0.9", "", "usr/lib/opkg/status"};
  pkg.evidence.push_back({"usr/lib/opkg/status", 1, 120, "some-tool 0.9-1", "opkg-status"});
  r.components.push_back(pkg);
  Vulnerability v;
  v.id = "CVE-2017-3735";
  v.component = "openssl";
  v.version = "1.0.2k";
  v.severity = "medium";
  v.cvss = 5.3;
  v.cvss_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L";
  v.fixed_in = "1.0.2m";
  v.cwe = {"CWE-125"};
  v.description = "IPAddressFamily extension parsing one-byte overread";
  v.published = "2017-08-28";
  r.vulnerabilities.push_back(v);
  r.db_snapshot = "sha256:1234";
  return r;
}

int validate(const char* kind, const nlohmann::json& doc, const std::string& name) {
  const fs::path file = fs::path(testing::TempDir()) / name;
  std::ofstream(file) << doc.dump(2);
  const fs::path v = fs::path(PROBITY_SOURCE_DIR) / "tests" / "validators" / "validate.mjs";
  const int rc = std::system(("node " + v.string() + " " + kind + " " + file.string()).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(Sbom, CycloneDxWithVulnerabilitiesAndCopiesValidates) {
  ASSERT_TRUE(fs::exists(fs::path(PROBITY_SOURCE_DIR) / "tests/validators/node_modules"))
      << "run tests/validators/install.sh";
  const auto doc = cyclonedx_json(sample());
  EXPECT_EQ(validate("cdx", doc, "sample.cdx.json"), 0);
  ASSERT_EQ(doc["components"].size(), 4u);
  EXPECT_EQ(doc["components"][0]["bom-ref"], "openssl@1.0.2k");
  EXPECT_EQ(doc["components"][1]["bom-ref"], "openssl@1.0.2k#2");
  EXPECT_EQ(doc["components"][0]["hashes"][0]["content"], std::string(64, 'b'));
  EXPECT_FALSE(doc["components"][1].contains("hashes"));  // no file record for vendord here
  EXPECT_EQ(doc["components"][2]["type"], "operating-system");
  EXPECT_EQ(doc["components"][0]["evidence"]["occurrences"][0]["offset"], 4096);
  ASSERT_EQ(doc["vulnerabilities"].size(), 1u);
  EXPECT_EQ(doc["vulnerabilities"][0]["affects"].size(), 2u);  // both copies
  EXPECT_EQ(doc["vulnerabilities"][0]["ratings"][0]["method"], "CVSSv31");
  EXPECT_EQ(doc["vulnerabilities"][0]["cwes"][0], 125);
}

TEST(Sbom, SpdxWithVulnerabilitiesValidates) {
  const auto doc = spdx_json(sample());
  EXPECT_EQ(validate("spdx", doc, "sample.spdx.json"), 0);
  ASSERT_EQ(doc["packages"].size(), 5u);
  const auto& refs = doc["packages"][1]["externalRefs"];
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[1]["referenceType"], "cpe23Type");
  EXPECT_EQ(refs[2]["referenceType"], "advisory");
  EXPECT_EQ(doc["relationships"].size(), 5u);
}

TEST(Sbom, ValidatorRejectsABrokenDocument) {
  auto cdx = cyclonedx_json(sample());
  cdx["components"][0]["type"] = "firmwarez";
  EXPECT_EQ(validate("cdx", cdx, "broken.cdx.json"), 1);
  auto spdx = spdx_json(sample());
  spdx["packages"][1].erase("downloadLocation");
  EXPECT_EQ(validate("spdx", spdx, "broken.spdx.json"), 1);
}

}  // namespace
}  // namespace probity
