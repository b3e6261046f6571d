// Vulnerability intelligence on the real data the build imports (data/vulndata/real, see its
// README.md): must-match and must-not-match CVEs, KEV and EPSS, kernel stable branches,
// distribution backports, end of life, signed snapshots, and `db update` against a local replay
// server of real responses (with a 503 and a truncated page). Expected values are read from the
// source files where the test is about the data, so a test fails when the import loses them.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "../integration/cli_support.hpp"
#include "core/sqlite.hpp"
#include "probity/tlog.hpp"
#include "probity/triage.hpp"
#include "probity/version.hpp"
#include "probity/vulndb.hpp"
#include "vuln/feed.hpp"
#include "vuln/listen_config.hpp"
#include "vuln/record.hpp"

namespace {

namespace fs = std::filesystem;
using probity::VulnDb;
using probity::Vulnerability;
using probity::VulnQuery;

const fs::path kReal = fs::path(PROBITY_SOURCE_DIR) / "data/vulndata/real";

// A scratch directory per test (tests/integration/cli_support.hpp).
class TempDir : public probity::testing::Scratch {
 public:
  TempDir() : Scratch("intel-" + std::to_string(counter_++)) {}

 private:
  static inline int counter_ = 0;
};

std::string gunzip(const fs::path& p) {
  auto t = probity::vuln::read_text_source(p, 256u << 20);
  EXPECT_TRUE(t) << t.error().to_string();
  return t ? *t : std::string();
}

VulnDb default_db() {
  auto db = VulnDb::open(PROBITY_DEFAULT_DB);
  EXPECT_TRUE(db) << db.error().to_string();
  return std::move(*db);
}

std::vector<Vulnerability> find(VulnDb& db, const std::string& vendor, const std::string& product,
                                const std::string& version, const std::string& component = "",
                                const std::string& distro = "",
                                const std::string& distro_version = "",
                                std::vector<std::string> platform = {}) {
  VulnQuery q;
  q.platform_cpes = std::move(platform);
  q.vendor = vendor;
  q.product = product;
  q.version = version;
  q.component = component;
  q.distro = distro;
  q.distro_version = distro_version;
  auto r = db.match(q);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : std::vector<Vulnerability>{};
}

const Vulnerability* get(const std::vector<Vulnerability>& v, const std::string& id) {
  for (const auto& x : v)
    if (x.id == id) return &x;
  return nullptr;
}

// ---- The default database, built from the real data -----------------------------------------

TEST(VulnIntel, DefaultDatabaseHoldsEverySource) {
  auto db = default_db();
  auto st = db.status();
  ASSERT_TRUE(st) << st.error().to_string();
  std::map<std::string, std::uint64_t> by;
  for (const auto& s : st->by_format) by[s.format] = s.records;
  for (const char* f : {"nvd-api-2.0", "nvd-1.1", "cve5", "osv", "kev", "epss", "endoflife",
                        "kernel-branches", "vendor-curl", "cpe-aliases"})
    EXPECT_GT(by[f], 0u) << f;
  // Every KEV entry of the catalogue shipped is in the database.
  const auto kev =
      nlohmann::json::parse(gunzip(kReal / "kev/known_exploited_vulnerabilities.json.gz"));
  EXPECT_EQ(st->kev, kev["vulnerabilities"].size());
  EXPECT_GE(st->vulnerabilities, 6000u);
  EXPECT_GE(st->eol_products, 60u);
  EXPECT_FALSE(st->snapshot_date.empty());
}

TEST(VulnIntel, LibcurlCveMatchesACurlBinaryThroughTheAlias) {
  // CVE-2016-8622 (NVD 1.1 feed) names only cpe:2.3:a:haxx:libcurl, versions before 7.51.0.
  auto db = default_db();
  auto v = find(db, "haxx", "curl", "7.50.3", "curl");
  EXPECT_TRUE(get(v, "CVE-2016-8622"));
  EXPECT_FALSE(get(find(db, "haxx", "curl", "7.51.0", "curl"), "CVE-2016-8622"));
}

TEST(VulnIntel, EscapedBoundAndHardwareAndConfiguration) {
  // CVE-2020-8597: wago pfc_firmware before 03.04.10\(16\) (an escaped bound) AND the hardware
  // pfc100 or pfc200. A generic image (no such hardware) must not match.
  auto db = default_db();
  const std::string pfc200 = "cpe:2.3:h:wago:pfc200:-:*:*:*:*:*:*:*";
  EXPECT_FALSE(get(find(db, "wago", "pfc_firmware", "03.04.09"), "CVE-2020-8597"));
  EXPECT_TRUE(
      get(find(db, "wago", "pfc_firmware", "03.04.09", "", "", "", {pfc200}), "CVE-2020-8597"));
  EXPECT_FALSE(
      get(find(db, "wago", "pfc_firmware", "03.04.10(16)", "", "", "", {pfc200}), "CVE-2020-8597"));
  // Its pppd entry holds on its own: pppd 2.4.8 is affected, 2.4.9 not.
  EXPECT_TRUE(get(find(db, "point-to-point_protocol_project", "point-to-point_protocol", "2.4.8"),
                  "CVE-2020-8597"));
  EXPECT_FALSE(get(find(db, "point-to-point_protocol_project", "point-to-point_protocol", "2.4.9"),
                   "CVE-2020-8597"));
  // CVE-2023-4911 ANDs Siemens firmware with its hardware; without the hardware no match.
  EXPECT_TRUE(get(find(db, "gnu", "glibc", "2.36"), "CVE-2023-4911"));
  EXPECT_FALSE(get(find(db, "siemens", "simatic_s7-1500_cpu_1518-4_pn/dp_mfp_firmware", "3.1.5"),
                   "CVE-2023-4911"));
}

TEST(VulnIntel, KevAndEpssComeFromTheirFeeds) {
  auto db = default_db();
  auto v = find(db, "gnu", "bash", "4.3");
  const auto* shellshock = get(v, "CVE-2014-6271");
  ASSERT_TRUE(shellshock);
  const auto kev =
      nlohmann::json::parse(gunzip(kReal / "kev/known_exploited_vulnerabilities.json.gz"));
  std::string added, due;
  for (const auto& e : kev["vulnerabilities"])
    if (e["cveID"] == "CVE-2014-6271") added = e["dateAdded"], due = e["dueDate"];
  ASSERT_FALSE(added.empty());
  ASSERT_TRUE(shellshock->kev);
  EXPECT_EQ(shellshock->kev->date_added, added);
  EXPECT_EQ(shellshock->kev->due_date, due);
  // EPSS: the CSV's score.
  const auto csv = gunzip(kReal / "epss/epss_collected.csv.gz");
  const auto at = csv.find("\nCVE-2014-6271,");
  ASSERT_NE(at, std::string::npos);
  const double score = std::stod(csv.substr(at + 15, 11));
  ASSERT_TRUE(shellshock->epss);
  EXPECT_DOUBLE_EQ(shellshock->epss->score, score);
  // Only CVEs of the catalogue are flagged.
  const std::string catalogue = kev.dump();
  for (const auto& x : v) {
    if (x.kev) {
      EXPECT_NE(catalogue.find("\"" + x.id + "\""), std::string::npos) << x.id;
    }
  }
}

TEST(VulnIntel, KernelJudgedAgainstItsStableBranch) {
  // CVE-2016-2383: NVD says linux_kernel before 4.5.0; the 4.4.y branch fixed it in 4.4.4.
  auto db = default_db();
  const auto later = find(db, "linux", "linux_kernel", "4.4.182");
  const auto* fixed = get(later, "CVE-2016-2383");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->status, "not-affected");
  EXPECT_NE(fixed->status_evidence.find("4.4.4"), std::string::npos);
  const auto earlier = find(db, "linux", "linux_kernel", "4.4.3");
  const auto* open = get(earlier, "CVE-2016-2383");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, "affected");
  EXPECT_EQ(open->fixed_in, "4.4.4");
  // A CVE that NVD matches for 4.4.182 and whose fix never reached the 4.4 branch stays affected.
  const auto sf = nlohmann::json::parse(gunzip(kReal / "kernel/stream_fixes.json.gz"));
  int mainline_only = 0;
  for (const auto& v : later) {
    if (!sf.contains(v.id) || sf[v.id].contains("4.4")) continue;
    ++mainline_only;
    EXPECT_EQ(v.status, "affected") << v.id;
  }
  EXPECT_GT(mainline_only, 0);
  // Every CVE the branch data fixed at or before 4.4.182 is not-affected.
  for (const auto& v : later)
    if (sf.contains(v.id) && sf[v.id].contains("4.4")) {
      const std::string f = sf[v.id]["4.4"]["fixed_version"];
      const bool fixed_before = probity::compare_versions("4.4.182", f) >= 0;
      EXPECT_EQ(v.status, fixed_before ? "not-affected" : "affected") << v.id << " " << f;
    }
}

