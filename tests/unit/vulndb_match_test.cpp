// Import of every supported format and matching with version ranges and AND/OR configurations,
// on real NVD records (data/vulndata/nvd) and fixtures made from them
// (tests/fixtures/vulndb/make-vulndb-fixtures.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "probity/task_pool.hpp"
#include "probity/vulndb.hpp"
#include "vuln/record.hpp"

namespace {

namespace fs = std::filesystem;
using probity::VulnDb;
using probity::Vulnerability;
using probity::VulnQuery;

const fs::path kNvd = fs::path(PROBITY_SOURCE_DIR) / "data/vulndata/nvd";
const fs::path kFixtures = fs::path(PROBITY_SOURCE_DIR) / "tests/fixtures/vulndb";

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("probity-vulndb-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

VulnDb open_with(const fs::path& db, const std::vector<fs::path>& files) {
  auto v = VulnDb::open(db, false);
  EXPECT_TRUE(v) << v.error().to_string();
  auto st = v->import_files(files);
  EXPECT_TRUE(st) << st.error().to_string();
  return std::move(*v);
}

std::vector<fs::path> nvd(std::initializer_list<const char*> ids) {
  std::vector<fs::path> out;
  for (const char* id : ids) out.push_back(kNvd / (std::string(id) + ".json"));
  return out;
}

std::vector<std::string> ids(const std::vector<Vulnerability>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.id);
  return out;
}

std::vector<Vulnerability> find(VulnDb& db, std::string vendor, std::string product,
                                std::string version, std::vector<std::string> platform = {}) {
  VulnQuery q;
  q.vendor = std::move(vendor);
  q.product = std::move(product);
  q.version = std::move(version);
  q.platform_cpes = std::move(platform);
  auto r = db.match(q);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : std::vector<Vulnerability>{};
}

bool has(const std::vector<Vulnerability>& v, const std::string& id) {
  return std::any_of(v.begin(), v.end(), [&](const Vulnerability& x) { return x.id == id; });
}

TEST(VulnDbImport, ApiPageOfRealRecords) {
  TempDir t;
  auto db = VulnDb::open(t.path() / "v.db", false);
  ASSERT_TRUE(db) << db.error().to_string();
  auto st = db->import_file(kFixtures / "nvd-api-page.json");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->format, "nvd-api-2.0");
  EXPECT_EQ(st->records, 3u);
  EXPECT_EQ(st->stored, 3u);
  EXPECT_EQ(st->rejected, 0u);

  auto v = find(*db, "openssl", "openssl", "3.0.6");
  ASSERT_EQ(ids(v), std::vector<std::string>{"CVE-2022-3602"});
  EXPECT_EQ(v[0].fixed_in, "3.0.7");
  EXPECT_EQ(v[0].severity, "high");
  EXPECT_DOUBLE_EQ(v[0].cvss, 7.5);
  EXPECT_EQ(v[0].cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H");
  EXPECT_EQ(v[0].cwe, std::vector<std::string>{"CWE-787"});
  EXPECT_EQ(v[0].published, "2022-11-01");
  EXPECT_NE(v[0].description.find("X.509"), std::string::npos);
  EXPECT_EQ(v[0].component, "openssl");
  EXPECT_EQ(v[0].version, "3.0.6");
  EXPECT_TRUE(find(*db, "openssl", "openssl", "3.0.7").empty());  // end excluded
  EXPECT_TRUE(find(*db, "openssl", "openssl", "1.1.1w").empty());
  EXPECT_EQ(ids(find(*db, "openssl", "openssl", "3.0.0")),
            std::vector<std::string>{"CVE-2022-3602"});  // start included
}

TEST(VulnDbImport, SingleRecordFilesAndPageGiveTheSameSnapshot) {
  TempDir t;
  auto a = open_with(t.path() / "a.db", {kFixtures / "nvd-api-page.json"});
  auto b = open_with(t.path() / "b.db", nvd({"CVE-2017-9078", "CVE-2020-8597", "CVE-2022-3602"}));
  auto c = open_with(t.path() / "c.db", nvd({"CVE-2022-3602", "CVE-2017-9078", "CVE-2020-8597"}));
  auto sa = a.snapshot_id(), sb = b.snapshot_id(), sc = c.snapshot_id();
  ASSERT_TRUE(sa && sb && sc);
  EXPECT_TRUE(sa->starts_with("sha256:"));
  EXPECT_EQ(*sa, *sb);
  EXPECT_EQ(*sb, *sc);
  // A different set of records gives a different id.
  auto d = open_with(t.path() / "d.db", nvd({"CVE-2022-3602", "CVE-2017-9078"}));
  EXPECT_NE(*d.snapshot_id(), *sa);
  // status recomputes the same id from the stored digests.
  auto st = a.status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->snapshot, *sa);
}

