#!/usr/bin/env bash
# Fleet scale in one run (issue 15, docs/fleet.md): images per hour through `fleet submit
# --engine local` (SQLite) and through Slurm (PostgreSQL), the engine's overhead per image, the
# ingest rate, `fleet rejudge` of REPORTS (default 10,000) stored images, and the query times at
# that size. The images are IMAGES (default 20) copies of build/fixtures/diff-pair/old.squashfs with
# varied trailing bytes (distinct sha256); the stored images are copies of those scans' real
# report.json + manifest.json with varied sha256, ingested through `fleet ingest` like any scan.
# Needs PostgreSQL and Slurm: started with scripts/test-services.sh unless PROBITY_TEST_STORE and
# SLURM_CONF are set. Writes bench/results/fleet.md.
#
#   bench/fleet.sh [BUILD_DIR]        IMAGES=20 REPORTS=10000 PG_REPORTS=1000 bench/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PROBITY=${PROBITY:-$BUILD/probity}
IMAGES=${IMAGES:-20}
REPORTS=${REPORTS:-10000}
PG_REPORTS=${PG_REPORTS:-1000}
WORK=$(realpath -m bench/work/fleet)
OUT=bench/results/fleet.md
rm -rf "$WORK"
mkdir -p bench/results "$WORK"

started=""
if [ -z "${PROBITY_TEST_STORE:-}" ] || [ -z "${SLURM_CONF:-}" ]; then
  eval "$(bash scripts/test-services.sh start)"
  started=1
