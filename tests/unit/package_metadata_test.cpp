// Package metadata is authoritative: opkg/dpkg databases, os-release, openwrt_release and
// Buildroot/Yocto manifests name components with the file as source; signature hits of the same
// product and version become more evidence of that component, not a second one.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "probity/identify.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

class PackageMetadata : public testing::Test {
 protected:
  void SetUp() override {
    // One directory per test: ctest runs tests in parallel processes.
    root_ = fs::path(testing::TempDir()) /
            (std::string("probity-pkgmeta-") +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto sigs = load_signatures(default_signature_dir());
    ASSERT_TRUE(sigs) << sigs.error().to_string();
    auto id = Identifier::create(std::move(*sigs));
    ASSERT_TRUE(id) << id.error().to_string();
    id_ = std::make_unique<Identifier>(std::move(*id));
  }
  void add(const std::string& path, const std::string& content) {
    const fs::path p = root_ / "extracted" / "1-squashfs" / path;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    FileRecord f;
    f.path = path;
    f.container = 1;
    f.type = EntryType::kFile;
    f.size = content.size();
    f.extracted = "extracted/1-squashfs/" + path;  // unpack's layout
    tree_.files.push_back(f);
  }
  const Component* find(const std::vector<Component>& cs, const std::string& name) {
    for (const auto& c : cs)
      if (c.name == name) return &c;
    return nullptr;
  }
  fs::path root_;
  ArtifactTree tree_;
  std::unique_ptr<Identifier> id_;
};

TEST_F(PackageMetadata, OpkgStatusAndOpenwrtRelease) {
  add("usr/lib/opkg/status",
      "Package: libopenssl3\nVersion: 3.0.9-1\nStatus: install user installed\nArchitecture: "
      "mipsel_24kc\n\nPackage: dropbear\nVersion: 2022.82-2\nStatus: install user installed\n\n"
      "Package: uhttpd\nVersion: 2023-06-25-34a8a74d-2\nStatus: install user installed\n\n"
      "Package: gone\nVersion: 1.0-1\nStatus: deinstall ok not-installed\n");
  add("etc/openwrt_release",
      "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='23.05.0'\nDISTRIB_REVISION='r23497-6637af95aa'\n");
  const auto cs = package_components(tree_, root_, *id_);
  const auto* ssl = find(cs, "openssl");
  ASSERT_NE(ssl, nullptr);
  EXPECT_EQ(ssl->version, "3.0.9");
  EXPECT_EQ(ssl->source, "usr/lib/opkg/status");
  EXPECT_EQ(ssl->cpe, "cpe:2.3:a:openssl:openssl:3.0.9:*:*:*:*:*:*:*");
  EXPECT_EQ(ssl->evidence.at(0).method, "opkg-status");
  EXPECT_EQ(ssl->evidence.at(0).offset, 0u);
  const auto* db = find(cs, "dropbear");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->version, "2022.82");
  EXPECT_GT(db->evidence.at(0).offset, 0u);
  ASSERT_NE(find(cs, "uhttpd"), nullptr);
  EXPECT_EQ(find(cs, "uhttpd")->version, "2023-06-25-34a8a74d");
  EXPECT_EQ(find(cs, "gone"), nullptr);
  const auto* owrt = find(cs, "openwrt");
  ASSERT_NE(owrt, nullptr);
  EXPECT_EQ(owrt->version, "23.05.0");
  EXPECT_TRUE(owrt->cpe.starts_with("cpe:2.3:o:openwrt:openwrt:23.05.0"));
}

TEST_F(PackageMetadata, DpkgStatusOsReleaseBuildrootYocto) {
  add("var/lib/dpkg/status",
      "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\n\n"
      "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n\n"
      "Package: some-tool\nStatus: install ok installed\nVersion: 0.9-3\n");
  add("etc/os-release", "NAME=\"Buildroot\"\nID=buildroot\nVERSION_ID=2023.02.1\n");
  add("usr/share/legal-info/manifest.csv",
      "\"PACKAGE\",\"VERSION\",\"LICENSE\"\n\"busybox\",\"1.36.1\",\"GPL-2.0\"\n");
  add("usr/share/common-licenses/license.manifest",
      "PACKAGE NAME: libcurl4\nPACKAGE VERSION: 8.4.0\nRECIPE NAME: curl\nLICENSE: curl\n\n");
  const auto cs = package_components(tree_, root_, *id_);
  ASSERT_NE(find(cs, "openssl"), nullptr);
  EXPECT_EQ(find(cs, "openssl")->version, "3.0.11");
  ASSERT_NE(find(cs, "zlib"), nullptr);
  EXPECT_EQ(find(cs, "zlib")->version, "1.2.13");
  const auto* tool = find(cs, "some-tool");
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->purl, "pkg:deb/some-tool@0.9");
  EXPECT_TRUE(tool->cpe.empty());  // no guessed CPE for a package no signature knows
  ASSERT_NE(find(cs, "buildroot"), nullptr);
  EXPECT_EQ(find(cs, "buildroot")->version, "2023.02.1");
  ASSERT_NE(find(cs, "busybox"), nullptr);
  EXPECT_EQ(find(cs, "busybox")->evidence.at(0).method, "buildroot-manifest");
  ASSERT_NE(find(cs, "curl"), nullptr);
  EXPECT_EQ(find(cs, "curl")->version, "8.4.0");
}

