#!/usr/bin/env bash
# make-sample-image.sh OUT.bin [--big]
#
# Makes: OUT.bin, a realistic OpenWrt-style router sysupgrade image for ARM:
#   offset 0        U-Boot legacy uImage (mkimage -A arm -O linux -T kernel -C none)
#                   whose payload is the real armhf zImage from Debian's
#                   linux-image-*-armmp package,
#   next 64 KiB     xz squashfs rootfs (256 KiB blocks, ARM BCJ filter, as OpenWrt
#   boundary        builds it; Thumb variant) made from real Debian armhf packages unpacked with
#                   dpkg-deb -x, plus router files (passwd/shadow, inittab, init.d,
#                   openwrt_release, busybox applet links, a setuid busybox),
#   next 64 KiB     the OpenWrt jffs2 end-of-filesystem marker 0xdeadc0de
#   boundary        (0xFF padding before it, as padjffs2 writes it).
# With --big, many more armhf packages are added until OUT.bin is >= 60 MiB
# (for benchmarks).
# Why: probity's unpacker, scanners, tests and benchmarks need a firmware image that
# looks like what ships on routers, built only from genuine binaries, reproducibly
# (fixed timestamps) and offline once the .deb cache is filled.
#
# The pieces are kept in OUT.bin.work/: rootfs/ (staging dir), rootfs.squashfs,
# kernel.uImage, vmlinuz, layout.json (offsets/sizes of each part), so benchmarks can
# time unsquashfs on the squashfs alone and tests can check offsets.
set -euo pipefail

usage() { echo "usage: $0 OUT.bin [--big]" >&2; exit 2; }
[ "$#" -ge 1 ] && [ "$#" -le 2 ] || usage
out=$1
big=0
if [ "$#" -eq 2 ]; then [ "$2" = --big ] && big=1 || usage; fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for t in mkimage mksquashfs dpkg-deb apt-cache; do
  command -v "$t" >/dev/null || { echo "make-sample-image: $t missing (run scripts/deps.sh)" >&2; exit 1; }
done

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
work="$out.work"
mkdir -p "$work"

EPOCH=1700000000   # fixed: mkimage header time, squashfs times (reproducible output)
export LC_ALL=C
MIN_BIG=$((60 * 1024 * 1024))
BLOCK=$((64 * 1024))

# The router's userland. The first ten are the ones the image is about; the rest are
# small shared-library dependencies of those (libcrypt, lighttpd's nettle and xxhash,
# dnsmasq's conntrack libs ...). Larger leaf deps (libtomcrypt, libunistring, brotli,
# zstd, gmp, pcre2, libssh2, nghttp2) are left out to keep the demo image under
# 10 MB (10^7 bytes): not a full dependency closure, only enough to look real.
BASE_PKGS=(
  busybox-static dropbear-bin openssl libssl3 dnsmasq-base lighttpd curl libcurl4 zlib1g libc6
  libgcc-s1 libcrypt1 libnettle8 libnetfilter-conntrack3
  libnfnetlink0 libmnl0 libxxhash0
)
# --big: added tier by tier until the image reaches MIN_BIG.
BIG_TIERS=(
  "samba-libs libtalloc2 libtevent0 libldb2 libwbclient0 libjansson4 libavahi-client3 libavahi-common3
   libpython3.11 libpython3.11-stdlib libpython3.11-minimal python3.11-minimal
   perl-base perl-modules-5.36 libperl5.36 vim vim-common vim-runtime
   openssh-server openssh-client openssh-sftp-server
   strongswan-charon strongswan-libcharon libstrongswan libstrongswan-standard-plugins
   hostapd wpasupplicant iptables libip4tc2 libip6tc2 libxtables12 nftables libnftables1 libnftnl11
   lua5.1 liblua5.1-0 sqlite3 libsqlite3-0 libxml2 tcpdump libpcap0.8 libicu72 libglib2.0-0
   libgnutls30 libtasn1-6 libp11-kit0 libffi8 libkrb5-3 libk5crypto3 libkrb5support0 libgssapi-krb5-2
   libcom-err2 libkeyutils1 libldap-2.5-0 libsasl2-2 libsasl2-modules-db libdb5.3
   libarchive13 libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libpcsclite1 ppp iproute2 libelf1
   libbpf1 ethtool iw tzdata bash coreutils util-linux libncursesw6 libtinfo6 libreadline8
   libsodium23 libevent-2.1-7 openvpn libpam0g libmbedcrypto7 libmbedtls14 libjson-c5 libnss3
   libstdc++6 liblzma5 libbz2-1.0 liblz4-1 libgcrypt20 libgpg-error0 libsystemd0 libcap2 libselinux1"
  "libllvm14 libz3-4 libedit2 libbsd0 libmd0"
  "libgtk-3-0 libx11-6 libxcb1 libcairo2 libpango-1.0-0 libharfbuzz0b libfreetype6 libpixman-1-0
   libpng16-16 libjpeg62-turbo libtiff6 libwebp7 gdb libbabeltrace1 libdebuginfod1"
)

