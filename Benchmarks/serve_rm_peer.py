#!/usr/bin/env python3
"""The peer of `moonlab serve` in BENCHMARKS.md ("Serving"): OpenRLHF's
openrlhf/cli/serve_rm.py design (FastAPI + uvicorn, POST /get_reward answering rewards,
scores and extra_logs), with the benchmark reward of Benchmarks/score_reward.lua written in
Python in place of a reward model: format check (compiled re) + 0.5 x length penalty
around 200 bytes + share of four keywords, on the completion (query without its prompt).

Usage (in the peers venv, which has fastapi and uvicorn):
  /work/venv-peers/bin/python Benchmarks/serve_rm_peer.py --port 5000 --workers 1
"""
import argparse
import re

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

KEYWORDS = ("because", "therefore", "verify", "answer")
TARGET = 200
FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>\Z", re.S)


def reward(completion):
    fmt = 1 if FORMAT.match(completion) else 0
    length = 1 - min(1, abs(len(completion.encode()) - TARGET) / TARGET)
    hits = sum(1 for k in KEYWORDS if k in completion)
    return fmt + 0.5 * length + hits / len(KEYWORDS)


app = FastAPI()


@app.post("/get_reward")
async def get_reward(request: Request):
    data = await request.json()
    queries, prompts = data.get("query"), data.get("prompts") or []
    rewards = []
    for i, q in enumerate(queries):
        p = prompts[i] if i < len(prompts) else ""
        rewards.append(reward(q[len(p):] if p and q.startswith(p) else q))
    return JSONResponse({"rewards": rewards, "scores": rewards, "extra_logs": {"bench": rewards}})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.workers > 1:
        uvicorn.run("serve_rm_peer:app", host=args.host, port=args.port, workers=args.workers, log_level="warning")
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
