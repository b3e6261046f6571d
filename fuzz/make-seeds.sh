#!/usr/bin/env bash
# Regenerates the tiny committed seed corpora under fuzz/corpus/<id>/ with the real tools
# (a few KB in all). Run by hand when a format changes; the seeds are committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
c="$here/corpus"
mkdir -p "$c"/{uimage,fit,trx,fdt,cramfs,jffs2,ubi,squashfs,tar,cpio,zip,sevenzip,ar,gzip,zlib,xz,lzma,bzip2,zstd,lz4}
export SOURCE_DATE_EPOCH=1700000000

# RPM databases (fuzz/rpmdb_fuzz.cpp): the two headers rpm --justdb wrote into the fixture
# database (tests/fixtures/make-pkgdbs.sh), in a 512-byte-page database of the Packages table only.
rm -rf "$c/rpmdb" && mkdir -p "$c/rpmdb"
bash "$here/../tests/fixtures/make-pkgdbs.sh" "$tmp/pkgdbs"
python3 - "$tmp/pkgdbs/rpm/var/lib/rpm/rpmdb.sqlite" "$c/rpmdb/two-packages.sqlite" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT hnum, blob FROM Packages").fetchall()
c = sqlite3.connect(sys.argv[2])
c.execute("PRAGMA page_size=512")
c.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
c.executemany("INSERT INTO Packages VALUES (?, ?)", rows)
c.commit(); c.execute("VACUUM"); c.close()
PY

# The vendor headers' target (fuzz/vendor_fuzz.cpp): tiny images from the fixture generator.
rm -rf "$c/vendor"
python3 "$here/../tests/fixtures/make-vendor-headers.py" --seeds "$c/vendor"

printf 'hello kernel\n' > k.bin
mkimage -q -A arm -O linux -T kernel -C none -a 0x8000 -e 0x8000 -n seed -d k.bin "$c/uimage/kernel.uimg" >/dev/null
printf 'a\n' > a.bin && printf 'bb\n' > b.bin
mkimage -q -A arm -O linux -T multi -C none -n multi -d a.bin:b.bin "$c/uimage/multi.uimg" >/dev/null

printf '/dts-v1/;\n/memreserve/ 0x1000 0x10;\n/ { model = "seed"; a { reg = <1 2>; b = [01 02 03]; s = "x", "y"; e; }; };\n' > s.dts
dtc -q -I dts -O dtb -o "$c/fdt/seed.dtb" s.dts

cat > f.its <<'ITS'
/dts-v1/;
/ {
	description = "seed";
	images {
		k {
			data = /incbin/("k.bin");
			type = "kernel"; arch = "arm"; os = "linux"; compression = "none";
			hash-1 { algo = "crc32"; };
			hash-2 { algo = "sha256"; };
		};
	};
	configurations { default = "c"; c { kernel = "k"; }; };
};
ITS
mkimage -q -f f.its "$c/fit/inline.itb" >/dev/null
mkimage -q -E -f f.its "$c/fit/external.itb" >/dev/null

python3 - "$c/trx" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
for ver, n in ((1, 3), (2, 4)):
    h = 16 + 4 * n
    parts = [b"loader\0\0", b"kernel\0\0", b"rootfs\0\0"]
    offs, body = [], b""
    for p in parts:
        offs.append(h + len(body)); body += p
    offs += [0] * (n - len(offs))
    tail = struct.pack("<I", ver << 16) + struct.pack("<%dI" % n, *offs) + body
    crc = (zlib.crc32(tail) ^ 0xFFFFFFFF) & 0xFFFFFFFF
    open(f"{out}/v{ver}.trx", "wb").write(b"HDR0" + struct.pack("<II", h + len(body), crc) + tail)
PY

