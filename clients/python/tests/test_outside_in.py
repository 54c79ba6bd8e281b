"""`moonlab serve` from the outside, as issue 15's acceptance check runs it: reward files
written the way a newcomer writes them from the guide (reward.define with `re`, Lua
patterns, `state.step`, nil for "does not apply", a detector, rewards that raise, return
NaN/inf or loop), an OpenRLHF-shaped client (`openrlhf/utils/agent.py`
`_fetch_rewards_via_http`, and the older `remote_rm_fn` that sends only `query`), the
error contract, `/metrics`, the audit log read back, reload under load and SIGTERM.

These tests start their own servers (port 0) from the built binary: `$MOONLAB_BIN`, else
`.build/debug/moonlab` of this repository. Every wait is bounded; nothing is timed.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import moonlab_client as mc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.environ.get("MOONLAB_BIN") or os.path.join(ROOT, ".build", "debug", "moonlab")
pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason=f"no moonlab binary at {BIN} (swift build)")

NEWCOMER = r'''
local ANSWER = re.compile([[<answer>\s*(.*?)\s*</answer>]], {flags = "s"})

reward.define("format", function(s)
  if re.search([[^<think>.*?</think>\s*<answer>.*?</answer>\s*$]], reward.text(s), {flags = "s"}) then return 1 end
  return 0
end, {doc = "think then answer"})

reward.define("accuracy", function(s)
  if s.label == nil or s.label == data.null then return nil end  -- no label: does not apply
  local m = ANSWER:search(reward.text(s))
  if not m then return 0 end
  return m[1] == tostring(s.label) and 1 or 0
end)

local function digits(s)  -- Lua patterns
  local n = 0
  for _ in reward.text(s):gmatch("%d") do n = n + 1 end
  return n / 10
end
reward.define("digits", digits)

reward.define("curriculum", function(s, state)
  return math.min((state.step or 0) / 1000, 1)
end)

reward.define("trouble", function(s)
  local c = reward.text(s)
  if c:find("RAISE", 1, true) then error("asked to raise") end
  if c:find("NAN", 1, true) then return 0/0 end
  if c:find("INF", 1, true) then return -math.huge end
  if c:find("NIL", 1, true) then return nil end
  if c:find("LOOP", 1, true) then while true do end end
  if c:find("STR", 1, true) then return "1" end
  if c:find("WHY", 1, true) then return 0.5, {why = "an info table"} end
  return #c
end)

detect.define("shouting", function(s)
  if reward.text(s):find("DETECTOR", 1, true) then error("the detector raised") end
  local caps = select(2, reward.text(s):gsub("%u", ""))
  return caps > 10, caps, "many capitals"
end)
'''

P = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
GOOD = "<think>2 plus 2</think> <answer>4</answer>"  # 3 digits, 42 bytes


class Server:
    def __init__(self, args, log_path, cwd):
        self.err_path = log_path
        self.p = subprocess.Popen([BIN, "serve", *args, "--port", "0"], stdout=subprocess.DEVNULL,
                                  stderr=open(log_path, "w"), cwd=cwd)
        for _ in range(600):
            m = re.search(r"listening on (http://[0-9.:]+)", self.stderr())
            if m:
                self.url = m.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return
            if self.p.poll() is not None:
                raise RuntimeError(f"moonlab serve exited {self.p.returncode}: {self.stderr()}")
            time.sleep(0.05)
        self.p.kill()
        raise RuntimeError("moonlab serve did not start: " + self.stderr())

    def stderr(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return "did not stop"


def post(url, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("outside_in")
    (d / "newcomer.lua").write_text(NEWCOMER)
    s = Server(["--reward", "newcomer.lua", "--detect", "shouting", "--workers", "2", "--log", "audit.jsonl",
                "--max-instructions", "1000000", "--max-body-mb", "1"], str(d / "serve.log"), str(d))
    s.dir = d
    yield s
    assert s.stop() == 0, s.stderr()


def test_openrlhf_agent_rows_one_request_each(served):
    """agent.py posts one row per request ([query], [prompt], [label]); label is None without
    --label_key. Every row gets a number, failed rows --on-error and 1 in moonlab/errors."""
    rows = [(GOOD, "4", 0), ("<answer>5</answer>", "4", 0), (GOOD, None, 0), ("RAISE", "4", 1), ("NAN", None, 1),
            ("INF", None, 1), ("NIL", "4", 0), ("LOOP", "4", 1), ("STR", None, 1), ("WHY", None, 0),
            ("héllo wörld ✓ 🎉", None, 0)]
    for completion, label, failed in rows:
        status, out = post(served.url + "/get_reward", {"query": [P + completion], "prompts": [P], "labels": [label]})
        assert status == 200, out
        assert set(out) == {"rewards", "scores", "extra_logs"}
        values = out["rewards"] + out["scores"] + [x for v in out["extra_logs"].values() for x in v]
        assert all(isinstance(x, float) and x == x and abs(x) != float("inf") for x in values), (completion, out)
        assert out["extra_logs"]["moonlab/errors"] == [float(failed)], (completion, out)
        if failed:
            assert out["rewards"] == [0.0], (completion, out)
    status, out = post(served.url + "/get_reward", {"query": [P + GOOD], "prompts": [P], "labels": ["4"], "step": 250})
    logs = out["extra_logs"]
    assert (logs["format"], logs["accuracy"], logs["digits"], logs["curriculum"], logs["trouble"]) == ([1.0], [1.0], [0.3], [0.25], [42.0])
    assert out["rewards"] == [1 + 1 + 0.3 + 0.25 + 42]
    status, out = post(served.url + "/get_reward", {"query": [P + "WHY"]})
    assert out["extra_logs"]["trouble"] == [0.5]  # a number and an info table


def test_older_remote_rm_fn_and_sharding(served):
    """remote_rm_fn sends only {"query": [...]}; agent.py shards a batch over the URLs in
    contiguous slices (an empty slice when there are more URLs than rows)."""
    status, out = post(served.url + "/get_reward", {"query": [P + GOOD]})
    assert status == 200 and out["extra_logs"]["format"] == [0.0]  # no prompt: the whole query is the completion
    queries = [P + f"<think>t</think> <answer>{i}</answer>" for i in range(5)]
    urls = [served.url + "/get_reward"] * 7
    size = (len(queries) + len(urls) - 1) // len(urls)
    accuracy = []
    for i, url in enumerate(urls):
        part = slice(i * size, (i + 1) * size)
        status, out = post(url, {"query": queries[part], "prompts": [P] * len(queries[part]),
                                 "labels": [str(k) for k in range(5)][part]})
        assert status == 200 and len(out["rewards"]) == len(queries[part])
        accuracy += out["extra_logs"]["accuracy"]
    assert accuracy == [1.0] * 5


@pytest.mark.parametrize("body,status,words", [
    (b"{not json", 400, "not valid JSON"),
    (b"", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"query": ["a", "b"], "prompts": ["a"]}', 400, "same length"),
    (b'{"query": ["a", "b"], "labels": ["a"]}', 400, "same length"),
    (b'{"query": "a"}', 400, "must be a list, got a string"),
    (b'{"query": {"a": "b"}}', 400, "must be a list, got an object"),
    (b'{"query": [1]}', 400, "must be a string, got a number"),
    (b'{"query": ["a"], "prompts": [null]}', 400, "must be a string, got null"),
    (b'{"prompts": ["a"]}', 400, "no \"query\" list"),
    (b'{"query": ["a"], "step": "7"}', 400, "\"step\" must be an integer, got a string"),
    (b'{"query": ["a"], "step": 1.5}', 400, "\"step\" must be an integer"),
])
def test_bad_requests_are_400_and_say_what_was_expected(served, body, status, words):
    got, out = post(served.url + "/get_reward", body)
    assert got == status and words in out["error"], out


def test_limits_empty_lists_unicode_huge_and_step(served):
    assert post(served.url + "/get_reward", {"query": [], "prompts": [], "labels": []}) == \
        (200, {"rewards": [], "scores": [], "extra_logs": {k: [] for k in ["accuracy", "curriculum", "digits", "format", "trouble", "shouting", "moonlab/errors"]}})
    status, out = post(served.url + "/get_reward", {"query": ["x" * (2 << 20)]})
    assert status == 413 and "--max-body-mb" in out["error"]
    big = "y" * 500_000
    status, out = post(served.url + "/get_reward", {"query": [P + big], "prompts": [P]})
    assert status == 200 and out["extra_logs"]["trouble"] == [500_000.0]
    status, out = post(served.url + "/get_reward", {"query": [P + "ünï 🎉 \u0000"], "prompts": [P]})
    assert status == 200 and out["extra_logs"]["trouble"] == [float(len("ünï 🎉 \u0000".encode()))]
    assert post(served.url + "/get_reward", {"query": [GOOD]}, {"X-Moonlab-Step": "500"})[1]["extra_logs"]["curriculum"] == [0.5]
    assert post(served.url + "/get_reward", {"query": [GOOD], "step": 800}, {"X-Moonlab-Step": "500"})[1]["extra_logs"]["curriculum"] == [0.8]
    status, out = post(served.url + "/get_reward", {"query": [GOOD]}, {"X-Moonlab-Step": "five"})
    assert status == 400 and "X-Moonlab-Step" in out["error"]


def test_metrics_move(served):
    before = metrics(served.url)
    status, out = post(served.url + "/get_reward", {"query": ["RAISE", "fine", "DETECTOR"]})
    assert out["extra_logs"]["moonlab/errors"] == [1.0, 0.0, 0.0] and out["rewards"][2] == 8.0 + 0.0 + 0.0
    post(served.url + "/get_reward", b"{")
    after = metrics(served.url)
    ok = 'moonlab_requests_total{endpoint="get_reward",status="200"}'
    bad = 'moonlab_requests_total{endpoint="get_reward",status="400"}'
    errors = 'moonlab_row_errors_total{endpoint="get_reward"}'
    rows = 'moonlab_rows_total{endpoint="get_reward",status="ok"}'
    assert after[ok] == before.get(ok, 0) + 1
    assert after[bad] == before.get(bad, 0) + 1
    assert after[errors] == before.get(errors, 0) + 1
    assert after[rows] == before.get(rows, 0) + 2
    detector = 'moonlab_detector_errors_total{endpoint="get_reward"}'
    assert after[detector] == before.get(detector, 0) + 1  # its reward stood: not a row error


def test_trl_and_verl_clients(served):
    f = mc.trl_reward(served.url)
    assert f([P, P, P, P], [GOOD, "RAISE", "NAN", "INF"], label=["4", "4", "4", "4"]) == [1 + 1 + 0.3 + 0 + 42, None, None, None]
    # A detector that raises leaves the reward standing (extra_logs has --on-error for it).
    assert f([P], [GOOD + " DETECTOR"], label=["4"]) == [1 + 0 + 0.3 + 0 + 51]  # format fails: text after </answer>
    chat_prompts = [[{"role": "user", "content": "What is 2+2?"}]] * 2
    chat = [[{"role": "assistant", "content": GOOD}], [{"role": "assistant", "content": "<answer>5</answer>"}]]
    assert mc.trl_reward(served.url, name="accuracy")(chat_prompts, chat, label=["4", "4"]) == [1.0, 0.0]
    assert mc.trl_reward(served.url, name="accuracy")([P], [GOOD]) == [None]  # no label: nil

    class Numpyish:  # what verl's parquet columns hold: numpy scalars and arrays
        def __init__(self, v):
            self.v = v

        def tolist(self):
            return self.v

    score = mc.compute_score("gsm8k", GOOD, "4", extra_info={"index": Numpyish(3), "num_turns": Numpyish(2)}, url=served.url)
    assert score == 1 + 1 + 0.3 + 0 + 42
    assert mc.compute_score("gsm8k", GOOD, Numpyish("4"), url=served.url) == score
    assert mc.compute_score("gsm8k", "RAISE", "4", url=served.url) == 0.0


def test_trl_reward_is_none_when_no_served_reward_applies(tmp_path):
    (tmp_path / "only.lua").write_text('reward.define("only", function(s) if s.completion == "n/a" then return nil end return 1 end)\n')
    s = Server(["--reward", "only.lua", "--workers", "1"], str(tmp_path / "serve.log"), str(tmp_path))
    try:
        assert mc.trl_reward(s.url)(["p", "p"], ["x", "n/a"]) == [1.0, None]
        assert mc.trl_reward(s.url, name="only")(["p", "p"], ["x", "n/a"]) == [1.0, None]
    finally:
        assert s.stop() == 0


def test_audit_log_is_read_back(served):
    post(served.url + "/get_reward", {"query": [P + GOOD, P + "RAISE"], "prompts": [P, P], "labels": ["4", "4"], "step": 4321})
    audit = served.dir / "audit.jsonl"
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    mine = [r for r in lines if r.get("step") == 4321]
    assert [r["row"] for r in mine] == [0, 1] and mine[0]["request_id"] == mine[1]["request_id"]
    assert mine[0]["completion"] == GOOD and mine[0]["prompt"] == P and mine[0]["label"] == "4"
    assert mine[0]["rewards"]["accuracy"] == 1.0 and "asked to raise" in mine[1]["errors"]["trouble"]
    r = subprocess.run([BIN, "-e", "local n = 0 for r in data.jsonl('audit.jsonl'):filter(function(r) return r.step == 4321 end):each() "
                        "do n = n + 1 end return n"], capture_output=True, text=True, cwd=served.dir, timeout=60)
    assert r.stdout.strip() == "2", r.stderr
    (served.dir / "plain.lua").write_text('reward.define("bytes", function(s) return #reward.text(s) end)\n')
    r = subprocess.run([BIN, "score", "--data", "audit.jsonl", "--reward", "plain.lua", "--out", "rescored.jsonl"],
                       capture_output=True, text=True, cwd=served.dir, timeout=120)
    assert r.returncode == 0, r.stderr
    rescored = [json.loads(line) for line in (served.dir / "rescored.jsonl").read_text().splitlines()]
    assert len(rescored) == len(lines)
    assert [x["rewards"]["bytes"] for x in rescored if x.get("step") == 4321] == [42.0, 5.0]


def test_reload_under_load_then_sigterm_drains(tmp_path):
    live = tmp_path / "live.lua"
    live.write_text('reward.define("v", function(s) return 1 end)\n')
    s = Server(["--reward", "live.lua", "--reload", "--workers", "2"], str(tmp_path / "serve.log"), str(tmp_path))
    stop, lock = threading.Event(), threading.Lock()
    seen = {"ok": 0, "bad": [], "values": set()}

    def hammer(keep_alive):
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30) if keep_alive else None
        while not stop.is_set():
            try:
                if conn:
                    conn.request("POST", "/get_reward", json.dumps({"query": ["a"] * 8}), {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    status, out = r.status, json.loads(r.read())
                else:
                    status, out = post(s.url + "/get_reward", {"query": ["a"] * 8})
                good = status == 200 and len(set(out["rewards"])) == 1 and out["extra_logs"]["moonlab/errors"] == [0.0] * 8
                with lock:
                    if good:
                        seen["ok"] += 1
                        seen["values"].add(out["rewards"][0])
                    else:
                        seen["bad"].append((status, out))
            except Exception as e:  # a dropped connection is a failed request
                with lock:
                    seen["bad"].append(repr(e))
                return

    def version():
        with urllib.request.urlopen(s.url + "/health", timeout=10) as r:
            return json.loads(r.read())["version"]

    def wait_for(v):
        for _ in range(200):
            if version() >= v:
                return
            time.sleep(0.05)
        raise AssertionError(f"version {v} never served: {s.stderr()}")

    def reload():
        v = version()
        s.p.send_signal(signal.SIGHUP)
        wait_for(v + 1)

    threads = [threading.Thread(target=hammer, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        live.write_text('reward.define("v", function(s) return 2 end)\n')
        for _ in range(4):
            reload()
        live.write_text('reward.define("v", function(s) return 3 end) a syntax error\n')
        s.p.send_signal(signal.SIGHUP)
        for _ in range(200):
            if "failed, still serving" in s.stderr():
                break
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not seen["bad"] and seen["ok"] > 0, seen["bad"][:3]
    assert seen["values"] <= {1.0, 2.0}
    assert post(s.url + "/get_reward", {"query": ["a"]})[1]["rewards"] == [2.0]  # the broken file left v = 2 serving
    assert "failed, still serving version" in s.stderr()
    m = metrics(s.url)
    assert m['moonlab_reloads_total{result="failed"}'] >= 1 and m['moonlab_reloads_total{result="ok"}'] >= 4
    # SIGTERM while slow requests are in flight: each is answered, then the server exits 0.
    live.write_text('reward.define("v", function(s) local x = 0 for i = 1, 2e6 do x = x + i end return 7 end)\n')
    reload()
    answers = {}

    def slow(i):
        answers[i] = post(s.url + "/get_reward", {"query": ["a"] * 8})

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # (not a bound on anything: the requests are sent by then, most still being scored)
    code = s.stop()
    for t in threads:
        t.join(60)
    assert code == 0, s.stderr()
    assert all(a == (200, a[1]) and a[1]["rewards"] == [7.0] * 8 for a in answers.values()) and len(answers) == 3, answers


def test_sigterm_during_a_flood_of_new_connections_exits_0(tmp_path):
    """OpenRLHF's agent.py opens a connection per sample: a SIGTERM (a rolling restart) lands
    in a flood of them. Whatever is refused or reset after the signal, the server drains and
    exits 0 (NIO traps when a connection it dropped mid-setup is closed late: swift-nio 2813)."""
    import asyncio

    (tmp_path / "r.lua").write_text(NEWCOMER)
    s = Server(["--reward", "r.lua", "--workers", "2"], str(tmp_path / "serve.log"), str(tmp_path))
    body = json.dumps({"query": [P + GOOD], "prompts": [P], "labels": ["4"]}).encode()
    head = b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"

    async def one():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", s.port), 30)
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 30)
            writer.close()
            return answer.split(b" ", 2)[1] if answer else b"closed"
        except (OSError, asyncio.TimeoutError) as e:
            return type(e).__name__

    async def flood():
        tasks = [asyncio.ensure_future(one()) for _ in range(800)]
        await asyncio.sleep(0.3)
        s.p.send_signal(signal.SIGTERM)
        return await asyncio.gather(*tasks)

    answers = asyncio.run(flood())
    assert s.stop() == 0, s.stderr()[-2000:]
    assert b"200" in answers
