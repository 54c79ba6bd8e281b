#!/usr/bin/env bash
# Fuzzes what moonlab reads: JSON Lines, CSV, .npy/.npz/.safetensors, session files, plugin
# manifests and the evaluator's input (harnesses in Fuzz/moonlab-fuzz, seed corpora in
# Fuzz/corpus/TARGET).
#
#   Scripts/fuzz.sh                 libFuzzer + AddressSanitizer/LeakSanitizer, 60 s per target
#   Scripts/fuzz.sh 3600 jsonl csv  an hour each for the targets named
#   Scripts/fuzz.sh --ci            no instrumentation: the plain moonlab-fuzz (built with the
#                                   tests) mutates each corpus for a few seconds (~1 min in all)
#
# The libFuzzer build goes to .build-fuzz (MOONLAB_FUZZ=1 turns the flags on in Package.swift;
# the first build compiles the dependencies too). New inputs that reach new code are kept in
# .build-fuzz/corpus/TARGET (not committed); a crash leaves crash-* files in .build-fuzz/crashes.
# Replay one with: .build/debug/moonlab-fuzz TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
targets_all="jsonl csv npy npz safetensors session manifest evaluator"

if [ "${1:-}" = "--ci" ]; then
  shift
  seconds="${1:-7}"
  bin=.build/debug/moonlab-fuzz
  [ -x "$bin" ] || swift build --product moonlab-fuzz >/dev/null
  for t in $targets_all; do
    if ! "$bin" "$t" --mutate "$seconds" "Fuzz/corpus/$t"; then
      echo "fuzz: $t crashed; the input is in ${TMPDIR:-/tmp}/moonlab-fuzz-last-input-$t" >&2
      exit 1
    fi
  done
  exit 0
fi

seconds="${1:-60}"
shift || true
targets="${*:-$targets_all}"
MOONLAB_FUZZ=1 swift build --product moonlab-fuzz --scratch-path .build-fuzz 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
bin=.build-fuzz/debug/moonlab-fuzz
mkdir -p .build-fuzz/crashes
status=0
for t in $targets; do
  mkdir -p ".build-fuzz/corpus/$t"
  echo "== $t ($seconds s)"
  # leaks are checked at exit (LeakSanitizer); -rss_limit_mb bounds one input's memory
  if ! MOONLAB_FUZZ_TARGET="$t" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" "$bin" \
      -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=65536 \
      -artifact_prefix=".build-fuzz/crashes/$t-" -print_final_stats=1 \
      ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" 2>".build-fuzz/$t.log"; then
    status=1
    echo "fuzz: $t found a problem:" >&2
    grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" ".build-fuzz/$t.log" | head -20 >&2
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|cov:" ".build-fuzz/$t.log" | tail -3 || true
done
exit $status