TEST(VulnIntel, RangeKeyIsOrderPreservingOnEveryBoundInTheData) {
  // range_key lets match skip cpe_match rows by index; it must never rank two versions
  // differently from compare_versions. Every distinct bound and exact version in the real data,
  // against each other (a sample of ~1,500).
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(PROBITY_DEFAULT_DB, &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::vector<std::string> versions;
  {
    probity::sql::Stmt st(raw,
                          "SELECT v FROM (SELECT vsi v FROM cpe_match UNION SELECT vse FROM "
                          "cpe_match UNION SELECT vei FROM cpe_match UNION SELECT vee FROM "
                          "cpe_match) WHERE v IS NOT NULL ORDER BY random() LIMIT 1500");
    ASSERT_TRUE(st.ok());
    while (st.step()) versions.emplace_back(st.text(0));
  }
  sqlite3_close(raw);
  ASSERT_GT(versions.size(), 500u);
  for (const char* v : {"6.1.192", "4.4.182", "2.6.36", "1:2.36-9", "2022.83", "9.2p1", "1.0.2k"})
    versions.emplace_back(v);
  std::size_t keyed = 0, checked = 0;
  for (const auto& a : versions) {
    const auto ka = probity::vuln::range_key(a);
    if (!ka) continue;
    ++keyed;
    for (const auto& b : versions) {
      const auto kb = probity::vuln::range_key(b);
      if (!kb || *ka <= *kb) continue;
      ++checked;
      EXPECT_GT(probity::compare_versions(a, b), 0) << a << " vs " << b;
    }
  }
  EXPECT_GT(keyed, versions.size() / 2);
  EXPECT_GT(checked, 10000u);
  EXPECT_FALSE(probity::vuln::range_key("1:2.36-9"));  // an epoch orders before the digits
  EXPECT_FALSE(probity::vuln::range_key("5-1.16"));    // read as 5.1.16 by compare_versions
}

TEST(VulnIntel, SkippingRowsByRangeKeyChangesNoMatch) {
  // The same queries on a copy of the default database whose every row has the largest key
  // (nothing skipped) give the same vulnerabilities and judgements.
  TempDir t;
  const fs::path copy = t.path() / "nokey.db";
  fs::copy_file(PROBITY_DEFAULT_DB, copy);
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(copy.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE cpe_match SET hi = 9223372036854775807", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  auto keyed = default_db();
  auto open = VulnDb::open(copy);
  ASSERT_TRUE(open);
  auto summary = [](const std::vector<Vulnerability>& v) {
    std::vector<std::string> out;
    for (const auto& x : v) out.push_back(x.id + " " + x.status + " " + x.fixed_in);
    std::sort(out.begin(), out.end());
    return out;
  };
  std::size_t total = 0;
  for (const auto& [vendor, product, version] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"linux", "linux_kernel", "6.1.192"},
           {"linux", "linux_kernel", "4.4.182"},
           {"linux", "linux_kernel", "2.6.36"},
           {"linux", "linux_kernel", "5.10.100"},
           {"haxx", "curl", "7.88.1"},
           {"openssl", "openssl", "1.0.2k"},
           {"openbsd", "openssh", "7.4p1"},
           {"busybox", "busybox", "1.35.0"},
           {"thekelleys", "dnsmasq", "2.78"}}) {
    const auto a = find(keyed, vendor, product, version);
    const auto b = find(*open, vendor, product, version);
    EXPECT_EQ(summary(a), summary(b)) << product << " " << version;
    total += a.size();
  }
  EXPECT_GT(total, 500u);
}

