"""Writes the near-duplicate benchmark's records: N texts of ~40 words (vocabulary of 5,000
words, Zipf-like); every 20th one is planted, in turn: an exact copy of an earlier text, a
copy in other case and spacing (the same shingles once lower-cased and split), and a copy
with its first or last word changed (5-word-shingle Jaccard 35/37 = 0.946; at 128
permutations LSH's 8 bands of 16 rows catch such a pair with probability 98.5%). One JSON object per line: {"id": i, "question": text, "dup_of": j or null}.

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
            kind = (i // 20) % 3
            if kind == 1:  # the same words, other case and spacing: Jaccard 1 after normalising
                words = [w.upper() if k % 3 == 0 else w for k, w in enumerate(words)]
                text = "  ".join(words) + "\n"
            else:
                if kind == 2:  # first or last word changed: Jaccard 35/37
                    words[rng.choice((0, 39))] = "changed%d" % i
                text = " ".join(words)
            dup = j
        else:
            text = " ".join(rng.choices(vocab, weights, k=40))
        texts.append((text, dup))
        f.write(json.dumps({"id": i, "question": text, "dup_of": dup}) + "\n")