TEST_F(PackageMetadata, SignatureHitsConfirmDeclaredComponentsAndOtherCopiesStaySeparate) {
  add("usr/lib/opkg/status",
      "Package: libopenssl3\nVersion: 3.0.9-1\nStatus: install ok installed\n");
  add("usr/lib/libcrypto.so.3",
      std::string("\0OpenSSL 3.0.9 30 May 2023\0OPENSSLDIR: \"/etc/ssl\"", 50));
  add("usr/bin/vendor-daemon",
      std::string("\0OpenSSL 1.0.2k  26 Jan 2017\0OPENSSLDIR: \"/usr/local/ssl\"", 58));
  const auto result = identify(tree_, root_, *id_, {.threads = 1});
  std::vector<const Component*> ssl;
  for (const auto& c : result.components)
    if (c.name == "openssl") ssl.push_back(&c);
  ASSERT_EQ(ssl.size(), 2u);
  // Sorted by version: the static 1.0.2k copy, then the declared 3.0.9.
  EXPECT_EQ(ssl[0]->version, "1.0.2k");
  EXPECT_EQ(ssl[0]->source, "signature");
  EXPECT_EQ(ssl[0]->evidence.at(0).path, "usr/bin/vendor-daemon");
  EXPECT_EQ(ssl[1]->version, "3.0.9");
  EXPECT_EQ(ssl[1]->source, "usr/lib/opkg/status");
  ASSERT_EQ(ssl[1]->evidence.size(), 2u);
  EXPECT_EQ(ssl[1]->evidence[1].path, "usr/lib/libcrypto.so.3");
  EXPECT_EQ(ssl[1]->evidence[1].offset, 1u);
}

TEST_F(PackageMetadata, HostileDatabasesNeitherCrashNorInvent) {
  // Random bytes, lines without colons, a stanza with no version, huge fields, a missing final
  // newline: parsed as far as they make sense, never past their bytes.
  std::string noise;
  std::uint32_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245u + 12345u;
    noise += char((x >> 16) & 0xff);
  }
  add("var/lib/dpkg/status", noise);
  add("usr/lib/opkg/status", "Package: a\nVersion:\n\nPackage:\nVersion: 1\n\n:\n::::\nPackage: " +
                                 std::string(100000, 'x') + "\nVersion: 2");
  add("etc/os-release", "ID=\nVERSION_ID='\n=\n");
  add("etc/openwrt_release", std::string("DISTRIB_ID='OpenWrt\0\nDISTRIB_RELEASE=", 37));
  add("x/legal-info/manifest.csv", "\"\"\"\n,,,\n\"unterminated");
  add("license.manifest", "PACKAGE NAME: p\n");
  const auto cs = package_components(tree_, root_, *id_);
  for (const auto& c : cs) {
    EXPECT_FALSE(c.name.empty());
    EXPECT_FALSE(c.version.empty()) << c.name;
  }
  // The one complete opkg stanza is the 100000-character package, version 2.
  ASSERT_EQ(std::ranges::count_if(cs, [](const Component& c) { return c.version == "2"; }), 1);
}