# ---- kernel -----------------------------------------------------------------
kpkg=$(apt-cache depends linux-image-armmp:armhf 2>/dev/null |
       awk '/Depends: linux-image-/{sub(/:armhf$/, "", $2); print $2; exit}') || true
if [ -z "$kpkg" ]; then   # offline without apt lists: use whatever kernel is cached
  kpkg=$(ls -1 "$here/../.cache/debs/armhf/" 2>/dev/null |
         sed -n 's/^\(linux-image-[0-9.]*-[0-9]*-armmp\)_.*/\1/p' | sort -V | tail -n1)
fi
[ -n "$kpkg" ] || { echo "make-sample-image: cannot resolve linux-image-*-armmp:armhf" >&2; exit 1; }
"$here/fetch-debs.sh" "$work/debs-kernel" "$kpkg" >/dev/null
kdeb=$(head -n1 "$work/debs-kernel/.fetched")
kver=$(dpkg-deb -f "$kdeb" Version)
if [ ! -s "$work/vmlinuz" ] || [ "$(cat "$work/vmlinuz.src" 2>/dev/null)" != "$(basename "$kdeb")" ]; then
  # Only ./boot/vmlinuz-* is needed from the 40 MB package, so stream it out of
  # dpkg-deb's data tarball instead of unpacking all the modules.
  dpkg-deb --fsys-tarfile "$kdeb" | tar -xO --wildcards './boot/vmlinuz-*' >"$work/vmlinuz.tmp"
  mv "$work/vmlinuz.tmp" "$work/vmlinuz"
  basename "$kdeb" >"$work/vmlinuz.src"
fi
# ARMv7 boards load the zImage at RAM base + 0x8000.
SOURCE_DATE_EPOCH=$EPOCH mkimage -A arm -O linux -T kernel -C none -a 0x80008000 -e 0x80008000 \
  -n "ARM OpenWrt Linux-${kver%%-*}" -d "$work/vmlinuz" "$work/kernel.uImage" >/dev/null

# ---- rootfs -----------------------------------------------------------------
unpack_debs() {   # unpack_debs DIR PKG...
  local d=$1; shift
  "$here/fetch-debs.sh" "$d" "$@" >/dev/null
  while read -r deb; do dpkg-deb -x "$deb" "$work/rootfs"; done <"$d/.fetched"
}

add_router_files() {
  local r=$work/rootfs
  # OpenWrt carries no documentation, locales, iconv modules or libc debug helpers.
  rm -rf "$r"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,zsh} \
         "$r"/usr/lib/arm-linux-gnueabihf/gconv \
         "$r"/lib/arm-linux-gnueabihf/{libc_malloc_debug.so.0,libmemusage.so,libpcprofile.so,libthread_db.so.1,libBrokenLocale.so.1,libnss_hesiod.so.2,libnsl.so.1,libanl.so.1}
  # lighttpd modules come as separate packages on OpenWrt; keep the usual few.
  find "$r/usr/lib/lighttpd" -name 'mod_*.so' ! -name mod_cgi.so ! -name mod_auth.so \
    ! -name mod_authn_file.so ! -name mod_accesslog.so -delete 2>/dev/null || true
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,etc/rc.d,etc/config,etc/dropbear,etc/lighttpd,www,root,tmp,proc,sys,dev,overlay,rom,mnt,var}
  chmod 1777 "$r/tmp"

  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/ash
daemon:*:1:1:daemon:/var:/bin/false
ftp:*:55:55:ftp:/home/ftp:/bin/false
network:*:101:101:network:/var:/bin/false
nobody:*:65534:65534:nobody:/var:/bin/false
dnsmasq:x:453:453:dnsmasq:/var/run/dnsmasq:/bin/false
www-data:x:33:33:www-data:/www:/bin/false
EOF
  # root's password is "admin" (md5crypt), as on many vendor images.
  cat >"$r/etc/shadow" <<'EOF'