TEST(VulnIntel, DebianBackportIsNotAffected) {
  // DSA-5514-1 fixed CVE-2023-4911 in bookworm's glibc 2.36-9+deb12u3 (data/vulndata/distro).
  auto db = default_db();
  // (The match results are kept: get() points into them.)
  const auto later_all = find(db, "gnu", "glibc", "2.36", "glibc", "debian", "2.36-9+deb12u14");
  const auto* later = get(later_all, "CVE-2023-4911");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, "not-affected");
  EXPECT_NE(later->status_evidence.find("DSA-5514-1"), std::string::npos);
  const auto older_all = find(db, "gnu", "glibc", "2.36", "glibc", "debian", "2.36-9+deb12u2");
  const auto* older = get(older_all, "CVE-2023-4911");
  ASSERT_TRUE(older);
  EXPECT_EQ(older->status, "affected");
  // Upstream glibc with no distribution: affected by its version.
  EXPECT_EQ(get(find(db, "gnu", "glibc", "2.36"), "CVE-2023-4911")->status, "affected");
  // A distribution whose fixes the data does not hold: unknown, never a silent pass.
  const auto ubuntu_all = find(db, "gnu", "glibc", "2.35", "glibc", "ubuntu", "2.35-0ubuntu3.4");
  const auto* ubuntu = get(ubuntu_all, "CVE-2023-4911");
  ASSERT_TRUE(ubuntu);
  EXPECT_EQ(ubuntu->status, "unknown");
}

TEST(VulnIntel, CurlAdvisoryTableMatchesWhatNvdDoesNotHave) {
  // curl's own table: CVE-2026-12064 (first 7.81.0, last 8.20.0, scope "tool": the curl
  // command, not libcurl). The expected bounds are read from the table.
  const auto table = nlohmann::json::parse(gunzip(kReal / "vendor/curl_vulns.json.gz"));
  std::string first, last, scope;
  for (const auto& e : table)
    if (e["cve"] == "CVE-2026-12064")
      first = e["first_vulnerable"], last = e["last_vulnerable"], scope = e["scope"];
  ASSERT_EQ(scope, "tool");
  auto db = default_db();
  EXPECT_TRUE(get(find(db, "haxx", "curl", last, "curl"), "CVE-2026-12064"));
  EXPECT_TRUE(get(find(db, "haxx", "curl", first, "curl"), "CVE-2026-12064"));
  EXPECT_FALSE(get(find(db, "haxx", "curl", "7.80.0", "curl"), "CVE-2026-12064"));
  // The table alone (no alias table): scope "tool" names haxx:curl, not haxx:libcurl.
  TempDir t;
  auto only = VulnDb::open(t.path() / "curl.db", false);
  ASSERT_TRUE(only);
  ASSERT_TRUE(only->import_file(kReal / "vendor/curl_vulns.json.gz"));
  EXPECT_TRUE(get(find(*only, "haxx", "curl", last), "CVE-2026-12064"));
  EXPECT_FALSE(get(find(*only, "haxx", "libcurl", last), "CVE-2026-12064"));
}