fi
PGBASE=${PROBITY_TEST_STORE%/*}
PGDB=bench_fleet_$$
cleanup() {
  psql -q "$PROBITY_TEST_STORE" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "$started" ] && bash scripts/test-services.sh stop
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$PROBITY_TEST_STORE" -c "CREATE DATABASE $PGDB" >/dev/null
PG="$PGBASE/$PGDB"
LITE="$WORK/fleet.db"

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1]) * float(sys.argv[3]) / float(sys.argv[2]):,.0f}')" "$1" "$2" "$3"; }

# --- images per hour ---------------------------------------------------------------------------
mkdir -p "$WORK/images-local" "$WORK/images-slurm"
for i in $(seq 1 "$IMAGES"); do
  for e in local slurm; do
    cp "$BUILD/fixtures/diff-pair/old.squashfs" "$WORK/images-$e/fw-$i.bin"
    printf '%s-%08d' "$e" "$i" >>"$WORK/images-$e/fw-$i.bin"
  done
done
t0=$(now)
"$PROBITY" fleet submit "$WORK/images-local" --engine local --workers 2 --store "$LITE" \
  --out "$WORK/out-local" -q
t1=$(now)
"$PROBITY" fleet submit "$WORK/images-slurm" --engine slurm --workers 2 --wait --store "$PG" \
  --out "$WORK/out-slurm" -q
t2=$(now)
local_s=$(secs "$t0" "$t1")
slurm_s=$(secs "$t1" "$t2")
overhead=$(python3 -c "import sys; print(f'{(float(sys.argv[2]) - float(sys.argv[1])) / int(sys.argv[3]):.2f}')" "$local_s" "$slurm_s" "$IMAGES")

# --- ingest: REPORTS copies of the real reports, in batches of 1,000 (disk) --------------------
mapfile -t scans < <(find "$WORK/out-local" -name report.json -printf '%h\n' | sort)
synth() {  # synth FIRST COUNT DIR: COUNT scan directories with distinct image sha256
  python3 - "$1" "$2" "$3" "${scans[@]}" <<'PY'
import hashlib, json, os, sys
first, count, out, scans = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
texts = []
for s in scans:
    report = open(os.path.join(s, "report.json"), encoding="utf-8").read()
    manifest = open(os.path.join(s, "manifest.json"), encoding="utf-8").read()
    texts.append((json.loads(report)["image"]["sha256"], report, manifest))
for i in range(first, first + count):
    sha, report, manifest = texts[i % len(texts)]
    new = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
    d = os.path.join(out, f"{i:06d}")
    os.makedirs(d)
    open(os.path.join(d, "report.json"), "w", encoding="utf-8").write(report.replace(sha, new))
    open(os.path.join(d, "manifest.json"), "w", encoding="utf-8").write(manifest.replace(sha, new))
PY
}
ingest_s=0
done_n=0
while [ "$done_n" -lt "$REPORTS" ]; do
  n=$((REPORTS - done_n < 1000 ? REPORTS - done_n : 1000))
  rm -rf "$WORK/reports"
  synth "$done_n" "$n" "$WORK/reports"
  a=$(now)
  "$PROBITY" fleet ingest "$WORK/reports" --store "$LITE" -q >/dev/null
  b=$(now)
  ingest_s=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]) - float(sys.argv[3]))" "$ingest_s" "$b" "$a")
  done_n=$((done_n + n))
done
rm -rf "$WORK/reports"
synth 0 "$PG_REPORTS" "$WORK/reports"
a=$(now)
"$PROBITY" fleet ingest "$WORK/reports" --store "$PG" -q >/dev/null
b=$(now)
pg_ingest_s=$(secs "$a" "$b")
rm -rf "$WORK/reports"
stored=$(sqlite3 "$LITE" "SELECT COUNT(*) FROM images")
pg_stored=$(psql -tA "$PG" -c "SELECT COUNT(*) FROM images")

# --- rejudge and queries at that size ------------------------------------------------------------
a=$(now)
"$PROBITY" fleet rejudge --store "$LITE" >/dev/null
b=$(now)
rejudge_s=$(secs "$a" "$b")
a=$(now)
"$PROBITY" fleet rejudge --store "$PG" >/dev/null
b=$(now)
pg_rejudge_s=$(secs "$a" "$b")
snapshot=$(sqlite3 "$LITE" "SELECT db_snapshot FROM judgements WHERE seq = 1 LIMIT 1")
cve=$(sqlite3 "$LITE" "SELECT id FROM vulnerabilities LIMIT 1")
component=$(sqlite3 "$LITE" "SELECT name FROM components WHERE version <> '' LIMIT 1")
query_row() {  # query_row LABEL ARGS...: median of 3 wall-clock runs on each store
  local label=$1
  shift
  local out=""
  for store in "$LITE" "$PG"; do
    local times=()
    for _ in 1 2 3; do
      a=$(now)
      "$PROBITY" fleet query "$@" --json --store "$store" >/dev/null
      b=$(now)
      times+=("$(secs "$a" "$b")")
    done
    out+=" $(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) |"
  done
  echo "| \`$label\` |$out"
}
queries=$(
  query_row "component $component" component "$component"
  query_row "component $component --below 99" component "$component" --below 99
  query_row "shared-keys" shared-keys
  query_row "cve $cve" cve "$cve"
  query_row "verdict-changes --since ${snapshot:0:15}" verdict-changes --since "$snapshot"
)

{
  echo "# Fleet (\`bench/fleet.sh\`, issue 15)"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo
  echo "| what | result |"
  echo "|---|---|"
  echo "| \`--engine local\` (2 workers, SQLite), $IMAGES images | ${local_s} s = $(rate "$IMAGES" "$local_s" 3600) images/hour |"
  echo "| \`--engine slurm\` (one-node Slurm, 2 tasks at once, PostgreSQL), $IMAGES images | ${slurm_s} s = $(rate "$IMAGES" "$slurm_s" 3600) images/hour |"
  echo "| Slurm's overhead per image (wall clock, slurm minus local, over $IMAGES) | ${overhead} s |"
  echo "| \`fleet ingest\` SQLite, $REPORTS reports | ${ingest_s%.*} s = $(rate "$REPORTS" "$ingest_s" 60) reports/min |"
  echo "| \`fleet ingest\` PostgreSQL, $PG_REPORTS reports | ${pg_ingest_s} s = $(rate "$PG_REPORTS" "$pg_ingest_s" 60) reports/min |"
  echo "| \`fleet rejudge\` SQLite, $stored stored images | ${rejudge_s} s |"
  echo "| \`fleet rejudge\` PostgreSQL, $pg_stored stored images | ${pg_rejudge_s} s |"
  echo
  echo "Queries (median of 3, wall clock including process start; SQLite holds $stored images,"
  echo "PostgreSQL $pg_stored):"
  echo
  echo "| query | SQLite s | PostgreSQL s |"
  echo "|---|---|---|"
  echo "$queries"
} >"$OUT"
cat "$OUT"
