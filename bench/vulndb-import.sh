#!/usr/bin/env bash
# Times `probity db import` on large synthetic feeds made by replicating the real NVD records of
# data/vulndata/nvd under new ids (CVE-9xxx-NNNNNNN), in the two shapes that come big:
#   1. an NVD CVE API 2.0 page   {"vulnerabilities":[{"cve":...}, ...]}   (plain JSON)
#   2. a legacy NVD 1.1 yearly feed {"CVE_Items":[...]}                  (.json.gz)
# Reports wall time, CPU time (user+sys), records/s for both, and peak RSS (GNU time), and
# writes bench/results/vulndb.md. Floor (issue 3): 20,000 records/s.
#
# usage: bench/vulndb-import.sh [RECORDS_2_0] [RECORDS_1_1]   (defaults 200000 and 33000)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
probity="${PROBITY:-$here/build/probity}"
n20="${1:-200000}"
n11="${2:-33000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/probity-vulndb-bench.XXXXXX)}"
out="$here/bench/results/vulndb.md"
trap 'rm -rf "$work"' EXIT
[ -x "$probity" ] || { echo "build probity first (make build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

python3 - "$here" "$work" "$n20" "$n11" <<'PY'
import gzip, json, os, sys
here, work, n20, n11 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, os.path.join(here, "tests", "fixtures", "vulndb"))
import importlib.util
spec = importlib.util.spec_from_file_location(
    "fx", os.path.join(here, "tests", "fixtures", "vulndb", "make-vulndb-fixtures.py"))
fx = importlib.util.module_from_spec(spec); spec.loader.exec_module(fx)
nvd = os.path.join(here, "data", "vulndata", "nvd")
recs = [json.load(open(os.path.join(nvd, f))) for f in sorted(os.listdir(nvd)) if f.endswith(".json")]

def renamed(i):
    r = dict(recs[i % len(recs)])
    r["id"] = "CVE-%d-%07d" % (9000 + i % 100, i)
    return r

# Streamed out record by record so that making the feed needs no memory either.
with open(os.path.join(work, "api-2.0-page.json"), "w") as f:
    f.write('{"resultsPerPage": %d, "startIndex": 0, "totalResults": %d, "format": "NVD_CVE", '
            '"version": "2.0", "timestamp": "2026-11-23T00:00:00.000", "vulnerabilities": [' % (n20, n20))
    for i in range(n20):
        if i: f.write(",")
        json.dump({"cve": renamed(i)}, f)
    f.write("]}")
with gzip.open(os.path.join(work, "nvdcve-1.1-9000.json.gz"), "wt", compresslevel=6) as f:
    f.write('{"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_data_version": "4.0", '
            '"CVE_data_numberOfCVEs": "%d", "CVE_data_timestamp": "2026-11-23T00:00Z", "CVE_Items": [' % n11)
    for i in range(n11):
        if i: f.write(",")
        json.dump(fx.to_11(renamed(i)), f)
    f.write("]}")
with gzip.open(os.path.join(work, "nvdcve-1.1-9000.json.gz"), "rb") as g:
    size11 = sum(len(b) for b in iter(lambda: g.read(1 << 20), b""))
open(os.path.join(work, "size11"), "w").write(str(size11))
PY

measure() {  # name file records
  local name="$1" file="$2" n="$3" db="$work/$1.db"
  rm -f "$db"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$probity" db import --quiet --db "$db" "$file"
  read -r wall user sys rss <"$work/time"
  local cpu; cpu=$(python3 -c "print(round($user + $sys, 2))")
  local status; status=$("$probity" db status --json --db "$db")
  local stored; stored=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['vulnerabilities'])" "$status")
  [ "$stored" = "$n" ] || { echo "$name: stored $stored of $n records" >&2; exit 1; }
  python3 - "$name" "$file" "$n" "$wall" "$cpu" "$rss" "$(stat -c %s "$file")" "$(stat -c %s "$db")" <<'PY' | tee -a "$work/rows"
import sys
name, file, n, wall, cpu, rss, fsize, dbsize = sys.argv[1:]
n, wall, cpu, rss, fsize, dbsize = int(n), float(wall), float(cpu), int(rss), int(fsize), int(dbsize)
print(f"| {name} | {n:,} | {fsize/2**20:,.0f} MiB | {wall:.2f} s | {n/wall:,.0f} | {cpu:.2f} s | {n/cpu:,.0f} | {rss/1024:,.0f} MiB | {dbsize/2**20:,.0f} MiB |")
PY
}

# The feeds were just written (1.8 GB): flush them first, so that the kernel's writeback of the
# generator's output does not compete with the import being timed.
sync
: >"$work/rows"
measure "NVD API 2.0 page (.json)" "$work/api-2.0-page.json" "$n20"
measure "NVD 1.1 yearly feed (.json.gz, $(( $(cat "$work/size11") / 1048576 )) MiB unpacked)" "$work/nvdcve-1.1-9000.json.gz" "$n11"

{
  echo "# probity db import: synthetic feeds from the shipped real NVD records"
  echo
  echo "Made by \`bench/vulndb-import.sh $n20 $n11\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end of the run; wall-clock numbers on"
  echo "a shared machine are lower than CPU-time numbers whenever other jobs compete for the cores)."
  echo "Each feed replicates the $(ls "$here"/data/vulndata/nvd/CVE-*.json | wc -l) real records of data/vulndata/nvd under"
  echo "new ids; every record is parsed, normalised, digested and stored with all its cpeMatch rows."
  echo "Floor (issue 3): 20,000 records/s."
  echo
  echo "| feed | records | file | wall | records/s (wall) | CPU (user+sys) | records/s (CPU) | peak RSS | database |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  cat "$work/rows"
  echo
  echo "Notes: one transaction, prepared statements, secondary indexes built once at the end;"
  echo "a second thread reads the feed, cuts it into batches of 256 records and parses them while"
  echo "the importing thread stores the batch before (SQLite only; so CPU time exceeds wall"
  echo "time). A gzip feed is inflated a chunk ahead on a third thread (~0.4 s of CPU per 280"
  echo "MiB); the (product, hi) index build at the end (~0.3 s for 33,000 records) runs alone. The same"
  echo "binary on this VM measures up to ~1.4x apart from one quarter of an hour to the next with"
  echo "no other job running (host speed, no steal reported): compare builds in alternating"
  echo "runs, not across days. Peak RSS: SQLite's page cache (8 MiB), the index sort and three"
  echo "batches of records."
} >"$out"
echo "wrote $out"
