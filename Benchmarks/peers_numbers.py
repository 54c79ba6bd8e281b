#!/usr/bin/env python3
"""The cases of Benchmarks/lua_numbers.lua done as a researcher would in numpy/scipy/Python, on
the same data (the same integer formulas). One JSON line per case, {"area", "case", "ms"}: the
fastest of the timed runs (and the median), as lua_numbers.lua reports them.

    python3 Benchmarks/peers_numbers.py [AREA...]     # areas as lua_numbers.lua

`data` also writes the CSV both sides read (/tmp/moonlab_bench.csv, or $MOONLAB_BENCH_CSV).
`selfcheck` needs spacy; `plot` needs matplotlib (a peers' venv, never a moonlab dependency). Areas: dist batch rl pref text random data plot selfcheck.
"""
import csv
import json
import math
import os
import random
import sys
import time

import numpy as np

AREAS = set(sys.argv[1:])


def wanted(a):
    return not AREAS or a in AREAS


def timed(fn, runs=15, inner=1):
    c0 = time.process_time()
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        ts.append((time.perf_counter() - t0) / inner)
    cpu = (time.process_time() - c0) / ((runs * inner) + 1)
    ts.sort()
    return ts[0], ts[len(ts) // 2], cpu


def emit(area, case, best_median, **extra):
    best, median, cpu = best_median
    d = {"area": area, "case": case, "ms": round(best * 1e3, 4), "median_ms": round(median * 1e3, 4),
         "cpu_ms": round(cpu * 1e3, 4)}
    d.update(extra)
    print(json.dumps(d, separators=(",", ":")), flush=True)


M64 = (1 << 64) - 1


def weyl(k, mult):
    return ((((k * mult) & M64) >> 11) + 0.5) * 2.0 ** -53


def normals(n, seed):
    return np.array([math.sqrt(-2 * math.log(weyl(i + seed, 0x9E3779B97F4A7C15)))
                     * math.cos(2 * math.pi * weyl(i + seed, 0xD1B54A32D192ED03)) for i in range(1, n + 1)])


if wanted("dist"):
    from scipy.special import log_softmax, logsumexp, softmax
    v = 128256
    a, b = 2.5 * normals(v, 0), 2.5 * normals(v, 7)
    for dt, name in ((np.float64, "f64"), (np.float32, "f32")):
        p, q = a.astype(dt), b.astype(dt)

        def kl():
            lp, lq = log_softmax(p), log_softmax(q)
            return np.sum(np.exp(lp) * (lp - lq))

        def entropy():
            lp = log_softmax(p)
            return -np.sum(np.exp(lp) * lp)

        for case, fn in (("kl", kl), ("entropy", entropy), ("log_softmax", lambda: log_softmax(p)),
                         ("softmax", lambda: softmax(p)), ("logsumexp", lambda: logsumexp(p))):
            emit("dist", f"{case}_128k_{name}", timed(fn, 41, 5))

if wanted("batch"):
    from scipy.special import log_softmax
    rng = np.random.default_rng(11)
    P = (2.5 * rng.standard_normal((4096, 32000), dtype=np.float32))
    Q = (2.5 * rng.standard_normal((4096, 32000), dtype=np.float32))

    def kl():
        lp, lq = log_softmax(P, axis=-1), log_softmax(Q, axis=-1)
        return np.sum(np.exp(lp) * (lp - lq), axis=-1)

    def entropy():
        lp = log_softmax(P, axis=-1)
        return -np.sum(np.exp(lp) * lp, axis=-1)

    emit("batch", "log_softmax_4096x32000_f32", timed(lambda: log_softmax(P, axis=-1), 3))
    emit("batch", "entropy_4096x32000_f32", timed(entropy, 3))
    emit("batch", "kl_4096x32000_f32", timed(kl, 3))
    del P, Q

if wanted("rl"):
    from scipy.signal import lfilter
    n = 1_000_000
    i = np.arange(n, dtype=np.int64)
    r = ((i * 7919) % 1000) / 1000 - 0.5
    v = ((i * 104729) % 1000) / 1000
    d = (i % 128 == 127).astype(np.float64)

    def gae_loop():
        # TRL's PPO loop, (1 - done) as RL libraries write it; numpy cannot vectorise the recurrence
        adv = np.empty(n)
        lastgaelam, nextv = 0.0, 0.0
        r_, v_, nt = r.tolist(), v.tolist(), (1 - d).tolist()
        for t in range(n - 1, -1, -1):
            delta = r_[t] + 0.99 * nextv * nt[t] - v_[t]
            lastgaelam = delta + 0.99 * 0.95 * nt[t] * lastgaelam
            adv[t] = lastgaelam
            nextv = v_[t]
        return adv, adv + v

    emit("rl", "gae_1e6_tensor_dones", timed(gae_loop, 3))
    emit("rl", "returns_1e6_nodones", timed(lambda: lfilter([1], [1, -0.99], r[::-1])[::-1], 31))
    lp = -((i * 7919) % 1000) / 250 - 0.01
    ref = lp + (((i * 104729) % 1000) / 1000 - 0.5)

    def k3():
        logr = ref - lp
        return np.expm1(logr) - logr

    emit("rl", "kl_k3_1e6", timed(k3, 31))
    emit("rl", "kl_k1_1e6", timed(lambda: lp - ref, 31))
    emit("rl", "whiten_1e6", timed(lambda: (r - r.mean()) / np.sqrt(r.var(ddof=1) + 1e-8), 31))

    def grpo():
        g = r.reshape(-1, 16)
        return ((g - g.mean(axis=1, keepdims=True)) / (g.std(axis=1, ddof=1, keepdims=True) + 1e-4)).reshape(-1)

    def rloo():
        g = r.reshape(-1, 16)
        return (g - (g.sum(axis=1, keepdims=True) - g) / 15).reshape(-1)

    emit("rl", "group_advantages_1e6_g16", timed(grpo, 31))
    emit("rl", "group_advantages_1e6_g16_rloo", timed(rloo, 31))

if wanted("pref"):
    i = np.arange(1_000_000, dtype=np.int64)
    pc = -50 - ((i * 31) % 1000) / 20
    pr = -55 - ((i * 17) % 1000) / 20
    rc = pc + ((i * 13) % 100) / 50 - 1
    rr = pr + ((i * 7) % 100) / 50 - 1

    def dpo_sigmoid(beta=0.1):
        # TRL 1.x dpo_trainer.py, loss_type="sigmoid", as Benchmarks/peers_rl.py
        chosen_logratios, rejected_logratios = pc - rc, pr - rr
        x = beta * (chosen_logratios - rejected_logratios)
        losses = -(np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))))
        cr, rj = beta * chosen_logratios, beta * rejected_logratios
        return losses.mean(), (cr > rj).mean(), (cr - rj).mean()

    emit("pref", "dpo_sigmoid_1e6", timed(dpo_sigmoid, 15))

    def pass_at_k(num_samples, num_correct, k):  # openai/human-eval estimate_pass_at_k
        def estimator(n, c, k):
            if n - c < k:
                return 1.0
            return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))
        return np.array([estimator(int(n), int(c), k) for n, c in zip(num_samples, num_correct)])

    ns, cs = np.full(100_000, 200), (np.arange(100_000) * 37) % 201
    emit("pref", "pass_at_k_1e5", timed(lambda: pass_at_k(ns, cs, 10), 3))