TEST(VulnDbImport, ReimportIsUnchangedAndNewerRecordsWin) {
  TempDir t;
  auto db = open_with(t.path() / "v.db", {kFixtures / "nvd-api-page.json"});
  const auto before = *db.snapshot_id();
  auto st = db.import_file(kFixtures / "nvd-api-page.json");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->stored, 0u);
  EXPECT_EQ(st->skipped, 3u);
  EXPECT_EQ(*db.snapshot_id(), before);

  // An older copy of CVE-2022-3602 (earlier lastModified) does not replace the stored one,
  // whichever order they arrive in.
  std::ifstream in(kNvd / "CVE-2022-3602.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto pos = text.find("\"lastModified\": \"");
  ASSERT_NE(pos, std::string::npos);
  std::string older = text;
  older.replace(pos + 17, 4, "2000");
  const auto old_file = t.path() / "older.json";
  std::ofstream(old_file) << older;
  st = db.import_file(old_file);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->skipped, 1u);
  EXPECT_EQ(*db.snapshot_id(), before);

  auto db2 = open_with(t.path() / "v2.db", {old_file, kFixtures / "nvd-api-page.json"});
  EXPECT_EQ(*db2.snapshot_id(), before);
}

TEST(VulnDbImport, LegacyNvd11FeedPlainAndGzip) {
  TempDir t;
  auto a = VulnDb::open(t.path() / "a.db", false);
  ASSERT_TRUE(a);
  auto st = a->import_file(kFixtures / "nvd-1.1-excerpt.json");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->format, "nvd-1.1");
  EXPECT_EQ(st->stored, 2u);
  auto b = open_with(t.path() / "b.db", {kFixtures / "nvd-1.1-excerpt.json.gz"});
  EXPECT_EQ(*a->snapshot_id(), *b.snapshot_id());

  auto v = find(*a, "openssl", "openssl", "1.1.1s");
  ASSERT_EQ(ids(v), std::vector<std::string>{"CVE-2023-0286"});
  EXPECT_EQ(v[0].fixed_in, "1.1.1t");
  EXPECT_EQ(v[0].severity, "high");
  EXPECT_DOUBLE_EQ(v[0].cvss, 7.4);
  EXPECT_EQ(v[0].cwe, std::vector<std::string>{"CWE-843"});
  EXPECT_TRUE(find(*a, "openssl", "openssl", "1.1.1t").empty());
  EXPECT_EQ(ids(find(*a, "openssl", "openssl", "1.0.2zf")),
            std::vector<std::string>{"CVE-2023-0286"});
  EXPECT_TRUE(find(*a, "openssl", "openssl", "1.0.2zg").empty());

  // The AND configuration of the 1.1 shape (children) keeps its hardware gate.
  EXPECT_TRUE(find(*a, "netapp", "aff_a250_firmware", "").empty());
  EXPECT_EQ(ids(find(*a, "netapp", "aff_a250_firmware", "",
                     {"cpe:2.3:h:netapp:aff_a250:-:*:*:*:*:*:*:*"})),
            std::vector<std::string>{"CVE-2021-41617"});
  // The same facts from the 2.0 record match the same way.
  auto c = open_with(t.path() / "c.db", nvd({"CVE-2023-0286", "CVE-2021-41617"}));
  EXPECT_EQ(ids(find(c, "openbsd", "openssh", "8.7p1")),
            ids(find(*a, "openbsd", "openssh", "8.7p1")));
  EXPECT_EQ(ids(find(*a, "openbsd", "openssh", "8.7p1")),
            std::vector<std::string>{"CVE-2021-41617"});
  EXPECT_TRUE(find(*a, "openbsd", "openssh", "8.8p1").empty());
  EXPECT_TRUE(find(*a, "openbsd", "openssh", "6.1p1").empty());
}

