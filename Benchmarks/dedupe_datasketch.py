"""The near-duplicate pass with datasketch (the peer of synth.dedupe): MinHash over 5-word
shingles of the lower-cased, whitespace-split text, 128 permutations, MinHashLSH at the
same threshold; a record is a duplicate when a kept candidate's estimated Jaccard reaches
the threshold (the lowest-numbered such candidate is named). Prints the time and the
clusters found, and writes the dropped ids and whom they matched for comparison.

    /work/venv-peers/bin/python Benchmarks/dedupe_datasketch.py /tmp/dedupe.jsonl 0.85 /tmp/dedupe_py.json
"""
import json, sys, time
from datasketch import MinHash, MinHashLSH

path = sys.argv[1]
threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.85
out = sys.argv[3] if len(sys.argv) > 3 else None
records = [json.loads(l) for l in open(path)]
t0 = time.perf_counter()
lsh = MinHashLSH(threshold=threshold, num_perm=128)
hashes = {}
dropped = {}
for r in records:
    words = r["question"].lower().split()
    k = min(5, len(words))
    shingles = {" ".join(words[i:i + k]).encode() for i in range(len(words) - k + 1)}
    m = MinHash(num_perm=128)
    m.update_batch(list(shingles))
    best = None
    for c in lsh.query(m):
        if (best is None or c < best) and m.jaccard(hashes[c]) >= threshold:
            best = c
    if best is None:
        lsh.insert(r["id"], m)
        hashes[r["id"]] = m
    else:
        dropped[r["id"]] = best
seconds = time.perf_counter() - t0
planted = sum(1 for r in records if r["dup_of"] is not None)
print("datasketch: %d records in %.2f s; b=%d r=%d; dropped %d (planted %d)" % (len(records), seconds, lsh.b, lsh.r, len(dropped), planted))
if out:
    json.dump({"seconds": seconds, "dropped": dropped}, open(out, "w"))