def make_texts(count, seed):
    out = []
    for t in range(1, count + 1):
        k = (t * 2654435761 + seed) & M64
        length = 40 + (k >> 7) % 41
        words = []
        for w in range(1, length + 1):
            h = (((t * 1000003 + w * 7919 + seed) * 0x9E3779B97F4A7C15) & M64) >> 40
            words.append("w%d" % math.floor(5000 * ((h % 100000) / 100000) ** 3))
        out.append(" ".join(words))
    return out


if wanted("text"):
    import re
    import string
    from collections import Counter
    texts = make_texts(20000, 0)

    def distinct(ts, n):
        seen, total = set(), 0
        for t in ts:
            toks = t.split()
            grams = list(zip(*(toks[k:] for k in range(n))))
            seen.update(grams)
            total += len(grams)
        return len(seen) / total if total else 0.0

    def rep(text, n=3):
        toks = text.split()
        grams = list(zip(*(toks[k:] for k in range(n))))
        return 1 - len(set(grams)) / len(grams) if grams else 0.0

    emit("text", "distinct_2_20k_texts", timed(lambda: distinct(texts, 2), 9))
    emit("text", "repetition_3_20k_calls", timed(lambda: [rep(t) for t in texts], 9))
    recs = [{"completion": t} for t in texts]
    emit("text", "repetition_reward_20k_calls", timed(lambda: [-rep(s["completion"]) for s in recs], 9))

    def normalize_answer(s):  # SQuAD v1.1 evaluate-v1.1.py
        def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
        def white_space_fix(text): return ' '.join(text.split())
        def remove_punc(text):
            exclude = set(string.punctuation)
            return ''.join(ch for ch in text if ch not in exclude)
        return white_space_fix(remove_articles(remove_punc(s.lower())))

    def f1_score(prediction, ground_truth):
        prediction_tokens = normalize_answer(prediction).split()
        ground_truth_tokens = normalize_answer(ground_truth).split()
        common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
        num_same = sum(common.values())
        if num_same == 0:
            return 0
        precision = 1.0 * num_same / len(prediction_tokens)
        recall = 1.0 * num_same / len(ground_truth_tokens)
        return (2 * precision * recall) / (precision + recall)

    other = make_texts(20000, 99)
    emit("text", "token_f1_20k_pairs", timed(lambda: [f1_score(a, b) for a, b in zip(texts, other)], 9))
    short = ["The " + t[:30] + "!" for t in texts]
    emit("text", "token_f1_20k_short_pairs", timed(lambda: [f1_score(a, b[:40]) for a, b in zip(short, other)], 9))

if wanted("random"):
    g = random.Random(42)
    n = 10_000_000

    def draws():
        s = 0.0
        u = g.random
        for _ in range(n):
            s += u()
        return s

    def draws_attr():
        s = 0.0
        for _ in range(n):
            s += g.random()
        return s

    emit("random", "uniform_1e7_calls", timed(draws_attr, 5))
    emit("random", "uniform_1e7_calls_bound_method", timed(draws, 5))

