"""The Python clients against a running `moonlab serve` (Scripts/test.sh starts two, on two
ports, with tests/rewards.lua): OpenRLHF's protocol as its client sends it, including
sharding over several replicas as `openrlhf/utils/agent.py` `_fetch_rewards_via_http`
does; TRL's reward function (plain and conversational); verl's compute_score.

MOONLAB_URL is the first server, MOONLAB_URLS every one (space-separated).
"""
import json
import os
import urllib.request

import pytest

import moonlab_client as mc

URL = os.environ.get("MOONLAB_URL")
URLS = os.environ.get("MOONLAB_URLS", URL or "").split()
pytestmark = pytest.mark.skipif(not URL, reason="MOONLAB_URL is not set (Scripts/test.sh starts the servers)")

PROMPT = "What is 2+2? "
GOOD = "<think>add</think> <answer>4</answer>"


def test_health_names_the_rewards():
    h = mc.health(URL)
    assert h["status"] == "ok"
    assert h["rewards"] == ["fragile", "step", "tagged"]


def test_get_reward_as_openrlhf_sends_it():
    queries = [PROMPT + GOOD, PROMPT + "no tags", PROMPT + "boom", PROMPT + "nan!", PROMPT + "skip <answer>4</answer>"]
    out = mc.get_reward(URL, queries, [PROMPT] * 5, ["4", "4", "4", "4", None], step=500)
    assert set(out) == {"rewards", "scores", "extra_logs"}
    # rewards = fragile + step + tagged (weights 1); failed rows get --on-error (0)
    assert out["rewards"] == [2 + 0.5 + 1, 0 + 0.5 + 0, 0, 0, 0.5 + 1]
    assert out["scores"] == out["rewards"]
    logs = out["extra_logs"]
    assert logs["moonlab/errors"] == [0, 0, 1, 1, 0]
    assert logs["tagged"] == [1, 0, 0, 0, 1]
    assert logs["step"] == [0.5] * 5
    assert all(v is not None and v == v for name in logs for v in logs[name])  # no null, no NaN


def test_openrlhf_sharding_over_replicas():
    """agent.py splits a batch into len(urls) contiguous slices, one POST each, and
    concatenates; an empty slice (more replicas than queries) must still be answered."""
    queries = [PROMPT + f"<answer>{i}</answer>" for i in range(7)]
    prompts, labels = [PROMPT] * 7, [str(i) for i in range(7)]
    urls = [u + "/get_reward" for u in URLS] + [URLS[0] + "/get_reward"]
    size = (len(queries) + len(urls) - 1) // len(urls)
    rewards = []
    for i, url in enumerate(urls):
        payload = {"query": queries[i * size:(i + 1) * size], "prompts": prompts[i * size:(i + 1) * size],
                   "labels": labels[i * size:(i + 1) * size]}
        req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = json.loads(r.read())
        assert len(body["rewards"]) == len(payload["query"])
        rewards += body["rewards"]
    assert rewards == [3.0] * 7  # tagged 1 + fragile 2 (answer == label) + step 0
    if len(URLS) > 1:
        for u in URLS:
            metrics = urllib.request.urlopen(u + "/metrics", timeout=10).read().decode()
            assert 'moonlab_requests_total{endpoint="get_reward",status="200"}' in metrics


def test_bad_requests_are_400_with_a_message():
    with pytest.raises(mc.MoonlabError, match="HTTP 400.*same length"):
        mc.get_reward(URL, ["a", "b"], ["a"])
    req = urllib.request.Request(URL + "/get_reward", data=b"{not json", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    assert "not valid JSON" in json.loads(e.value.read())["error"]


def test_trl_reward_plain_and_conversational():
    f = mc.trl_reward(URL)
    plain = f([PROMPT, PROMPT], [GOOD, "boom"], label=["4", "4"])
    assert plain == [3.0, None]
    chat = f([[{"role": "user", "content": PROMPT}]], [[{"role": "assistant", "content": GOOD}]], label=["4"])
    assert chat == [3.0]
    tagged = mc.trl_reward(URL, name="tagged")
    assert tagged([PROMPT, PROMPT], [GOOD, "none"]) == [1.0, 0.0]
    assert mc.trl_reward(URL, name="fragile")([PROMPT], ["skip"]) == [None]  # nil: does not apply

    class State:
        global_step = 250

    assert mc.trl_reward(URL, name="step")([PROMPT], [GOOD], trainer_state=State()) == [0.25]


def test_trl_reward_label_names_the_label_column():
    """A dataset whose answers are in another column (GSM8K's "answer", TRL's "solution"):
    label= sends it as s.label too, as OpenRLHF's --label_key does; without it s.label is nil
    and a reward comparing with it does not apply. A column that is not there is an error."""
    rows = ([PROMPT, PROMPT], [GOOD, "<answer>5</answer>"])
    assert mc.trl_reward(URL, name="fragile", label="answer")(*rows, answer=["4", "4"]) == [2.0, 0.0]
    assert mc.trl_reward(URL, name="fragile")(*rows, answer=["4", "4"]) == [0.0, 0.0]
    with pytest.raises(mc.MoonlabError, match="no such dataset column"):
        mc.trl_reward(URL, name="fragile", label="solution")(*rows, answer=["4", "4"])


def test_verl_compute_score():
    assert mc.compute_score("gsm8k", GOOD, "4", url=URL) == 3.0
    assert mc.compute_score("gsm8k", GOOD, "5", url=URL) == 1.0
    assert mc.compute_score("gsm8k", "boom", "4", url=URL) == 0.0  # --on-error
    os.environ["MOONLAB_URL"] = URL
    assert mc.compute_score("gsm8k", GOOD, "4", extra_info={"global_step": 1000}) == 4.0


def test_score_endpoint_results():
    results = mc.score(URL, [{"completion": GOOD, "label": "4"}, {"completion": "boom"}], step=0)
    assert results[0]["rewards"] == {"fragile": 2.0, "step": 0.0, "tagged": 1.0}
    assert results[0]["reward"] == 3.0
    assert results[1]["errors"] == {"fragile": "boom in the completion"} or "boom" in results[1]["errors"]["fragile"]
    assert results[1]["reward"] == 0.0