TEST(VulnIntel, EndOfLifeFromEndoflifeDate) {
  auto db = default_db();
  // nginx 1.27: eol 2025-06-24 in the endoflife.date file shipped.
  const auto md = gunzip(kReal / "eol/nginx.md.gz");
  const auto at = md.find("releaseCycle: \"1.27\"");
  ASSERT_NE(at, std::string::npos);
  const auto eol_at = md.find("eol: ", at);
  const std::string date = md.substr(eol_at + 5, 10);
  auto e = db.eol("nginx", "1.27.3", "2026-01-01");
  ASSERT_TRUE(e);
  ASSERT_TRUE(*e);
  EXPECT_EQ((*e)->cycle, "1.27");
  EXPECT_EQ((*e)->date, date);
  EXPECT_TRUE((*e)->reached);
  // By a CPE product named in the file's identifiers (linux-kernel: linux_kernel).
  auto k = db.eol("linux_kernel", "4.9.337", "2026-01-01");
  ASSERT_TRUE(k && *k);
  EXPECT_EQ((*k)->cycle, "4.9");
  // Not "5.1" for 5.10.x.
  auto k2 = db.eol("linux_kernel", "5.10.180", "2026-01-01");
  ASSERT_TRUE(k2 && *k2);
  EXPECT_EQ((*k2)->cycle, "5.10");
  // An unknown product has none.
  auto none = db.eol("no-such-product", "1.0", "2026-01-01");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

// ---- Text sources: hostile lines are warnings, not the end --------------------------------------

TEST(VulnIntel, EpssCsvRejectsBadLinesAndKeepsGoodOnes) {
  TempDir t;
  const fs::path csv = t.path() / "epss.csv";
  std::ofstream(csv) << "#model_version:v2023.03.01,score_date:2026-08-16T00:00:00+0000\n"
                        "cve,epss,percentile\nCVE-2014-6271,0.5,0.9\nCVE-1,abc,0.1\n"
                        "CVE-2,1.5,0.2\nnot a line\n";
  auto db = VulnDb::open(t.path() / "v.db", false);
  ASSERT_TRUE(db);
  auto st = db->import_file(csv);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->stored, 1u);
  EXPECT_EQ(st->rejected, 3u);
  EXPECT_EQ(st->data_date, "2026-08-16");
  // Not an EPSS file at all: an error naming the file.
  const fs::path bad = t.path() / "bad.csv";
  std::ofstream(bad) << "a,b,c\n";
  auto e = db->import_file(bad);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().to_string().find("bad.csv"), std::string::npos);
}

TEST(VulnIntel, EndoflifeFileWithBrokenYamlIsAnError) {
  TempDir t;
  auto db = VulnDb::open(t.path() / "v.db", false);
  ASSERT_TRUE(db);
  const fs::path md = t.path() / "broken.md";
  std::ofstream(md) << "---\nreleases: [\n  - releaseCycle: \"1\"\n---\n";
  EXPECT_FALSE(db->import_file(md));
  const fs::path nofm = t.path() / "plain.md";
  std::ofstream(nofm) << "# just markdown\n";
  EXPECT_FALSE(db->import_file(nofm));
}

// ---- Reachability and fix first ---------------------------------------------------------------

probity::FileRecord file(const std::string& path, const std::string& kind = "elf",
                         probity::EntryType type = probity::EntryType::kFile,
                         const std::string& link = "") {
  probity::FileRecord f;
  f.path = path;
  f.kind = kind;
  f.type = type;
  f.link = link;
  return f;
}

TEST(VulnIntel, ReachabilityOfBootStartedServerAndUnlinkedLibrary) {
  probity::Report r;
  r.tree.files = {file("etc/inittab", "text"),
                  file("usr/sbin/lighttpd"),
                  file("usr/lib/libunused.so.1"),
                  file("sbin/syslogd"),
                  file("usr/sbin/httpd", "", probity::EntryType::kSymlink, "../../bin/busybox"),
                  file("bin/busybox")};
  probity::Facts facts;
  facts.services = {{"lighttpd", "/usr/sbin/lighttpd -f /etc/lighttpd/lighttpd.conf", "etc/inittab",
                     "", "inittab:respawn"},
                    {"syslogd", "/sbin/syslogd -n", "etc/inittab", "", "inittab:respawn"},
                    {"httpd", "/usr/sbin/httpd -h /www", "etc/init.d/httpd", "", "script"}};
  r.facts = facts;
  auto comp = [](std::string name, std::string path) {
    probity::Component c;
    c.name = std::move(name);
    c.version = "1.0";
    c.evidence.push_back({path, 0, 0, "", "signature:x"});
    return c;
  };
  r.tree.files.push_back(file("boot/vmlinux"));
  r.components = {comp("lighttpd", "usr/sbin/lighttpd"), comp("unused", "usr/lib/libunused.so.1"),
                  comp("sysklogd", "sbin/syslogd"), comp("busybox", "bin/busybox"),
                  comp("linux-kernel", "boot/vmlinux")};
  for (const char* name : {"lighttpd", "unused", "sysklogd", "busybox", "linux-kernel"}) {
    Vulnerability v;
    v.id = std::string("CVE-0000-") + name;
    v.component = name;
    v.version = "1.0";
    r.vulnerabilities.push_back(v);
  }
  r.vulnerabilities[0].kev = probity::KevEntry{"2024-01-01", "2024-01-22"};
  probity::assess_reachability(r, "/nonexistent");
  EXPECT_EQ(r.vulnerabilities[0].reachability.state, "exposed");
  ASSERT_FALSE(r.vulnerabilities[0].reachability.chain.empty());
  EXPECT_NE(r.vulnerabilities[0].reachability.chain.front().find("etc/inittab"), std::string::npos);
  EXPECT_EQ(r.vulnerabilities[1].reachability.state, "present");
  EXPECT_EQ(r.vulnerabilities[2].reachability.state, "loaded");  // syslogd does not listen
  // busybox httpd (a symlink to busybox) started by a script: busybox is exposed.
  EXPECT_EQ(r.vulnerabilities[3].reachability.state, "exposed");
  // The image's kernel runs at boot: loaded (its network code is not assessed).
  EXPECT_EQ(r.vulnerabilities[4].reachability.state, "loaded");
  // Fix first: exposed and KEV, then exposed; the present and loaded ones are not listed.
  const auto ff = probity::fix_first(r.vulnerabilities);
  ASSERT_EQ(ff.size(), 2u);
  EXPECT_EQ(ff[0].index, 0u);
  EXPECT_EQ(ff[0].tier, 1);
  EXPECT_EQ(ff[1].index, 3u);
  EXPECT_EQ(ff[1].tier, 2);
}