if wanted("data"):
    path = os.environ.get("MOONLAB_BENCH_CSV", "/tmp/moonlab_bench.csv")
    if not os.path.exists(path):
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "prompt", "completion", "score", "label"])
            texts = make_texts(20000, 5)
            for k in range(400_000):
                t = texts[k % len(texts)]
                w.writerow([k, t[:60], t if k % 7 else '"quoted", ' + t, ((k * 7919) % 1000) / 100, "yes" if k % 3 else "no"])
    size = os.path.getsize(path)

    def reader():
        with open(path, newline="") as fh:
            return sum(1 for _ in csv.reader(fh))

    def dict_reader():
        with open(path, newline="") as fh:
            return sum(1 for _ in csv.DictReader(fh))

    best = timed(reader, 5)
    emit("data", "csv_each", best, mb_per_s=round(size / 1e6 / best[0], 1), reader="csv.reader")
    best = timed(dict_reader, 5)
    emit("data", "csv_each_dictreader", best, mb_per_s=round(size / 1e6 / best[0], 1))

if wanted("plot"):
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    n = 1_000_000
    i = np.arange(1, n + 1)
    y = np.sin(i / 5000) + ((i * 7919) % 1000) / 4000
    path = "/tmp/moonlab_bench_plot.svg"

    def line():
        fig, ax = plt.subplots(figsize=(7.2, 4.5))
        ax.plot(y)
        fig.savefig(path)
        plt.close(fig)

    best = timed(line, 5)
    emit("plot", "line_1e6_svg", best, svg_bytes=os.path.getsize(path))

if wanted("selfcheck"):
    import spacy
    from collections import Counter

    def passage(seed, sentences):
        out = []
        for s in range(1, sentences + 1):
            words = []
            length = 12 + (s * 7 + seed) % 15
            for w in range(1, length + 1):
                h = (((s * 1000003 + w * 7919 + seed * 31) * 0x9E3779B97F4A7C15) & M64) >> 40
                word = "w%d" % math.floor(3000 * ((h % 100000) / 100000) ** 3)
                if w == 1:
                    word = word.upper()
                if h % 11 == 0:
                    word += ","
                words.append(word)
            out.append(" ".join(words) + ("?" if s % 9 == 0 else "."))
        return " ".join(out)

    samples = [passage(k, 200) for k in range(1, 21)]
    main = passage(0, 200)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    sents = [s.text.strip() for s in nlp(main).sents]

    def selfcheck(n):
        # selfcheckgpt's UnigramModel / NgramModel (modeling_ngram.py): add, train(k=0), evaluate
        counts, total = Counter(), 0
        for text in [main] + samples:
            for sent in nlp(text).sents:  # selfcheckgpt's add: the stripped sentence tokenized again
                toks = [t.text.lower() for t in nlp(sent.text.strip())]
                grams = toks if n == 1 else list(zip(*([["<s>"] * (n - 1) + toks][0][k:] for k in range(n))))
                counts.update(grams)
                total += len(toks)
        vocab = len(counts) + 1
        out = []
        for s in sents:
            toks = [t.text.lower() for t in nlp(s)]
            grams = toks if n == 1 else list(zip(*([["<s>"] * (n - 1) + toks][0][k:] for k in range(n))))
            lps = [-math.log(counts[g] / total) if counts[g] else math.inf for g in grams]
            out.append((sum(lps) / len(toks), max(lps)))
        return out

    ntok = sum(len(d) for d in nlp.pipe([main] + samples))
    emit("selfcheck", "selfcheck_ngram_n1_20_samples", timed(lambda: selfcheck(1), 5), tokens=ntok)
    emit("selfcheck", "selfcheck_ngram_n3_20_samples", timed(lambda: selfcheck(3), 5), tokens=ntok)
    # the counting alone, spaCy's tokens made beforehand (what moonlab's time includes: its
    # own tokenizer runs inside the call)
    model_sents = [[t.text.lower() for t in nlp(s.text.strip())] for text in [main] + samples for s in nlp(text).sents]
    eval_sents = [[t.text.lower() for t in nlp(s)] for s in sents]

    def counting(n):
        counts, total = Counter(), 0
        for toks in model_sents:
            grams = toks if n == 1 else list(zip(*([["<s>"] * (n - 1) + toks][0][k:] for k in range(n))))
            counts.update(grams)
            total += len(toks)
        out = []
        for toks in eval_sents:
            grams = toks if n == 1 else list(zip(*([["<s>"] * (n - 1) + toks][0][k:] for k in range(n))))
            lps = [-math.log(counts[g] / total) if counts[g] else math.inf for g in grams]
            out.append((sum(lps) / len(toks), max(lps)))
        return out

    emit("selfcheck", "selfcheck_ngram_n1_counting_only", timed(lambda: counting(1), 9), tokens=ntok)
    emit("selfcheck", "selfcheck_ngram_n3_counting_only", timed(lambda: counting(3), 9), tokens=ntok)
