"""Writes the near-duplicate benchmark's records: N texts of ~40 words (vocabulary of 5,000
words, Zipf-like); every 20th one is planted: alternately an exact copy of an earlier text
and a copy with one of its 40 words changed (5-word-shingle Jaccard to the original 0.76
to 0.95, depending on where the word is). One JSON object per line: {"id": i, "question": text, "dup_of": j or null}.

    python3 Benchmarks/dedupe_data.py 100000 /tmp/dedupe.jsonl
"""
import json, random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/dedupe.jsonl"
rng = random.Random(12345)
vocab = ["w%d" % i for i in range(5000)]
weights = [1.0 / (i + 1) ** 0.8 for i in range(5000)]
texts = []
with open(out, "w") as f:
    for i in range(n):
        dup = None
        if i % 20 == 19 and i > 100:
            j = rng.randrange(max(0, i - 5000), i - 1)
            while texts[j][1] is not None:
                j -= 1
            words = texts[j][0].split()
            if i % 40 == 39:
                words[rng.randrange(40)] = "changed%d" % i
            text, dup = " ".join(words), j
        else:
            text = " ".join(rng.choices(vocab, weights, k=40))
        texts.append((text, dup))
        f.write(json.dumps({"id": i, "question": text, "dup_of": dup}) + "\n")
