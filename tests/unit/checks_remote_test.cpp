// remote-access and update-integrity parsing on synthetic files: what starts a way in is
// reported, what only mentions one (comments, killall, echo, locked-down flags) is not.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "checks_tree.hpp"

namespace probity {
namespace {

using testing::has;
using testing::SyntheticTree;

TEST(RemoteServices, WaysInAreFound) {
  SyntheticTree t("remote");
  t.add("etc/inittab",
        "::sysinit:/etc/init.d/rcS\n"
        "ttyS0::respawn:/sbin/getty -n -l /bin/sh 115200 ttyS0\n");
  t.add("etc/init.d/S10a", "#!/bin/sh\nbusybox telnetd -l/bin/ash\n");
  t.add("etc/init.d/S10b", "#!/bin/sh\nncat --listen 9000 --exec /bin/bash &\n");
  t.add("etc/xinetd.d/telnet",
        "service telnet\n{\n  disable = no\n  server = /usr/sbin/in.telnetd\n}\n");
  t.add("lib/systemd/system/debug.service", "[Service]\nExecStart=/usr/sbin/telnetd -F\n");
  auto fs = t.run();
  EXPECT_TRUE(has(fs, "serial-root-shell", "etc/inittab"));
  EXPECT_TRUE(has(fs, "telnetd-shell", "etc/init.d/S10a"));
  EXPECT_TRUE(has(fs, "netcat-listener", "etc/init.d/S10b"));
  EXPECT_TRUE(has(fs, "telnetd-enabled", "etc/xinetd.d/telnet"));
  // A unit file outside etc/ that is not a script: not treated as a start-up file.
  EXPECT_FALSE(has(fs, "telnetd-enabled", "lib/systemd/system/debug.service"));
}

TEST(RemoteServices, MentionsAreNotWaysIn) {
  SyntheticTree t("remote-neg");
  t.add("etc/inittab",
        "::sysinit:/etc/init.d/rcS\nttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n"
        "::shutdown:/bin/umount -a -r\n");
  t.add("etc/init.d/rcS",
        "#!/bin/sh\n# telnetd -l /bin/sh   (debug only, disabled)\nkillall telnetd\n"
        "echo starting telnetd\n/usr/sbin/dropbear -s -g -p 22\nnc -z 10.0.0.1 80\n");
  t.add("etc/ssh/sshd_config",
        "#PermitRootLogin yes\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "Match User backup\n  PasswordAuthentication yes\n");
  t.add("etc/xinetd.d/tftp", "service tftp\n{\n  disable = yes\n}\n");
  for (const auto& f : t.run())
    EXPECT_NE(f.category, "remote-access") << f.rule << " " << f.path << ": " << f.evidence.excerpt;
}

TEST(UpdateIntegrity, SignatureCheckLowersTheFinding) {
  SyntheticTree t("update");
  t.add("usr/sbin/upgrade-signed.sh",
        "#!/bin/sh\ncurl -o /tmp/fw http://fw.vendor.com/fw.img\n"
        "usign -V -m /tmp/fw -P /etc/keys || exit 1\nsysupgrade /tmp/fw\n");
  t.add("usr/sbin/upgrade-tftp.sh",
        "#!/bin/sh\ntftp -g -r fw.bin 192.168.1.10\ndd if=fw.bin of=/dev/mtdblock3\n");
  t.add("usr/sbin/backup.sh", "#!/bin/sh\nwget http://backup.vendor.com/cfg -O /tmp/cfg\n");
  auto fs = t.run();
  EXPECT_TRUE(has(fs, "update-plain-download", "usr/sbin/upgrade-signed.sh"));
  EXPECT_FALSE(has(fs, "update-unsigned", "usr/sbin/upgrade-signed.sh"));
  EXPECT_TRUE(has(fs, "update-unsigned", "usr/sbin/upgrade-tftp.sh"));
  EXPECT_FALSE(has(fs, "update-unsigned", "usr/sbin/backup.sh"));  // writes no flash
}

TEST(Correlation, OneCriticalFindingNamesTheService) {
  SyntheticTree t("correlation");
  t.add("etc/passwd", "root::0:0:root:/root:/bin/sh\n");
  t.add("etc/init.d/S50telnet", "#!/bin/sh\n/usr/sbin/telnetd -p 23\n");
  auto fs = t.run();
  const Finding* f = testing::find(fs, "backdoor-login");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kCritical);
  EXPECT_EQ(f->path, "etc/passwd");
  EXPECT_NE(f->message.find("telnetd"), std::string::npos);
  EXPECT_EQ(f->evidence.related.size(), 1u);
  EXPECT_FALSE(has(fs, "account-empty-password", "etc/passwd"));
  EXPECT_TRUE(has(fs, "telnetd-enabled", "etc/init.d/S50telnet"));
}

}  // namespace
}  // namespace probity

namespace probity {
namespace {

TEST(BindShell, LargeStockProgramsAreNotBindShells) {
  testing::SyntheticTree t("bindshell-stock");
  int added = 0;
  for (const char* p : {"/usr/bin/git", "/usr/bin/gawk", "/usr/bin/perf", "/usr/bin/ssh"}) {
    std::ifstream in(p, std::ios::binary);
    if (!in) continue;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    t.add(std::string("usr/bin/") + (std::strrchr(p, '/') + 1), bytes, 0755);
    ++added;
  }
  ASSERT_GE(added, 2);
  for (const auto& f : t.run())
    EXPECT_LT(f.severity, Severity::kHigh) << f.rule << " " << f.path << ": " << f.message;
}

}  // namespace
}  // namespace probity
