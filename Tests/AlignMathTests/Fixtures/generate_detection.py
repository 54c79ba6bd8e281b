#!/usr/bin/env python3
"""Reference values for AlignMath's Detection tests (DetectionTests*.swift).

Run from anywhere with a Python that has numpy, spacy (3.x) and nltk, plus the
selfcheckgpt package (pip install --no-deps selfcheckgpt):
    python3 Tests/AlignMathTests/Fixtures/generate_detection.py
Writes detection_*.json beside this file. Nothing here is a runtime dependency.
    python3 Tests/AlignMathTests/Fixtures/generate_detection.py --exceptions
rewrites Sources/AlignMath/Detection/SpacyEnglishExceptions.swift from spaCy's English
tokenizer exceptions (spacy.blank("en").tokenizer.rules).

Sources, read and cited:
- selfcheckgpt (potsawee/selfcheckgpt, selfcheckgpt/modeling_ngram.py and
  modeling_selfcheck.py SelfCheckNgram.predict: add(passage), add(each sample),
  train(k=0), evaluate(sentences)). The package is run as published. Its
  spacy.load("en_core_web_sm") is replaced by spacy.blank("en") + the rule-based
  "sentencizer": the tokenizer is the same English tokenizer (prefix/suffix/infix rules
  and exceptions of spacy/lang/punctuation.py, spacy/lang/en/*), and the sentencizer is
  what moonlab implements; with it the README's published numbers are reproduced.
- POPE (RUCAIBox/POPE, evaluate.py): answer parsing and metrics, re-stated below line
  by line in pope_evaluate().
- Token uncertainty, perplexity, semantic entropy (Kuhn et al. 2023; Farquhar et al.
  2024, semantic_uncertainty/uncertainty_measures: logsumexp_by_id 'sum_normalized' and
  predictive_entropy_rao) and rep-n (Welleck et al. 2019) in numpy below.
"""
import json, os, sys, importlib.util
import numpy as np
import spacy

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "../../../Examples/data")  # the repository's copy (SOURCES.md there)


def blank_english(_name=None):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


spacy.load = blank_english
import selfcheckgpt  # noqa: E402
spec = importlib.util.spec_from_file_location(
    "modeling_ngram", os.path.join(os.path.dirname(selfcheckgpt.__file__), "modeling_ngram.py"))
ngram = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ngram)


def selfcheck_ngram(sentences, passage, samples, n):
    # SelfCheckNgram.predict, as modeling_selfcheck.py writes it
    model = ngram.UnigramModel(lowercase=True) if n == 1 else ngram.NgramModel(n=n, lowercase=True)
    model.add(passage)
    for s in samples:
        model.add(s)
    model.train(k=0)
    out = model.evaluate(sentences)
    f = lambda xs: [float(x) for x in xs]
    return {"sentences": {"avg_neg_logprob": f(out["sent_level"]["avg_neg_logprob"]),
                          "max_neg_logprob": f(out["sent_level"]["max_neg_logprob"])},
            "doc": {"avg_neg_logprob": float(out["doc_level"]["avg_neg_logprob"]),
                    "avg_max_neg_logprob": float(out["doc_level"]["avg_max_neg_logprob"])}}


def write(name, obj):
    with open(os.path.join(HERE, name), "w") as fh:
        json.dump(obj, fh, indent=1, ensure_ascii=False, allow_nan=True)
        fh.write("\n")


