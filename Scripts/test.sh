#!/usr/bin/env bash
# Every test: the Swift test targets (debug), then every Scripts/*.lua recipe run with
# `moonlab run`. Exit status non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh

swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
swift build --build-tests >/dev/null   # fail here if the build failed
swift test --skip-build 2>&1 | tee /tmp/moonlab-swift-test.log | grep -E "error:|failed|Executed .* tests" | tail -40
grep -q "with 0 failures" /tmp/moonlab-swift-test.log || { echo "swift test failed" >&2; exit 1; }
! grep -qE "Executed [0-9]+ tests?, with [1-9]" /tmp/moonlab-swift-test.log || { echo "swift test failed" >&2; exit 1; }

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
[ "$failed" -eq 0 ]
