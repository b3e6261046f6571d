#!/usr/bin/env bash
# bench/equiv.sh [--tmpfs]
#
# Makes: bench/results/equiv.md (bench/results/equiv-tmpfs.md with --tmpfs), a markdown table of
# how fast `probity equiv` decides whether a rebuilt image is the shipped one, against Debian's
# diffoscope, in one run on the same pairs:
#   probity             build/probity equiv A B --out DIR --quiet
#   diffoscope          diffoscope --json OUT A B                      (the same image pair)
#   diffoscope rootfs   diffoscope --json OUT A.rootfs.squashfs B.rootfs.squashfs
# The pairs come from tests/fixtures/make-equiv-pair.sh (build/fixtures/equiv, made under
# bench/work/equiv when absent): a/b the same files rebuilt with other times, xz vs gzip, other
# block size, header times and build-ids (probity: equivalent); a/c the same plus one changed
# .text byte (probity: different). diffoscope does not look inside a uImage+squashfs image, so
# it is also run on the two root filesystems alone, which is where it finds files.
# Each command runs BENCH_RUNS (3) times; the table gives the median wall time, the peak RSS
# (max over the runs) and the CPU% of the median run, from GNU time, and checks the verdicts
# agree: a/c: diffoscope reports differences and names the file probity names; a/b: every file
# diffoscope reports is one probity explains by a named normalisation (diffoscope masks
# nothing, so it always reports differences there). Both tools write their temporary files to
# the same place: bench/work (disk), or /dev/shm with --tmpfs (TMPDIR for diffoscope).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
suffix=""
mode=${1:-}
scratch="$work/equiv-tmp"
if [ "$mode" = --tmpfs ]; then
  suffix="-tmpfs"
  scratch="/dev/shm/probity-bench-equiv.$$"
fi
mkdir -p "$work" "$results" "$scratch"
trap 'rm -rf "$scratch"' EXIT
cd "$root"
for t in "$GNU_TIME" diffoscope python3; do
  command -v "$t" >/dev/null || { echo "bench: $t missing (run scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$probity" ] || { echo "bench: $probity not built (make build)" >&2; exit 1; }

fx="$root/build/fixtures/equiv"
if [ ! -s "$fx/c.expected.json" ]; then
  fx="$work/equiv"
  [ -s "$fx/c.expected.json" ] || bash tests/fixtures/make-equiv-pair.sh "$fx" >&2
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# time_cmd LABEL CMD...: runs CMD $runs times, fresh scratch dir each time; appends
# "wall rss_kb cpu% rc" lines to $work/equiv-LABEL.times. Keeps the last run's outputs.
time_cmd() {
  local label=$1; shift
  local tf="$work/equiv-$label.times" i rc
  : >"$tf"
  for i in $(seq "$runs"); do
    rm -rf "$scratch/out" "$scratch/d.json" "$scratch/tmp"
    mkdir -p "$scratch/tmp"
    rc=0
    TMPDIR="$scratch/tmp" "$GNU_TIME" -f '%e %M %P' -o "$work/time.tmp" "$@" >"$work/equiv-$label.log" 2>&1 || rc=$?
    echo "$(grep -v '^Command' "$work/time.tmp" | tail -n1) $rc" >>"$tf"
  done
}

rows=()
verdicts=()
for pair in "a b" "a c"; do
  set -- $pair
  A=$1 B=$2
  time_cmd "probity-$A$B" "$probity" equiv "$fx/$A.bin" "$fx/$B.bin" --out "$scratch/out" --quiet
  cp "$scratch/out/equiv.json" "$work/equiv-$A$B.json"
  time_cmd "diffoscope-$A$B" diffoscope --json "$scratch/d.json" "$fx/$A.bin" "$fx/$B.bin"
  time_cmd "diffoscope-rootfs-$A$B" diffoscope --json "$scratch/d.json" \
    "$fx/$A.rootfs.squashfs" "$fx/$B.rootfs.squashfs"
  cp "$scratch/d.json" "$work/equiv-diffoscope-rootfs-$A$B.json"
  line=$(python3 - "$work" "$A$B" "$fx" <<'EOF'
import json, statistics, sys
work, pair, fx = sys.argv[1:4]
def times(label):
    rows = [l.split() for l in open(f"{work}/equiv-{label}.times") if l.strip()]
    walls = sorted(float(r[0]) for r in rows)
    med = statistics.median(walls)
    mid = min(rows, key=lambda r: abs(float(r[0]) - med))
    return med, max(int(r[1]) for r in rows), mid[2], {int(r[3]) for r in rows}
p = times(f"probity-{pair}")
d = times(f"diffoscope-{pair}")
r = times(f"diffoscope-rootfs-{pair}")
eq = json.load(open(f"{work}/equiv-{pair}.json"))
def paths(node, out, root=True):
    s = node.get("source1") or ""
    if not root and s.startswith("/"): out.add(s[1:])
    for c in node.get("details") or []: paths(c, out, False)
    return out
dfiles = paths(json.load(open(f"{work}/equiv-diffoscope-rootfs-{pair}.json")), set())
if eq["verdict"] == "different":
    named = {x["path"] for x in eq["differences"]}
    agree = d[3] == {1} and r[3] == {1} and named <= dfiles
    why = f"both different; diffoscope names {', '.join(sorted(named & dfiles))}"
else:
    explained = {n["path"].split("!")[0] for n in eq["normalisations"]}
    agree = d[3] == {1} and dfiles <= explained and not eq["differences"]
    why = (f"probity {eq['verdict']}; each of diffoscope's {len(dfiles)} differing files "
           f"({', '.join(sorted(dfiles))}) is a named normalisation")
print("|".join([pair, eq["verdict"], f"{p[0]:.2f}", str(p[1] // 1024), p[2],
                f"{d[0]:.2f}", str(d[1] // 1024), f"{d[0] / p[0]:.1f}",
                f"{r[0]:.2f}", str(r[1] // 1024), f"{r[0] / p[0]:.1f}",
                "yes" if agree else "NO", why]))
EOF
)
  rows+=("$line")
done

host="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
{
  echo "# probity equiv vs diffoscope$([ -n "$suffix" ] && echo " (temporary files on tmpfs)")"
  echo
  echo "Generated by \`bench/equiv.sh${mode:+ $mode}\` on $(date -u '+%Y-%m-%d %H:%M UTC'); host: $host;"
  echo "load average at start: $load_start. Median of $runs runs; RSS is the peak over the runs."
  echo "$(diffoscope --version); $("$probity" --version 2>/dev/null || echo probity)."
  echo "Images: $(stat -c %s "$fx/a.bin") / $(stat -c %s "$fx/b.bin") bytes (uImage kernel + squashfs rootfs of real Debian armhf files)."
  echo
  echo "| pair | probity verdict | probity s | probity MiB | probity CPU | diffoscope s | diffoscope MiB | speed-up | diffoscope rootfs s | rootfs MiB | speed-up vs rootfs | same verdict | check |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  for r in "${rows[@]}"; do
    IFS='|' read -r pair v ps pm pc ds dm dx rs rm rx ok why <<<"$r"
    echo "| ${pair:0:1}/${pair:1:1} | $v | $ps | $pm | $pc | $ds | $dm | ${dx}x | $rs | $rm | ${rx}x | $ok | $why |"
  done
} >"$results/equiv$suffix.md"
cat "$results/equiv$suffix.md"
