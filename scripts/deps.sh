#!/usr/bin/env bash
# Installs every Debian package that probity's build, tests, benchmarks and demo need.
# Idempotent: only missing packages are installed. Runs as root on Debian bookworm.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake pkg-config ninja-build clang-16 libclang-rt-16-dev clang-format
  libarchive-dev libsquashfs-dev libvectorscan-dev libyara-dev libelf-dev libssl-dev
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libzstd-dev liblz4-dev liblzo2-dev liblzma-dev libbz2-dev zlib1g-dev
  libmaxminddb-dev libcrypt-dev libtomlplusplus-dev libfuzzy-dev libext2fs-dev libsimdjson-dev
  libyaml-cpp-dev  # endoflife.date product files (YAML front matter) in `probity db import`
  libpq-dev  # the fleet store on PostgreSQL (docs/fleet.md)
  libclang-dev  # libclang's C API: the C/C++ checks of `probity source` (docs/source-audit.md)
)
TOOL_PKGS=(
  # fixtures and demo: real packages, packed as real firmware is
  squashfs-tools squashfs-tools-ng u-boot-tools device-tree-compiler cpio zip p7zip-full
  lz4 zstd xz-utils bzip2 gzip pigz lzop e2fsprogs genext2fs mtd-utils dpkg-dev python3 file
  util-linux  # mkfs.cramfs (bookworm ships it in util-linux, not util-linux-extra)
  # issue 10 formats: ISO 9660, cab, lha, lzip, compress, romfs, FAT, Android images, hex records
  genisoimage gcab jlha-utils lzip ncompress genromfs dosfstools mtools exfatprogs
  android-sdk-libsparse-utils mkbootimg srecord
  arj  # ARJ fixtures (stored and compressed entries)
  rpm  # an rpmdb.sqlite written by rpmbuild and rpm --justdb (package-database fixtures)
  # checks fixtures: a planted back door cross-compiled for armhf; keys and certificates
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross openssl openssh-client libmaxmind-db-writer-perl
  # report.html is checked in Debian's headless Chromium (driven by npm's playwright-core)
  chromium
  # benchmarks: the peer tools, timed in the same run
  binwalk hyperfine time checksec yara
  # fleet: the integration tests and bench/fleet.sh run a real PostgreSQL and a one-node Slurm
  # (scripts/test-services.sh)
  postgresql slurm-wlm munge
  python3-yaml  # tests/deploy/check_k8s_job.py parses deploy/k8s/fleet-job.yaml
  # equiv cross-check and benchmark: Debian's diffoscope (minimal: no GUI/Java/... comparators;
  # squashfs through squashfs-tools, ELF through binutils; binutils-multiarch lets its objdump
  # disassemble the armhf binaries, as diffoscope recommends)
  diffoscope-minimal binutils binutils-multiarch
  # the generated shell completions are checked in the shells they are for (bash is there)
  zsh man-db
  # `probity source`: the upstream m4 macros a tree's copies are compared with (aclocal dir)
  gettext libtool autoconf-archive
  autoconf automake  # configure/Makefile.in regenerated and compared (the releases bookworm has)
  # SBOM validation (tests/validators: npm ci of @cyclonedx/cyclonedx-library and ajv); npm ships
  # with nodejs from NodeSource and is Debian's separate package `npm` otherwise
  nodejs
)

if [ "$(id -u)" -ne 0 ]; then
  echo "make deps: must run as root (apt-get install)" >&2
  exit 2
fi

want=("${BUILD_PKGS[@]}" "${TOOL_PKGS[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# armhf packages are fetched (not installed) by the fixture scripts with apt-get download.
if ! dpkg --print-foreign-architectures | grep -qx armhf; then
  dpkg --add-architecture armhf
  need_update=1
fi
stamp=/var/lib/apt/periodic/probity-update-stamp
if [ "${#missing[@]}" -gt 0 ] || [ -n "${need_update:-}" ] || [ ! -e "$stamp" ]; then
  # A mirror mid-sync can fail one index (seen: bookworm-security armhf); the others still
  # serve every package we need, so retry once and then go on with what was fetched.
  apt-get update -qq || { sleep 5; apt-get update -qq; } || echo "make deps: apt-get update reported errors; continuing" >&2
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "make deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js (for the ecosystem's own validators: CycloneDX, SPDX, SARIF schemas): the machine's
# own node is used when present; otherwise Debian's.
if ! command -v node >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs
fi
if ! command -v npm >/dev/null 2>&1; then  # some nodejs builds bundle npm, Debian's does not
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi
echo "make deps: all packages present"
