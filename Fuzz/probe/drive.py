"""Crash probes over every Lua function (run by hand, never in CI).

    python3 Fuzz/probe/drive.py .build/debug/moonlab [TARGET_PREFIX ...]

probe.lua lists the targets (module functions, methods and metamethods of tensors, chains,
generators, datasets, ...), takes a valid call from each docstring's example, and calls it
with every argument and every option replaced in turn by hostile values (huge, negative,
NaN/inf, deep and cyclic tables, raising metatables, functions, tensors, paths). Each target
runs in its own process under a 6 GB address-space limit; a probe that ends the process
with a signal or runs past 20 s is printed with the probe that caused it, and the target
resumes after it. Every process runs in one scratch folder made for the run
(tempfile.mkdtemp), where probe.lua keeps all it writes; the summary is written there too,
as probe-results.json.
"""
import json, os, re, resource, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
binary = os.path.abspath(sys.argv[1])
only = sys.argv[2:]
probe = os.path.join(here, "probe.lua")
scratch = tempfile.mkdtemp(prefix="moonlab-probe-")
env = dict(os.environ, SWIFT_BACKTRACE="enable=no")


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


targets = subprocess.run([binary, "run", probe, "list"], capture_output=True, text=True, cwd=scratch).stdout.split()
if only:
    targets = [t for t in targets if any(t.startswith(o) for o in only)]
print("targets", len(targets), flush=True)
results = []
probes_run = 0
for t in targets:
    start = 1
    while True:
        try:
            p = subprocess.run([binary, "run", probe, "run", t, str(start)], capture_output=True, text=True, env=env,
                               timeout=20, preexec_fn=limit, errors="replace", cwd=scratch)
            status, err = p.returncode, p.stderr
            total = re.search(r"^total (\d+)$", err, re.M)
            if err.splitlines()[-1:] == ["done"]:
                probes_run += int(total.group(1)) - start + 1 if total else 0
                break
        except subprocess.TimeoutExpired as e:
            status = "timeout"
            err = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        probes = re.findall(r"^probe (\d+) (.*)$", err, re.M)
        if not probes:
            results.append({"target": t, "probe": None, "status": status, "tail": err[-300:]})
            print(t, "no probe ran:", status, err[-300:], flush=True)
            break
        i, desc = probes[-1]
        probes_run += int(i) - start + 1
        tail = err[err.rfind("probe " + i):][:400].replace("\n", " | ")
        results.append({"target": t, "probe": int(i), "call": desc, "status": status, "tail": tail})
        print(t, i, desc, status, tail, flush=True)
        start = int(i) + 1
json.dump(results, open(os.path.join(scratch, "probe-results.json"), "w"), indent=1)
print("results in", os.path.join(scratch, "probe-results.json"))
print("probes run:", probes_run, "signals or hangs:", len(results))