mkdir -p t/d && printf 'file one\n' > t/d/f && ln -s d/f t/l && mkfifo t/p
if command -v mkfs.cramfs >/dev/null; then mkfs.cramfs t "$c/cramfs/le.cramfs" >/dev/null; fi
mkfs.jffs2 -r t -o "$c/jffs2/le.jffs2" -l -e 0x1000 -X zlib 2>/dev/null || true
mkfs.jffs2 -r t -o "$c/jffs2/be.jffs2" -b -e 0x1000 2>/dev/null || true
# A UBI image with one static volume; only the used PEBs' headers matter to the parser.
printf 'ubi volume\n' > v.bin
printf '[v]\nmode=ubi\nimage=v.bin\nvol_id=0\nvol_type=static\nvol_name=v\n' > u.cfg
ubinize -o u.img -m 512 -p 4KiB -s 512 u.cfg >/dev/null 2>&1
# Trailing erased (0xff) bytes of each PEB are dropped to keep the seed small.
python3 - u.img "$c/ubi/static.ubi" <<'PY'
import sys
d, peb = open(sys.argv[1], "rb").read(), 4096
out = b"".join(d[i:i + peb].rstrip(b"\xff").ljust(peb, b"\xff") for i in range(0, len(d), peb))
open(sys.argv[2], "wb").write(out.rstrip(b"\xff"))
PY
# SquashFS 1.x-3.x: no Debian tool writes them; the fixture generator makes tiny unpadded images.
python3 "$here/../tests/fixtures/make-squashfs-legacy.py" "$c/squashfs_legacy" --seeds
# The lead's formats (libraries behind them, our glue in front): tiny archives and streams.
mksquashfs t "$c/squashfs/gzip.sqfs" -quiet -noappend -all-root -comp gzip -nopad >/dev/null
# SquashFS 4.0 vendor variants (LZMA id 2 with 5-/13-byte or no headers, refused options).
python3 "$here/../tests/fixtures/make-squashfs4-vendor.py" "$c/squashfs" --seeds
tar --format=ustar -b1 -cf "$c/tar/seed.tar" -C t d l
(cd t && find d l | cpio -o -H newc --quiet > "$c/cpio/seed.cpio")
(cd t && zip -q -X -r "$c/zip/seed.zip" d l -y)
(cd t && 7z a -bd -bso0 "$c/sevenzip/seed.7z" d >/dev/null)
(cd t/d && ar rcD "$c/ar/seed.a" f)
printf 'seed text seed text seed text\n' > s.txt
gzip -9 -n -c s.txt > "$c/gzip/seed.gz"
pigz -z -9 -c s.txt > "$c/zlib/seed.zz"
xz -c s.txt > "$c/xz/seed.xz"
xz --format=lzma -c s.txt > "$c/lzma/seed.lzma"
bzip2 -c s.txt > "$c/bzip2/seed.bz2"
zstd -q -c s.txt > "$c/zstd/seed.zst"
lz4 -q -c s.txt > "$c/lz4/seed.lz4"
# equiv: pairs (first byte: where the input splits): gzip members differing in MTIME, two
# texts, two images ending in OpenWrt fwtool signature blocks.
mkdir -p "$c/equiv"
python3 - "$c/equiv" <<'EOF'
import gzip, struct, sys, zlib
d = sys.argv[1] + '/'
def pair(name, x, y):
    open(d + name, 'wb').write(bytes([255 * len(x) // (len(x) + len(y))]) + x + y)
pair('gzip-mtime', gzip.compress(b'hello world\n' * 20, mtime=1), gzip.compress(b'hello world\n' * 20, mtime=2))
pair('text', b'line 1\nline 2\nline 3\n', b'line 1\nline X\nline 3\n')
def fw(img, sig):
    crc = zlib.crc32(img + sig) ^ 0xffffffff
    return img + sig + struct.pack('>4sIB3xI', b'FWx0', crc, 0, len(sig) + 16)
pair('fwtool', fw(b'\xff' * 64 + b'\xde\xad\xc0\xde', b'sig one'), fw(b'\xff' * 64 + b'\xde\xad\xc0\xde', b'sig two!'))
EOF
# Issue 10 formats (items 5 and 6): tiny images of one short file from the Debian tools, yaffs2
# from the documented layout.
mkdir -p "$c"/{iso9660,cab,lha,lzip,lzop,compress,ihex,srec,tekhex,romfs,yaffs2,fat,android_sparse,android_boot,arj,tar_v7,minix}
mkdir -p i10/d && printf 'seed\n' > i10/d/f && ln -sf f i10/d/l
genisoimage -quiet -R -J -o i10.iso i10 && head -c 49152 i10.iso > "$c/iso9660/seed.iso"
(cd i10 && gcab -c -z "$c/cab/seed.cab" d/f)
(cd i10 && lha -aq "$c/lha/seed.lzh" d/f >/dev/null)
lzip -c s.txt > "$c/lzip/seed.lz"
lzop -c s.txt > "$c/lzop/seed.lzo"
compress -c s.txt > "$c/compress/seed.Z"
srec_cat s.txt -binary -offset 0x100 -o "$c/ihex/seed.hex" -intel
srec_cat s.txt -binary -offset 0x100 -o "$c/srec/seed.srec" -motorola
srec_cat s.txt -binary -offset 0x100 -o "$c/tekhex/seed.tek" -tektronix
srec_cat s.txt -binary -offset 0x100 -o "$c/tekhex/seed.xtek" -tektronix-extended
genromfs -f "$c/romfs/seed.romfs" -d i10 -V seed
(cd i10 && arj a -m0 -y "$c/arj/seed.arj" d/f >/dev/null && arj a -m1 -y "$c/arj/seed-m1.arj" d/f >/dev/null)
tar --format=v7 -cf "$c/tar_v7/seed.tar" -C i10 d/f
python3 "$here/../tests/fixtures/make-minix.py" mnx >/dev/null
head -c 49152 mnx/v3.img > "$c/minix/seed-v3.img" && head -c 49152 mnx/v1-be.img > "$c/minix/seed-v1-be.img"
python3 - "$here/../tests/fixtures/make-yaffs2.py" "$c/yaffs2/seed.yaffs2" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("mky", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
o = {"name": "f", "parent": 1, "mode": 0o100644, "mtime": 0, "type": 1, "data": b"seed\n", "id": 257}
img = m.chunk(512, 16, 0, "<", m.header(o, "<"), 0x1000, 257, 0, 0xFFFF) + m.chunk(512, 16, 0, "<", b"seed\n", 0x1000, 257, 1, 5)
open(sys.argv[2], "wb").write(img)
PY
mkfs.fat -C -F 12 "$c/fat/seed.img" 64 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -i "$c/fat/seed.img" i10/d/f ::/f
head -c 8192 /dev/zero > z.raw && printf 'seed' | dd of=z.raw conv=notrunc status=none && img2simg z.raw "$c/android_sparse/seed.simg"
mkbootimg --kernel s.txt --ramdisk s.txt --header_version 0 --pagesize 2048 -o "$c/android_boot/seed.img"
du -sh "$c"