TEST(VulnDbImport, OsvRecords) {
  TempDir t;
  auto db = VulnDb::open(t.path() / "v.db", false);
  ASSERT_TRUE(db);
  auto st = db->import_files(
      std::vector<fs::path>{kFixtures / "osv-OSV-2020-744.json", kFixtures / "osv-from-nvd.json"});
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ((*st)[0].format, "osv");
  EXPECT_EQ((*st)[1].format, "osv");
  // versions list (the GIT range names commits and is not used)
  auto v = find(*db, "", "mruby", "2.1.2-rc2");
  ASSERT_EQ(ids(v), std::vector<std::string>{"OSV-2020-744"});
  EXPECT_EQ(v[0].severity, "high");
  EXPECT_TRUE(find(*db, "", "mruby", "2.1.1").empty());
  EXPECT_TRUE(find(*db, "", "mruby", "3.0.0").empty());
  // ECOSYSTEM range introduced 0 .. last_affected 1.2.12, score computed from the vector
  v = find(*db, "zlib", "zlib", "1.2.12");
  ASSERT_EQ(ids(v), std::vector<std::string>{"PROBITY-TEST-CVE-2022-37434"});
  EXPECT_DOUBLE_EQ(v[0].cvss, 9.8);
  EXPECT_EQ(v[0].severity, "critical");
  EXPECT_EQ(v[0].cwe, std::vector<std::string>{"CWE-787"});
  EXPECT_TRUE(find(*db, "zlib", "zlib", "1.2.13").empty());
  // The OSV restatement of an NVD CVE is dropped when the NVD record matches too.
  ASSERT_TRUE(db->import_file(kNvd / "CVE-2022-37434.json"));
  EXPECT_EQ(ids(find(*db, "zlib", "zlib", "1.2.12")), std::vector<std::string>{"CVE-2022-37434"});
}

class RealDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    auto db = VulnDb::open(dir_->path() / "all.db", false);
    ASSERT_TRUE(db);
    std::vector<fs::path> all;
    for (const auto& e : fs::directory_iterator(kNvd))
      if (e.path().extension() == ".json") all.push_back(e.path());
    std::sort(all.begin(), all.end());
    auto st = db->import_files(all);
    ASSERT_TRUE(st) << st.error().to_string();
    db_ = new VulnDb(std::move(*db));
  }
  static void TearDownTestSuite() {
    delete db_;
    delete dir_;
  }
  static inline TempDir* dir_ = nullptr;
  static inline VulnDb* db_ = nullptr;
};

TEST_F(RealDb, HardwarePlatformGatesAndConfigurations) {
  // CVE-2020-8597: wago pfc_firmware < 03.04.10(16) AND (hardware pfc100 OR pfc200).
  EXPECT_FALSE(has(find(*db_, "wago", "pfc_firmware", "03.04.09"), "CVE-2020-8597"));
  EXPECT_TRUE(
      has(find(*db_, "wago", "pfc_firmware", "03.04.09", {"cpe:2.3:h:wago:pfc200:-:*:*:*:*:*:*:*"}),
          "CVE-2020-8597"));
  // A different hardware platform does not satisfy the AND.
  EXPECT_FALSE(
      has(find(*db_, "wago", "pfc_firmware", "03.04.09", {"cpe:2.3:h:wago:pfc300:-:*:*:*:*:*:*:*"}),
          "CVE-2020-8597"));
  // The escaped bound 03.04.10\(16\) is unescaped and compared as a version.
  EXPECT_FALSE(has(
      find(*db_, "wago", "pfc_firmware", "03.04.10(16)", {"cpe:2.3:h:wago:pfc100:-:*:*:*:*:*:*:*"}),
      "CVE-2020-8597"));
  // CVE-2017-9078: NetApp H410C firmware only with the H410C hardware.
  EXPECT_FALSE(has(find(*db_, "netapp", "h410c_firmware", ""), "CVE-2017-9078"));
  EXPECT_TRUE(
      has(find(*db_, "netapp", "h410c_firmware", "", {"cpe:2.3:h:netapp:h410c:-:*:*:*:*:*:*:*"}),
          "CVE-2017-9078"));
  // The hardware entry itself is not vulnerable: querying the hardware yields nothing.
  EXPECT_FALSE(has(find(*db_, "netapp", "h410c", "-"), "CVE-2017-9078"));
  // An OS platform of a generic image does not attribute the OS entries to a component.
  EXPECT_FALSE(has(find(*db_, "dropbear_ssh_project", "dropbear_ssh", "2017.75",
                        {"cpe:2.3:o:debian:debian_linux:8.0:*:*:*:*:*:*:*"}),
                   "CVE-2017-9078"));
}

