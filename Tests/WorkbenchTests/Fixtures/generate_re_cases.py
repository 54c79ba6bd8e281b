#!/usr/bin/env python3
"""Writes re_cases.json: what Python's `re` does with a corpus of patterns, for moonlab's
`re` module to be checked against (Tests/WorkbenchTests/ReModuleTests.swift).

Run by hand (never in CI): python3 Tests/WorkbenchTests/Fixtures/generate_re_cases.py
The Python version is recorded in the file.

Each case is a pattern, moonlab flags letters, and subjects; for each subject the spans of
search, match and fullmatch (0-based byte offsets [start, end] per group, null for a group
that did not take part, null for no match), findall, sub with a template, and split.
Patterns without the u flag are compared with re.ASCII on ASCII text, which is what a
bytes pattern does; with u, Unicode str semantics on UTF-8 text, offsets in bytes.
The patterns include those of TRL's and verl's reward functions (named per case).
"""
import json
import re
import sys

CASES = [
    # TRL 1.x trl/rewards/format_rewards.py think_format_reward, with DOTALL | MULTILINE
    ("trl think_format_reward", r"^<think>(?!.*<think>)(.*?)</think>.*$", "sm",
     ["<think>\nreasoning\n</think>\nanswer", "<think>a<think>b</think>c", "no think", "<think>x</think>"]),
    # TRL docs (GRPO, RLOO) format reward
    ("trl docs format", r"^<think>.*?</think><answer>.*?</answer>$", "",
     ["<think>a</think><answer>b</answer>", "<think>a</think> <answer>b</answer>", "<think>a</think><answer>b</answer>\n",
      "<think>a\n</think><answer>b</answer>"]),
    ("trl notebook format", r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "",
     ["<think>\nx\n</think>\n<answer>\n4\n</answer>", "<think>\nx\n</think>\n<answer>\n4\n</answer>\n", "<think>x</think>"]),
    ("trl reasoning format", r"<reasoning>.*?</reasoning>\s*<answer>.*?</answer>", "s",
     ["pre <reasoning>r\nr</reasoning>\n\n<answer>a</answer> post", "<reasoning>r</reasoning><answer>"]),
    ("trl loose format", r"<think>.*?</think>.*?<answer>.*?</answer>", "",
     ["<think>1</think> so <answer>2</answer>", "<answer>2</answer><think>1</think>"]),
    ("benchmark format", r"<think>.*?</think>\s*<answer>.*?</answer>\Z", "s",
     ["<think>a b</think> <answer>3</answer>", "<think>a</think> <answer>3</answer>\n", "x<think>a</think><answer>3</answer>"]),
    ("trl gsm8k answer", r"####\s*([\d,]+)", "", ["so #### 1,234 done", "#### x", "####12####34"]),
    ("trl sdpo numbers", r"(-?\$?[0-9][0-9,]*(?:\.[0-9]+)?)", "", ["cost $1,200.50 and -3 or 4.", "none"]),
    ("trl yes/no", r"\*(yes|no)\*", "", ["I say *yes* and *no*", "*maybe*"]),
    ("trl code fence", r"```(?:python)?\s*\n(.*?)```", "s", ["text ```python\nprint(1)\n``` after", "```\nx```"]),
    ("trl sdft strip", r"^```(?:json)?\s*", "", ["```json\n{}", "  ```"]),
    ("trl sdft strip end", r"\s*```$", "", ["{}\n```", "```x"]),
    ("trl chat template", r"\{%-?\s*generation\s*-?%\}", "", ["{% generation %}", "{%- generation -%}", "{% gen %}"]),
    # verl 0.x verl/utils/reward_score
    ("verl gsm8k strict", "#### (\\-?[0-9\\.\\,]+)", "", ["The answer is #### -1,234.5", "#### 7 and #### 8", "no"]),
    ("verl gsm8k flexible", "(\\-?[0-9\\.\\,]+)", "", ["a 1 b -2.5, c 3,000.", "..."]),
    ("verl geo3k", r"<think>.*</think>.*\\boxed\{.*\}.*", "s",
     ["<think>t</think> so \\boxed{3}.", "<think>t</think> no box", "\\boxed{1}<think>t</think>"]),
    ("verl math_dapo answer", r"(?i)Answer\s*:\s*([^\n]+)", "", ["Final answer: 42\nmore", "ANSWER:x", "no"]),
    ("verl math_dapo dollars", r"(.*?)(\$)(.*?)(\$)(.*)", "", ["so $x^2$ done", "no dollars"]),
    ("verl math_dapo text", r"(\\text\{)(.*?)(\})", "", ["\\text{cm} and \\text{m}", "none"]),
    ("verl math_dapo boxed", r"(\\boxed\{)(.*)(\})", "", ["\\boxed{\\frac{1}{2}}", "x"]),
    ("verl math_dapo frac", r"(frac)([^{])(.)", "", ["\\frac12", "\\frac{1}{2}"]),
    ("verl math_dapo sqrt", r"(sqrt)([^{])", "", ["\\sqrt2", "\\sqrt{2}"]),
    ("verl prime frac", r"^-?[0-9]+.?/0*[1-9][0-9]*.?$", "", ["-3/04", "3/0", "12 /5 "]),
    ("verl prime digits", r"([0-9]) +([0-9])", "", ["1 000 000", "12"]),
    ("verl prime thousands", r"(\d)(,)(\d\d\d)($|\D)", "", ["1,000,000", "1,00", "2,345x"]),
    ("verl prime text", r"^\\text\{(?P<text>.+?)\}$", "", ["\\text{yes}", "\\text{}", "x\\text{a}"]),
    ("verl prime units", r"cm(es)?(s)? *(\^[0-9]+)?", "", ["12 cm^2 and 3cms", "none"]),
    ("verl prime circ", r"\^ *\\circ", "", ["90^\\circ", "90 ^ \\circ"]),
    ("verl prime bad", r"\^[0-9]+\^", "", ["2^3^4", "2^3"]),
    ("verl prime bad2", r"\^[0-9][0-9]+", "", ["x^12", "x^1"]),
    ("verl prime dollar", r"\$\d+(\.\d+)?", "", ["$12.50", "12"]),
    ("verl prime percent", r"^\d+(\.\d+)?%$", "", ["12.5%", "12%x"]),
    ("verl search_r1 article", r"\b(a|an|the)\b", "", ["the cat ate an apple a day", "theatre"]),
    ("verl search_r1 answer", r"<answer>(.*?)</answer>", "s", ["<answer>a</answer> <answer>b\nc</answer>", "<answer>"]),
    # Features Python and PCRE2 spell or mean differently, and the rest of the syntax
    ("\\Z is the very end", r"a\Z", "", ["a", "a\n", "ab"]),
    ("$ before a final newline", r"a$", "", ["a", "a\n", "a\n\n"]),
    ("$ multiline", r"^\w+$", "m", ["ab\ncd\n", "x"]),
    ("{,n} counted repeat", r"a{,2}b", "", ["aaab", "b", "a{,2}b"]),
    ("{n,} and {n,m}", r"x{2,}y{1,3}", "", ["xxxyyyy", "xy"]),
    ("literal brace", r"a{b", "", ["a{b"]),
    ("non-capturing alternation", r"(?:cat|dog)s?", "", ["dogs and a cat", "bird"]),
    ("named group and backreference", r"(?P<q>['\"]).*?(?P=q)", "", ["say \"hi\" or 'yo'", "'unclosed"]),
    ("numbered backreference", r"(\w)\1", "", ["hello", "abc"]),
    ("lookahead", r"\d+(?=px)", "", ["12px 3em 40px"]),
    ("negative lookahead", r"\b(?!un)\w+", "", ["undo redo unit"]),
    ("lookbehind", r"(?<=\$)\d+", "", ["cost $40 or 50"]),
    ("negative lookbehind", r"(?<!\$)\b\d+", "", ["cost $40 or 50"]),
    ("lazy", r"<.+?>", "", ["<a><b>"]),
    ("greedy", r"<.+>", "", ["<a><b>"]),
    ("possessive", r"a++b", "", ["aaab", "aaa"]),
    ("atomic group", r"(?>a+)b", "", ["aab", "aa"]),
    ("conditional", r"(<)?\w+(?(1)>)", "", ["<a> b <c"]),
    ("ignore case", r"hello", "i", ["HeLLo world", "help"]),
    ("inline ignore case", r"(?i)hello", "", ["HELLO"]),
    ("scoped inline flag", r"a(?i:b)c", "", ["aBc", "ABc"]),
    ("inline ascii flag", r"(?a)\w+", "", ["abc def"]),
    ("verbose", r"""\d+  # digits
                    \s* [a-z ]+  # words""", "x", ["12 ab c", "x"]),
    ("dot and newline", r"a.b", "", ["a\nb", "axb"]),
    ("dotall", r"a.b", "s", ["a\nb"]),
    ("\\A anchor", r"\Ab", "", ["ab", "b"]),
    ("word boundary", r"\bis\b", "", ["this is it", "island"]),
    ("not word boundary", r"\Bis\B", "", ["this", "mist"]),
    ("classes", r"[\w.-]+@[\w-]+\.[a-z]{2,}", "", ["mail me at a.b-c@ex-ample.org now"]),
    ("class with ] first", r"[]a]+", "", ["]a]b"]),
    ("negated class", r"[^\d\s]+", "", ["ab 12 cd3"]),
    ("escapes", r"\t\n\x41\101", "", ["\t\nAA"]),
    ("empty matches", r"x*", "", ["abxd", "", "xx"]),
    ("empty alternative", r"a|", "", ["bab"]),
    ("optional groups", r"(a)?(b)?c", "", ["c", "ac", "bc"]),
    ("many groups in findall", r"(\d+)-(\d+)?", "", ["1-2 3- 4-5"]),
    ("split with groups", r"(-)|(\+)", "", ["1-2+3"]),
    ("split on spaces", r"\s+", "", ["  a b\tc  "]),
    ("unicode word", r"\w+", "u", ["café naïve Ω", "東京 tower"]),
    ("unicode ignore case", r"straße|ÉTÉ", "iu", ["STRASSE straße été"]),
    ("unicode dot", r"^.{4}$", "u", ["café", "cafe"]),
    ("unicode escape", r"\u00e9+", "u", ["éé e"]),
    ("unicode digit", r"\d+", "u", ["٣٤ and 12"]),
    ("ascii word on utf-8 bytes", r"\w+", "", ["ab cd"]),
]