TEST_F(PackageMetadata, NpmPythonAndApkManifests) {
  // Debian's node-react layout, a bundled dependency no signature knows, and a manifest whose
  // "version" is not a version.
  add("usr/share/nodejs/react/package.json",
      R"({"name": "react", "description": "React", "version": "18.2.0", "main": "index.js"})");
  add("www/node_modules/left-pad/package.json", R"({"name":"left-pad","version":"1.3.0"})");
  add("www/node_modules/odd/package.json", R"({"name":"odd","version":{"x":1}})");
  add("www/node_modules/@types/node/package.json", R"({"name":"@types/node","version":"18.0.1"})");
  add("www/app/package.json", R"({"name":"less","version":"4.1.3"})");  // npm less, not GNU less
  add("usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA",
      "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nSummary: x\n\nName: decoy\n"
      "Version: 9.9\n");
  add("usr/lib/python3/dist-packages/pyserial-3.5.egg-info/PKG-INFO",
      "Metadata-Version: 1.1\nName: pyserial\nVersion: 3.5\n");
  add("lib/apk/db/installed",
      "C:Q1abc=\nP:busybox\nV:1.36.1-r2\nA:armv7\n\nP:musl\nV:1.2.4-r1\nA:armv7\n");
  const auto cs = package_components(tree_, root_, *id_);
  const Component* react = find(cs, "react");
  // react has a signature only once the web UI libraries carry it; the purl is npm's either way.
  ASSERT_NE(react, nullptr);
  EXPECT_EQ(react->version, "18.2.0");
  EXPECT_EQ(react->purl, "pkg:npm/react@18.2.0");
  EXPECT_EQ(react->evidence.at(0).method, "npm-package-json");
  EXPECT_EQ(react->evidence.at(0).kind, "package-metadata");
  const Component* pad = find(cs, "left-pad");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->purl, "pkg:npm/left-pad@1.3.0");
  EXPECT_TRUE(pad->cpe.empty());  // named as packaged: no CPE guessed
  EXPECT_EQ(find(cs, "odd"), nullptr);
  ASSERT_NE(find(cs, "@types/node"), nullptr);
  EXPECT_EQ(find(cs, "@types/node")->purl, "pkg:npm/%40types/node@18.0.1");  // purl-spec encoding
  const Component* less = find(cs, "less");
  ASSERT_NE(less, nullptr);
  EXPECT_EQ(less->purl, "pkg:npm/less@4.1.3");
  EXPECT_TRUE(less->cpe.empty()) << less->cpe;  // not gnu:less
  const Component* jinja = find(cs, "jinja2");
  ASSERT_NE(jinja, nullptr);
  EXPECT_EQ(jinja->version, "3.1.2");
  EXPECT_EQ(jinja->purl, "pkg:pypi/jinja2@3.1.2");
  EXPECT_EQ(find(cs, "decoy"), nullptr);
  const Component* serial = find(cs, "pyserial");
  ASSERT_NE(serial, nullptr);
  EXPECT_EQ(serial->version, "3.5");
  const Component* bb = find(cs, "busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->version, "1.36.1");
  EXPECT_EQ(bb->distro, "alpine");
  EXPECT_EQ(bb->distro_version, "1.36.1-r2");
  EXPECT_FALSE(bb->cpe.empty());
  ASSERT_NE(find(cs, "musl"), nullptr);
  EXPECT_EQ(find(cs, "musl")->version, "1.2.4");
}

TEST_F(PackageMetadata, RpmDatabaseWrittenByRpm) {
  // tests/fixtures/make-pkgdbs.sh: rpmbuild + `rpm -i --justdb` wrote busybox 1.36.1-3 and
  // acme-telemetry-agent 4.2.0-1 into an rpmdb.sqlite.
  const fs::path fx = fs::path(PROBITY_FIXTURES_DIR) / "pkgdbs";
  std::ifstream in(fx / "rpm/var/lib/rpm/rpmdb.sqlite", std::ios::binary);
  ASSERT_TRUE(in) << "run tests/fixtures/make-pkgdbs.sh (make fixtures)";
  const std::string db((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  add("var/lib/rpm/rpmdb.sqlite", db);
  const auto cs = package_components(tree_, root_, *id_);
  const Component* bb = find(cs, "busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->version, "1.36.1");
  EXPECT_EQ(bb->evidence.at(0).method, "rpm-database");
  EXPECT_NE(bb->evidence.at(0).excerpt.find("busybox 1.36.1-3"), std::string::npos);
  EXPECT_FALSE(bb->cpe.empty());
  const Component* agent = find(cs, "acme-telemetry-agent");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->version, "4.2.0");
  EXPECT_EQ(agent->purl, "pkg:rpm/acme-telemetry-agent@4.2.0");
  EXPECT_EQ(cs.size(), 2u);
}

TEST_F(PackageMetadata, HostileRpmDatabasesYieldOnlyIntactHeaders) {
  // The same database with one header claiming 65,536 entries, one whose data size runs past
  // its blob and one blob that is no header: only the intact header is read. Then random bytes
  // behind SQLite's magic, and a cut file.
  const fs::path fx = fs::path(PROBITY_FIXTURES_DIR) / "pkgdbs";
  std::ifstream in(fx / "rpm-hostile/var/lib/rpm/rpmdb.sqlite", std::ios::binary);
  ASSERT_TRUE(in) << "run tests/fixtures/make-pkgdbs.sh (make fixtures)";
  const std::string db((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  add("var/lib/rpm/rpmdb.sqlite", db);
  std::string noise = "SQLite format 3";
  noise += '\0';
  std::uint32_t x = 99;
  for (int i = 0; i < 65536; ++i) noise += char((x = x * 1103515245u + 12345u) >> 24);
  add("usr/lib/sysimage/rpm/rpmdb.sqlite", noise);
  add("a/var/lib/rpm/rpmdb.sqlite", db.substr(0, db.size() / 3));
  const auto cs = package_components(tree_, root_, *id_);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].name, "acme-telemetry-agent");
  EXPECT_EQ(cs[0].version, "4.2.0");
}

}  // namespace
}  // namespace probity