TEST_F(RealDb, RangeBoundaries) {
  // CVE-2020-8597: ppp 2.4.2 <= v <= 2.4.8 (both included)
  const char* ppp_v = "point-to-point_protocol_project";
  const char* ppp_p = "point-to-point_protocol";
  EXPECT_FALSE(has(find(*db_, ppp_v, ppp_p, "2.4.1"), "CVE-2020-8597"));
  EXPECT_TRUE(has(find(*db_, ppp_v, ppp_p, "2.4.2"), "CVE-2020-8597"));
  EXPECT_TRUE(has(find(*db_, ppp_v, ppp_p, "2.4.8"), "CVE-2020-8597"));
  EXPECT_FALSE(has(find(*db_, ppp_v, ppp_p, "2.4.9"), "CVE-2020-8597"));
  // fixed_in is empty when the record has only an inclusive end
  for (const auto& v : find(*db_, ppp_v, ppp_p, "2.4.8"))
    if (v.id == "CVE-2020-8597") {
      EXPECT_EQ(v.fixed_in, "");
    }
  // CVE-2017-9078: dropbear < 2017.75
  auto d = find(*db_, "dropbear_ssh_project", "dropbear_ssh", "2016.74");
  ASSERT_TRUE(has(d, "CVE-2017-9078"));
  for (const auto& v : d)
    if (v.id == "CVE-2017-9078") {
      EXPECT_EQ(v.fixed_in, "2017.75");
    }
  EXPECT_FALSE(has(find(*db_, "dropbear_ssh_project", "dropbear_ssh", "2017.75"), "CVE-2017-9078"));
  // the malformed real bound 7.881 (CVE-2023-27533) still orders 7.88.1 inside, 8.0.1 outside
  EXPECT_TRUE(has(find(*db_, "haxx", "curl", "7.88.1"), "CVE-2023-27533"));
  EXPECT_FALSE(has(find(*db_, "haxx", "curl", "8.0.1"), "CVE-2023-27533"));
}

TEST_F(RealDb, ExactVersionsAndUpdateField) {
  // CVE-2013-0230: miniupnpd exactly 1.0
  EXPECT_TRUE(has(find(*db_, "miniupnp_project", "miniupnpd", "1.0"), "CVE-2013-0230"));
  EXPECT_TRUE(has(find(*db_, "miniupnp_project", "miniupnpd", "1.0.0"), "CVE-2013-0230"));
  EXPECT_FALSE(has(find(*db_, "miniupnp_project", "miniupnpd", "1.1"), "CVE-2013-0230"));
  // CVE-2023-3817 lists single versions, some with the suffix in the update field
  // (openssl:1.1.1:pre9); 1.1.1v is the fix.
  EXPECT_TRUE(has(find(*db_, "openssl", "openssl", "1.0.2zh"), "CVE-2023-3817"));
  EXPECT_TRUE(has(find(*db_, "openssl", "openssl", "1.1.1u"), "CVE-2023-3817"));
  EXPECT_TRUE(has(find(*db_, "openssl", "openssl", "1.1.1-pre9"), "CVE-2023-3817"));
  EXPECT_TRUE(has(find(*db_, "openssl", "openssl", "1.0.2"), "CVE-2023-3817"));
  EXPECT_FALSE(has(find(*db_, "openssl", "openssl", "1.1.1v"), "CVE-2023-3817"));
  EXPECT_FALSE(has(find(*db_, "openssl", "openssl", "1.0.2zi"), "CVE-2023-3817"));
  // '-' (not applicable) matches a component without a version only.
  EXPECT_TRUE(has(find(*db_, "netapp", "clustered_data_ontap", ""), "CVE-2022-3602"));
  EXPECT_FALSE(has(find(*db_, "netapp", "clustered_data_ontap", "9.1"), "CVE-2022-3602"));
  // An unknown version never matches a range.
  EXPECT_FALSE(has(find(*db_, "openssl", "openssl", ""), "CVE-2022-3602"));
}

TEST_F(RealDb, VendorAliasesAndAdpFallback) {
  // An empty vendor matches every vendor of the product (miniupnpd is filed under two).
  auto all = find(*db_, "", "miniupnpd", "1.0");
  EXPECT_TRUE(has(all, "CVE-2013-0230"));
  EXPECT_FALSE(has(find(*db_, "miniupnp.free", "miniupnpd", "1.0"), "CVE-2013-0230"));
  // CVE-2024-5535 has no NVD configurations; the CISA ADP block with CPEs is used.
  auto v = find(*db_, "openssl", "openssl", "1.1.1w");
  ASSERT_TRUE(has(v, "CVE-2024-5535"));
  for (const auto& x : v)
    if (x.id == "CVE-2024-5535") {
      EXPECT_EQ(x.fixed_in, "1.1.1za");
    }
  EXPECT_FALSE(has(find(*db_, "openssl", "openssl", "3.3.2"), "CVE-2024-5535"));
  // v2-only records still carry a severity.
  auto z = find(*db_, "zlib", "zlib", "1.2.2");
  ASSERT_TRUE(has(z, "CVE-2005-2096"));
  for (const auto& x : z)
    if (x.id == "CVE-2005-2096") {
      EXPECT_EQ(x.severity, "high");
      EXPECT_DOUBLE_EQ(x.cvss, 7.5);
    }
}

