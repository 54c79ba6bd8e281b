"""Clients for `moonlab serve`: the rewards written at moonlab's prompt, called by trainers.

Standard library only. The server's base URL (``http://127.0.0.1:8000``) is given to each
function, or taken from ``$MOONLAB_URL``.

- ``trl_reward(url, name=None)``: a TRL reward function, ``f(prompts, completions, **kwargs)``.
- ``compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None)``:
  verl's custom reward function.
- ``get_reward(url, queries, prompts, labels=None, step=None)``: OpenRLHF's remote reward
  protocol, as its ``--remote_rm_url`` client sends it.
- ``score(url, records, step=None)``: score records (dicts) with every served reward.
"""
import json
import os
import urllib.error
import urllib.request

__all__ = ["trl_reward", "compute_score", "get_reward", "score", "health", "MoonlabError"]
__version__ = "0.1.0"


class MoonlabError(RuntimeError):
    """The server answered with an error (its message), or could not be reached."""


def _base(url):
    url = url or os.environ.get("MOONLAB_URL")
    if not url:
        raise MoonlabError("no server URL: pass url= or set MOONLAB_URL (e.g. http://127.0.0.1:8000)")
    url = url.rstrip("/")
    for suffix in ("/get_reward", "/score"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def _jsonable(value):
    """What ``json`` cannot write itself: numpy scalars and arrays (verl's ``extra_info`` and
    ``ground_truth`` come out of parquet as such) by their ``item()``/``tolist()``, sets and
    bytes as lists and text; anything else by its ``str``."""
    for method in ("tolist", "item"):
        f = getattr(value, method, None)
        if callable(f):
            try:
                return f()
            except (TypeError, ValueError):
                pass
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _post(url, path, payload, timeout=180.0, retries=3):
    data = json.dumps(payload, default=_jsonable).encode()
    last = None
    for _ in range(retries):
        request = urllib.request.Request(_base(url) + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                message = json.loads(body).get("error", body.decode(errors="replace"))
            except ValueError:
                message = body.decode(errors="replace")
            raise MoonlabError(f"{path}: HTTP {e.code}: {message}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
    raise MoonlabError(f"{path}: cannot reach {_base(url)}: {last}")


def health(url=None, timeout=10.0):
    """``GET /health``: ``{"status": "ok", "rewards": [...], "detectors": [...], ...}``."""
    with urllib.request.urlopen(_base(url) + "/health", timeout=timeout) as response:
        return json.loads(response.read())


def get_reward(url, queries, prompts, labels=None, step=None):
    """OpenRLHF's request: ``query`` is prompt + response. Returns the server's answer,
    ``{"rewards": [...], "scores": [...], "extra_logs": {...}}``."""
    payload = {"query": list(queries), "prompts": list(prompts), "labels": list(labels) if labels is not None else None}
    if step is not None:
        payload["step"] = int(step)
    return _post(url, "/get_reward", payload)


def score(url, records, step=None):
    """Scores records (dicts with completion, prompt and any other fields). Returns one
    result per record: ``{"rewards": {name: value or None}, "flags": {...}, "reward": x}``
    plus ``errors``/``error`` where something failed. ``reward`` is what ``/get_reward``
    would give: the served reward, or the weighted sum of several, ``--on-error`` for a
    failed row."""
    payload = {"records": list(records)}
    if step is not None:
        payload["step"] = int(step)
    return _post(url, "/score", payload)["results"]


def _step(kwargs):
    state = kwargs.get("trainer_state")
    step = getattr(state, "global_step", None)
    if step is None and isinstance(state, dict):
        step = state.get("global_step")
    return step


def trl_reward(url=None, name=None, label=None):
    """A TRL reward function backed by the server: ``f(prompts, completions, **kwargs) ->
    list[float | None]``. Plain text and conversational completions (lists of ``{role,
    content}`` messages) both go as they are. Every dataset column TRL passes in
    ``kwargs`` becomes a field of the record under its own name; ``label`` names the
    column that also reaches rewards as ``s.label`` (as OpenRLHF's ``--label_key``, e.g.
    ``label="answer"``; a column named ``label`` needs nothing);
    ``trainer_state.global_step`` reaches the rewards as ``state.step``. With ``name`` the
    value of that reward, else the server's combined reward. A row whose reward failed or
    does not apply gives ``None``, which TRL leaves out of its statistics."""

    def reward(prompts, completions, **kwargs):
        n = len(completions)
        columns = {k: v for k, v in kwargs.items() if isinstance(v, (list, tuple)) and len(v) == n}
        if label is not None and label not in columns:
            raise MoonlabError(f"trl_reward(label={label!r}): no such dataset column among "
                               f"{sorted(columns)}: TRL passes the dataset's columns but prompt and completion")
        records = []
        for i in range(n):
            record = {k: v[i] for k, v in columns.items()}
            if label is not None:
                record["label"] = columns[label][i]
            record["prompt"] = prompts[i] if prompts is not None else None
            record["completion"] = completions[i]
            records.append(record)
        results = score(url, records, step=_step(kwargs))
        out = []
        for r in results:
            if name is None:
                values = r.get("rewards") or {}
                # A reward raised or gave NaN/inf (its name in errors or nonfinite), or the
                # record was unreadable; a detector that raised leaves the reward standing.
                failed = ("error" in r and not values) or any(
                    k in values for k in list(r.get("errors") or {}) + list(r.get("nonfinite") or {}))
                # No served reward applies (each returned nil): None, as for one reward by name.
                applies = not values or any(v is not None for v in values.values())
                out.append(r.get("reward") if not failed and applies else None)
            else:
                v = r.get("rewards", {}).get(name)
                out.append(None if v is None else float(v))
        return out

    reward.__name__ = f"moonlab_{name or 'reward'}"
    return reward


def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None):
    """verl's ``compute_score``: the record ``{data_source, completion = solution_str,
    ground_truth, label = ground_truth, extra_info}`` scored by the server (``url`` or
    ``$MOONLAB_URL``). Returns the combined reward as a float (``--on-error`` for a failed
    row)."""
    record = {"data_source": data_source, "completion": solution_str, "ground_truth": ground_truth,
              "label": ground_truth}
    if extra_info is not None:
        record["extra_info"] = extra_info
    step = extra_info.get("global_step") if isinstance(extra_info, dict) else None
    return float(score(url, [record], step=step)[0]["reward"])