// Where a server listens, from its arguments and the configuration the image ships.
TEST(VulnIntel, ListenScopeFromArgumentsAndConfiguration) {
  using probity::vuln::configured_listen;
  using probity::vuln::ListenScope;
  std::map<std::string, std::string, std::less<>> image;
  auto read = [&](std::string_view p) -> std::optional<std::string> {
    auto it = image.find(p);
    if (it == image.end()) return std::nullopt;
    return it->second;
  };
  using Args = std::vector<std::string_view>;
  EXPECT_TRUE(probity::vuln::loopback_address("127.0.0.1:8080"));
  EXPECT_TRUE(probity::vuln::loopback_address("[::1]:22"));
  EXPECT_TRUE(probity::vuln::loopback_address("::1"));
  EXPECT_TRUE(probity::vuln::loopback_address("\"localhost\""));
  EXPECT_FALSE(probity::vuln::loopback_address("0.0.0.0:80"));
  EXPECT_FALSE(probity::vuln::loopback_address("[::]:443"));
  EXPECT_FALSE(probity::vuln::loopback_address("192.168.1.1"));

  // Nothing shipped, nothing on the command line: unknown (the server's default holds).
  EXPECT_EQ(configured_listen("lighttpd", Args{}, read).scope, ListenScope::kUnknown);
  EXPECT_EQ(configured_listen("sshd", Args{}, read).scope, ListenScope::kUnknown);
  // Arguments.
  EXPECT_EQ(configured_listen("dropbear", Args{"-F", "-p", "127.0.0.1:22"}, read).scope,
            ListenScope::kLoopback);
  EXPECT_EQ(configured_listen("dropbear", Args{"-p", "22"}, read).scope, ListenScope::kNetwork);
  EXPECT_EQ(configured_listen("dropbear", Args{"-p", "127.0.0.1:22", "-p", "2222"}, read).scope,
            ListenScope::kNetwork);
  EXPECT_EQ(configured_listen("telnetd", Args{"-b", "127.0.0.1"}, read).scope,
            ListenScope::kLoopback);
  EXPECT_EQ(configured_listen("uhttpd", Args{"-f", "-p", "[::1]:80"}, read).scope,
            ListenScope::kLoopback);
  EXPECT_EQ(configured_listen("dnsmasq", Args{"--port=0"}, read).scope, ListenScope::kDisabled);
  EXPECT_EQ(
      configured_listen("dnsmasq", Args{"-p", "0", "--dhcp-range=10.0.0.2,10.0.0.9"}, read).scope,
      ListenScope::kUnknown);  // DHCP still listens
  EXPECT_EQ(configured_listen("snmpd", Args{"-Lf", "/dev/null", "udp:127.0.0.1:161"}, read).scope,
            ListenScope::kLoopback);

  // Configuration files.
  image["/etc/lighttpd/lighttpd.conf"] =
      "# server.bind = \"0.0.0.0\"\nserver.port = 80\nserver.bind = \"127.0.0.1\"  # local\n";
  auto l = configured_listen("lighttpd", Args{}, read);
  EXPECT_EQ(l.scope, ListenScope::kLoopback);
  EXPECT_NE(l.why.find("lighttpd.conf: server.bind = \"127.0.0.1\""), std::string::npos) << l.why;
  image["/etc/lighttpd/lighttpd.conf"] +=
      "$SERVER[\"socket\"] == \":443\" { ssl.engine = \"enable\" }\n";
  EXPECT_EQ(configured_listen("lighttpd", Args{}, read).scope, ListenScope::kNetwork);
  // -f names another file: the default one is not read.
  image["/etc/lighttpd/local.conf"] = "server.bind = \"localhost\"\n";
  EXPECT_EQ(configured_listen("lighttpd", Args{"-f", "/etc/lighttpd/local.conf"}, read).scope,
            ListenScope::kLoopback);
  image["/etc/lighttpd/open.conf"] = "server.port = 8080\n";
  EXPECT_EQ(configured_listen("lighttpd", Args{"-f", "/etc/lighttpd/open.conf"}, read).scope,
            ListenScope::kNetwork);

  image["/etc/config/uhttpd"] =
      "config uhttpd 'main'\n\tlist listen_http '127.0.0.1:80'\n\tlist listen_http '[::1]:80'\n";
  EXPECT_EQ(configured_listen("uhttpd", Args{}, read).scope, ListenScope::kLoopback);
  image["/etc/config/uhttpd"] += "\tlist listen_https '0.0.0.0:443'\n";
  EXPECT_EQ(configured_listen("uhttpd", Args{}, read).scope, ListenScope::kNetwork);

  image["/etc/ssh/sshd_config"] = "Port 22\nListenAddress 127.0.0.1\nListenAddress ::1\n";
  EXPECT_EQ(configured_listen("sshd", Args{}, read).scope, ListenScope::kLoopback);
  EXPECT_EQ(configured_listen("sshd", Args{"-o", "ListenAddress=0.0.0.0"}, read).scope,
            ListenScope::kNetwork);  // the command line overrides the file

  image["/etc/dnsmasq.conf"] = "domain-needed\nport=0\n";
  EXPECT_EQ(configured_listen("dnsmasq", Args{}, read).scope, ListenScope::kDisabled);
  image["/etc/dnsmasq.conf"] += "dhcp-range=192.168.1.100,192.168.1.200,12h\n";
  EXPECT_EQ(configured_listen("dnsmasq", Args{}, read).scope, ListenScope::kUnknown);

  image["/etc/mosquitto/mosquitto.conf"] = "listener 1883 127.0.0.1\n";
  EXPECT_EQ(configured_listen("mosquitto", Args{}, read).scope, ListenScope::kLoopback);
  image["/etc/mosquitto/mosquitto.conf"] += "listener 8883\n";
  EXPECT_EQ(configured_listen("mosquitto", Args{}, read).scope, ListenScope::kNetwork);

  image["/etc/snmp/snmpd.conf"] = "agentAddress udp:127.0.0.1:161,udp6:[::1]:161\n";
  EXPECT_EQ(configured_listen("snmpd", Args{}, read).scope, ListenScope::kLoopback);
}