TEST_F(RealDb, QueryFromComponent) {
  probity::Component c;
  c.name = "openssh";
  c.version = "9.7p1";
  c.cpe = "cpe:2.3:a:openbsd:openssh:9.7p1:*:*:*:*:*:*:*";
  auto v = db_->match(probity::query_for(c));
  ASSERT_TRUE(v);
  EXPECT_TRUE(has(*v, "CVE-2024-6387"));  // regreSSHion: 8.5p1 <= v < 9.8p1
  c.version = "9.8p1";
  c.cpe.clear();
  c.vendor = "openbsd";
  v = db_->match(probity::query_for(c));
  ASSERT_TRUE(v);
  EXPECT_FALSE(has(*v, "CVE-2024-6387"));
  // Results are sorted by id and name the component.
  c.version = "8.5p1";
  v = db_->match(probity::query_for(c));
  ASSERT_TRUE(v && !v->empty());
  EXPECT_TRUE(std::is_sorted(v->begin(), v->end(),
                             [](const auto& a, const auto& b) { return a.id < b.id; }));
  EXPECT_EQ(v->front().component, "openssh");
}

TEST_F(RealDb, Status) {
  auto st = db_->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->vulnerabilities, 100u);
  EXPECT_EQ(st->sources.size(), 100u);
  EXPECT_EQ(st->cpe_matches, 1428u);  // every cpeMatch of the 100 records, plus ADP CPE ranges
  EXPECT_GT(st->configurations, 400u);
  for (const auto& s : st->sources) {
    EXPECT_EQ(s.format, "nvd-api-2.0");
    EXPECT_EQ(s.records, 1u);
    EXPECT_GT(s.bytes, 0u);
  }
}

TEST(VulnDbImport, RejectsMalformedRecordsAndKeepsTheRest) {
  TempDir t;
  std::ifstream in(kFixtures / "nvd-api-page.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // Break the second record's JSON (a value without quotes) but keep brackets balanced.
  const auto pos = text.find("\"id\": \"CVE-2020-8597\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 21, "\"id\": CVE-2020-8597  ");
  const auto file = t.path() / "broken.json";
  std::ofstream(file) << text;
  auto db = VulnDb::open(t.path() / "v.db", false);
  ASSERT_TRUE(db);
  auto st = db->import_file(file);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->records, 3u);
  EXPECT_EQ(st->stored, 2u);
  EXPECT_EQ(st->rejected, 1u);
  ASSERT_EQ(st->warnings.size(), 1u);
  EXPECT_NE(st->warnings[0].find("invalid JSON"), std::string::npos);

  // Not JSON at all, truncated, and missing files are errors naming the file.
  std::ofstream(t.path() / "junk.json") << "hello";
  auto e = db->import_file(t.path() / "junk.json");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().file.find("junk.json"), std::string::npos);
  std::ofstream(t.path() / "cut.json") << text.substr(0, text.size() / 2);
  EXPECT_FALSE(db->import_file(t.path() / "cut.json"));
  EXPECT_FALSE(db->import_file(t.path() / "missing.json"));
  // A failed import leaves the database as it was.
  EXPECT_EQ(db->status()->vulnerabilities, 2u);
}

TEST(VulnDbCpe, ParsesFormattedStrings) {
  auto c = probity::parse_cpe23("cpe:2.3:o:wago:pfc_firmware:03.04.10\\(16\\):*:*:*:*:*:*:*");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->part, "o");
  EXPECT_EQ(c->vendor, "wago");
  EXPECT_EQ(c->product, "pfc_firmware");
  EXPECT_EQ(c->version, "03.04.10(16)");
  EXPECT_EQ(c->target_hw, "*");
  c = probity::parse_cpe23("cpe:2.3:a:OpenBSD:OpenSSH:7.2:p2");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->vendor, "openbsd");
  EXPECT_EQ(c->update, "p2");
  EXPECT_EQ(c->other, "*");
  EXPECT_FALSE(probity::parse_cpe23("cpe:/a:openssl:openssl:1.0.2"));
  EXPECT_FALSE(probity::parse_cpe23("cpe:2.3:a"));
  EXPECT_FALSE(probity::parse_cpe23("cpe:2.3:a:b:c:d:e:f:g:h:i:j:k:l"));
}