root:$1$Zq3v9eKd$MEIArW3/m1mcXTEJmznO71:19675:0:99999:7:::
daemon:*:0:0:99999:7:::
ftp:*:0:0:99999:7:::
network:*:0:0:99999:7:::
nobody:*:0:0:99999:7:::
dnsmasq:x:0:0:99999:7:::
www-data:x:0:0:99999:7:::
EOF
  chmod 600 "$r/etc/shadow"
  cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
adm:x:4:
www-data:x:33:
ftp:x:55:
network:x:101:
dnsmasq:x:453:dnsmasq
nogroup:x:65534:
EOF
  cat >"$r/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS S boot
::shutdown:/etc/init.d/rcS K shutdown
::askconsole:/usr/libexec/login.sh
ttyS0::askfirst:/usr/libexec/login.sh
EOF
  cat >"$r/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# Run every /etc/rc.d/$1* script with argument $2.
for i in /etc/rc.d/$1*; do
	[ -x "$i" ] && "$i" "$2" 2>&1
done | logger -s -p 6 -t '' &
EOF
  mkdir -p "$r/usr/libexec"
  printf '#!/bin/sh\nexec /bin/login\n' >"$r/usr/libexec/login.sh"

  mk_service() {   # mk_service NAME START COMMAND...
    local n=$1 s=$2; shift 2
    cat >"$r/etc/init.d/$n" <<EOF
#!/bin/sh /etc/rc.common
# OpenWrt-style init script for $n.
START=$s
STOP=$((100 - s))

start() {
	$*
}

stop() {
	killall $n
}
EOF
    chmod 755 "$r/etc/init.d/$n"
    ln -sf "../init.d/$n" "$r/etc/rc.d/S$s$n"
  }
  mk_service dropbear 50 "/usr/sbin/dropbear -F -P /var/run/dropbear.pid -p 22 -r /etc/dropbear/dropbear_rsa_host_key &"
  mk_service dnsmasq 60 "/usr/sbin/dnsmasq -C /etc/dnsmasq.conf -k &"
  mk_service lighttpd 70 "/usr/sbin/lighttpd -D -f /etc/lighttpd/lighttpd.conf &"
  cat >"$r/etc/rc.common" <<'EOF'
#!/bin/sh
# Minimal rc.common: source the init script and call the requested action.
. "$1"
shift
"${1:-start}"
EOF
  chmod 755 "$r/etc/init.d/rcS" "$r/etc/rc.common" "$r/usr/libexec/login.sh"

  cat >"$r/etc/openwrt_release" <<'EOF'
DISTRIB_ID='OpenWrt'
DISTRIB_RELEASE='23.05.3'
DISTRIB_REVISION='r23809-234f1a2efa'
DISTRIB_TARGET='armvirt/32'
DISTRIB_ARCH='arm_cortex-a15_neon-vfpv4'
DISTRIB_DESCRIPTION='OpenWrt 23.05.3 r23809-234f1a2efa'
DISTRIB_TAINTS=''
EOF
  printf 'OpenWrt 23.05.3 probity sample image\n' >"$r/etc/banner"
  echo probity-router >"$r/etc/hostname"
  cat >"$r/etc/dnsmasq.conf" <<'EOF'
domain-needed
bogus-priv
interface=br-lan
dhcp-range=192.168.1.100,192.168.1.249,12h
EOF
  cat >"$r/etc/lighttpd/lighttpd.conf" <<'EOF'
server.document-root = "/www"
server.port = 80
server.username = "www-data"
server.groupname = "www-data"
server.modules = ( "mod_access", "mod_cgi" )
cgi.assign = ( ".sh" => "/bin/sh" )
EOF
  printf '<html><body><h1>probity-router</h1></body></html>\n' >"$r/www/index.html"
  cat >"$r/etc/config/network" <<'EOF'
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
EOF
  cat >"$r/etc/config/dropbear" <<'EOF'
config dropbear
	option PasswordAuth 'on'
	option RootPasswordAuth 'on'
	option Port '22'
