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
bin=.build/release/moonlab
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

run_one() {  # name, then the server's command line
  local name=$1; shift
  "$@" >/dev/null 2>/tmp/serve_bench_server.log &
  pid=$!
  wait_ready
  wrk -t2 -c16 -d2s -s Benchmarks/serve_wrk.lua "http://127.0.0.1:$port/get_reward" >/dev/null
  local before after result
  before=$(cut -d' ' -f1 /proc/loadavg)
  result=$(wrk -t2 -c16 -d"$duration" -s Benchmarks/serve_wrk.lua "http://127.0.0.1:$port/get_reward" | tail -1)
  after=$(cut -d' ' -f1 /proc/loadavg)
  stop
  echo "{\"round\": $round, \"server\": \"$name\", \"load_before\": $before, \"load_after\": $after, \"wrk\": $result}"
}

for round in $(seq 1 "$rounds"); do
  run_one "moonlab serve, Lua patterns (2 workers)" \
    "$bin" serve --reward Benchmarks/score_reward.lua --port "$port" --workers 2
  run_one "moonlab serve, re (2 workers)" \
    "$bin" serve --reward Benchmarks/serve_reward_re.lua --port "$port" --workers 2
  run_one "FastAPI + uvicorn, 1 worker" \
    "$peer_python" Benchmarks/serve_rm_peer.py --port "$port" --workers 1
  run_one "FastAPI + uvicorn, 2 workers" \
    env PYTHONPATH=Benchmarks "$peer_python" Benchmarks/serve_rm_peer.py --port "$port" --workers 2
done
