#!/usr/bin/env bash
# Runs the sanitizer builds of the tests made by `make fuzz-build` (fuzz/CMakeLists.txt):
# probity_san_tests (every unit test, library under ASan+UBSan) and probity_tsan_tests (the task
# pool every threaded stage runs on, under TSan). Any report fails the run.
# Usage: scripts/sanitize.sh FUZZ_BUILD_DIR
set -euo pipefail
build="${1:?usage: scripts/sanitize.sh FUZZ_BUILD_DIR}"
for s in /usr/lib/llvm-16/bin/llvm-symbolizer "$(command -v llvm-symbolizer-16 || true)" \
         "$(command -v llvm-symbolizer || true)"; do
  if [ -x "$s" ]; then export ASAN_SYMBOLIZER_PATH="$s" TSAN_SYMBOLIZER_PATH="$s"; break; fi
done
here="$(cd "$(dirname "$0")/.." && pwd)"
# Leaks are errors too; the suppressions name third-party libraries' own one-time allocations.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$here/scripts/sanitize-lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
status=0
for t in probity_san_tests probity_tsan_tests; do
  bin="$build/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "sanitize: $bin missing (run make fuzz-build)" >&2
    exit 1
  fi
  start=$SECONDS
  if "$bin" --gtest_brief=1 >"$build/$t.log" 2>&1; then
    echo "sanitize: $t ok ($(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$build/$t.log" | head -1), $((SECONDS - start)) s)"
  else
    echo "sanitize: $t FAILED (log: $build/$t.log)" >&2
    grep -E "ERROR: |runtime error|WARNING: ThreadSanitizer|FAILED" "$build/$t.log" | head -20 >&2
    tail -n 40 "$build/$t.log" >&2
    status=1
  fi
done
exit $status