// The same through assess_reachability on an extracted tree: a boot-started server bound to
// loopback by its shipped configuration is loaded, not exposed; one the configuration opens is
// exposed with the configuration line in its chain.
TEST(VulnIntel, ReachabilityFollowsTheShippedListenConfiguration) {
  TempDir t;
  const fs::path root = t.path() / "extracted" / "0-squashfs";
  probity::Report r;
  auto put = [&](const std::string& path, const std::string& text, const std::string& kind) {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path) << text;
    auto f = file(path, kind);
    f.extracted = "extracted/0-squashfs/" + path;
    f.size = text.size();
    r.tree.files.push_back(f);
  };
  put("etc/lighttpd/lighttpd.conf", "server.port = 80\nserver.bind = \"127.0.0.1\"\n", "text");
  put("etc/config/uhttpd", "config uhttpd main\n\tlist listen_http '0.0.0.0:80'\n", "text");
  put("usr/sbin/lighttpd", "x", "elf");
  put("usr/sbin/uhttpd", "x", "elf");
  put("usr/sbin/dropbear", "x", "elf");
  probity::Facts facts;
  facts.services = {
      {"lighttpd", "/usr/sbin/lighttpd -D -f /etc/lighttpd/lighttpd.conf", "etc/inittab", "",
       "inittab:respawn"},
      {"uhttpd", "/etc/init.d/uhttpd", "etc/rc.d/S50uhttpd", "", "rc-link"},
      {"dropbear", "/usr/sbin/dropbear -F -p 127.0.0.1:22", "etc/inittab", "", "inittab:respawn"}};
  r.facts = facts;
  for (const char* name : {"lighttpd", "uhttpd", "dropbear"}) {
    probity::Component c;
    c.name = name;
    c.version = "1.0";
    c.evidence.push_back({std::string("usr/sbin/") + name, 0, 0, "", "signature:x"});
    r.components.push_back(c);
    Vulnerability v;
    v.id = std::string("CVE-0000-") + name;
    v.component = name;
    v.version = "1.0";
    r.vulnerabilities.push_back(v);
  }
  probity::assess_reachability(r, t.path());
  auto chain = [&](std::size_t i) {
    std::string all;
    for (const auto& c : r.vulnerabilities[i].reachability.chain) all += c + "\n";
    return all;
  };
  EXPECT_EQ(r.vulnerabilities[0].reachability.state, "loaded") << chain(0);
  EXPECT_NE(chain(0).find("loopback only: /etc/lighttpd/lighttpd.conf: server.bind"),
            std::string::npos)
      << chain(0);
  EXPECT_EQ(r.vulnerabilities[1].reachability.state, "exposed") << chain(1);
  EXPECT_NE(chain(1).find("/etc/config/uhttpd: list listen_http '0.0.0.0:80'"), std::string::npos)
      << chain(1);
  EXPECT_EQ(r.vulnerabilities[2].reachability.state, "loaded") << chain(2);
}

// ---- Signed snapshots -------------------------------------------------------------------------

struct Keys {
  fs::path key, pub;
};
Keys make_key(const fs::path& dir, const std::string& name) {
  auto k = probity::tlog::generate_key(name);
  EXPECT_TRUE(k);
  Keys out{dir / (name + ".key"), dir / (name + ".pub")};
  std::ofstream(out.key) << k->to_string() << "\n";
  std::ofstream(out.pub) << k->pub.to_string() << "\n";
  return out;
}

TEST(VulnIntel, SignedSnapshotRoundTripsAndTamperingIsRefused) {
  TempDir t;
  const auto keys = make_key(t.path(), "feed-signer");
  const auto other = make_key(t.path(), "someone-else");
  const fs::path snap = t.path() / "vuln.snapshot";
  auto info = probity::export_vuln_snapshot(PROBITY_DEFAULT_DB, snap, keys.key);
  ASSERT_TRUE(info) << info.error().to_string();
  auto src = default_db();
  EXPECT_EQ(info->snapshot, *src.snapshot_id());

  const fs::path target = t.path() / "air-gapped.db";
  auto in = probity::import_vuln_snapshot(snap, keys.pub.string(), target);
  ASSERT_TRUE(in) << in.error().to_string();
  auto copy = VulnDb::open(target);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->status()->snapshot, info->snapshot);
  EXPECT_EQ(*copy->snapshot_date(), info->date);

  // The wrong key: refused, the database in place unchanged.
  const auto before = fs::last_write_time(target);
  auto wrong = probity::import_vuln_snapshot(snap, other.pub.string(), target);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("bad signature"), std::string::npos);
  EXPECT_EQ(fs::last_write_time(target), before);

  // One byte of the database changed: refused.
  std::string bytes;
  {
    std::ifstream f(snap, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::string tampered = bytes;
  tampered[tampered.size() - 100] ^= 0x01;
  const fs::path bad = t.path() / "tampered.snapshot";
  std::ofstream(bad, std::ios::binary) << tampered;
  auto t1 = probity::import_vuln_snapshot(bad, keys.pub.string(), target);
  ASSERT_FALSE(t1);
  EXPECT_NE(t1.error().message.find("SHA-256"), std::string::npos);
  // The signed note edited (another snapshot id): the signature no longer holds.
  std::string edited = bytes;
  const auto at = edited.find("snapshot sha256:");
  ASSERT_NE(at, std::string::npos);
  edited[at + 20] = edited[at + 20] == 'a' ? 'b' : 'a';
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << edited;
  EXPECT_FALSE(probity::import_vuln_snapshot(bad, keys.pub.string(), target));
  // Truncated: refused.
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  EXPECT_FALSE(probity::import_vuln_snapshot(bad, keys.pub.string(), target));

  // An older snapshot than the database in place: refused.
  {
    auto newer = VulnDb::open(target, false);
    ASSERT_TRUE(newer);
    const fs::path csv = t.path() / "later.csv";
    std::ofstream(csv) << "#model_version:x,score_date:2099-01-01T00:00:00+0000\n"
                          "cve,epss,percentile\nCVE-2014-6271,0.5,0.9\n";
    ASSERT_TRUE(newer->import_file(csv));
  }
  auto old = probity::import_vuln_snapshot(snap, keys.pub.string(), target);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("older"), std::string::npos);
}