SUBS = {
    "trl gsm8k answer": r"<\1>",
    "verl math_dapo dollars": "$\\3$",
    "verl math_dapo text": "\\2",
    "verl math_dapo boxed": "\\2",
    "verl math_dapo frac": "frac{\\2}{\\3}",
    "verl math_dapo sqrt": "sqrt{\\2}",
    "verl search_r1 article": " ",
    "named group and backreference": r"[\g<q>]",
    "empty matches": "-",
    "optional groups": r"<\1|\2>",
    "lookbehind": r"\g<0>.00",
    "escapes": r"\n\t\\",
}


def flag_bits(letters):
    bits = 0
    for c in letters:
        bits |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "u": 0, "a": re.A}[c]
    if "u" not in letters:
        bits |= re.A
    return bits


def byte_offsets(text):
    """Char offset -> UTF-8 byte offset."""
    out, n = [], 0
    for ch in text:
        out.append(n)
        n += len(ch.encode())
    out.append(n)
    return out


def spans(m, offsets):
    if m is None:
        return None
    out = []
    for k in range(m.re.groups + 1):
        s, e = m.span(k)
        out.append(None if s < 0 else [offsets[s], offsets[e]])
    return out


def main():
    cases = []
    for name, pattern, letters, subjects in CASES:
        rx = re.compile(pattern, flag_bits(letters))
        rows = []
        for subject in subjects:
            if "u" not in letters:
                assert subject.isascii(), name
            offsets = byte_offsets(subject)
            row = {
                "subject": subject,
                "search": spans(rx.search(subject), offsets),
                "match": spans(rx.match(subject), offsets),
                "fullmatch": spans(rx.fullmatch(subject), offsets),
                "findall": [list(x) if isinstance(x, tuple) else x for x in rx.findall(subject)],
                "split": rx.split(subject),
            }
            if name in SUBS:
                result, n = rx.subn(SUBS[name], subject)
                row["sub"] = {"repl": SUBS[name], "result": result, "n": n}
            rows.append(row)
        cases.append({"name": name, "pattern": pattern, "flags": letters, "groups": rx.groups, "rows": rows})
    doc = {"generator": "Tests/WorkbenchTests/Fixtures/generate_re_cases.py",
           "python": sys.version.split()[0], "cases": cases}
    out = __file__.rsplit("/", 1)[0] + "/re_cases.json"
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(cases)} patterns, {sum(len(c['rows']) for c in cases)} subjects -> {out}")


if __name__ == "__main__":
    main()
