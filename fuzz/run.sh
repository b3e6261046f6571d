#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, seeded from fuzz/corpus/<id>/.
# Fails on any crash, leak, timeout or OOM (the reproducer is kept in BUILD_DIR/fuzz-crashes).
# By default: the hand-written parsers, ext (our io_manager) and carve. FUZZ_ALL=1 adds the targets
# of the library-backed formats (libarchive, libsquashfs, zlib...), whose findings are mostly the
# libraries' own (see docs/formats-notes.md, "Known findings").
# Targets run FUZZ_JOBS at a time (default: one per core; each libFuzzer process uses one).
# Usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build="${1:?usage: fuzz/run.sh BUILD_DIR SECONDS}"
seconds="${2:?usage: fuzz/run.sh BUILD_DIR SECONDS}"
here="$(cd "$(dirname "$0")" && pwd)"
crashes="$build/fuzz-crashes"
mkdir -p "$crashes"
shopt -s nullglob
targets=("$build"/fuzz/*_fuzz)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no targets in $build/fuzz (run make fuzz-build)" >&2
  exit 1
fi
# Symbolised stack traces in the logs.
for s in /usr/lib/llvm-16/bin/llvm-symbolizer "$(command -v llvm-symbolizer-16 || true)" \
  "$(command -v llvm-symbolizer || true)"; do
  if [ -x "$s" ]; then export ASAN_SYMBOLIZER_PATH="$s" UBSAN_SYMBOLIZER_PATH="$s"; break; fi
done
# libarchive sizes its read-ahead buffer from header fields (a cpio name length of 3 GB, a 7z
# header of 8 GB) before it finds the input is short: a large malloc that is never touched, then
# an error. That is not a fault; memory actually used is still capped by -rss_limit_mb. So the
# per-malloc limit is lifted, and allocations the allocator cannot serve return NULL (ENOMEM).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
library_backed="squashfs tar cpio zip sevenzip ar gzip xz lzma bzip2 zstd lz4 elf iso9660 cab xar rar lha lzip"
jobs_max="${FUZZ_JOBS:-$(nproc)}"
# run_one BIN ID WORK SEEDS...: one target; prints its line, returns non-zero on a finding.
run_one() {
  local bin=$1 id=$2 work=$3
  shift 3
  local log="$build/fuzz-$id.log" execs
  if "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=1048576 -timeout=10 \
      -print_final_stats=1 \
      -artifact_prefix="$crashes/$id-" "$work" "$@" >"$log" 2>&1; then
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    echo "fuzz: $id ok (${execs:-?} runs in ${seconds}s)"
  else
    echo "fuzz: $id FAILED (log: $log, reproducer in $crashes)" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}
status=0
pids=()
for bin in "${targets[@]}"; do
  [ -x "$bin" ] || continue
  id="$(basename "$bin" _fuzz)"
  case " $library_backed " in
    *" $id "*) [ "${FUZZ_ALL:-0}" = 1 ] || continue ;;
  esac
  # New inputs go to a scratch corpus in the build tree; the committed seeds stay untouched.
  work="$build/fuzz-corpus/$id"
  mkdir -p "$work"
  seeds=()
  [ -d "$here/corpus/$id" ] && seeds+=("$here/corpus/$id")
  [ "$id" = carve ] && for d in "$here"/corpus/*/; do seeds+=("$d"); done
  # The smallest ext image is 64 KiB of mostly zeros: made here rather than committed.
  if [ "$id" = ext ] && [ ! -e "$work/seed.ext4" ] && command -v mkfs.ext4 >/dev/null; then
    src="$(mktemp -d)" && mkdir -p "$src/d" && echo seed >"$src/d/f" && ln -s d/f "$src/l"
    mkfs.ext4 -q -F -b 1024 -N 16 -O ^has_journal,^resize_inode -d "$src" "$work/seed.ext4" 128 \
      >/dev/null 2>&1 || rm -f "$work/seed.ext4"
    rm -rf "$src"
  fi
  # Likewise the smallest UBIFS (15 KiB LEBs, 195 KiB mostly erased flash).
  if [ "$id" = ubifs ] && [ ! -e "$work/seed-zlib.ubifs" ] && command -v mkfs.ubifs >/dev/null; then
    src="$(mktemp -d)" && mkdir -p "$src/d" && echo seed >"$src/d/f" && ln -s d/f "$src/l"
    for c in zlib lzo none; do
      mkfs.ubifs -r "$src" -m 512 -e 15360 -c 32 -x "$c" -o "$work/seed-$c.ubifs" >/dev/null 2>&1 ||
        rm -f "$work/seed-$c.ubifs"
    done
    rm -rf "$src"
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 0.2; done
  run_one "$bin" "$id" "$work" "${seeds[@]}" &
  pids+=("$!")
done
# A finished job's status is kept until waited for, so none is lost.
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