// A zip archive (libarchive's writer) of (name, content) members, as OSV's all.zip holds them.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::size_t total = 1 << 16;
  for (const auto& [n, c] : members) total += n.size() * 3 + c.size() + 256;
  std::string out(total, '\0');
  std::size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  EXPECT_EQ(archive_write_open_memory(a, out.data(), out.size(), &used), ARCHIVE_OK);
  for (const auto& [name, content] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, la_int64_t(content.size()));
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    EXPECT_EQ(archive_write_data(a, content.data(), content.size()), la_ssize_t(content.size()));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

// OSV's real curl records (an array) as an ecosystem's all.zip: one record per member.
std::vector<std::pair<std::string, std::string>> osv_members() {
  std::vector<std::pair<std::string, std::string>> m;
  for (const auto& r : nlohmann::json::parse(gunzip(kReal / "osv/curl.json.gz")))
    m.emplace_back(r["id"].get<std::string>() + ".json", r.dump(2));
  return m;
}

// ---- db update against a local replay server ---------------------------------------------------

// Replays real NVD API 2.0 records (data/vulndata/real/nvd/lighttpd.json.gz, 28 records) as
// pages of 20, the real
// KEV catalogue and EPSS scores, with the faults the test asks for.
struct Replay {
  httplib::Server srv;
  std::thread th;
  int port = 0;
  nlohmann::json records;
  std::string kev, epss, eol, osv_zip;
  std::mutex mu;
  std::map<std::string, int> hits;  // "startIndex" → requests
  std::atomic<int> fail_503_first{1};
  std::atomic<int> truncate_page{20};  // startIndex whose first answer is cut (-1: none)
  std::atomic<bool> always_truncate{false};
  std::atomic<bool> saw_incremental{false};

  Replay() {
    records = nlohmann::json::parse(gunzip(kReal / "nvd/lighttpd.json.gz"))["vulnerabilities"];
    kev = gunzip(kReal / "kev/known_exploited_vulnerabilities.json.gz");
    epss = gunzip(kReal / "epss/epss_collected.csv.gz");
    eol = gunzip(kReal / "eol/nginx.md.gz");
    srv.Get("/rest/json/cves/2.0", [this](const httplib::Request& q, httplib::Response& r) {
      const auto start = std::stoul(q.get_param_value("startIndex"));
      const auto per = std::stoul(q.get_param_value("resultsPerPage"));
      int n;
      {
        std::lock_guard l(mu);
        n = ++hits[std::to_string(start)];
      }
      if (start == 0 && fail_503_first > 0) {
        --fail_503_first;
        r.status = 503;
        r.set_header("Retry-After", "0");
        return;
      }
      nlohmann::json page = {{"resultsPerPage", per},
                             {"startIndex", start},
                             {"format", "NVD_CVE"},
                             {"version", "2.0"}};
      nlohmann::json list = nlohmann::json::array();
      if (q.has_param("lastModStartDate")) {
        saw_incremental = true;
        page["totalResults"] = 0;
      } else {
        page["totalResults"] = records.size();
        for (std::size_t i = start; i < records.size() && i < start + per; ++i)
          list.push_back(records[i]);
      }
      page["vulnerabilities"] = list;
      std::string body = page.dump();
      if (int(start) == truncate_page && (n == 1 || always_truncate))
        body.resize(body.size() / 2);  // a connection cut mid-page
      r.set_content(body, "application/json");
    });
    srv.Get("/kev.json", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(kev, "application/json");
    });
    srv.Get("/epss.csv", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(epss, "text/csv");
    });
    srv.Get("/eol/nginx.md", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(eol, "text/markdown");
    });
    srv.Get("/osv/all.zip", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(osv_zip, "application/zip");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { srv.listen_after_bind(); });
    for (int i = 0; i < 500 && !srv.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~Replay() {
    srv.stop();
    th.join();
  }
  probity::VulnUpdateOptions options(const fs::path& work) const {
    probity::VulnUpdateOptions o;
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    o.nvd_url = base + "/rest/json/cves/2.0";
    o.kev_url = base + "/kev.json";
    o.epss_url = base + "/epss.csv";
    o.eol_url = base + "/eol";
    o.eol_products = {"nginx"};
    o.osv = false;
    o.results_per_page = 20;
    o.min_interval = std::chrono::milliseconds(0);
    o.backoff = std::chrono::milliseconds(1);
    o.max_retries = 3;
    o.read_timeout_s = 10;
    o.work_dir = work;
    return o;
  }
};

