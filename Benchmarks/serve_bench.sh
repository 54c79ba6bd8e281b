#!/usr/bin/env bash
# The serving benchmark (BENCHMARKS.md, "Serving"): `moonlab serve` against OpenRLHF's
# serve_rm.py design (FastAPI + uvicorn, Benchmarks/serve_rm_peer.py) under the same wrk
# load: 64-row OpenRLHF bodies, 16 connections, 10 s. The servers take turns within each
# round (one at a time, each warmed up for 2 s first), so a busy machine weighs on all of
# them alike; each result is one JSON line with the load average around it.
#
#   swift build -c release --product moonlab
#   python3 Benchmarks/make_completions.py && python3 Benchmarks/make_serve_body.py
#   bash Benchmarks/serve_bench.sh [ROUNDS] [PORT] > /tmp/serve_bench.jsonl
#
# Needs wrk (Debian package `wrk`) and a Python with fastapi and uvicorn (PEER_PYTHON,
# default /work/venv-peers/bin/python). Run by hand; never in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
port=${2:-18731}
peer_python=${PEER_PYTHON:-/work/venv-peers/bin/python}
body=${BODY:-/tmp/moonlab_serve_body.json}
duration=${DURATION:-10s}
bin=${BIN:-.build/release/moonlab}
before=${BEFORE:-}  # another moonlab binary (the build before a change), run beside it when given
export BODY="$body"

pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    timeout 20 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
trap stop EXIT

wait_ready() {
  for _ in $(seq 1 300); do
    if curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$body" \
        "http://127.0.0.1:$port/get_reward"; then return 0; fi
    sleep 0.1
  done
  echo "server on $port did not start" >&2
  return 1
}

# CPU time (user + system, clock ticks) of a process and all its descendants (uvicorn's
# workers): on a box shared with other work, CPU per row is what load does not blur.
cpu_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    if [ "$p" != "$1" ]; then total=$((total + $(cpu_ticks "$p"))); continue; fi
    [ -r "/proc/$p/stat" ] || continue
    set -- $(sed 's/^.*) //' "/proc/$p/stat")
    total=$((total + ${12} + ${13}))
    set -- "$p"
  done
  echo "$total"
}

run_one() {  # name, then the server's command line
  local name=$1; shift
  "$@" >/dev/null 2>/tmp/serve_bench_server.log &
  pid=$!
  wait_ready
  wrk -t2 -c16 -d2s -s Benchmarks/serve_wrk.lua "http://127.0.0.1:$port/get_reward" >/dev/null
  local before after result cpu0 cpu1
  before=$(cut -d' ' -f1 /proc/loadavg)
  cpu0=$(cpu_ticks "$pid")
  result=$(wrk -t2 -c16 -d"$duration" -s Benchmarks/serve_wrk.lua "http://127.0.0.1:$port/get_reward" | tail -1)
  cpu1=$(cpu_ticks "$pid")
  after=$(cut -d' ' -f1 /proc/loadavg)
  stop
  echo "{\"round\": $round, \"server\": \"$name\", \"load_before\": $before, \"load_after\": $after, \"server_cpu_s\": $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )).$(printf '%02d' $(( (cpu1 - cpu0) % $(getconf CLK_TCK) * 100 / $(getconf CLK_TCK) ))), \"wrk\": $result}"
}

for round in $(seq 1 "$rounds"); do
  if [ -n "$before" ]; then
    run_one "before: moonlab serve, Lua patterns (2 workers)" \
      "$before" serve --reward Benchmarks/score_reward.lua --port "$port" --workers 2
    run_one "before: moonlab serve, re (2 workers)" \
      "$before" serve --reward Benchmarks/serve_reward_re.lua --port "$port" --workers 2
  fi
  run_one "moonlab serve, Lua patterns (2 workers)" \
    "$bin" serve --reward Benchmarks/score_reward.lua --port "$port" --workers 2
  run_one "moonlab serve, re (2 workers)" \
    "$bin" serve --reward Benchmarks/serve_reward_re.lua --port "$port" --workers 2
  run_one "FastAPI + uvicorn, 1 worker" \
    "$peer_python" Benchmarks/serve_rm_peer.py --port "$port" --workers 1
  run_one "FastAPI + uvicorn, 2 workers" \
    env PYTHONPATH=Benchmarks "$peer_python" Benchmarks/serve_rm_peer.py --port "$port" --workers 2
done
