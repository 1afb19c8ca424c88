#!/usr/bin/env bash
# Build test/shim/sanitize/harness.c (which includes the shim's C sources) with AddressSanitizer and
# UndefinedBehaviorSanitizer and run it. Ends with "N passed, N failed" (a sanitizer report or a
# build failure counts as one failure). Usage: scripts/sanitize-shim.sh [CASES] [SEED]
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc=${CC:-cc}
if ! "$cc" -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -o "$out/harness" test/shim/sanitize/harness.c 2>"$out/build.log"; then
  cat "$out/build.log"
  echo "sanitizer harness did not build"
  echo "0 passed, 1 failed"
  exit 1
fi
# handle_sigbus=0: the shim's own SIGBUS guard is under test.
ASAN_OPTIONS=handle_sigbus=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$out/harness" "${1:-20000}" "${2:-0}" >"$out/run.log" 2>&1
rc=$?
cat "$out/run.log" | grep -v '^$' | tail -n 30
if [ $rc -ne 0 ] && ! tail -n 1 "$out/run.log" | grep -qE '^[0-9]+ passed, [1-9]'; then
  echo "0 passed, 1 failed"
fi
exit $rc
