#!/usr/bin/env python3
"""Time from start to the first prompt of moonlab, beside lua5.4 and python+numpy.

Usage: python3 Benchmarks/startup.py [path/to/moonlab] [runs]
The prompt is timed in a pseudo-terminal (as a person starts it): from fork to the
moment the prompt's text appears. The others are timed to exit.
"""
import os, pty, select, statistics, subprocess, sys, tempfile, time

moonlab = sys.argv[1] if len(sys.argv) > 1 else ".build/release/moonlab"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
home = tempfile.mkdtemp()

def to_prompt():
    env = dict(os.environ, HOME=home, NO_COLOR="1", MOONLAB_INIT="moonlab.prompt='@@> '")
    argv = [moonlab]  # as a person starts it: bare, recording the session (into a temporary HOME)
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(moonlab, argv, env)
    buf = b""
    while b"@@> " not in buf:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            raise SystemExit("no prompt within 5 s: %r" % buf)
        buf += os.read(fd, 4096)
    t = time.perf_counter() - t0
    # libedit may still be switching the terminal to raw mode: send Ctrl-D until it exits
    while True:
        os.write(fd, b"\x04")
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
        try:
            while select.select([fd], [], [], 0)[0]:
                os.read(fd, 4096)
        except OSError:
            pass
    os.close(fd)
    return t

def to_exit(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0

def median_ms(f, *a):
    f(*a)  # warm the page cache
    return statistics.median(f(*a) for _ in range(runs)) * 1e3

rows = [
    ("moonlab, to the first prompt", median_ms(to_prompt)),
    ("moonlab -e ''", median_ms(to_exit, [moonlab, "-e", ""])),
    ("lua5.4 -e ''", median_ms(to_exit, ["lua5.4", "-e", ""])),
    ("python3 -c 'import numpy'", median_ms(to_exit, [sys.executable, "-c", "import numpy"])),
]
print(f"start-up, median of {runs} runs")
for name, ms in rows:
    print(f"  {name:32s} {ms:8.1f} ms")