def selfcheck_fixture():
    demo = json.load(open(os.path.join(DATA, "selfcheckgpt/selfcheckgpt_demo_texts.json")))
    nlp = blank_english()
    cases = []
    r = demo["readme_example"]
    cases.append({"name": "readme", "sentences": r["sentences"], "passage": r["passage"],
                  "samples": r["sampled_passages"],
                  "published_n1": {"sentences": r["published_selfcheck_ngram_n1_output"]["sent_level"],
                                   "doc": r["published_selfcheck_ngram_n1_output"]["doc_level"]}})
    d = demo["demo1"]
    for key in ("passage", "passage_edited"):
        sents = [s.text.strip() for s in nlp(d[key]).sents]
        cases.append({"name": "demo1_" + key, "sentences": sents, "passage": d[key],
                      "samples": d["sampled_passages"]})
    h = demo["hallucination_detection_notebook"]
    cases.append({"name": "phi2", "sentences": h["sentences"], "passage": h["response"],
                  "samples": [h["sample0"]]})
    for c in cases:
        for n in (1, 2, 3):
            c["n%d" % n] = selfcheck_ngram(c["sentences"], c["passage"], c["samples"], n)
        c["passage_sentences"] = [s.text.strip() for s in nlp(c["passage"]).sents]
    # tokenizer and sentencizer cases: real passages plus prose edge cases
    texts = [c["passage"] for c in cases] + [s for c in cases for s in c["samples"]] + [
        "Michael Alan Weiner (born March 31, 1942),[2] is an American's host.",
        "He said \"hello\"... then left!? (See p. 3.) It's 5:30 p.m. in the U.S., isn't it?",
        "I can't, won't and shouldn't go -- well-known e.g. i.e. Dr. Smith's 10km run cost $5.50/day.",
        "Prices rose 3.5% to US$10,000; the co-founder (a Ph.D.) emailed info@example.com at https://example.com/x?y=1.",
        "Don't stop.\n\nNew paragraph here:  two spaces; tabs\tand ‘quotes’ — dashes – here…",
        "Mr. and Mrs. Jones arrived at 9 a.m. They're late. What?! No... Yes.",
        "The 1990s-era A.I. boom; 2+2=4, 1-2, x/y and 100°C. Hello.World, a,b",
        "'Tis the season, y'all. ’Twas great. Gonna go, wanna come? LOL :) <3",
    ]
    tok = [{"text": t, "tokens": [x.text for x in nlp(t)],
            "sentences": [s.text.strip() for s in nlp(t).sents]} for t in texts]
    write("detection_selfcheck.json", {"cases": cases, "tokenizer": tok, "spacy": spacy.__version__})


def pope_evaluate(answers, labels):
    # RUCAIBox/POPE evaluate.py, step by step
    parsed = []
    for text in answers:
        if text.find('.') != -1:
            text = text.split('.')[0]
        text = text.replace(',', '')
        words = text.split(' ')
        parsed.append('no' if ('No' in words or 'not' in words or 'no' in words) else 'yes')
    label_list = [0 if l == 'no' else 1 for l in labels]
    pred_list = [0 if a == 'no' else 1 for a in parsed]
    yes_ratio = pred_list.count(1) / len(pred_list)
    TP = TN = FP = FN = 0
    for pred, label in zip(pred_list, label_list):
        if pred == 1 and label == 1: TP += 1
        elif pred == 1 and label == 0: FP += 1
        elif pred == 0 and label == 0: TN += 1
        elif pred == 0 and label == 1: FN += 1
    precision = float(TP) / float(TP + FP)
    recall = float(TP) / float(TP + FN)
    f1 = 2 * precision * recall / (precision + recall)
    acc = (TP + TN) / (TP + TN + FP + FN)
    return parsed, {"accuracy": acc, "precision": precision, "recall": recall, "f1": f1,
                    "yes_ratio": yes_ratio, "tp": TP, "fp": FP, "tn": TN, "fn": FN}


def pope_fixture():
    path = os.path.join(DATA, "POPE/coco/coco_pope_adversarial.json")
    qs = [json.loads(l) for l in open(path)]
    templates_yes = ["Yes, there is a {o} in the image.", "Yes", "yes.", "There is a {o}. It is not red.",
                     "I think so, a {o} is visible", "Yes,no doubt"]
    templates_no = ["No, there is no {o} in the image.", "No", "There is not a {o}.", "no.",
                    "NO", "Nope, nothing", "No.", "There isn't any {o}"]
    answers = []
    for i, q in enumerate(qs):
        obj = q["text"].replace("Is there a ", "").replace(" in the image?", "")
        right = (i * 7919) % 10 < 8  # a fixed 80 %-ish accurate answerer
        says_yes = (q["label"] == "yes") == right
        pool = templates_yes if says_yes else templates_no
        answers.append(pool[(i * 31) % len(pool)].format(o=obj))
    parsed, metrics = pope_evaluate(answers, [q["label"] for q in qs])
    write("detection_pope.json", {"question_file": "POPE/coco/coco_pope_adversarial.json",
                                  "answers": answers, "labels": [q["label"] for q in qs],
                                  "parsed": parsed, "metrics": metrics})


