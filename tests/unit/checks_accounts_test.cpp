// Account and credential checks on synthetic passwd/shadow/group files: every crypt scheme
// libcrypt offers is cracked when the password is on the default list and left alone when not;
// weak schemes, uid-0 extras, empty passwords and mismatches are reported.
#include <crypt.h>
#include <gtest/gtest.h>

#include "checks_tree.hpp"

namespace probity {
namespace {

using testing::has;
using testing::SyntheticTree;

std::string hash(const char* prefix, const char* password, unsigned long cost = 0) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt)) return "";
  crypt_data d{};
  const char* h = crypt_r(password, salt, &d);
  return h && h[0] != '*' ? h : "";
}

TEST(DefaultCredentials, EverySchemeIsTried) {
  struct Case {
    const char* prefix;
    const char* name;
    bool weak;
  };
  for (const Case& c : {Case{"", "des", true}, Case{"$1$", "md5", true},
                        Case{"$5$", "sha256", false}, Case{"$6$", "sha512", false},
                        Case{"$2b$", "bcrypt", false}, Case{"$y$", "yescrypt", false}}) {
    SCOPED_TRACE(c.name);
    std::string good = hash(c.prefix, "xc3511", c.prefix[1] == '2' ? 4 : 0);
    std::string other = hash(c.prefix, "n0t-0n-th3-l1st", c.prefix[1] == '2' ? 4 : 0);
    if (good.empty()) {
      ADD_FAILURE() << "libcrypt cannot make " << c.name << " hashes";
      continue;
    }
    SyntheticTree t(std::string("cred-") + c.name);
    t.add("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
    t.add("etc/shadow",
          "root:" + good + ":19000:0:99999:7:::\nuser:" + other + ":19000:0:99999:7:::\n");
    t.add("etc/group", "root:x:0:\nuser:x:1000:\n");
    auto fs = t.run();
    int defaults = 0;
    for (const auto& f : fs)
      if (f.rule == "default-password") {
        ++defaults;
        EXPECT_NE(f.message.find("'root'"), std::string::npos) << f.message;
        EXPECT_NE(f.message.find("xc3511"), std::string::npos) << f.message;
        EXPECT_NE(f.message.find("Mirai"), std::string::npos) << f.message;
        EXPECT_EQ(f.path, "etc/shadow");
      }
    EXPECT_EQ(defaults, 1);
    int weak = 0;
    for (const auto& f : fs) weak += f.rule == "weak-password-hash";
    EXPECT_EQ(weak, c.weak ? 2 : 0);
    EXPECT_FALSE(has(fs, "account-inconsistent", "etc/passwd"));
  }
}

TEST(Accounts, ExtraRootEmptyPasswordServiceShellAndMismatches) {
  SyntheticTree t("accounts");
  t.add("rootfs/etc/passwd",
        "root:x:0:0:root:/root:/bin/ash\n"
        "toor:x:0:0::/root:/bin/sh\n"
        "ftp:x:21:21::/srv:/bin/sh\n"
        "nobody:x:65534:65534::/:/sbin/nologin\n"
        "guest::1500:1500::/home/guest:/bin/sh\n");
  t.add("rootfs/etc/shadow", "root:!:1::::::\ntoor:*:1::::::\nftp:*:1::::::\nlost:*:1::::::\n");
  t.add("rootfs/etc/group", "root:x:0:\nnobody:x:65534:\n");
  auto fs = t.run();
  const std::string p = "rootfs/etc/passwd";
  EXPECT_TRUE(has(fs, "account-extra-uid0", p));
  EXPECT_TRUE(has(fs, "account-empty-password", p));
  EXPECT_TRUE(has(fs, "account-service-shell", p));
  EXPECT_TRUE(has(fs, "account-inconsistent", "rootfs/etc/shadow"));  // lost
  int extra = 0, svc = 0;
  for (const auto& f : fs) {
    extra += f.rule == "account-extra-uid0";
    svc += f.rule == "account-service-shell";
    EXPECT_NE(f.rule, "default-password") << f.message;  // '!' and '*' are locked
  }
  EXPECT_EQ(extra, 1);
  EXPECT_EQ(svc, 1);  // ftp only: nobody has nologin, root is root
}

TEST(Accounts, LockedDebianStyleFilesAreClean) {
  SyntheticTree t("accounts-clean");
  t.add("etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");
  t.add("etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
  t.add("etc/group", "root:x:0:\ndaemon:x:1:\n");
  for (const auto& f : t.run())
    EXPECT_TRUE(f.category != "account" && f.category != "credentials")
        << f.rule << " " << f.message;
}

TEST(HardcodedSecrets, LiteralsYesReferencesAndDocsNo) {
  SyntheticTree t("secrets");
  t.add("etc/config/wireless",
        "config wifi-iface\n\toption ssid 'Vendor'\n\toption key 'Wif1Passw0rd!'\n"
        "\toption password 'R0uterAdm1n'\n");
  t.add("etc/app.json", "{\n  \"api_token\": \"f00dfeedcafe1234\",\n  \"user\": \"x\"\n}\n");
  t.add("etc/init.d/svc",
        "#!/bin/sh\nPASSWORD=\"$1\"\nread -p \"Password: \" pw\ntoken=${TOKEN}\n"
        "# password=commented\nwget --password=PASSWORD http://x/\n");
  t.add("usr/lib/tool.py",
        "#!/usr/bin/python3\nargs = {'token': tstring, 'password': pw_from_env}\n"
        "API_TOKEN = 'ab12cd34ef56'\n");
  auto fs = t.run();
  int py = 0;
  for (const auto& f : fs) py += f.rule == "hardcoded-secret" && f.path == "usr/lib/tool.py";
  EXPECT_EQ(py, 1) << "only the quoted literal in Python code";
  EXPECT_TRUE(has(fs, "hardcoded-secret", "etc/config/wireless"));
  EXPECT_TRUE(has(fs, "hardcoded-secret", "etc/app.json"));
  EXPECT_FALSE(has(fs, "hardcoded-secret", "etc/init.d/svc"));
}

// Issue 16: the stock openssl.cnf ships `secret = pass:insta` (OpenSSL's CMP example for the
// public Insta Demo CA, data/credentials/stock-config-samples.txt): not a vendor's secret. The
// same key with another value in the same file still is.
TEST(HardcodedSecrets, StockConfigSamplesAreNotSecrets) {
  SyntheticTree t("stock-samples");
  t.add("etc/ssl/openssl.cnf", "[insta]\nsecret = pass:insta # can be used for both\n");
  t.add("usr/lib/ssl/openssl.cnf", "[insta]\nsecret = pass:Vend0rS3cret\n");
  auto fs = t.run();
  EXPECT_FALSE(has(fs, "hardcoded-secret", "etc/ssl/openssl.cnf"));
  EXPECT_TRUE(has(fs, "hardcoded-secret", "usr/lib/ssl/openssl.cnf"));
}

}  // namespace
}  // namespace probity
