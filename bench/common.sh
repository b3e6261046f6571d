# Sourced by the bench scripts (unpack, scan, equiv): where things are, how many runs, GNU time,
# and the summary of a .times file.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/bench/work"
results="$root/bench/results"
probity=${PROBITY:-$root/build/probity}   # override only to test a bench script
runs=${BENCH_RUNS:-3}
GNU_TIME=/usr/bin/time

# summarize FILE ("wall rss_kb cpu% rc" lines) -> "median_wall peak_rss_mib cpu_of_median failures"
summarize() {
  sort -n -k1,1 "$1" | awk '{w[NR]=$1; c[NR]=$3; if ($2>m) m=$2; if ($4!=0) f++}
    END {mid=int((NR+1)/2); printf "%.2f %.1f %d %d\n", w[mid], m/1024, c[mid], f+0}'
}
