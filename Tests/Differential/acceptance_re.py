#!/usr/bin/env python3
"""Blind acceptance check of moonlab's `re` against Python's `re` (issue 11 §6).

Hand-run, never in CI.  Written without reading re_diff.py: a corpus of real reward
patterns (TRL, open-r1, verl, OpenRLHF and reward scripts in the wild) plus the syntax
they lean on, run through every function lua-api.md's "re" section names, on ASCII,
accented, CJK, emoji, combining-mark, U+001C-U+001F, CRLF, empty and long subjects.

Default flags compare with Python's bytes patterns on UTF-8 bytes (the contract: "strings
are bytes, as Lua's are"); flag u compares with Python's str patterns, spans turned into
byte offsets.  Spans are 1-based with inclusive ends (string.find's convention).

    swift build
    python3 Tests/Differential/acceptance_re.py [--seed N] [--keep] [--verbose]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOONLAB = os.path.join(ROOT, ".build", "debug", "moonlab")

# ---------------------------------------------------------------------------------------
# Patterns: (pattern, flags).  Flags are moonlab's letters: i m s x u a.
REAL = [
    # TRL format_reward / think_format_reward (rewards/format_rewards.py)
    (r"^<think>(?!.*<think>)(.*?)</think>.*$", "sm"),
    (r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "sm"),
    (r"^<think>.*?</think>\s*<answer>.*?</answer>$", "s"),
    (r"^<think>.*?</think><answer>.*?</answer>$", ""),
    (r"<think>.*?</think>\s*<answer>.*?</answer>", "s"),
    (r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>\n$", ""),
    (r"^<think>.*?</think>[\n ]*<answer>.*?</answer>$", "sx"),
    (r"<answer>(.*?)</answer>", "s"),
    (r"<answer>\s*(.*?)\s*</answer>", "s"),
    (r"(?s)<think>(.*?)</think>", ""),
    # open-r1 rewards.py
    (r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)", ""),
    (r"```python\n(.*?)```", "s"),
    (r"```(?:python)?\n(.*?)```", "s"),
    (r"<\|im_start\|>assistant\n(.*?)<\|im_end\|>", "s"),
    # verl gsm8k.py (strict and flexible)
    (r"#### (\-?[0-9\.\,]+)", ""),
    (r"#### ?(\-?[0-9\.\,]+)", ""),
    (r"(\-?[0-9\.\,]+)", ""),
    (r"####\s*([-+]?\d+\.?\d*)", ""),
    # verl math_dapo.py / math.py normalisation and extraction
    (r"(?i)Answer\s*:\s*([^\n]+)", ""),
    (r"Answer\s*:\s*([^\n]+)", "i"),
    (r"(.*?)(\$)(.*?)(\$)(.*)", ""),
    (r"(\\text\{)(.*?)(\})", ""),
    (r"(\\textbf\{)(.*?)(\})", ""),
    (r"(\\overline\{)(.*?)(\})", ""),
    (r"(\\boxed\{)(.*)(\})", ""),
    (r"(frac)([^{])(.)", ""),
    (r"(sqrt)([^{])", ""),
    (r"\\boxed\{(.*?)\}", ""),
    (r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", ""),
    (r"\\boxed\s*\{(.*)\}", "s"),
    (r"\\fbox\{(.*?)\}", ""),
    # verl prime_math
    (r"\\text\{(?P<text>.+?)\}", ""),
    (r"(\d)(,)(\d\d\d)($|\D)", ""),
    (r"\^ *\{ *([0-9]+) *\}", ""),
    (r"^(\w+)\s*=\s*(.*)$", "m"),
    (r"\\mbox\{.*?\}", ""),
    (r"(\d+(?:\.\d+)?)\s*(?:\\%|%)", ""),
    # verl geo3k
    (r"<think>.*</think>.*\\boxed\{.*\}.*", "s"),
    # OpenRLHF / misc math graders
    (r"The (?:final )?answer is:?\s*\$?([^\$\n]+)\$?", "i"),
    (r"[-+]?\d*\.\d+|[-+]?\d+", ""),
    (r"-?\d+(?:,\d{3})*(?:\.\d+)?", ""),
    (r"\b(?:yes|no)\b", "i"),
    (r"^\s*([A-D])\s*[\.\):]", "m"),
    (r"\(([A-E])\)", ""),
    (r"(?<=\\boxed\{)[^}]*(?=\})", ""),
    (r"(?<!\d)(\d{1,3})(?!\d)", ""),
    (r"<tool_call>\s*(\{.*?\})\s*</tool_call>", "s"),
    (r"\s+", ""),
    (r"[^\w\s]", ""),
    (r"\W+", ""),
    (r"\b\w+\b", ""),
    (r"[A-Za-z]+", ""),
    (r"\n\n+", ""),
    (r"\r\n|\r|\n", ""),
    (r"^$", "m"),
    (r"$", ""),
    (r"^", "m"),
    (r"x*", ""),
    (r"", ""),
    (r"\b", ""),
    (r"\B", ""),
    (r"a|", ""),
    (r"(?P<word>\w+)\s+(?P=word)", "i"),
    (r"(\w)\1", ""),
    (r"(?P<num>\d+)(?:\.(?P<frac>\d+))?", ""),
    (r"(a)|(b)|(c)", ""),
    (r"(a)?(b)?", ""),
    (r"(x)*y", ""),
    (r"(a|b)*c", ""),
    (r"(?:(a)|b)+", ""),
    (r"\d+\Z", ""),
    (r"\d+$", ""),
    (r"\A\s*\d", ""),
    (r"end$", ""),
    (r"end\Z", ""),
    (r"^end$", "m"),
    (r"a++b", ""),
    (r"(?>a+)b", ""),
    (r"a*+a", ""),
    (r"a{2,3}?", ""),
    (r"a{,2}", ""),
    (r"a{2,}", ""),
    (r"a{3}", ""),
    (r"x{,}", ""),
    (r"[\d\s]+", ""),
    (r"[^\d]+", ""),
    (r"[\w.-]+@[\w-]+\.\w+", ""),
    (r"(?i:hello) World", ""),
    (r"(?i)straße", "u"),
    (r"(?-i:a)b", "i"),
    (r"(?x) \d+ \s* # digits\n [a-z]+", ""),
    (r"\d+ # number", "x"),
    (r"[\]\[]", ""),
    (r"[a\-z]", ""),
    (r"\.", ""),
    (r"\x41\u00e9\101", "u"),
    (r"\t\n\v\f\r\a", ""),
    (r"\0", ""),
    (r"[\x1c-\x1f]+", ""),
    (r"café", "u"),
    (r"café", ""),
    (r"[é]", "u"),
    (r"\w+", "u"),
    (r"\d+", "u"),
    (r"\s+", "u"),
    (r"\S+", "u"),
    (r"\W+", "u"),
    (r"\b\w+\b", "u"),
    (r".", "u"),
    (r".", ""),
    (r".+", "su"),
    (r"[^a]", "u"),
    (r"[😀-🙏]+", "u"),
    (r"é+", "iu"),
    (r"É", "iu"),
    (r"k", "iu"),
    (r"s", "iu"),
    (r"[a-z]+", "iu"),
    (r"\w+", "au"),
    (r"(?a)\w+", "u"),
    (r"(?u)\w+", "u"),
    (r"中文|日本語", "u"),
    (r"(?<=。)\S", "u"),
    (r"^.$", "u"),
    (r"^.$", "su"),
    (r"\Z", ""),
    (r"(?m)$", ""),
    (r"(?s).", ""),
    (r"(?ms)^<think>.*?</think>$", ""),
    (r"(?#comment)abc", ""),
    (r"a(?=b)", ""),
    (r"a(?!b)", ""),
    (r"(?<=a)b", ""),
    (r"(?<!a)b", ""),
    (r"(?<=ab|cd)e", ""),
    (r"(a)(?(1)b|c)", ""),
    (r"(?P<q>['\"]).*?(?P=q)", ""),
    (r"(?:\r?\n){2,}", ""),
    (r"[\s\S]*?", ""),
    (r"\$\\boxed\{([^}]*)\}\$", ""),
    (r"[{}]", ""),
    (r"{", ""),
    (r"a{", ""),
    (r"a{1", ""),
    (r"a{,", ""),
    (r"}", ""),
    (r"\{\d+\}", ""),
]

# Patterns Python refuses: moonlab must raise an error naming the offset.
BAD = [
    "a(b", "a)b", "[a", "*a", "a**", "a{2,1}", "(?P<n>a)(?P<n>b)", "(?P=nope)", r"\1",
    r"(a)\2", "(?<=a+)b", "(?P<1>a)", r"\p{L}", r"\h", r"\K", r"\Q", "(?<n>a)", "a(?i)b",
    "(?z)", "[b-a]", r"\x4", r"\u12", "\\", "(?", "(?P<n", "(?P", "+", "a|*", "(?#abc",
    r"\N{LATIN SMALL LETTER A}", r"\c", r"\g<1>", "(?i", "[[:alpha:]]x]", "a{1,2}{3}",
    "(?<!a*)b", r"\8", "(?P<a-b>x)",
]

# Subjects (str; bytes mode uses their UTF-8).
SUBJECTS = [
    "", "a", "\n", "x", "ax", "abc", "aaa", "aab", "ab ab", "hello hello world",
    "<think>\nreasoning here\n</think>\n<answer>\n42\n</answer>",
    "<think>\nreasoning here\n</think>\n<answer>\n42\n</answer>\n",
    "<think>a</think><answer>b</answer>",
    "<think>a</think>\n\n<answer>b</answer>",
    "<think>x<think>y</think><answer>z</answer>",
    "<think>\nline1\nline2\n</think>\n<answer>\n\\boxed{3}\n</answer>\nextra",
    "prefix <think>t</think> <answer>1</answer> suffix",
    "<think>\r\nwin\r\n</think>\r\n<answer>\r\n7\r\n</answer>",
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72",
    "so the total is 1,234.5 dollars\n#### -1,234.50",
    "#### 72\n", "####72", "#### abc", "-3.5 and 4,000 and .5 and 7.",
    "The answer is \\boxed{\\frac{1}{2}} and \\boxed{3}.",
    "\\boxed{a{b}c}", "$\\boxed{12}$", "\\boxed {x}\n", "\\text{hello} \\textbf{bold} \\overline{AB}",
    "\\frac12 + \\sqrt2 = frac{1}{2}", "x^ { 2 } + y^{10}",
    "Answer: 42\nAnswer : 7", "answer:  the end", "The final answer is: $5$.",
    "The answer is (B).", "A. first\nB) second\n  C: third", "yes, No, YES!", "1,000,000 and 12,34",
    "Step 1: do\n2. then\n- bullet\n* star\nFirst, Second, Next, Finally, done",
    "```python\nprint(1)\n```\ntext\n```\nx=2\n```",
    "<|im_start|>assistant\nhi<|im_end|>",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
    "x = 5\ny=  a b\n", "a@b.com, c.d-e@f-g.org", "'q' and \"dq\" and 'mixed\"",
    "the end", "the end\n", "the end\n\n", "end\nend", "123", "123\n", "123\n\n", "  7 ",
    "a\n\nb\n\n\nc", "a\r\nb\rc\nd", "\r\n\r\n", "\t\v\f\r\a", "nul\x00byte",
    "fs\x1cgs\x1drs\x1eus\x1f end", "a\x85b\u2028c\u00a0d",
    "café naïve résumé", "CAFÉ Café", "e\u0301 combining", "ＡＢＣ１２３", "٣٤٥ arabic-indic 123",
    "中文和日本語。句子。好", "emoji 😀🙏 mixed 👍🏽 text", "Straße STRASSE strasse",
    "Kelvin \u212a k K", "long ſ s S", "İstanbul ı i", "Σίσυφος ΣΊΣΥΦΟΣ",
    "aaaaaaaaaab", "aaaa", "xyxyxy", "abcabc", "cdeabe", "acbcabc",
    "ab" * 2000, ("word " * 3000) + "#### 99", "<think>" + "x" * 20000 + "</think><answer>1</answer>",
    "é" * 5000 + "end",
]

REPLS = [
    "X", "", r"\1", r"\g<1>", r"[\g<0>]", r"\2\1", r"\g<text>", r"\1\3\4", "frac{\\2}{\\3}",
    "sqrt{\\2}", "$\\3$", "\\2", r"\n", r"a\tb", r"\\", r"\g<word>", r"<\g<num>>", "é",
    r"\10", r"\g<10>", r"\0", r"\x41", r"\q", "\\", r"\g<name", r"\3",
]
FUNCS = {
    # Lua body, Python equivalent
    "wrap": ('return "[" .. m[0] .. "]"', lambda m: "[" + m.group(0) + "]"),
    "g1": ('return m[1] or "~"', lambda m: m.group(1) if m.group(1) is not None else "~"),
    "empty": ('return ""', lambda m: ""),
    "g1raw": ('return m[1]', lambda m: m.group(1)),  # None (nil) for an unmatched group: nothing
}


def lua_str(s: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03d" % b
                         for b in s) + '"'


LUA_PRELUDE = r'''
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local enc
local function encm(m, ng, names)
  if m == nil then return "null" end
  local parts = {}
  for k = 0, ng do
    local a, b = m:span(k)
    local sp = a and ("[" .. a .. "," .. b .. "]") or "null"
    local t = m[k]
    parts[#parts + 1] = "[" .. sp .. "," .. (t and ('"' .. hex(t) .. '"') or "null") .. "]"
  end
  local nm = {}
  for _, n in ipairs(names) do
    local t = m[n]
    local a, b = m:span(n)
    nm[#nm + 1] = '"' .. n .. '":[' .. (t and ('"' .. hex(t) .. '"') or "null") .. "," ..
      (a and ("[" .. a .. "," .. b .. "]") or "null") .. "]"
  end
  local gs = {}
  for i, g in ipairs(m:groups()) do gs[i] = g == false and "false" or ('"' .. hex(g) .. '"') end
  local gd = m:groupdict()
  local gdl = {}
  for _, n in ipairs(names) do
    local v = gd[n]
    gdl[#gdl + 1] = '"' .. n .. '":' .. ((v == nil or v == false) and "null" or ('"' .. hex(v) .. '"'))
  end
  return '{"g":[' .. table.concat(parts, ",") .. '],"n":{' .. table.concat(nm, ",") ..
    '},"gs":[' .. table.concat(gs, ",") .. '],"gd":{' .. table.concat(gdl, ",") .. '}}'
end
enc = function(v)
  local t = type(v)
  if v == nil then return "null"
  elseif t == "boolean" then return tostring(v)
  elseif t == "number" then return string.format("%d", v)
  elseif t == "string" then return '"' .. hex(v) .. '"'
  elseif t == "table" then
    local p = {}
    for i = 1, #v do p[i] = enc(v[i]) end
    return "[" .. table.concat(p, ",") .. "]"
  end
  return '"?' .. t .. '"'
end
local function run(id, f)
  local ok, r = pcall(f)
  if ok then io.write(id, "\t", r, "\n") else io.write(id, "\tERR\t", (tostring(r):gsub("\n", " ")), "\n") end
end
'''


def pflags(flags):
    f = 0
    for c, v in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X), ("a", re.A)):
        if c in flags:
            f |= v
    return f


class Case:
    pass


def make_cases(rng, n_subjects_per_pattern):
    cases = []
    pats = list(REAL)
    for pat, flags in pats:
        subs = SUBJECTS[:] if n_subjects_per_pattern <= 0 else rng.sample(SUBJECTS, min(len(SUBJECTS), n_subjects_per_pattern))
        for s in subs:
            for fn in ("search", "match", "fullmatch", "findall", "gmatch", "split", "sub"):
                c = {"pat": pat, "flags": flags, "subj": s, "fn": fn, "module": rng.random() < 0.5}
                if fn in ("search", "match", "fullmatch", "findall"):
                    c["init"] = rng.choice([None, None, 1, 2, len(s) + 1, rng.randint(1, max(1, len(s)))])
                if fn == "split":
                    c["n"] = rng.choice([None, 0, 1, 2])
                if fn == "sub":
                    c["n"] = rng.choice([None, 0, 1, 2])
                    c["repl"] = rng.choice(REPLS + ["@" + k for k in FUNCS])
                cases.append(c)
    for c in cases:  # Python raises IndexError for m.group(1) without a group 1; Lua gives nil
        if c.get("repl") in ("@g1", "@g1raw") and expected_ok(c) and _compile(c).groups < 1:
            c["repl"] = "@wrap"
    for pat in BAD:
        for flags in ("", "u"):
            cases.append({"pat": pat, "flags": flags, "subj": "a", "fn": "search", "module": True, "init": None})
            cases.append({"pat": pat, "flags": flags, "subj": "a", "fn": "compile", "module": False})
    for s in SUBJECTS[:70] + ["1+1=2?", "a.b*c", "[x](y){z}^$|\\", "#&~ -", "\x00\t\n", "é😀"]:
        for flags in ("", "u"):
            cases.append({"pat": "", "flags": flags, "subj": s, "fn": "escape", "module": True})
    return cases


def to_bytes_offsets(s):
    offs = [0]
    for ch in s:
        offs.append(offs[-1] + len(ch.encode()))
    return offs


def expected(c):
    """Python's answer, encoded as the Lua side encodes moonlab's."""
    u = "u" in c["flags"]
    s = c["subj"] if u or isinstance(c["subj"], bytes) else c["subj"].encode()
    offs = to_bytes_offsets(c["subj"]) if u else None
    B = (lambda x: x.encode()) if u else (lambda x: x)

    def hx(x):
        return None if x is None else B(x).hex()

    def off(i):
        return offs[i] if u else i

    if c["fn"] == "escape":
        return ("ok", re.escape(s).encode().hex() if u else re.escape(s).hex())
    pat = c["pat"] if u else c["pat"].encode()
    try:
        p = re.compile(pat, pflags(c["flags"]))
    except re.error as e:
        return ("err", e.pos)
    except (ValueError, OverflowError) as e:
        return ("err", None)
    names = sorted(p.groupindex)

    def encm(m):
        if m is None:
            return None
        g = []
        for k in range(p.groups + 1):
            a, b = m.span(k)
            sp = None if a < 0 else [off(a) + 1, off(b)]
            g.append([sp, hx(m.group(k))])
        nm = {}
        for n in names:
            a, b = m.span(n)
            nm[n] = [hx(m.group(n)), None if a < 0 else [off(a) + 1, off(b)]]
        gs = [False if x is None else hx(x) for x in m.groups()]
        gd = {n: hx(v) for n, v in m.groupdict().items()}
        return {"g": g, "n": nm, "gs": gs, "gd": gd}

    if c["fn"] == "compile":
        return ("ok", p.groups)
    fn = c["fn"]
    if fn in ("search", "match", "fullmatch", "findall"):
        pos = 0
        if c.get("init") is not None:
            pos = c["init"] - 1  # a char index in u mode, bytes otherwise: made to agree below
        r = getattr(p, fn)(s, pos)
        if fn == "findall":
            out = []
            for x in r:
                if isinstance(x, tuple):
                    out.append([hx(y) for y in x])
                else:
                    out.append(hx(x))
            return ("ok", out)
        return ("ok", encm(r))
    if fn == "gmatch":
        return ("ok", [encm(m) for m in p.finditer(s)])
    if fn == "split":
        r = p.split(s, c["n"] or 0)
        return ("ok", [False if x is None else hx(x) for x in r])
    if fn == "sub":
        repl = c["repl"]
        if repl.startswith("@"):
            pyf = FUNCS[repl[1:]][1]
            if u:
                rr = pyf
            else:
                rr = lambda m: (lambda t: None if t is None else t.encode("latin-1"))(pyf(_StrMatch(m)))
        else:
            rr = repl if u else repl.encode()
        try:
            out, n = p.subn(rr, s, c["n"] or 0)
        except re.error as e:
            return ("err", None)
        except IndexError:
            return ("err", None)
        return ("ok", [hx(out), n])
    raise ValueError(fn)


class _StrMatch:
    def __init__(self, m):
        self.m = m

    def group(self, k):
        g = self.m.group(k)
        return None if g is None else g.decode("latin-1")


def lua_case(i, c):
    u = "u" in c["flags"]
    sb = c["subj"] if isinstance(c["subj"], bytes) else c["subj"].encode()
    if c["fn"] == "escape":
        return "run(%d, function() return enc(re.escape(%s)) end)" % (i, lua_str(sb))
    pat = lua_str(c["pat"].encode())
    fl = '{flags = "%s"}' % c["flags"]
    if c["fn"] == "compile":
        return "run(%d, function() return enc(re.compile(%s, %s).groups) end)" % (i, pat, fl)
    names = sorted(re.compile(c["pat"] if u else c["pat"].encode(), pflags(c["flags"])).groupindex) \
        if expected_ok(c) else []
    nl = "{" + ",".join('"%s"' % n for n in names) + "}"
    pre = "local p = re.compile(%s, %s); local ng = p.groups; local names = %s; local s = %s; " % (pat, fl, nl, lua_str(sb))
    fn = c["fn"]
    if fn in ("search", "match", "fullmatch", "findall"):
        init = c.get("init")
        if init is not None and u:
            init = to_bytes_offsets(c["subj"])[init - 1] + 1
        a = "s" + ("" if init is None else ", %d" % init)
        if c["module"]:
            call = "re.%s(%s, %s%s)" % (fn, pat, a, ", " + fl if c["flags"] else "")
        else:
            call = "p:%s(%s)" % (fn, a)
        if fn == "findall":
            return "run(%d, function() %s return enc(%s) end)" % (i, pre, call)
        return "run(%d, function() %s return encm(%s, ng, names) end)" % (i, pre, call)
    if fn == "gmatch":
        it = ("re.gmatch(%s, s%s)" % (pat, ", " + fl if c["flags"] else "")) if c["module"] else "p:gmatch(s)"
        return ("run(%d, function() %s local out = {} for m in %s do out[#out + 1] = encm(m, ng, names) end "
                "return '[' .. table.concat(out, ',') .. ']' end)") % (i, pre, it)
    if fn == "split":
        a = "s" + ("" if c["n"] is None else ", %d" % c["n"])
        call = ("re.split(%s, %s%s)" % (pat, a, ", " + fl if c["flags"] else "")) if c["module"] else "p:split(%s)" % a
        return "run(%d, function() %s return enc(%s) end)" % (i, pre, call)
    if fn == "sub":
        repl = c["repl"]
        r = ("function(m) %s end" % FUNCS[repl[1:]][0]) if repl.startswith("@") else lua_str(repl.encode())
        a = r + ", s" + ("" if c["n"] is None else ", %d" % c["n"])
        call = ("re.sub(%s, %s%s)" % (pat, a, ", " + fl if c["flags"] else "")) if c["module"] else "p:sub(%s)" % a
        return "run(%d, function() %s local o, n = %s return enc({o, n}) end)" % (i, pre, call)
    raise ValueError(fn)


def _compile(c):
    return re.compile(c["pat"] if "u" in c["flags"] else c["pat"].encode(), pflags(c["flags"]))


def random_pattern(rng, depth=0):
    """A random pattern from the pieces rewards use; may be invalid (then both must refuse)."""
    groups = [0]
    closed = []

    def atom(d):
        r = rng.random()
        if r < 0.30:
            return rng.choice(["a", "b", "c", "1", " ", "\\n", "\\.", "-", "é", "中", "x"])
        if r < 0.45:
            return rng.choice([".", "\\d", "\\w", "\\s", "\\W", "\\S", "\\D", "[a-c]", "[^b]", "[\\d.]", "[é中]", "[^\\s]"])
        if r < 0.52:
            return rng.choice(["^", "$", "\\A", "\\Z", "\\b", "\\B"])
        if r < 0.56 and closed:
            return "\\%d" % rng.choice(closed)
        if d < 3:
            kind = rng.choice(["(", "(", "(?:", "(?P<n%d>", "(?=", "(?!", "(?<=", "(?<!", "(?>"])
            if kind in ("(?<=", "(?<!"):
                return kind + rng.choice(["a", "b", "\\d", "ab", "[a-c]"]) + ")"
            g = None
            if kind in ("(", "(?P<n%d>"):
                groups[0] += 1
                g = groups[0]
                kind = kind.replace("%d", str(g))
            body = seq(d + 1)
            if rng.random() < 0.3:
                body += "|" + seq(d + 1)
            if g:
                closed.append(g)
            return kind + body + ")"
        return "a"

    def quant(a):
        if a in ("^", "$", "\\A", "\\Z", "\\b", "\\B") or a.startswith("(?=") or a.startswith("(?!") or a.startswith("(?<"):
            return a
        r = rng.random()
        if r < 0.55:
            return a
        return a + rng.choice(["*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{,2}", "{2,}", "{0,1}?", "*+", "++", "?+"])

    def seq(d):
        return "".join(quant(atom(d)) for _ in range(rng.randint(1, 4)))

    pat = seq(0)
    if rng.random() < 0.2:
        pat += "|" + seq(0)
    return pat


def random_cases(rng, n):
    alphabet = ["a", "b", "c", "1", "2", " ", "\n", "é", "中", "x", "_", ".", "-", "\r\n", "😀"]
    cases = []
    for _ in range(n):
        pat = random_pattern(rng)
        flags = "".join(f for f in "imsux" if rng.random() < 0.25)
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        if "u" not in flags and rng.random() < 0.3:  # bytes that are not UTF-8, as Lua strings may hold
            s = bytes(rng.choice([0x61, 0x62, 0x31, 0x20, 0x0a, 0x80, 0xc3, 0xa9, 0xff, 0x00, 0x1c, 0x85, 0xa0])
                      for _ in range(rng.randint(0, 12)))
        fn = rng.choice(["search", "match", "fullmatch", "findall", "gmatch", "split", "sub"])
        c = {"pat": pat, "flags": flags, "subj": s, "fn": fn, "module": rng.random() < 0.5}
        if fn in ("search", "match", "fullmatch", "findall"):
            c["init"] = rng.choice([None, 1, rng.randint(1, len(s) + 1)])
        if fn in ("split", "sub"):
            c["n"] = rng.choice([None, 0, 1, 2])
        if fn == "sub":
            c["repl"] = rng.choice(["X", "", r"\g<0>", r"<\g<0>>", "@wrap", "@empty"] +
                                   ([r"\1", "@g1", r"[\g<1>]"] if "(" in pat.replace("(?", "") else []))
        cases.append(c)
    return cases


def expected_ok(c):
    try:
        re.compile(c["pat"] if "u" in c["flags"] else c["pat"].encode(), pflags(c["flags"]))
        return True
    except Exception:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--subjects", type=int, default=25, help="subjects per pattern (0: all)")
    ap.add_argument("--random", type=int, default=0, help="N random patterns instead of the corpus")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--limit", type=int, default=40, help="differences shown")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cases = make_cases(rng, args.subjects) if args.random == 0 else random_cases(rng, args.random)
    # u-mode init must be a char index: clamp to the subject's length + 1
    for c in cases:
        if c.get("init") is not None:
            c["init"] = min(c["init"], len(c["subj"]) + 1)
    batch = 1500
    results = {}
    for b in range(0, len(cases), batch):
        lines = [LUA_PRELUDE] + [lua_case(i, cases[i]) for i in range(b, min(len(cases), b + batch))]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=not args.keep) as f:
            f.write("\n".join(lines))
            f.flush()
            if args.keep:
                print("kept", f.name)
            pr = subprocess.run([MOONLAB, "run", f.name], capture_output=True)
            if pr.returncode != 0:
                print("moonlab failed on batch", b, pr.stderr.decode(errors="replace")[:2000])
            for line in pr.stdout.decode("latin-1").splitlines():
                parts = line.split("\t")
                i = int(parts[0])
                if parts[1] == "ERR":
                    results[i] = ("err", parts[2])
                else:
                    results[i] = ("ok", json.loads(parts[1]))
    diffs = 0
    shown = 0
    for i, c in enumerate(cases):
        exp = expected(c)
        got = results.get(i, ("missing", None))
        bad = None
        if exp[0] == "err":
            if got[0] != "err":
                bad = "Python raises, moonlab returns"
            elif exp[1] is not None and ("offset %d" % exp[1]) not in got[1] and c["fn"] != "sub":
                bad = "error offset differs"
        elif got[0] != "ok":
            bad = "moonlab raises"
        elif got[1] != exp[1]:
            bad = "values differ"
        if bad:
            diffs += 1
            if shown < args.limit:
                shown += 1
                print("DIFF %s: %s(%r, flags=%r) subj=%r init/n=%r repl=%r" % (
                    bad, c["fn"], c["pat"], c["flags"], c["subj"][:60], c.get("init", c.get("n")), c.get("repl")))
                print("   python :", str(exp)[:300])
                print("   moonlab:", str(got)[:300])
    print("%d cases, %d differences (seed %d)" % (len(cases), diffs, args.seed))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