TEST(VulnIntel, UpdateRetries503AndTruncatedPageThenSwaps) {
  TempDir t;
  Replay rp;
  const fs::path db = t.path() / "live.db";
  auto r = probity::update_vuln_db(db, rp.options(t.path() / "work"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_GE(r->retries, 2u);  // the 503 and the truncated page
  EXPECT_EQ(r->nvd_records, rp.records.size());
  EXPECT_FALSE(fs::exists(t.path() / "work"));  // done: the downloads are gone
  auto v = VulnDb::open(db);
  ASSERT_TRUE(v);
  auto st = v->status();
  EXPECT_EQ(st->vulnerabilities, rp.records.size());
  const auto kev = nlohmann::json::parse(rp.kev);
  EXPECT_EQ(st->kev, kev["vulnerabilities"].size());
  EXPECT_GT(st->epss, 1000u);
  EXPECT_GT(st->eol_cycles, 10u);
  const std::string last = *v->meta("nvd_last_mod");
  EXPECT_FALSE(last.empty());

  // The next update is incremental: it asks NVD for what changed since.
  auto again = probity::update_vuln_db(db, rp.options(t.path() / "work"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(rp.saw_incremental);
  auto v2 = VulnDb::open(db);
  EXPECT_EQ(v2->status()->vulnerabilities, rp.records.size());
}

TEST(VulnIntel, FailedUpdateLeavesTheDatabaseAndResumes) {
  TempDir t;
  const fs::path db = t.path() / "live.db";
  {
    auto seed = VulnDb::open(db, false);
    ASSERT_TRUE(seed);
    ASSERT_TRUE(
        seed->import_file(fs::path(PROBITY_SOURCE_DIR) / "data/vulndata/nvd/CVE-2023-4911.json"));
  }
  const auto before = *VulnDb::open(db)->snapshot_id();
  Replay rp;
  rp.always_truncate = true;
  auto r = probity::update_vuln_db(db, rp.options(t.path() / "work"));
  ASSERT_FALSE(r);
  EXPECT_EQ(*VulnDb::open(db)->snapshot_id(), before);  // unchanged
  EXPECT_TRUE(fs::exists(t.path() / "work/state.json"));
  const int first_page_hits = rp.hits["0"];
  // The server recovers: the update resumes without asking for the first page again.
  rp.always_truncate = false;
  rp.truncate_page = -1;
  auto r2 = probity::update_vuln_db(db, rp.options(t.path() / "work"));
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_TRUE(r2->resumed);
  EXPECT_EQ(rp.hits["0"], first_page_hits);
  EXPECT_EQ(VulnDb::open(db)->status()->vulnerabilities, rp.records.size() + 1);
}

// `db import` reads OSV's all.zip: every *.json member is a record; other members are ignored,
// a broken one is rejected and counted, and the records equal those of the same data as an
// array.
TEST(VulnIntel, OsvAllZipImportsLikeTheArray) {
  TempDir t;
  auto members = osv_members();
  ASSERT_EQ(members.size(), 27u);
  members.emplace_back("README.txt", "not a record");
  members.emplace_back("BROKEN-1.json", "{\"id\": \"BROKEN-1\", ");
  const fs::path zip = t.path() / "all.zip";
  std::ofstream(zip, std::ios::binary) << make_zip(members);
  auto a = VulnDb::open(t.path() / "zip.db", false);
  ASSERT_TRUE(a);
  auto st = a->import_file(zip);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->records, 28u);  // 27 records and the broken one; README.txt is not a record
  EXPECT_EQ(st->stored, 27u);
  EXPECT_EQ(st->rejected, 1u);
  EXPECT_EQ(st->format, "osv");

  const fs::path array = t.path() / "curl.json";
  std::ofstream(array) << gunzip(kReal / "osv/curl.json.gz");
  auto b = VulnDb::open(t.path() / "array.db", false);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->import_file(array));
  EXPECT_EQ(*a->snapshot_id(), *b->snapshot_id());

  // Not a zip: a clear error naming the file.
  const fs::path fake = t.path() / "fake.zip";
  std::ofstream(fake) << "[]";
  auto c = VulnDb::open(t.path() / "fake.db", false);
  auto bad = c->import_file(fake);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("fake.zip"), std::string::npos);
}

// `db update --osv-url .../all.zip` fetches the zip, checks it is one, and imports it.
TEST(VulnIntel, UpdateFetchesOsvAllZip) {
  TempDir t;
  Replay rp;
  rp.fail_503_first = 0;
  rp.truncate_page = -1;
  const auto members = osv_members();
  rp.osv_zip = make_zip(members);
  auto o = rp.options(t.path() / "work");
  o.osv = true;
  o.osv_url = "http://127.0.0.1:" + std::to_string(rp.port) + "/osv/all.zip";
  const fs::path db = t.path() / "live.db";
  auto r = probity::update_vuln_db(db, o);
  ASSERT_TRUE(r) << r.error().to_string();
  auto v = VulnDb::open(db);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status()->vulnerabilities, rp.records.size() + members.size());
  // A body that is not a zip is refused (after its retries) and the database stays as it was.
  rp.osv_zip = "<html>maintenance</html>";
  const auto before = *v->snapshot_id();
  auto o2 = rp.options(t.path() / "work2");
  o2.osv = true;
  o2.osv_url = o.osv_url;
  auto r2 = probity::update_vuln_db(db, o2);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("zip"), std::string::npos) << r2.error().message;
  EXPECT_EQ(*VulnDb::open(db)->snapshot_id(), before);
}

}  // namespace
