#!/usr/bin/env python3
"""Randomized differential test of moonlab's `re` module against Python 3.11's `re`.

Run by hand (never in CI):

    swift build
    python3 Tests/Differential/re_diff.py            # --seed N --n 400 --only CAT --keep

Each case is a pattern, flags letters and a subject, and one operation of the contract
(lua-api.md "re"): re.compile(p, {flags}) then :match/:search/:fullmatch (with init),
:findall (with init), :gmatch, :sub (template or function repl, count), :split
(maxsplit), or the module functions re.match/search/fullmatch/findall/sub/split/gmatch
with the {flags = ...} options table, and re.escape. Match objects are compared whole: m[k] and
m:span(k) (1-based, inclusive end) of every group, nil for a group that did not take
part, m.name and m:span(name) of every named group, m:groups() (false when unmatched);
and the pattern's .groups. A compiled pattern's :match/:search/:fullmatch is called twice:
the first call takes the Swift path, the second LuaShim's C path (rematch.c); both must agree.

Modes, as the re docstring promises them: without the u flag moonlab's patterns and
subjects are bytes, compared with a Python bytes pattern on bytes (ASCII \\d \\w \\s \\b
and ASCII-only IGNORECASE); with u they are UTF-8, compared with a Python str pattern on
the decoded str (Unicode classes and case folding), offsets turned into bytes.

Categories:
- grammar: random patterns from a grammar of what Python's re accepts (literals and
  escaped metacharacters, \\n \\t \\x41 \\101 escapes, classes with ranges, negation and
  \\d \\w \\s inside, . with and without DOTALL, ^ $ \\A \\Z \\b \\B with and without
  MULTILINE, alternation, greedy, lazy and possessive repeats * + ? {m} {m,} {m,n} {,n},
  capturing, non-capturing, named and atomic groups, backreferences \\1 and (?P=name),
  lookahead and fixed-width lookbehind, global inline flags (?i) (?s) (?m) (?x) and
  scoped (?i:...) (?-i:...)) in byte mode; subjects drawn from the pattern itself (a
  string the pattern should match, cut and mutated) and an alphabet of ASCII, \\r\\n,
  \\x1c-\\x1f, \\x85, \\xa0, U+2028, non-ASCII letters, Arabic-Indic digits.
- utf8: the same grammar with the u flag (\\u and \\U escapes, non-ASCII classes and
  literals, IGNORECASE on non-ASCII: K, s and long s, dotless i, final sigma).
- casefold: IGNORECASE in UTF-8 mode on letters with special case mappings (long s,
  Kelvin sign, dotless i and dotted I, final sigma, sharp s, titlecase digraphs, ligatures)
  as literals, classes and ranges, scoped (?i:...) and (?-i:...).
- reward: the patterns of TRL's and verl's rewards (think/answer formats, \\boxed,
  gsm8k's ####, math_dapo's normalisation) on subjects built from their pieces.
- repl: sub with random templates (\\1 \\g<name> \\g<0> \\n \\\\ octal, unknown escapes)
  and function repls, with count; split with maxsplit.
- backtrack: patterns that backtrack exponentially ((a+)+$, (a|aa)+$, (\\w+\\s?)+$, ...) on
  subjects of 1 to 22 repeats (n/10 cases): where Python answers within a second moonlab
  must give the same answer (not give up at PCRE2's match limit).
- errors: patterns Python refuses (unbalanced parentheses, nothing to repeat, bad
  escapes, bad ranges, unknown group references, global flags not at the start, ...) and
  some it accepts that PCRE2 reads otherwise; both must fail, moonlab naming an offset.

A case where Python takes more than a second (catastrophic backtracking) is counted as
"slow" and not compared; where moonlab gives up (PCRE2's match limit) and Python answered,
the case differs.

Known and accepted differences (counted as "known", not compared): see the README's re
section (the \\N{name} escape, init past the end of the subject, PCRE2-only syntax).

Exit status 0 when nothing differs.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections import Counter

TIMEOUT = 1.0


# ----------------------------------------------------------------------------- alphabet
SPECIAL_CHARS = ["\n", "\r", "\r\n", "\t", "\x0b", "\x0c", " ", "\x1c", "\x1d", "\x1e", "\x1f",
                 "\x85", "\xa0", "\u2028", "\u2029", "\u3000", "\x00"]
LETTERS = ["é", "É", "ß", "ſ", "K", "k", "K", "ı", "İ", "i", "I", "σ", "ς", "Σ", "ǅ", "ǆ",
           "ΐ", "ﬀ", "ǰ", "Ω", "ω", "Ω", "µ", "μ", "Ж", "ж", "ǈ", "\u0301", "‿", "ª", "ǀ"]
DIGITS = ["٠", "١", "٣", "۳", "३", "²", "½", "Ⅻ", "①", "𝟙"]
ASCII = list("abcxyzABCXYZ0123456789_.,;:-+*?()[]{}<>/\\|$^#@!'\"=&~%`")


def random_text(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# ----------------------------------------------------------------------------- patterns
META = set(".^$*+?{}[]\\|()")


class Gen:
    """Builds a random pattern (text) and, beside it, a function that samples a string the
    pattern probably matches (so random patterns meet subjects they match)."""

    def __init__(self, rng, utf8, flags):
        self.rng = rng
        self.utf8 = utf8
        self.flags = flags          # global flags letters (for sampling only)
        self.groups = 0
        self.closed = []            # closed group numbers
        self.names = {}             # name -> number
        self.closed_names = []
        self.depth = 0
        self.verbose = "x" in flags

    # Every generator returns (pattern text, sampler); a sampler takes a dict of the texts
    # groups captured so far and returns a string.
    def literal_char(self):
        r = self.rng
        pool = ASCII + list("abcdefgh") * 3
        if r.random() < 0.2:
            pool = pool + LETTERS + DIGITS + ["\xa0", "\x85"]
        c = r.choice(pool)
        if self.verbose and c in " #":
            return "\\" + c, c
        if c in META:
            return "\\" + c, c
        if c in "-#&~ !'\"=<>/@%`,;:" and r.random() < 0.3:
            return "\\" + c, c      # escaping punctuation is allowed and means the character
        return c, c

    def escape_atom(self):
        r = self.rng
        choices = [("\\d", "07" + ("٣" if self.utf8 else "")), ("\\D", "a_ é"), ("\\w", "aZ_9" + ("éж٣" if self.utf8 else "")),
                   ("\\W", " -\n\xa0"), ("\\s", " \t\n\x0b\x0c\r" + ("\x1c\x85\xa0\u2028" if self.utf8 else "")),
                   ("\\S", "x."), ("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r"), ("\\f", "\x0c"),
                   ("\\v", "\x0b"), ("\\a", "\x07"), ("\\x41", "A"), ("\\x2e", "."), ("\\101", "A"),
                   ("\\0", "\x00"), ("\\012", "\n"), ("\\\\", "\\")]
        if self.utf8:
            choices += [("\\u00e9", "é"), ("\\u0436", "ж"), ("\\U0001F600", "\U0001F600"), ("\\u2028", "\u2028")]
        p, s = r.choice(choices)
        return p, (lambda g, s=s: r.choice(s))

    def klass(self):
        r = self.rng
        items = []
        sample = []
        for _ in range(r.randint(1, 4)):
            k = r.random()
            if k < 0.35:
                lo = r.choice("abcxaA0")
                hi = chr(ord(lo) + r.randint(0, 5))
                items.append("%s-%s" % (lo, hi))
                sample += [lo, hi]
            elif k < 0.55:
                e = r.choice(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"])
                items.append(e)
                sample += {"\\d": "5", "\\w": "q", "\\s": " ", "\\D": "x", "\\W": "-", "\\S": "y"}[e]
            elif k < 0.7:
                c = r.choice(list("]\\-^[") + ["\\b"])
                items.append("\\" + c if c != "\\b" else c)
                sample.append({"\\b": "\x08"}.get(c, c))
            elif k < 0.8 and self.utf8:
                c = r.choice(LETTERS + DIGITS)
                items.append(c)
                sample.append(c)
            elif k < 0.85 and self.utf8:
                items.append("à-ö")
                sample.append("ä")
            else:
                c = r.choice(".*+?(){}|$#/ ,:abc")
                items.append(c)
                sample.append(c)
        body = "".join(items)
        neg = r.random() < 0.25
        if r.random() < 0.1 and not neg:
            body = "-" + body           # a leading - is literal
            sample.append("-")
        if r.random() < 0.05:
            body = "]" + body           # a leading ] is literal
            sample.append("]")
        text = "[" + ("^" if neg else "") + body + "]"
        if neg:
            return text, (lambda g: r.choice(["z", "Q", "%", "\n", "é"]))
        return text, (lambda g, sample=sample: r.choice(sample))

    def atom(self):
        r = self.rng
        k = r.random()
        if k < 0.35:
            p, s = self.literal_char()
            if r.random() < 0.5:
                # a run of literals
                ps, ss = [p], [s]
                for _ in range(r.randint(1, 4)):
                    p2, s2 = self.literal_char()
                    ps.append(p2)
                    ss.append(s2)
                p, s = "".join(ps), "".join(ss)
                # a quantifier would bind to the last char only: keep it a group
                return "(?:" + p + ")", (lambda g, s=s: s), True
            return p, (lambda g, s=s: s), True
        if k < 0.45:
            return "." , (lambda g: r.choice(["a", "-", "é", "\n", "\r", "\x85"])), True
        if k < 0.58:
            p, s = self.escape_atom()
            return p, s, True
        if k < 0.7:
            p, s = self.klass()
            return p, s, True
        if k < 0.78:
            a = r.choice(["^", "$", "\\A", "\\Z", "\\b", "\\B"])
            return a, (lambda g, a=a: r.choice(["", "\n"]) if a in "^$" else ""), False
        if k < 0.84 and self.closed:
            if self.closed_names and r.random() < 0.4:
                name = r.choice(self.closed_names)
                return "(?P=%s)" % name, (lambda g, n=self.names[name]: g.get(n, "")), True
            n = r.choice(self.closed)
            return "\\%d" % n, (lambda g, n=n: g.get(n, "")), True
        if self.depth < 3:
            return self.group()
        p, s = self.literal_char()
        return p, (lambda g, s=s: s), True

    def group(self):
        r = self.rng
        self.depth += 1
        k = r.random()
        try:
            if k < 0.35:
                self.groups += 1
                n = self.groups
                name = None
                if r.random() < 0.35:
                    name = "g%d%s" % (n, r.choice(["", "_x"]))
                    self.names[name] = n
                p, s = self.alternation()
                self.closed.append(n)
                if name:
                    self.closed_names.append(name)

                def samp(g, s=s, n=n):
                    t = s(g)
                    g[n] = t
                    return t
                return ("(?P<%s>%s)" % (name, p) if name else "(%s)" % p), samp, True
            if k < 0.5:
                p, s = self.alternation()
                return "(?:%s)" % p, s, True
            if k < 0.55:
                p, s = self.alternation()
                return "(?>%s)" % p, s, True
            if k < 0.65:
                p, s = self.alternation()
                kind = r.choice(["=", "!"])
                return "(?%s%s)" % (kind, p), (lambda g: ""), r.random() < 0.1
            if k < 0.75:
                # fixed-width lookbehind: literals, classes, ., escapes of one character
                w = r.randint(1, 3)
                parts = []
                for _ in range(w):
                    parts.append(r.choice(["a", "b", ".", "\\d", "\\w", "\\s", "[a-c]", "<", "\\$", "x"]))
                if r.random() < 0.3:
                    w2 = w if r.random() < 0.7 else r.randint(1, 3)   # another width: Python refuses it
                    other = "".join(r.choice(["y", "z", "\\d", "."]) for _ in range(w2))
                    body = "".join(parts) + "|" + other
                else:
                    body = "".join(parts)
                kind = r.choice(["=", "!"])
                return "(?<%s%s)" % (kind, body), (lambda g: ""), False
            # scoped flags
            on = "".join(sorted(r.sample("ims", r.randint(0, 2))))
            off = "".join(c for c in sorted(r.sample("ims", r.randint(0, 2))) if c not in on)
            if not on and not off:
                on = "i"
            if self.utf8 and r.random() < 0.03:
                on += "a" if r.random() < 0.5 else "u"
            flags = on + ("-" + off if off else "")
            p, s = self.alternation()
            return "(?%s:%s)" % (flags, p), s, True
        finally:
            self.depth -= 1

    def quantified(self):
        r = self.rng
        p, s, can_repeat = self.atom()
        if not can_repeat or r.random() < 0.6:
            return p, s
        q = r.random()
        if q < 0.25:
            qt, lo, hi = "*", 0, 3
        elif q < 0.5:
            qt, lo, hi = "+", 1, 3
        elif q < 0.65:
            qt, lo, hi = "?", 0, 1
        elif q < 0.75:
            m = r.randint(0, 3)
            qt, lo, hi = "{%d}" % m, m, m
        elif q < 0.85:
            m = r.randint(0, 2)
            qt, lo, hi = "{%d,}" % m, m, m + 2
        elif q < 0.95:
            m = r.randint(0, 2)
            n = m + r.randint(0, 3)
            qt, lo, hi = "{%d,%d}" % (m, n), m, n
        else:
            n = r.randint(1, 3)
            qt, lo, hi = "{,%d}" % n, 0, n
        suffix = r.choice(["", "", "", "?", "+"])

        def samp(g, s=s, lo=lo, hi=hi):
            return "".join(s(g) for _ in range(r.randint(lo, hi)))
        return p + qt + suffix, samp

    def sequence(self):
        r = self.rng
        parts = []
        for _ in range(r.randint(0 if self.depth else 1, 4)):
            parts.append(self.quantified())
        sep = ""
        if self.verbose and r.random() < 0.3:
            sep = r.choice([" ", "  ", "\n", " # note\n"])
        text = sep.join(p for p, _ in parts)

        def samp(g, parts=parts):
            return "".join(s(g) for _, s in parts)
        return text, samp

    def alternation(self):
        r = self.rng
        n = 1 if r.random() < 0.7 else r.randint(2, 3)
        branches = [self.sequence() for _ in range(n)]
        text = "|".join(p for p, _ in branches)
        return text, (lambda g, b=branches: r.choice(b)[1](g))


def gen_pattern(rng, utf8):
    flags = ""
    for c in "ims":
        if rng.random() < 0.25:
            flags += c
    if rng.random() < 0.08:
        flags += "x"
    inline = ""
    if rng.random() < 0.15:
        inline_flags = "".join(sorted(set(rng.choice("imsx") for _ in range(rng.randint(1, 2)))))
        inline = "(?%s)" % inline_flags
        flags_for_sampling = flags + inline_flags
    else:
        flags_for_sampling = flags
    g = Gen(rng, utf8, flags_for_sampling)
    text, samp = g.alternation()
    if "x" in flags_for_sampling and "x" not in flags and not inline:
        pass
    pattern = inline + text
    if utf8:
        flags += "u"
    return pattern, flags, samp, g.groups


def subjects_for(rng, samp, utf8, pattern):
    """A few subjects for one pattern: samples of it, with noise around, mutated, random."""
    out = []
    alphabet = ASCII + SPECIAL_CHARS + LETTERS + DIGITS + list("aaabbbxx  \n\n")
    lits = [c for c in pattern if c not in META]
    for _ in range(rng.randint(2, 4)):
        k = rng.random()
        try:
            s = samp({})
        except RecursionError:
            s = ""
        if k < 0.3:
            pass
        elif k < 0.6:
            s = random_text(rng, alphabet, rng.randint(0, 4)) + s + random_text(rng, alphabet, rng.randint(0, 4))
        elif k < 0.75 and s:
            i = rng.randrange(len(s))
            s = s[:i] + rng.choice(alphabet + [""]) + s[i + 1:]
        elif k < 0.85:
            s = s + "\n" if rng.random() < 0.5 else s + rng.choice(["\r\n", "\n\n", "\n" + s])
        elif k < 0.95:
            s = random_text(rng, alphabet + lits * 2, rng.randint(0, 12))
        else:
            s = ""
        if len(s) > 60:
            s = s[:60]
        out.append(s)
    return out


# ----------------------------------------------------------------------------- reward patterns
# (pattern, flags, pieces the subjects are built from). TRL 1.16: trl/rewards/*.py and
# the GRPO/RLOO docs and notebooks; verl: verl/utils/reward_score/{gsm8k,math,math_dapo,
# prime_math/*,geo3k,search_r1_like_qa_em}.py.
THINK = ["<think>", "</think>", "<answer>", "</answer>", "\n", " ", "x", "42", "<think>\n", "\n</think>\n",
         "<answer>\n", "\n</answer>", "<reasoning>", "</reasoning>", "\r\n"]
BOXED = ["\\boxed{", "}", "{", "\\frac{1}{2}", "3", "\\text{cm}", "$", " ", "\\fbox{", "\\sqrt2", "\\frac12"]
NUMS = ["####", " ", "-", "1", "234", ",", ".", "5", "\n", "$", "x", "The answer is ", "٣", "1,000"]
REWARD_PATTERNS = [
    (r"^<think>(?!.*<think>)(.*?)</think>.*$", "sm", THINK),                  # trl think_format_reward
    (r"^<think>.*?</think><answer>.*?</answer>$", "", THINK),                 # TRL docs format_reward
    (r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "", THINK),
    (r"<reasoning>.*?</reasoning>\s*<answer>.*?</answer>", "s", THINK),
    (r"<think>.*?</think>\s*<answer>.*?</answer>", "s", THINK),
    (r"<think>.*?</think>\s*<answer>.*?</answer>\Z", "s", THINK),
    (r"<answer>(.*?)</answer>", "s", THINK),                                  # search_r1
    (r"<answer>(.*?)</answer>", "", THINK),
    (r"####\s*([\d,]+)", "", NUMS),
    ("#### (\\-?[0-9\\.\\,]+)", "", NUMS),                                    # verl gsm8k strict
    ("(\\-?[0-9\\.\\,]+)", "", NUMS),                                         # verl gsm8k flexible
    (r"(-?\$?[0-9][0-9,]*(?:\.[0-9]+)?)", "", NUMS),
    (r"<think>.*</think>.*\\boxed\{.*\}.*", "s", THINK + BOXED),               # verl geo3k
    (r"(?i)Answer\s*:\s*([^\n]+)", "", ["Answer", "answer", "ANSWER", ":", " ", "42", "\n", "x", "é"]),
    (r"(.*?)(\$)(.*?)(\$)(.*)", "", BOXED),                                   # math_dapo
    (r"(\\text\{)(.*?)(\})", "", BOXED),
    (r"(\\boxed\{)(.*)(\})", "", BOXED),
    (r"(frac)([^{])(.)", "", BOXED),
    (r"(sqrt)([^{])", "", BOXED),
    (r"\\boxed\{(.*)\}", "", BOXED),
    (r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}", "", BOXED),
    (r"^-?[0-9]+.?/0*[1-9][0-9]*.?$", "", NUMS + ["/", "0"]),                 # prime_math
    (r"([0-9]) +([0-9])", "", NUMS),
    (r"(\d)(,)(\d\d\d)($|\D)", "", NUMS),
    (r"^\\text\{(?P<text>.+?)\}$", "", BOXED),
    (r"cm(es)?(s)? *(\^[0-9]+)?", "", ["cm", "es", "s", " ", "^", "2", "x"]),
    (r"\^ *\\circ", "", ["^", " ", "\\circ", "9"]),
    (r"\$\d+(\.\d+)?", "", NUMS),
    (r"^\d+(\.\d+)?%$", "", NUMS + ["%"]),
    (r"\b(a|an|the)\b", "", ["a", "an", "the", " ", "cat", "theatre", ".", "\n", "é"]),
    (r"\b(a|an|the)\b", "u", ["a", "an", "the", " ", "cat", "é", "_", "ж", "٣"]),
    (r"[^\w\s]", "u", ["a", ".", "!", " ", "é", "¿", "٣", "\u2028"]),
    (r"\s+", "u", [" ", "\t", "\x1c", "\x85", "\xa0", "\u2028", "x", "\u3000", "\n"]),
    (r"```(?:python)?\s*\n(.*?)```", "s", ["```", "python", "\n", "print(1)", " "]),
    (r"\{%-?\s*generation\s*-?%\}", "", ["{%", "-", " ", "generation", "%}", "gen"]),
    (r"\*(yes|no)\*", "", ["*", "yes", "no", " ", "maybe"]),
]


def gen_reward(rng):
    p, flags, pieces = rng.choice(REWARD_PATTERNS)
    subs = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))) for _ in range(3)]
    return p, flags, subs


# ----------------------------------------------------------------------------- bad patterns
BAD_PATTERNS = [
    "a(b", "a)b", "(?P<n>a)(?P<n>b)", "*a", "a**", "a{2}{3}", "+", "a|*", "[a", "[z-a]", "a{3,2}",
    "\\q", "\\", "(?P=nope)", "\\2(a)", "(a\\1)", "(?<=a+)b", "(?<=a|bc)d", "(?P<1a>x)", "(?P<>x)",
    "a(?i)b", "(?i", "(?z)a", "(?-i)a", "(?i-i:a)", "\\x4", "\\xg", "\\u12", "\\U0001", "\\8", "\\08x(",
    "[\\w-z]", "(?P<n>a)(?P=m)", "(?#unclosed", "(?<n>a)", "a{,2", "x{2,1}", "(?x)a(?i)b", "[[:alpha:]]",
    "\\z", "\\e", "\\h", "\\K", "\\R", "\\Qa\\E", "\\p{L}", "\\X", "\\G", "\\c", "\\o{101}", "\\N",
    "(?|a)", "(?R)", "(?1)", "(*FAIL)", "(*UTF)a", "a++b+?c{1,2}+", "(?i)(?s)a", "(?s)a|(?i)b",
    "(?(1)a|b)", "(a)(?(1)b|c)", "(?P<x>a)(?(x)b)", "(?'n'a)", "\\k<n>", "\\g<1>", "[\\A]", "[\\B]", "[\\Z]",
    "^*", "$+", "\\b?", "(?=a)*", "a{1,2}{3}", "(?<!a*)", "\\400", "\\777", "[a-\\d]", "[\\d-a]",
    "a{65536}", "(?u)a", "(?a)a", "(?L)a", "(?au)a", "(?-x:a b)", "(?x: a b)", "(?x)[ a]", "(?x)a\\ b",
]


def gen_error(rng, utf8):
    p = rng.choice(BAD_PATTERNS)
    if rng.random() < 0.3:
        # a random cut of a grammar pattern: often unbalanced
        q, _, _, _ = gen_pattern(rng, utf8)
        if len(q) > 2:
            i = rng.randrange(1, len(q))
            p = q[:i] if rng.random() < 0.5 else q[:i] + rng.choice(["(", ")", "[", "{", "\\", "*", "?", "|"]) + q[i:]
    flags = rng.choice(["", "", "i", "m", "s", "x"]) + ("u" if utf8 else "")
    subs = [random_text(rng, ASCII + ["a", "b", "x", " ", "\n"], rng.randint(0, 8)) for _ in range(2)]
    return p, flags, subs


# ----------------------------------------------------------------------------- operations
OPS = ["search", "match", "fullmatch", "findall", "gmatch", "sub", "split",
       "re.search", "re.match", "re.fullmatch", "re.findall", "re.gmatch", "re.sub", "re.split", "re.escape"]


def gen_repl(rng, ngroups, names):
    if rng.random() < 0.2:
        return None     # function repl
    parts = []
    for _ in range(rng.randint(0, 4)):
        k = rng.random()
        if k < 0.3:
            parts.append(rng.choice(["x", "<", ">", " ", "-", "é", "$1", "&"]))
        elif k < 0.5 and ngroups:
            parts.append("\\%d" % rng.randint(1, ngroups))
        elif k < 0.6:
            parts.append("\\g<0>")
        elif k < 0.7 and names:
            parts.append("\\g<%s>" % rng.choice(names))
        elif k < 0.75 and ngroups:
            parts.append("\\g<%d>" % rng.randint(1, ngroups))
        elif k < 0.85:
            parts.append(rng.choice(["\\n", "\\t", "\\\\", "\\r", "\\a", "\\b", "\\f", "\\v", "\\0", "\\101", "\\012"]))
        elif k < 0.9:
            parts.append(rng.choice(["\\&", "\\-", "\\ ", "\\é"]))
        elif k < 0.95:
            parts.append(rng.choice(["\\q", "\\g<nope>", "\\g<", "\\%d" % (ngroups + 1), "\\g<-1>", "\\400", "\\x41",
                                     "\\g<1a>", "\\"]))
        else:
            parts.append(rng.choice(["\\1", "\\g<1>", "\\2"]))
    return "".join(parts)


class Case:
    def __init__(self, cat, pattern, flags, subject, op, init=None, repl=None, count=0, known=None):
        self.cat, self.pattern, self.flags, self.subject, self.op = cat, pattern, flags, subject, op
        self.init, self.repl, self.count, self.known = init, repl, count, known
        self.id = None

    def utf8(self):
        return "u" in self.flags

    def pattern_bytes(self):
        return self.pattern.encode("utf-8", "surrogatepass")


def make_case(rng, cat, pattern, flags, subject, op=None, ngroups=0):
    op = op or rng.choice(OPS)
    c = Case(cat, pattern, flags, subject, op)
    base = op.split(".")[-1]
    utf8 = "u" in flags
    if base in ("search", "match", "fullmatch", "findall") and rng.random() < 0.35:
        n = len(subject)
        k = rng.randint(0, n)        # a char index
        c.init = len(subject[:k].encode("utf-8")) + 1 if utf8 else k + 1
        if not utf8:
            sb = subject if isinstance(subject, bytes) else subject.encode("utf-8")
            c.init = rng.randint(1, len(sb) + 1)
    if base == "sub":
        names = []
        try:
            names = list(re.compile(pattern).groupindex)
        except Exception:
            pass
        c.repl = gen_repl(rng, ngroups, names)
        c.count = rng.choice([0, 0, 0, 1, 2])
    if base == "split":
        c.count = rng.choice([0, 0, 0, 1, 2])
    return c


# ----------------------------------------------------------------------------- Python side
class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow()


def py_flags(flags):
    f = 0
    for ch, v in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)):
        if ch in flags:
            f |= v
    if "a" in flags and "u" in flags:
        f |= re.A
    return f


def python_result(c):
    """What Python gives, in the shape the Lua driver writes: a dict."""
    utf8 = c.utf8()
    subj_b = c.subject.encode("utf-8", "surrogatepass") if isinstance(c.subject, str) else c.subject
    if utf8:
        subj = c.subject
        pat = c.pattern
        offs = [0]
        for ch in subj:
            offs.append(offs[-1] + len(ch.encode("utf-8")))

        def b(i):
            return offs[i]

        def enc(x):
            return x.encode("utf-8").hex()
    else:
        subj = subj_b
        pat = c.pattern_bytes()

        def b(i):
            return i

        def enc(x):
            return x.hex()
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    try:
        try:
            r = re.compile(pat, py_flags(c.flags))
        except re.error as e:
            return {"err": "compile", "pos": e.pos}
        except (OverflowError, RecursionError) as e:
            return {"err": "compile", "pos": None}
        base = c.op.split(".")[-1]
        names = sorted(r.groupindex.items(), key=lambda kv: kv[1])

        def match_rec(m):
            if m is None:
                return None
            spans, texts, groups = [], [], []
            for k in range(r.groups + 1):
                a, e = m.span(k)
                if a < 0:
                    spans.append(None)
                    texts.append(None)
                    if k:
                        groups.append(False)
                else:
                    spans.append([b(a) + 1, b(e)])
                    texts.append(enc(m.group(k)))
                    if k:
                        groups.append(enc(m.group(k)))
            named = {}
            for name, k in names:
                named[name] = [texts[k], spans[k]]
            return {"spans": spans, "texts": texts, "groups": groups, "named": named}

        pos = 0
        if c.init is not None:
            if utf8:
                pos = offs.index(c.init - 1)
            else:
                pos = c.init - 1
        out = {"ng": r.groups}
        if base in ("search", "match", "fullmatch"):
            out["m"] = match_rec(getattr(r, base)(subj, pos))
        elif base == "findall":
            res = r.findall(subj, pos)
            out["v"] = [[enc(x) for x in t] if isinstance(t, tuple) else enc(t) for t in res]
        elif base == "gmatch":
            out["v"] = [match_rec(m)["spans"] for m in r.finditer(subj)]
        elif base == "sub":
            if c.repl is None:
                def fn(m):
                    g = m.group(1) if r.groups else m.group(0)
                    if utf8:
                        return "<" + ("-" if g is None else g) + ">"
                    return b"<" + (b"-" if g is None else g) + b">"
                repl = fn
            else:
                repl = c.repl if utf8 else c.repl.encode("utf-8")
            try:
                t, n = r.subn(repl, subj, count=c.count)
            except re.error as e:
                return {"err": "repl", "pos": e.pos}
            except IndexError:          # "no such group" from a function repl (never here)
                return {"err": "repl", "pos": None}
            out["v"] = [enc(t), n]
        elif base == "split":
            out["v"] = [False if x is None else enc(x) for x in r.split(subj, maxsplit=c.count)]
        elif base == "escape":
            out["v"] = enc(re.escape(subj))
        return out
    except Slow:
        return {"slow": True}
    except SystemError as e:    # "The span of capturing group is wrong, please report a bug"
        return {"pybug": str(e)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# ----------------------------------------------------------------------------- Lua side
LUA_DRIVER = r'''
local cases, results = ...
local function hx(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local enc
function enc(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then return string.format("%d", v) end
  if t == "string" then return '"' .. hx(v) .. '"' end
  if t == "table" then
    if v.__map then
      local parts = {}
      for k, x in pairs(v) do if k ~= "__map" then parts[#parts + 1] = string.format("%q", k) .. ":" .. enc(x) end end
      return "{" .. table.concat(parts, ",") .. "}"
    end
    local parts = {}
    for i = 1, (v.n or #v) do parts[i] = enc(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return '"?' .. t .. '"'
end
local function span(m, k)
  local a, b = m:span(k)
  if a == nil then return nil end
  return {a, b}
end
local function match_rec(r, m, names)
  if m == nil then return nil end
  local spans, texts = {n = r.groups + 1}, {n = r.groups + 1}
  for k = 0, r.groups do spans[k + 1] = span(m, k); texts[k + 1] = m[k] end
  local groups = m:groups()
  groups.n = r.groups
  local named = {__map = true}
  for _, name in ipairs(names) do named[name] = {m[name], span(m, name), n = 2} end
  return {__map = true, spans = spans, texts = texts, groups = groups, named = named}
end
local out = assert(io.open(results, "wb"))
for _, c in ipairs(cases) do
  local res
  local ok, err = pcall(function()
    local base = c.op:match("[^.]+$")
    local module = c.op:sub(1, 3) == "re."
    local ok, r = pcall(re.compile, c.p, {flags = c.f})
    if not ok then res = {__map = true, err = "compile", msg = tostring(r)} return end
    local o = {flags = c.f}
    res = {__map = true, ng = r.groups}
    if base == "search" or base == "match" or base == "fullmatch" then
      local m
      if module then m = re[base](c.p, c.s, c.init, o) else m = r[base](r, c.s, c.init) end
      res.m = match_rec(r, m, c.names)
      if not module then
        -- a second call takes LuaShim's C path (rematch.c) where the first took Swift's
        local again = match_rec(r, r[base](r, c.s, c.init), c.names)
        if enc(again) ~= enc(res.m) then res.m = {__map = true, fast_path_differs = again} end
      end
    elseif base == "findall" then
      if module then res.v = re.findall(c.p, c.s, c.init, o) else res.v = r:findall(c.s, c.init) end
    elseif base == "gmatch" then
      local it = module and re.gmatch(c.p, c.s, o) or r:gmatch(c.s)
      local v = {}
      for m in it do v[#v + 1] = match_rec(r, m, {}).spans end
      res.v = v
    elseif base == "sub" then
      local repl = c.repl
      if repl == nil then
        repl = function(m) local g; if r.groups > 0 then g = m[1] else g = m[0] end; return "<" .. (g == nil and "-" or g) .. ">" end
      end
      local ok2, t, n
      if module then ok2, t, n = pcall(re.sub, c.p, repl, c.s, c.count, o) else ok2, t, n = pcall(r.sub, r, repl, c.s, c.count) end
      if not ok2 then res = {__map = true, err = "repl", msg = tostring(t)} return end
      res.v = {t, n}
    elseif base == "split" then
      if module then res.v = re.split(c.p, c.s, c.count, o) else res.v = r:split(c.s, c.count) end
    elseif base == "escape" then
      res.v = re.escape(c.s)
    end
  end)
  if not ok then res = {__map = true, err = "run", msg = tostring(err)} end
  res.id = c.id
  out:write(enc(res), "\n")
  out:flush()
end
out:close()
'''


def lua_str(b):
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogatepass")
    return '"' + "".join(chr(x) if 32 <= x < 127 and x not in b'"\\' else "\\%03d" % x for x in b) + '"'


def run_batch(moonlab, d, cases, batch_no):
    lines = ["local cases = {"]
    for c in cases:
        names = []
        try:
            if c.utf8():
                names = list(re.compile(c.pattern).groupindex)
            else:
                names = [n.decode() if isinstance(n, bytes) else n for n in re.compile(c.pattern_bytes()).groupindex]
        except Exception:
            pass
        subj = c.subject if isinstance(c.subject, bytes) else c.subject.encode("utf-8", "surrogatepass")
        lines.append("{id = %d, op = %s, p = %s, f = %s, s = %s, init = %s, repl = %s, count = %d, names = {%s}}," % (
            c.id, lua_str(c.op), lua_str(c.pattern), lua_str(c.flags), lua_str(subj),
            "nil" if c.init is None else str(c.init), "nil" if c.repl is None else lua_str(c.repl), c.count,
            ", ".join(lua_str(n) for n in names)))
    lines.append("}")
    results = os.path.join(d, "results%d.jsonl" % batch_no)
    lines.append("local driver = assert(load(%s))" % ("[==[" + LUA_DRIVER + "]==]"))
    lines.append("driver(cases, %s)" % lua_str(results))
    script = os.path.join(d, "batch%d.lua" % batch_no)
    with open(script, "w") as f:
        f.write("\n".join(lines))
    p = subprocess.run([moonlab, "--no-plugins", "run", script], capture_output=True, text=True)
    out = {}
    if os.path.exists(results):
        import json
        with open(results, "rb") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                for k in ("err", "msg"):
                    if k in rec:
                        rec[k] = bytes.fromhex(rec[k]).decode("utf-8", "replace")
                out[rec["id"]] = rec
    return out, p, script


# ----------------------------------------------------------------------------- comparing
def unhex_msg(r):
    return r.get("msg") or ""


KNOWN = [
    # (name, test on the case, Python's answer and moonlab's): moonlab documents another choice
    ("a repeated group whose last iteration is empty: Python reports that empty capture, PCRE2 the one before",
     lambda c, w, g: empty_iteration_only(c, w, g)),
    ("Python 3.11's possessive repeat of a group: its answer differs from its own atomic-group spelling",
     lambda c, w, g: "err" not in w and possessive_group_differs(c)),
    ("(?a:...) scoped in a UTF-8 pattern is refused",
     lambda c, w, g: g.get("err") == "compile" and "(?a:...)" in g.get("msg", "")),
    ("repeat counts over 65535 are refused (PCRE2's limit)",
     lambda c, w, g: g.get("err") == "compile" and "number too big" in g.get("msg", "")),
    ("the L (locale) flag is refused (Python accepts it in bytes patterns)",
     lambda c, w, g: g.get("err") == "compile" and "locale" in g.get("msg", "")),
    ("\\N{name} escapes are refused",
     lambda c, w, g: g.get("err") == "compile" and "\\N{name}" in g.get("msg", "")),
]


def atomic_spelling(pattern):
    """The pattern with each possessive repeat of a group, X{m,n}+ / X*+ / X++ / X?+, written
    as the atomic group (?>X{m,n}) (what Python's documentation says it means), or None
    when there is none. Parentheses are matched by a small scanner that knows escapes and
    classes."""
    out = pattern
    changed = False
    i = 0
    while True:
        m = re.compile(r"\)(\*|\+|\?|\{\d*,?\d*\})\+").search(out, i)
        if not m:
            break
        close = m.start()
        # find the matching open parenthesis
        depth, j, opens, k, in_class = 0, 0, [], 0, False
        stack = []
        pairs = {}
        while k < len(out):
            ch = out[k]
            if ch == "\\":
                k += 2
                continue
            if in_class:
                if ch == "]":
                    in_class = False
                k += 1
                continue
            if ch == "[":
                in_class = True
                if out[k + 1:k + 2] == "^":
                    k += 1
                if out[k + 1:k + 2] == "]":
                    k += 1
            elif ch == "(":
                stack.append(k)
            elif ch == ")" and stack:
                pairs[k] = stack.pop()
            k += 1
        if close not in pairs:
            return None
        start = pairs[close]
        q = m.group(1)
        out = out[:start] + "(?>" + out[start:close + 1] + q + ")" + out[m.end():]
        changed = True
        i = start
    return out if changed else None


def empty_iteration_only(c, w, g):
    """The whole matches agree and every group that differs is empty in Python's answer."""
    if "err" in w or "err" in g:
        return False
    if w.get("m") is not None and g.get("m") is not None:
        pairs = [(w["m"]["spans"], g["m"]["spans"])]
    elif isinstance(w.get("v"), list) and w.get("v") and isinstance(w["v"][0], list) and w["v"] and \
            all(isinstance(x, list) and x and (x[0] is None or isinstance(x[0], list)) for x in w["v"]) and \
            isinstance(g.get("v"), list) and len(g["v"]) == len(w["v"]):
        pairs = list(zip(w["v"], g["v"]))       # gmatch: spans per match
    elif c.op.split(".")[-1] in ("findall", "split") and isinstance(w.get("v"), list) and isinstance(g.get("v"), list) \
            and len(w["v"]) == len(g["v"]) and c.pattern.count("(") > 0:
        # group texts only: each difference is an empty text in Python's answer
        flat = lambda v: [y for x in v for y in (x if isinstance(x, list) else [x])]
        fw, fg = flat(w["v"]), flat(g["v"])
        return len(fw) == len(fg) and all(a == b or a == "" for a, b in zip(fw, fg))
    else:
        return False
    for ws, gs in pairs:
        if not isinstance(ws, list) or not isinstance(gs, list) or len(ws) != len(gs) or ws[0] != gs[0]:
            return False
        for a, b in zip(ws[1:], gs[1:]):
            if a != b and not (a is not None and a[0] == a[1] + 1):
                return False
    return True


def possessive_group_differs(c):
    alt = atomic_spelling(c.pattern)
    if alt is None:
        return False
    d = Case(c.cat, alt, c.flags, c.subject, c.op, c.init, c.repl, c.count)
    return python_result(d) != python_result(c)


def known_difference(c, want, got):
    if got is None or want.get("slow"):
        return None
    for name, test in KNOWN:
        if test(c, want, got):
            return name
    return None


def compare(c, want, got):
    """None when they agree, else a description; 'slow' when Python timed out."""
    if want.get("slow"):
        return "slow"
    if want.get("pybug"):
        return "slow"   # Python's own SystemError: not comparable
    if got is None:
        return "no result (moonlab crashed?)"
    if "err" in want:
        if "err" not in got:
            return "python: %s error at %s; moonlab: no error" % (want["err"], want.get("pos"))
        msg = unhex_msg(got)
        if want["err"] == "compile" and got["err"] == "compile" and "offset" not in msg:
            return "moonlab's compile error names no offset: %s" % msg
        if want["err"] != got["err"]:
            return "python: %s error; moonlab: %s error %s" % (want["err"], got["err"], msg)
        return None
    if "err" in got:
        return "moonlab: %s error %s; python: %s" % (got["err"], unhex_msg(got), short(want))
    for k in ("ng", "m", "v"):
        if norm(want.get(k)) != norm(got.get(k)):
            return "%s: python %s; moonlab %s" % (k, short(want.get(k)), short(got.get(k)))
    return None


def norm(v):
    """Lua writes an empty list as [] and absent groups as null: same as Python's here."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def short(v):
    s = repr(decode_hex(v))
    return s if len(s) < 400 else s[:400] + "..."


def decode_hex(v):
    if isinstance(v, str):
        try:
            return bytes.fromhex(v)
        except ValueError:
            return v
    if isinstance(v, list):
        return [decode_hex(x) for x in v]
    if isinstance(v, dict):
        return {k: decode_hex(x) for k, x in v.items()}
    return v


def char_to_byte(c, pos):
    """Python's error position (characters of a str pattern) as a byte offset."""
    return len(c.pattern[:pos].encode("utf-8", "surrogatepass")) if c.utf8() else pos


def reproducer(c):
    subj = c.subject if isinstance(c.subject, bytes) else c.subject.encode("utf-8", "surrogatepass")
    base = c.op.split(".")[-1]
    args = [lua_str(subj)]
    if base in ("search", "match", "fullmatch", "findall") and c.init is not None:
        args.append(str(c.init))
    if base == "sub":
        args = ["<function>" if c.repl is None else lua_str(c.repl), lua_str(subj), str(c.count)]
    if base == "split":
        args.append(str(c.count))
    lua = "re.compile(%s, {flags = %s}):%s(%s)" % (lua_str(c.pattern), lua_str(c.flags), base, ", ".join(args))
    pyflags = "|".join("re." + x.upper() for x in c.flags if x in "imsx") or "0"
    if c.utf8():
        py = "re.compile(%r, %s)" % (c.pattern, pyflags)
        ps = repr(c.subject)
    else:
        py = "re.compile(%r, %s)" % (c.pattern_bytes(), pyflags)
        ps = repr(subj)
    return "%s   vs python %s.%s(%s)" % (lua, py, base, ps)


# ----------------------------------------------------------------------------- main
def gen_cases(rng, cat, n):
    out = []
    while len(out) < n:
        if cat in ("grammar", "utf8"):
            utf8 = cat == "utf8"
            pattern, flags, samp, ng = gen_pattern(rng, utf8)
            subs = subjects_for(rng, samp, utf8, pattern)
            if not utf8 and rng.random() < 0.2:
                subs.append(rng.choice([b"\xff", b"a\x85b", b"\xa0", b"\xe9t\xc9", b"x\r\n", b"\x1c\x1f"]))
            for s in subs:
                out.append(make_case(rng, cat, pattern, flags, s, ngroups=ng))
        elif cat == "reward":
            p, flags, subs = gen_reward(rng)
            for s in subs:
                out.append(make_case(rng, cat, p, flags, s, ngroups=re.compile(p).groups))
        elif cat == "repl":
            utf8 = rng.random() < 0.3
            pattern, flags, samp, ng = gen_pattern(rng, utf8)
            for s in subjects_for(rng, samp, utf8, pattern):
                out.append(make_case(rng, cat, pattern, flags, s, op=rng.choice(["sub", "re.sub", "split", "re.split"]),
                                     ngroups=ng))
        elif cat == "backtrack":
            # patterns that backtrack exponentially: short subjects both answer; long ones
            # time out in Python (skipped as slow) or give up in moonlab (PCRE2's match limit)
            p = rng.choice([r"(a+)+$", r"(a|aa)+$", r"(\w+\s?)+$", r"(x+x+)+y", r"^(\d+)*$", r"(a*)*b",
                            r"(?:a|a?)+c", r"(\w|_)+\s*=", r"<think>(.*?)*</think>"])
            k = rng.randint(1, 22)
            unit = {"(x+x+)+y": "x", "^(\\d+)*$": "1", "<think>(.*?)*</think>": "ab"}.get(p, "a")
            subj = (("<think>" if "think" in p else "") + unit * k + rng.choice(["b", "!", "", " ", "\n"]))
            out.append(make_case(rng, cat, p, rng.choice(["", "u", "i"]), subj,
                                 op=rng.choice(["search", "re.search", "findall", "fullmatch"]), ngroups=1))
        elif cat == "casefold":
            # IGNORECASE in UTF-8 mode: letters with special case mappings, as literals,
            # in classes and in ranges, against subjects of their other cases
            folds = list("sSſkKKiIıİσςΣßẞµμΜΩωΩǅǄǆåÅÅθϑΘǰJjﬀffǈǇǉ") + ["\u0345", "\u03b9", "\u1fbe", "\u03f4"]
            a = rng.choice(folds)
            form = rng.random()
            if form < 0.4:
                p = a + rng.choice(["", "+", "x"])
            elif form < 0.7:
                p = "[" + rng.choice(["", "^"]) + "".join(rng.sample(folds, rng.randint(1, 3))) + "]+"
            else:
                lo = rng.choice("aAhH")
                p = "[" + rng.choice(["", "^"]) + lo + "-" + chr(ord(lo) + rng.randint(0, 12)) + "]+"
            if rng.random() < 0.3:
                p = rng.choice(["(?i)", "(?i:", "x(?-i:"]) + p + (")" if "(?i:" in p or "(?-i:" in p else "")
            flags = rng.choice(["iu", "iu", "u"])
            subj = "".join(rng.choice(folds + ["x", "a", "h"]) for _ in range(rng.randint(1, 6)))
            out.append(make_case(rng, cat, p, flags, subj, op=rng.choice(["findall", "search", "re.sub"])))
        elif cat == "errors":
            utf8 = rng.random() < 0.3
            p, flags, subs = gen_error(rng, utf8)
            for s in subs:
                out.append(make_case(rng, cat, p, flags, s, op=rng.choice(["search", "re.search", "findall", "re.sub"])))
    return out[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--moonlab", default=".build/debug/moonlab")
    ap.add_argument("--only", action="append")
    ap.add_argument("--n", type=int, default=1000, help="cases per category")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--max-show", type=int, default=40, help="differences printed per category")
    args = ap.parse_args()
    sys.setrecursionlimit(10000)
    warnings.simplefilter("ignore")   # Python's FutureWarning for "[[" and "--" in classes
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    d = tempfile.mkdtemp(prefix="re_diff_")
    cats = ["grammar", "utf8", "casefold", "reward", "repl", "errors", "backtrack"]
    cases = []
    for cat in cats:
        if args.only and cat not in args.only:
            continue
        for c in gen_cases(rng, cat, args.n if cat != "backtrack" else max(1, args.n // 10)):  # casefold: n
            c.id = len(cases)
            cases.append(c)
    results = {}
    for b in range(0, len(cases), 500):
        out, p, script = run_batch(os.path.abspath(args.moonlab), d, cases[b:b + 500], b)
        results.update(out)
        if p.returncode != 0:
            print("batch %d: moonlab exit %d: %s (script %s)" % (b, p.returncode, p.stderr[-2000:], script))
    per, bad, slow, shown, known, offsets = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    for c in cases:
        per[c.cat] += 1
        want = python_result(c)
        got = results.get(c.id)
        if want.get("err") == "compile" and got and got.get("err") == "compile":
            mo = re.search(r"offset (\d+)", got.get("msg", ""))
            offsets["same" if mo and want.get("pos") is not None and int(mo.group(1)) == char_to_byte(c, want["pos"]) else "other"] += 1
        why = compare(c, want, results.get(c.id))
        if why and why != "slow":
            k = known_difference(c, want, results.get(c.id))
            if k:
                known[k] += 1
                continue
        if why == "slow":
            slow[c.cat] += 1
            continue
        if why:
            bad[c.cat] += 1
            if shown[c.cat] < args.max_show:
                shown[c.cat] += 1
                print("DIFF %s case %d %s: %s\n    %s" % (c.cat, c.id, c.op, why[:700], reproducer(c)))
    print("seed %d: %s" % (args.seed, ", ".join("%s %d (%d differ, %d slow in Python)" % (k, per[k], bad[k], slow[k]) for k in per)))
    if offsets:
        print("refused patterns: the offset moonlab names is Python's in %d of %d (informative)" % (
            offsets["same"], offsets["same"] + offsets["other"]))
    if known:
        print("known differences (not counted): %s" % dict(known))
    if args.keep:
        print("kept", d)
    else:
        shutil.rmtree(d)
    sys.exit(1 if sum(bad.values()) else 0)


if __name__ == "__main__":
    main()