def entropy(p):
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def uncertainty_fixture():
    resp = json.load(open(os.path.join(DATA, "openai-logprobs-radicalbit/text-generation.json")))
    resp = resp[0] if isinstance(resp, list) else resp
    content = resp["choices"][0]["logprobs"]["content"]
    lp = np.array([c["logprob"] for c in content])
    real = {"tokens": [c["token"] for c in content], "logprobs": lp.tolist(),
            "avg_neg_logprob": float(np.mean(-lp)), "max_neg_logprob": float(np.max(-lp)),
            "perplexity": float(np.exp(np.mean(-lp)))}
    rng = np.random.default_rng(7)
    tops, chosen = [], []
    for _ in range(12):
        logits = rng.normal(size=8) * 2
        logp = logits - np.log(np.exp(logits).sum())
        order = np.argsort(-logp)[:5]
        tops.append([float(logp[j]) for j in order])
        chosen.append(float(logp[order[rng.integers(0, 3)]]))
    ent_renorm = [entropy(np.exp(t) / np.exp(t).sum()) for t in tops]
    ent_raw = [float(-(np.exp(t) * np.array(t)).sum()) for t in tops]
    synthetic = {"logprobs": chosen, "top_logprobs": tops,
                 "avg_neg_logprob": float(np.mean(-np.array(chosen))), "max_neg_logprob": float(np.max(-np.array(chosen))),
                 "avg_entropy": float(np.mean(ent_renorm)), "max_entropy": float(np.max(ent_renorm)),
                 "avg_entropy_raw": float(np.mean(ent_raw)), "max_entropy_raw": float(np.max(ent_raw)),
                 "perplexity": float(np.exp(np.mean(-np.array(chosen))))}
    # semantic entropy: clusters by a fixed equivalence (same first word, case-folded)
    samples = ["Paris is the capital.", "paris, of course", "Lyon I think", "Paris.", "Marseille", "lyon"]
    key = lambda s: s.split()[0].strip(".,").lower()
    ids, reps = [], []
    for s in samples:
        for ci, r in enumerate(reps):
            if key(s) == key(r):
                ids.append(ci); break
        else:
            reps.append(s); ids.append(len(reps) - 1)
    ids = np.array(ids)
    counts = np.bincount(ids)
    discrete = entropy(counts / counts.sum())
    loglik = np.array([-1.2, -2.5, -3.0, -0.7, -4.1, -2.2])
    norm = loglik - np.logaddexp.reduce(loglik)  # 'sum_normalized'
    per_id = np.array([np.logaddexp.reduce(norm[ids == c]) for c in range(len(counts))])
    weighted = float(-(np.exp(per_id) * per_id).sum())  # predictive_entropy_rao
    sem = {"samples": samples, "cluster_ids": ids.tolist(), "discrete": discrete,
           "loglik": loglik.tolist(), "weighted": weighted}
    # rep-n (Welleck et al. 2019): 1 - unique n-grams / n-grams, whitespace tokens
    def rep(text, n):
        t = text.split()
        grams = [tuple(t[i:i + n]) for i in range(len(t) - n + 1)]
        return 0.0 if not grams else 1.0 - len(set(grams)) / len(grams)
    rtexts = ["the cat sat on the mat the cat sat on the mat", "a b c d e f", "go go go go go", "short",
              "I think I think I think that that is is fine"]
    repetition = [{"text": t, "n": n, "score": rep(t, n)} for t in rtexts for n in (1, 2, 3)]
    write("detection_uncertainty.json", {"real": real, "synthetic": synthetic,
                                         "semantic": sem, "repetition": repetition})


def exceptions_swift():
    from spacy.symbols import ORTH
    rules = spacy.blank("en").tokenizer.rules

    def esc(s):
        out = []
        for ch in s:
            if ch == '\\': out.append('\\\\')
            elif ch == '"': out.append('\\"')
            elif ord(ch) < 0x20 or ch in '\u00a0\u2028\u2029' or ord(ch) == 0x7f: out.append('\\u{%X}' % ord(ch))
            else: out.append(ch)
        return ''.join(out)
    entries = []
    for k in sorted(rules):
        pieces = [d[ORTH] for d in rules[k]]
        assert ''.join(pieces) == k, k
        entries.append('"' + esc('\x1f'.join(pieces)) + '"')
    lines, cur = [], ""
    for e in entries:
        if len(cur) + len(e) + 2 > 96:
            lines.append(cur.rstrip()); cur = ""
        cur += e + ", "
    lines.append(cur.rstrip())
    target = os.path.join(HERE, "../../../Sources/AlignMath/Detection/SpacyEnglishExceptions.swift")
    src = open(target).read()
    head = src[:src.index("    static let entries: [String] = [") + len("    static let entries: [String] = [\n")]
    tail = src[src.index("\n    ]\n\n    /// Span text"):]
    head = head.replace(head[head.index("/// The "):head.index(" entries, sorted")], "/// The %d" % len(entries))
    with open(target, "w") as fh:
        fh.write(head + "\n".join("        " + l for l in lines) + tail)


if __name__ == "__main__":
    if "--exceptions" in sys.argv:
        exceptions_swift()
        sys.exit(0)
    selfcheck_fixture()
    pope_fixture()
    uncertainty_fixture()
    print("wrote detection_*.json", file=sys.stderr)