// The import parses batches of 256 records on a pool thread while it stores the batch before:
// a page spanning several batches, with the same ids again in later batches (older and newer
// copies) and a broken record at a batch boundary, gives the same counts, warnings and snapshot
// whether one thread or two do the work.
TEST(VulnDbImport, PipelinedImportEqualsSequential) {
  TempDir t;
  std::vector<std::string> recs;
  for (const auto& e : fs::directory_iterator(kNvd))
    if (e.path().extension() == ".json") {
      std::ifstream in(e.path());
      recs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
    }
  std::sort(recs.begin(), recs.end());
  ASSERT_EQ(recs.size(), 100u);
  auto with_modified = [](std::string r, const std::string& date) {
    const auto at = r.find("\"lastModified\"");
    EXPECT_NE(at, std::string::npos);
    const auto q = r.find('"', r.find(':', at) + 1);
    r.replace(q + 1, r.find('"', q + 1) - q - 1, date);
    return r;
  };
  std::string page = R"({"resultsPerPage": 601, "startIndex": 0, "totalResults": 601, )"
                     R"("format": "NVD_CVE", "version": "2.0", "vulnerabilities": [)";
  int n = 0;
  auto add = [&](const std::string& rec) { page += (n++ ? "," : "") + ("{\"cve\":" + rec + "}"); };
  for (int round = 0; round < 6; ++round)
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (round == 2 && i == 56) add("{\"id\": CVE-broken}");  // item 257: the second batch
      // Rounds 1 and 4 are older copies (skipped), round 3 a newer one (replaces).
      const char* date = round == 1 || round == 4 ? "2001-01-01T00:00:00.000"
                         : round == 3             ? "2030-01-01T00:00:00.000"
                                                  : nullptr;
      add(date ? with_modified(recs[i], date) : recs[i]);
    }
  page += "]}";
  const fs::path feed = t.path() / "page.json";
  std::ofstream(feed) << page;

  auto run = [&](unsigned threads, const char* name) {
    probity::TaskPool pool(threads);
    auto db = VulnDb::open(t.path() / name, false);
    EXPECT_TRUE(db);
    std::vector<fs::path> files{feed};
    auto st = db->import_files(files, &pool);
    EXPECT_TRUE(st) << st.error().to_string();
    auto snap = db->snapshot_id();
    EXPECT_TRUE(snap);
    return std::pair{st->front(), *snap};
  };
  const auto [one, snap1] = run(1, "one.db");
  const auto [two, snap2] = run(2, "two.db");
  EXPECT_EQ(one.records, 601u);
  EXPECT_EQ(one.rejected, 1u);
  // Stored: the first round and the newer one; skipped: the older rounds and the unchanged
  // repeats of the first (the newer one has replaced it by round 5).
  EXPECT_EQ(one.stored, 200u);
  EXPECT_EQ(one.skipped, 400u);
  EXPECT_EQ(two.records, one.records);
  EXPECT_EQ(two.stored, one.stored);
  EXPECT_EQ(two.skipped, one.skipped);
  EXPECT_EQ(two.rejected, one.rejected);
  EXPECT_EQ(two.warnings, one.warnings);
  EXPECT_EQ(two.cpe_matches, one.cpe_matches);
  EXPECT_EQ(snap2, snap1);
  ASSERT_EQ(one.warnings.size(), 1u);
  EXPECT_NE(one.warnings[0].find("invalid JSON"), std::string::npos) << one.warnings[0];
}

TEST(VulnDbCvss, V3BaseScoreFromVector) {
  using probity::vuln::cvss3_base_score;
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5);
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8);
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"), 6.1);
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"), 7.4);
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H"), 8.8);
  EXPECT_DOUBLE_EQ(*cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), 0.0);
  EXPECT_FALSE(cvss3_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"));
  EXPECT_FALSE(cvss3_base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"));
  EXPECT_EQ(probity::vuln::cvss_severity(9.8), "critical");
  EXPECT_EQ(probity::vuln::cvss_severity(7.0), "high");
  EXPECT_EQ(probity::vuln::cvss_severity(3.9), "low");
}

}  // namespace