EOF

  # busybox applets: relative symlinks, never replacing a real program.
  local a
  link() { [ -e "$r/$1/$2" ] || [ -L "$r/$1/$2" ] || ln -s "$3" "$r/$1/$2"; }
  for a in ash sh cat chmod chown cp date dd df dmesg echo egrep false fgrep grep gunzip gzip \
           hostname kill ln login ls mkdir mknod mount mv netstat pidof ping ps pwd rm rmdir sed \
           sleep sync tar touch true umount uname vi zcat; do
    link bin "$a" busybox
  done
  for a in halt ifconfig init insmod klogd logread lsmod modprobe poweroff reboot rmmod route \
           syslogd sysctl udhcpc; do
    link sbin "$a" ../bin/busybox
  done
  for a in awk basename clear cut dirname du env find free head hexdump killall logger md5sum \
           nslookup sort tail tee telnet test top tr uptime wc wget which xargs yes; do
    link usr/bin "$a" ../../bin/busybox
  done
  for a in brctl crond telnetd httpd; do link usr/sbin "$a" ../../bin/busybox; done
  chmod 4755 "$r/bin/busybox"   # setuid root, as vendors ship it
}

build_squashfs() {
  rm -f "$work/rootfs.squashfs"
  # OpenWrt's options for ARM: xz, 256 KiB blocks, BCJ filter (Thumb-2: Debian armhf code).
  mksquashfs "$work/rootfs" "$work/rootfs.squashfs" -comp xz -Xbcj armthumb -b 256K \
    -all-root -noappend -mkfs-time "$EPOCH" -all-time "$EPOCH" \
    -no-progress -quiet >/dev/null
}

roundup() { echo $(( ($1 + BLOCK - 1) / BLOCK * BLOCK )); }

assemble() {
  local ksz rsz tmp
  ksz=$(stat -c %s "$work/kernel.uImage")
  rsz=$(stat -c %s "$work/rootfs.squashfs")
  rootfs_off=$(roundup "$ksz")
  marker_off=$(roundup $((rootfs_off + rsz)))
  tmp="$out.tmp"
  {
    cat "$work/kernel.uImage"
    head -c $((rootfs_off - ksz)) /dev/zero
    cat "$work/rootfs.squashfs"
    head -c $((marker_off - rootfs_off - rsz)) /dev/zero | tr '\0' '\377'
    printf '\336\255\300\336'
  } >"$tmp"
  mv "$tmp" "$out"
  total=$(stat -c %s "$out")
  cat >"$work/layout.json" <<EOF
{
  "image": "$(basename "$out")",
  "size": $total,
  "uimage": {"offset": 0, "size": $ksz, "header_size": 64, "payload": "$(basename "$kdeb") ./boot/vmlinuz"},
  "kernel": {"offset": 64, "size": $((ksz - 64))},
  "squashfs": {"offset": $rootfs_off, "size": $rsz, "compression": "xz"},
  "deadc0de": {"offset": $marker_off, "size": 4}
}
EOF
}

rm -rf "$work/rootfs"
mkdir -p "$work/rootfs"
unpack_debs "$work/debs" "${BASE_PKGS[@]}"
add_router_files
build_squashfs
assemble
if [ "$big" = 1 ]; then
  tier=0
  while [ "$total" -lt "$MIN_BIG" ]; do
    [ "$tier" -lt "${#BIG_TIERS[@]}" ] || { echo "make-sample-image: --big image only $total bytes" >&2; exit 1; }
    read -r -d '' -a pk <<<"${BIG_TIERS[$tier]}" || true
    unpack_debs "$work/debs-big$tier" "${pk[@]}"
    tier=$((tier + 1))
    # Packages can bring their own /bin/sh etc.; keep the router files authoritative.
    add_router_files
    build_squashfs
    assemble
  done
fi

mib() { awk -v b="$1" 'BEGIN{printf "%.2f MiB", b/1048576}'; }
nfiles=$(find "$work/rootfs" -type f | wc -l)
printf 'make-sample-image: %s  %d bytes (%s)%s\n' "$out" "$total" "$(mib "$total")" "$([ "$big" = 1 ] && echo ' [big]')"
printf '  0x%08x  uImage   %9d bytes  (%s, payload %s from %s)\n' 0 "$(stat -c %s "$work/kernel.uImage")" \
  "$(mib "$(stat -c %s "$work/kernel.uImage")")" "vmlinuz" "$(basename "$kdeb")"
printf '  0x%08x  squashfs %9d bytes  (%s, xz, %d files)\n' "$rootfs_off" "$(stat -c %s "$work/rootfs.squashfs")" \
  "$(mib "$(stat -c %s "$work/rootfs.squashfs")")" "$nfiles"
printf '  0x%08x  deadc0de marker\n' "$marker_off"
if [ "$big" = 0 ] && [ "$total" -ge 10000000 ]; then
  echo "make-sample-image: warning: demo image is not under 10 MB (Debian packages grew?)" >&2
fi
printf '  pieces in %s/ (rootfs/, rootfs.squashfs, kernel.uImage, layout.json)\n' "$work"
