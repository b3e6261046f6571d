#!/usr/bin/env bash
# Benchmarks `probity source` on the five Debian bookworm source trees of
# tests/fixtures/make-sources.sh (busybox, dropbear, dnsmasq, lighttpd, openssh) in one run,
# sequentially: wall time and peak RSS of each (/usr/bin/time -v), all five together, then
# `--image` (Debian's armhf busybox and dropbear .debs against their trees) and `source diff`
# (dropbear against the planted copy). As a scale reference in the same run: a text search over
# the same trees (`grep -rIc strcmp`, and ripgrep when installed), which reads every file but
# understands nothing. Writes bench/results/source.md. No floor: the issue asks for the numbers.
#
#   bench/source.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
P="$BUILD/probity"
S="$BUILD/fixtures/sources"
WORK=bench/work/source
OUT=bench/results/source.md
mkdir -p bench/results "$WORK"
bash tests/fixtures/make-sources.sh "$S" >/dev/null
trees=(busybox dropbear dnsmasq lighttpd openssh)
cat "$S"/*/* >/dev/null 2>&1 || true  # warm the page cache for both sides alike
find "${trees[@]/#/$S/}" -type f -exec cat {} + >/dev/null 2>&1 || true

# measure NAME CMD...: "seconds peak_kb" of one run
measure() {
  local log="$WORK/time.log"
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  python3 -c "import sys; w=sys.argv[1].split(':'); s=sum(float(x)*60**i for i,x in enumerate(reversed(w))); print(f'{s:.2f} {int(sys.argv[2])//1024}')" "$wall" "$rss"
}

{
  echo "# probity source (bench/source.sh)"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); probity $("$P" --version 2>/dev/null | head -n1)."
  echo "Debian bookworm sources (tests/fixtures/make-sources.sh), one run each, page cache warm."
  echo
  echo "| run | wall s | peak RSS MB | files | C/C++ parsed |"
  echo "|---|---|---|---|---|"
} >"$OUT"
total=0
for t in "${trees[@]}"; do
  read -r s m < <(measure "$P" source "$S/$t" --out "$WORK/$t" --force -q)
  files=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1]))['source']; print(j['files'], j['parsed'])" "$WORK/$t/report.json")
  echo "| source $t | $s | $m | ${files% *} | ${files#* } |" >>"$OUT"
  total=$(python3 -c "print(round($total + $s, 2))")
done
echo "| all five, sum | $total | | | |" >>"$OUT"
for pair in "busybox busybox" "dropbear dropbear-bin"; do
  set -- $pair
  deb=$(ls "$S"/debs/"$2"_*.deb | head -n1)
  read -r s m < <(measure "$P" source "$S/$1" --out "$WORK/img-$1" --force -q --image "$deb")
  share=$(python3 -c "import json,sys; b=json.load(open(sys.argv[1]))['source']['binaries']; print(', '.join(f\"{x['path'].split('/')[-1]} {100*x['string_share']:.1f} %\" for x in b))" "$WORK/img-$1/report.json")
  echo "| source $1 --image $(basename "$deb") ($share) | $s | $m | | |" >>"$OUT"
done
read -r s m < <(measure "$P" source diff "$S/dropbear" "$S/planted" --out "$WORK/diff" --force -q)
echo "| source diff dropbear planted | $s | $m | | |" >>"$OUT"
dirs=("${trees[@]/#/$S/}")
read -r s m < <(measure grep -rIc strcmp "${dirs[@]}")
echo "| baseline: grep -rIc strcmp (five trees) | $s | $m | | |" >>"$OUT"
if command -v rg >/dev/null; then
  read -r s m < <(measure rg -c strcmp "${dirs[@]}")
  echo "| baseline: rg -c strcmp (five trees) | $s | $m | | |" >>"$OUT"
fi
cat "$OUT"
