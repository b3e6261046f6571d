// The delta logic on small synthetic reports: every section, moves, version direction, finding
// ids that survive a release, reports without facts, and report.json read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "probity/checks.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"

namespace probity {
namespace {

FileRecord file(std::string path, std::string sha, std::uint64_t size = 100,
                std::uint32_t mode = 0644) {
  FileRecord f;
  f.path = std::move(path);
  f.container = 1;
  f.origin = {{"fw.bin", 64, "squashfs"}};
  f.type = EntryType::kFile;
  f.sha256 = std::move(sha);
  f.size = size;
  f.mode = mode;
  f.kind = "data";
  return f;
}

Component comp(std::string name, std::string version) {
  Component c;
  c.name = std::move(name);
  c.version = std::move(version);
  return c;
}

Finding finding(std::string rule, std::string path, std::string key, Severity sev) {
  Finding f;
  FileRecord rec = file(path, "");
  f.id = finding_id(rule, normalised_location(rec), key);
  f.rule = std::move(rule);
  f.category = "account";
  f.severity = sev;
  f.path = std::move(path);
  return f;
}

AccountFact account(std::string name, long uid, std::string shell = "/bin/sh") {
  return {.name = std::move(name),
          .uid = uid,
          .gid = uid,
          .shell = std::move(shell),
          .home = "/root",
          .path = "etc/passwd",
          .location = "squashfs:etc/passwd",
          .password = "hash",
          .password_digest = "0123456789abcdef"};
}

/// OLD and NEW of a small device: each test changes NEW.
struct Pair {
  Report a, b;
  Pair() {
    a.tree.image.name = "v1.bin";
    a.tree.files = {file("bin/busybox", "aa", 5000), file("etc/passwd", "bb"),
                    file("usr/lib/vendor/update.sh", "cc", 300)};
    a.components = {comp("busybox", "1.35.0"), comp("openssl", "1.1.1w")};
    a.facts = Facts{};
    a.facts->accounts = {account("root", 0), account("alice", 1000)};
    a.facts->hardening = {{.path = "bin/busybox",
                           .location = "squashfs:bin/busybox",
                           .executable = true,
                           .nx = true,
                           .pie = true,
                           .canary = true,
                           .relro = "full"}};
    b = a;
    b.tree.image.name = "v2.bin";
  }
  Delta diff() const { return diff_reports(a, b); }
};

TEST(Diff, IdenticalReportsHaveNoChanges) {
  Pair p;
  auto d = p.diff();
  EXPECT_TRUE(d.files.added.empty());
  EXPECT_TRUE(d.files.removed.empty());
  EXPECT_TRUE(d.files.changed.empty());
  EXPECT_TRUE(d.components.changed.empty());
  EXPECT_TRUE(d.accounts.added.empty());
  EXPECT_TRUE(d.hardening.regressions.empty());
}

TEST(Diff, FilesAddedRemovedChangedByAttribute) {
  Pair p;
  p.b.tree.files[1].sha256 = "b2";  // etc/passwd content
  p.b.tree.files[0].mode = 04755;   // busybox setuid
  p.b.tree.files[0].uid = 1000;     // and owner
  p.b.tree.files.push_back(file("etc/init.d/telnet", "dd"));
  FileRecord link;
  link.path = "etc/rc.d/S50telnet";
  link.origin = {{"fw.bin", 64, "squashfs"}};
  link.type = EntryType::kSymlink;
  link.link = "../init.d/telnet";
  p.a.tree.files.push_back(link);
  link.link = "../init.d/telnet2";
  p.b.tree.files.push_back(link);
  auto d = p.diff();
  ASSERT_EQ(d.files.added.size(), 1u);
  EXPECT_EQ(d.files.added[0].path, "etc/init.d/telnet");
  std::map<std::string, std::vector<std::string>> changed;
  for (const auto& c : d.files.changed) changed[c.to.path] = c.changes;
  EXPECT_EQ(changed["etc/passwd"], std::vector<std::string>{"content"});
  EXPECT_EQ(changed["bin/busybox"], (std::vector<std::string>{"mode", "owner"}));
  EXPECT_EQ(changed["etc/rc.d/S50telnet"], std::vector<std::string>{"symlink-target"});
}

TEST(Diff, FilesMatchedByLocationNotContainerId) {
  Pair p;
  // The same filesystem found as container 3 in the new image (another blob came first).
  for (auto& f : p.b.tree.files) f.container = 3;
  p.b.tree.files[0].origin[0].offset = 4096;  // and at another offset
  auto d = p.diff();
  EXPECT_TRUE(d.files.added.empty());
  EXPECT_TRUE(d.files.removed.empty());
}

TEST(Diff, RenamedFileIsAMoveNotRemovePlusAdd) {
  Pair p;
  p.b.tree.files[2].path = "usr/libexec/vendor/fw-update.sh";
  auto d = p.diff();
  EXPECT_TRUE(d.files.added.empty());
  EXPECT_TRUE(d.files.removed.empty());
  ASSERT_EQ(d.files.moved.size(), 1u);
  EXPECT_EQ(d.files.moved[0].from.path, "usr/lib/vendor/update.sh");
  EXPECT_EQ(d.files.moved[0].to.path, "usr/libexec/vendor/fw-update.sh");
  EXPECT_EQ(d.files.moved[0].match, "sha256");
  EXPECT_EQ(d.files.moved[0].similarity, 100);
}

TEST(Diff, MovedAndEditedFileMatchedBySimilarityWhenContentsAreThere) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("probity-diff-sim-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  std::string text, unrelated;
  for (int i = 0; i < 800; ++i) {
    text += "option_" + std::to_string(i) + " = value-" + std::to_string(i * 7919 % 10007) + "\n";
    unrelated += std::to_string(i * 104729 % 7919) + " zz " + std::to_string(i * i) + "\n";
  }
  std::string edited = text;
  edited.replace(edited.find("option_400"), 10, "renamed_40");
  // unpack's layout: extracted/<id>-<format>/<path>
  for (const char* side : {"a", "b"}) fs::create_directories(dir / side / "extracted" / "1-tar");
  std::ofstream(dir / "a" / "extracted" / "1-tar" / "defaults.conf") << text;
  std::ofstream(dir / "b" / "extracted" / "1-tar" / "factory.conf") << edited;
  std::ofstream(dir / "b" / "extracted" / "1-tar" / "other.conf") << unrelated;
  Pair p;
  auto f = file("etc/vendor/defaults.conf", "e1", text.size());
  f.extracted = "extracted/1-tar/defaults.conf";
  p.a.tree.files.push_back(f);
  auto g = file("etc/vendor/factory.conf", "e2", edited.size());
  g.extracted = "extracted/1-tar/factory.conf";
  p.b.tree.files.push_back(g);
  auto h = file("etc/vendor/other.conf", "e3", unrelated.size());
  h.extracted = "extracted/1-tar/other.conf";
  p.b.tree.files.push_back(h);
  // Without contents: hash only, so one removed and two added.
  auto d0 = p.diff();
  EXPECT_EQ(d0.files.removed.size(), 1u);
  EXPECT_FALSE(d0.files.similarity_available);
  DiffOptions opt;
  opt.old_root = dir / "a";
  opt.new_root = dir / "b";
  auto d = diff_reports(p.a, p.b, opt);
  EXPECT_TRUE(d.files.similarity_available);
  EXPECT_TRUE(d.files.removed.empty());
  ASSERT_EQ(d.files.moved.size(), 1u);
  EXPECT_EQ(d.files.moved[0].to.path, "etc/vendor/factory.conf");
  EXPECT_EQ(d.files.moved[0].match, "ssdeep");
  EXPECT_GE(d.files.moved[0].similarity, kMoveSimilarity);
  ASSERT_EQ(d.files.added.size(), 1u);
  EXPECT_EQ(d.files.added[0].path, "etc/vendor/other.conf");
  // The pair cap is honoured and said.
  opt.max_similarity_pairs = 0;
  auto capped = diff_reports(p.a, p.b, opt);
  EXPECT_TRUE(std::any_of(capped.warnings.begin(), capped.warnings.end(),
                          [](const Warning& w) { return w.code == "cap-similarity-pairs"; }));
  EXPECT_TRUE(capped.files.moved.empty());
  fs::remove_all(dir);
}

TEST(Diff, ComponentDirectionFromVersionOrder) {
  Pair p;
  p.b.components = {comp("busybox", "1.36.1"), comp("openssl", "1.1.1f"), comp("zlib", "1.3")};
  auto d = p.diff();
  ASSERT_EQ(d.components.changed.size(), 2u);
  EXPECT_EQ(d.components.changed[0].name, "busybox");
  EXPECT_EQ(d.components.changed[0].direction, "upgrade");
  EXPECT_EQ(d.components.changed[1].name, "openssl");
  EXPECT_EQ(d.components.changed[1].from, "1.1.1w");
  EXPECT_EQ(d.components.changed[1].to, "1.1.1f");
  EXPECT_EQ(d.components.changed[1].direction, "downgrade");
  ASSERT_EQ(d.components.added.size(), 1u);
  EXPECT_EQ(d.components.added[0].name, "zlib");
}

TEST(Diff, SeveralVersionsOfOneProductArePairedInOrder) {
  Pair p;
  // Two copies of openssl (the system one and one bundled by an application): one stays, one
  // is upgraded; copies of the same version count once.
  p.a.components = {comp("openssl", "1.0.2k"), comp("openssl", "1.1.1w"),
                    comp("openssl", "1.1.1w")};
  p.b.components = {comp("openssl", "1.1.1w"), comp("openssl", "3.0.13")};
  auto d = p.diff();
  ASSERT_EQ(d.components.changed.size(), 1u);
  EXPECT_EQ(d.components.changed[0].from, "1.0.2k");
  EXPECT_EQ(d.components.changed[0].to, "3.0.13");
  EXPECT_TRUE(d.components.added.empty());
  EXPECT_TRUE(d.components.removed.empty());
}

TEST(Diff, VulnerabilitiesFixedAndIntroducedByIdAndComponent) {
  Pair p;
  Vulnerability v1{.id = "CVE-2024-5535", .component = "openssl", .version = "1.1.1w"};
  Vulnerability v2{.id = "CVE-2022-48174", .component = "busybox", .version = "1.35.0"};
  Vulnerability v3{.id = "CVE-2023-0001", .component = "zlib", .version = "1.3"};
  p.a.vulnerabilities = {v1, v2};
  v2.version = "1.35.0-r1";  // same CVE, same product: persists whatever the version string
  p.b.vulnerabilities = {v2, v3};
  auto d = p.diff();
  ASSERT_EQ(d.vulnerabilities.fixed.size(), 1u);
  EXPECT_EQ(d.vulnerabilities.fixed[0].id, "CVE-2024-5535");
  ASSERT_EQ(d.vulnerabilities.introduced.size(), 1u);
  EXPECT_EQ(d.vulnerabilities.introduced[0].id, "CVE-2023-0001");
}

TEST(Diff, FindingsNewFixedPersistingByStableId) {
  Pair p;
  auto keep = finding("account-service-shell", "etc/passwd", "ftp", Severity::kLow);
  auto gone = finding("account-empty-password", "etc/passwd", "guest", Severity::kHigh);
  auto fresh = finding("account-extra-uid0", "etc/passwd", "systemd-netd", Severity::kHigh);
  p.a.findings = {keep, gone};
  // The same problem in the next release: the passwd line moved (offset and excerpt changed)
  // and the filesystem is another container, but rule, location and evidence key are the same,
  // so the id is the same.
  auto keep2 = keep;
  keep2.evidence.offset = 4242;
  keep2.container = 7;
  keep2.evidence.excerpt = "ftp:x:21:21::/srv/ftp:/bin/sh";
  EXPECT_EQ(finding("account-service-shell", "etc/passwd", "ftp", Severity::kLow).id, keep2.id);
  keep2.suppression = Suppression{.state = "accepted", .by = "security team"};
  p.b.findings = {fresh, keep2};
  auto d = p.diff();
  ASSERT_EQ(d.findings.added.size(), 1u);
  EXPECT_EQ(d.findings.added[0].rule, "account-extra-uid0");
  ASSERT_EQ(d.findings.fixed.size(), 1u);
  EXPECT_EQ(d.findings.fixed[0].rule, "account-empty-password");
  ASSERT_EQ(d.findings.persisting.size(), 1u);
  EXPECT_TRUE(d.findings.persisting[0].suppression.has_value());
  // In diff.json each entry has the id, category and path.
  auto j = delta_json(d);
  EXPECT_EQ(j["findings"]["new"][0]["id"], fresh.id);
  EXPECT_EQ(j["findings"]["new"][0]["category"], "account");
  EXPECT_EQ(j["findings"]["new"][0]["path"], "etc/passwd");
  EXPECT_EQ(j["findings"]["persisting"][0]["suppression"]["state"], "accepted");
}

TEST(Diff, AccountsAddedRemovedChanged) {
  Pair p;
  p.b.facts->accounts = {account("root", 0, "/bin/ash"), account("systemd-netd", 0)};
  auto d = p.diff();
  ASSERT_EQ(d.accounts.added.size(), 1u);
  EXPECT_EQ(d.accounts.added[0].name, "systemd-netd");
  EXPECT_EQ(d.accounts.added[0].uid, 0);
  ASSERT_EQ(d.accounts.removed.size(), 1u);
  EXPECT_EQ(d.accounts.removed[0].name, "alice");
  ASSERT_EQ(d.accounts.changed.size(), 1u);
  EXPECT_EQ(d.accounts.changed[0].changes, std::vector<std::string>{"shell"});
  p.b.facts->accounts[0].password_digest = "fedcba9876543210";
  EXPECT_EQ(p.diff().accounts.changed[0].changes, (std::vector<std::string>{"shell", "password"}));
}

TEST(Diff, ServicesEndpointsKeysAddedRemoved) {
  Pair p;
  p.a.facts->services = {{.name = "dropbear",
                          .command = "../init.d/dropbear",
                          .path = "etc/rc.d/S50dropbear",
                          .location = "squashfs:etc/rc.d/S50dropbear",
                          .how = "rc-link"}};
  p.b.facts->services = p.a.facts->services;
  p.b.facts->services.push_back({.name = "telnetd",
                                 .command = "/usr/sbin/telnetd -l /bin/sh",
                                 .path = "etc/inittab",
                                 .location = "squashfs:etc/inittab",
                                 .how = "inittab:respawn"});
  p.a.facts->endpoints = {{.value = "update.vendor.com",
                           .kind = "host",
                           .cls = "public",
                           .path = "usr/bin/upd",
                           .location = "squashfs:usr/bin/upd"}};
  // The same host now in another binary: not new. A new one is.
  p.b.facts->endpoints = {{.value = "update.vendor.com",
                           .kind = "host",
                           .cls = "public",
                           .path = "usr/sbin/upd2",
                           .location = "squashfs:usr/sbin/upd2"},
                          {.value = "45.33.12.9",
                           .kind = "ipv4",
                           .cls = "public",
                           .path = "usr/sbin/upd2",
                           .location = "squashfs:usr/sbin/upd2"}};
  p.a.facts->keys = {{.role = "authorized",
                      .type = "ssh-rsa",
                      .bits = 2048,
                      .fingerprint = "SHA256:old",
                      .path = "root/.ssh/authorized_keys"}};
  p.b.facts->keys = {{.role = "authorized",
                      .type = "ssh-ed25519",
                      .bits = 256,
                      .fingerprint = "SHA256:new",
                      .path = "root/.ssh/authorized_keys"}};
  auto d = p.diff();
  ASSERT_EQ(d.services.added.size(), 1u);
  EXPECT_EQ(d.services.added[0].name, "telnetd");
  EXPECT_TRUE(d.services.removed.empty());
  ASSERT_EQ(d.endpoints.added.size(), 1u);
  EXPECT_EQ(d.endpoints.added[0].value, "45.33.12.9");
  EXPECT_TRUE(d.endpoints.removed.empty());
  ASSERT_EQ(d.keys.added.size(), 1u);
  EXPECT_EQ(d.keys.added[0].fingerprint, "SHA256:new");
  ASSERT_EQ(d.keys.removed.size(), 1u);
}

TEST(Diff, HardeningRegressionsPerBinaryAlsoWhenMoved) {
  Pair p;
  auto& h = p.b.facts->hardening[0];
  h.canary = false;
  h.relro = "partial";
  h.fortify = true;
  auto d = p.diff();
  ASSERT_EQ(d.hardening.regressions.size(), 1u);
  EXPECT_EQ(d.hardening.regressions[0].lost, (std::vector<std::string>{"canary", "relro-full"}));
  ASSERT_EQ(d.hardening.improvements.size(), 1u);
  EXPECT_EQ(d.hardening.improvements[0].gained, std::vector<std::string>{"fortify"});
  // busybox moved to sbin/ (same bytes) and lost NX there: still reported for that binary.
  Pair q;
  q.b.tree.files[0].path = "sbin/busybox";
  q.b.facts->hardening[0].path = "sbin/busybox";
  q.b.facts->hardening[0].location = "squashfs:sbin/busybox";
  q.b.facts->hardening[0].nx = false;
  auto e = q.diff();
  ASSERT_EQ(e.hardening.regressions.size(), 1u);
  EXPECT_EQ(e.hardening.regressions[0].path, "sbin/busybox");
  EXPECT_EQ(e.hardening.regressions[0].old_path, "bin/busybox");
  EXPECT_EQ(e.hardening.regressions[0].lost, std::vector<std::string>{"nx"});
}

TEST(Diff, ReportWithoutFactsStillDiffsAndSaysSo) {
  Pair p;
  p.a.facts.reset();
  p.b.components = {comp("busybox", "1.36.1"), comp("openssl", "1.1.1w")};
  auto d = p.diff();
  EXPECT_EQ(d.components.changed.size(), 1u);
  EXPECT_TRUE(d.accounts.added.empty());
  EXPECT_TRUE(std::any_of(d.warnings.begin(), d.warnings.end(),
                          [](const Warning& w) { return w.code == "no-facts"; }));
}

class ReadReport : public ::testing::Test {
 protected:
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("probity-read-report-" + std::to_string(getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  }
};

TEST_F(ReadReport, RoundTripsWhatDiffNeeds) {
  Pair p;
  p.a.findings = {finding("account-extra-uid0", "etc/passwd", "x", Severity::kHigh)};
  p.a.vulnerabilities = {{.id = "CVE-1", .component = "openssl", .version = "1.1.1w"}};
  p.a.tree.files[0].mode = 04755;
  p.a.tree.files[0].extracted = "extracted/1-squashfs/bin/busybox";
  p.a.tree.files[1].extracted = "../../etc/passwd";  // hostile: must not be kept
  auto path = write("report.json", dump_json(report_json(p.a)));
  ASSERT_TRUE(is_report_file(path));
  auto r = read_report(path);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->tree.files.size(), 3u);
  EXPECT_EQ(r->tree.files[0].mode, 04755u);
  EXPECT_EQ(normalised_location(r->tree.files[0]), normalised_location(p.a.tree.files[0]));
  EXPECT_EQ(r->tree.files[0].extracted, "extracted/1-squashfs/bin/busybox");
  EXPECT_EQ(r->tree.files[1].extracted, "");
  EXPECT_EQ(r->findings[0].id, p.a.findings[0].id);
  EXPECT_EQ(r->findings[0].severity, Severity::kHigh);
  ASSERT_TRUE(r->facts);
  EXPECT_EQ(r->facts->accounts.size(), 2u);
  EXPECT_EQ(r->facts->hardening[0].relro, "full");
  // Diffing the read-back report with the original finds nothing.
  auto d = diff_reports(p.a, *r);
  EXPECT_TRUE(d.files.changed.empty());
  EXPECT_TRUE(d.findings.added.empty());
  EXPECT_TRUE(d.accounts.changed.empty());
}

TEST_F(ReadReport, BadReportsAreClearErrors) {
  auto not_json = write("a.json", "{\"schema\": \"probity-report\", ");
  auto r = read_report(not_json);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("not valid JSON"), std::string::npos);
  EXPECT_NE(r.error().to_string().find("a.json"), std::string::npos);
  r = read_report(write("b.json", R"({"schema": "probity-manifest", "schema_version": 1})"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a probity report"), std::string::npos);
  r = read_report(
      write("c.json", R"({"schema": "probity-report", "schema_version": 99, "files": []})"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("schema_version"), std::string::npos);
  r = read_report(write(
      "d.json",
      R"({"schema": "probity-report", "schema_version": 1, "files": [{"path": "a", "uid": "zero"}]})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "files[0].uid: expected a non-negative integer");
  EXPECT_FALSE(is_report_file(write("e.bin", "hsqs....")));
  // Nested values name their whole path; numbers that do not fit their field are refused.
  r = read_report(write("f.json", R"({"schema": "probity-report", "schema_version": 1,
      "files": [], "components": [{"name": "zlib", "evidence": [{"offset": -1}]}]})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "components[0].evidence[0].offset: expected a non-negative integer");
  r = read_report(write("g.json", R"({"schema": "probity-report", "schema_version": 1,
      "files": [{"path": "a", "container": 4294967296}]})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "files[0].container: expected a non-negative integer in range");
  r = read_report(write("h.json", R"({"schema": "probity-report", "schema_version": 1,
      "files": [], "verdict": {"result": "maybe"}})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "verdict.result: expected pass, fail or inconclusive");
  r = read_report(write("i.json", R"({"schema": "probity-report", "schema_version": 1,
      "files": [], "findings": [{"rule": "x"}]})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "findings[0].id: expected a finding id");
  // A hostile report cannot point diff at files outside the output directory.
  r = read_report(write("j.json", R"({"schema": "probity-report", "schema_version": 1,
      "files": [{"path": "a", "extracted": "../../etc/shadow"},
                {"path": "b", "extracted": "/etc/shadow"}, {"path": "c", "extracted": "x/c"}]})"));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->tree.files.size(), 3u);
  EXPECT_EQ(r->tree.files[0].extracted, "");
  EXPECT_EQ(r->tree.files[1].extracted, "");
  EXPECT_EQ(r->tree.files[2].extracted, "x/c");
}

// Every field of every type set to something other than its default: written, read back and
// written again, the two documents are identical, and the values came back (a field the
// writer writes and the reader skips fails here, as does one read into the wrong member).
TEST_F(ReadReport, EveryFieldRoundTrips) {
  Report rep;
  rep.tree.image = {"/in/fw.bin", "fw.bin", std::string(64, 'a'), 1234};
  rep.tree.coverage = {1234, 1000};
  FileRecord f;
  f.path = std::string("bin/\xff\xfe-odd");
  f.container = 3;
  f.origin = {{"fw.bin", 64, "trx"}, {"part1", 28, "squashfs"}};
  f.type = EntryType::kFile;
  f.size = 99;
  f.sha256 = std::string(64, 'b');
  f.mode = 04755;
  f.uid = 7;
  f.gid = 8;
  f.mtime = -5;
  f.kind = "elf";
  f.elf = ElfFacts{"mips", 32, "big", "exec"};
  f.extracted = std::string("x/bin/\xff");
  f.truncated = true;
  FileRecord l;
  l.path = "lib/libc.so";
  l.type = EntryType::kSymlink;
  l.link = "libc.so.0";
  l.mode = 02777;
  rep.tree.files = {f, l};
  rep.tree.warnings = {{"cap-total", "too much", 3, "part1", 4096}};
  Component c;
  c.name = "busybox";
  c.version = "1.01";
  c.vendor = "busybox";
  c.purl = "pkg:generic/busybox@1.01";
  c.cpe = "cpe:2.3:a:busybox:busybox:1.01:*:*:*:*:*:*:*";
  c.source = "signature";
  c.evidence = {
      {"bin/busybox", 3, 512, "BusyBox v1.01", "signature:busybox", "version-string", 0.9}};
  c.eol = Eol{"1.01", "2006-01-01", true};
  c.distro = "openwrt";
  c.distro_version = "1.01-1";
  c.cpe_aliases = {"cpe:2.3:a:busybox:busybox_alias:1.01:*:*:*:*:*:*:*"};
  rep.components = {c};
  Vulnerability v;
  v.id = "CVE-2021-42373";
  v.component = "busybox";
  v.version = "1.01";
  v.severity = "medium";
  v.cvss = 5.5;
  v.cvss_vector = "CVSS:3.1/AV:L";
  v.fixed_in = "1.34.0";
  v.cwe = {"CWE-476"};
  v.description = "man applet";
  v.published = "2021-11-15";
  v.suppression = Suppression{"not_affected", "code_not_present", "lab", "no man", "2026-01-01"};
  v.kev = KevEntry{"2022-01-01", ""};
  v.epss = EpssScore{0.25, 0.75};
  v.reachability = {"exposed", {"etc/inittab: ::respawn:/bin/sh"}};
  v.status = "not_affected";
  v.status_evidence = "openwrt fixed";
  rep.vulnerabilities = {v};
  rep.db_snapshot = "snap-1";
  rep.db_snapshot_date = "2026-11-30";
  rep.db_age_days = 4;
  Finding fd;
  fd.id = "telnetd-shell:etc/inittab";
  fd.rule = "telnetd-shell";
  fd.category = "remote-access";
  fd.severity = Severity::kCritical;
  fd.path = "etc/inittab";
  fd.container = 3;
  fd.message = "telnetd at boot";
  fd.evidence.excerpt = "::respawn:/usr/sbin/telnetd -l /bin/sh";
  fd.evidence.offset = 17;
  fd.evidence.related = {"usr/sbin/telnetd"};
  fd.evidence.fingerprint = "sha256:00";
  fd.suppression = Suppression{"accepted", "", "lab", "lab only", ""};
  rep.findings = {fd};
  Verdict vd;
  vd.policy = "default";
  vd.policy_sha256 = std::string(64, 'c');
  vd.result = "inconclusive";
  vd.pass = false;
  vd.clauses = {{"no-remote-shell", "no shell at boot", false, {fd.id}, {v.id}}};
  vd.reasons = {{"coverage", "60 % seen", "container 3"}};
  rep.verdict = vd;
  Facts x;
  x.accounts = {{"admin", 0, 0, "/bin/sh", "/root", "etc/passwd", "/etc/passwd", "$1$x", "d"}};
  x.services = {{"telnetd", "/usr/sbin/telnetd", "etc/inittab", "/etc/inittab", "inittab:respawn"}};
  x.endpoints = {{"http://update.example.com/fw", "url", "public", "bin/upd", "/bin/upd"}};
  x.keys = {{"private", "RSA", 1024, "sha256:11", "etc/key.pem", "/etc/key.pem"}};
  HardeningFact h;
  h.path = "bin/busybox";
  h.location = "/bin/busybox";
  h.executable = h.nx = h.pie = h.canary = h.fortify = h.stripped = true;
  h.relro = "partial";
  h.rpath = "/opt/lib";
  x.hardening = {h};
  rep.facts = x;

  const auto first = dump_json(report_json(rep));
  auto back = read_report(write("every.json", first));
  ASSERT_TRUE(back) << back.error().to_string();
  const auto second = dump_json(report_json(*back));
  if (first != second) {
    const auto patch =
        nlohmann::json::diff(nlohmann::json::parse(first), nlohmann::json::parse(second));
    ADD_FAILURE() << "write, read, write changes: " << patch.dump().substr(0, 4000);
  }
  ASSERT_EQ(back->tree.files.size(), 2u);
  const auto& g = back->tree.files[0];
  EXPECT_EQ(g.path, f.path);  // from path_hex: the raw bytes, not the U+FFFD display form
  EXPECT_EQ(g.extracted, f.extracted);
  EXPECT_EQ(g.mode, 04755u);
  ASSERT_TRUE(g.elf);
  EXPECT_EQ(g.elf->arch, "mips");
  EXPECT_EQ(g.elf->bits, 32u);
  EXPECT_EQ(g.elf->type, "exec");
  EXPECT_EQ(g.mtime, -5);
  EXPECT_TRUE(g.truncated);
  EXPECT_FALSE(back->tree.files[1].elf);
  EXPECT_EQ(back->tree.files[1].link, "libc.so.0");
  EXPECT_EQ(back->components[0].distro, "openwrt");
  EXPECT_EQ(back->components[0].evidence[0].offset, 512u);
  ASSERT_TRUE(back->vulnerabilities[0].kev);
  EXPECT_EQ(back->vulnerabilities[0].kev->due_date, "");
  EXPECT_EQ(back->vulnerabilities[0].reachability.chain.size(), 1u);
  EXPECT_EQ(back->findings[0].severity, Severity::kCritical);
  EXPECT_EQ(back->findings[0].evidence.fingerprint, "sha256:00");
  ASSERT_TRUE(back->verdict);
  EXPECT_FALSE(back->verdict->pass);
  EXPECT_FALSE(back->verdict->clauses[0].pass);
  EXPECT_EQ(back->verdict->policy_sha256, vd.policy_sha256);
  ASSERT_TRUE(back->db_age_days);
  EXPECT_EQ(*back->db_age_days, 4);
  EXPECT_EQ(back->facts->endpoints[0].cls, "public");
  EXPECT_EQ(back->facts->accounts[0].uid, 0);
  EXPECT_TRUE(back->facts->hardening[0].stripped);
  EXPECT_EQ(back->tree.warnings[0].offset, 4096u);
  EXPECT_EQ(back->tree.coverage.understood, 1000u);
}

}  // namespace
}  // namespace probity
