#!/usr/bin/env python3
"""Randomized differential test of moonlab's `data` readers and writers against Python's
own modules (Python 3.11): `csv` (the excel dialect, as csv.DictReader reads it),
`json` (json.loads) and a restatement of data.logprobs' documented normalisation.

Run by hand (never in CI):

    swift build
    python3 Tests/Differential/data_diff.py            # --seed N --moonlab PATH --only CAT --keep

Categories:
- csv: random files (quoted fields with separators, doubled quotes, LF/CR/CRLF inside
  quotes, LF, CRLF and lone-CR line ends, mixed; a UTF-8 BOM, empty fields, blank and
  trailing empty lines, rows shorter and longer than the header, unicode, number-like
  fields, fields of up to 2 MB across the 1 MB chunk, quotes inside unquoted fields, text
  after a closing quote, gzip, ';' and tab separators, header = false, numbers = false,
  on_error = "skip") read by data.csv and written back by ds:write, against Python's
  csv.reader with the dialect the docstring claims (RFC 4180 / excel, newline='').
- jsonl: random JSON Lines (escapes, \\u surrogate pairs and lone surrogates, \\/, numbers
  spelled every way JSON allows, 1e400, -0.0, 2^53+1, 2^63, 20-digit integers, deep
  nesting, duplicate keys, null in arrays, blank lines, CRLF, BOM, a final line without
  newline, invalid lines with and without on_error = "skip") against json.loads per line.
- json: whole files (data.json), pretty-printed or not, some with a BOM, against json.loads
  of the file's bytes (the error's line too).
- roundtrip: records written by Python's json.dumps, read by data.jsonl, written back by
  ds:write and data.write_jsonl (plain and .gz), read by json.loads: equal to the input,
  floats bit for bit, integers as integers.
- encode: random Lua values built in Lua (floats as hex literals, -0.0, math.mininteger,
  data.null, data.array(), tensors of every dtype) written by data.write_jsonl, against
  json.dumps of the same values (tensors as numpy's tolist()).
- logprobs: OpenAI chat / completions and vLLM layouts (token ids as json.dump writes
  them, with and without token_ids, alone or in a RequestOutput's outputs; prompt_logprobs
  with its leading None; vLLM's OpenAI
  server's token_ids beside an OpenAI logprobs object) wrapped as a response, a choice or a logprobs object.

Known and accepted differences (moonlab documents another choice; counted as "known"):
- a CSV record whose field count differs from the header's is an error naming its line
  (or skipped and counted with on_error = "skip"); DictReader pads with None / restkey;
- CSV fields that are exactly JSON numbers become Lua numbers (DictReader: strings); those
  beyond int64 become floats; 1e400 is inf, which the JSON writer writes as null;
- a CSV header field that is empty names its column by position (integer key);
- blank lines before a CSV header are skipped (DictReader takes the empty row as header);
- a quote still open at the end of a CSV file is an error (Python's non-strict csv keeps
  the field);
- a lone \\u surrogate becomes U+FFFD (Python keeps an unpaired surrogate in its str);
- JSON integers beyond int64 are floats (Python: exact ints); NaN/Infinity are errors
  (Python's json accepts them); nesting deeper than 200 is an error (Python: ~1000);
- JSON Lines are split on LF only (a lone CR is not a line end), and lines of only spaces
  and tabs are skipped (json.loads fails on them);
- NaN and +-inf are written as null.

Exit status 0 when nothing differs.
"""
import argparse
import csv
import gzip
import io
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import Counter

csv.field_size_limit(sys.maxsize)  # Python's default limit is 128 KB per field
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_DEPTH = 200                     # LuaLimits.maxDepth
NUMBER_RE = re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
SURROGATE_RE = re.compile("[\ud800-\udfff]")


class Case:
    def __init__(self, cat, kind, files, opts=None, want=None, want_error=None, skipped=0,
                 known=(), note="", compare_line=True):
        self.cat = cat
        self.kind = kind          # csv | jsonl | json | rt | rt_list | logprobs
        self.files = files        # the input path
        self.opts = opts or {}
        self.want = want          # expected list of records (after JSON round trip)
        self.want_error = want_error  # expected error: substring ("path:line:") or True
        self.skipped = skipped
        self.known = set(known)   # known differences this case exercises
        self.note = note
        self.compare_line = compare_line
        self.id = None


# ------------------------------------------------------------------------- helpers
def lua_str(s):
    return '"' + "".join(c if c.isalnum() or c in "/._-+ " else "\\%03d" % ord(c) for c in s) + '"'


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return lua_str(v)
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_str(k), lua_value(x)) for k, x in v.items()) + "}"
    raise TypeError(v)


def normalise(v):
    """What moonlab's JSON writer gives back for a value Python's json read: +-inf and NaN
    as null, ints beyond int64 as floats, lone surrogates as U+FFFD."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return v if INT64_MIN <= v <= INT64_MAX else normalise(float(v))
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, str):
        return SURROGATE_RE.sub("\ufffd", v)
    if isinstance(v, Pairs):
        out = {}    # in text order: lone surrogates made U+FFFD may make two keys one, the last wins
        for k, x in v:
            out[normalise(k)] = normalise(x)
        return out
    if isinstance(v, list):
        return [normalise(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            out[normalise(k)] = normalise(x)
        return out
    raise TypeError(v)


class Pairs(list):
    """An object's (key, value) pairs in text order (json.loads' object_pairs_hook)."""


def same(a, b):
    """Exact equality with types: 1 != 1.0, -0.0 != 0.0, floats bitwise."""
    if type(a) is not type(b):
        # an empty Lua table is written {} unless marked as an array
        if a == {} and b == [] or a == [] and b == {}:
            return True
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def first_diff(a, b, path="$"):
    if type(a) is not type(b) and not (a in ({}, []) and b in ({}, [])):
        return "%s: moonlab %r, python %r" % (path, a, b)
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: moonlab %d items, python %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return "%s: keys moonlab %r, python %r" % (path, sorted(a)[:10], sorted(b)[:10])
        for k in a:
            d = first_diff(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if not same(a, b):
        return "%s: moonlab %r, python %r" % (path, a, b)
    return None


def write_file(path, data, gz=False):
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


# ------------------------------------------------------------------------- csv
WORDS = ["a", "id", "x y", "naïve", "日本語", "emoji😀", "Ω", "tab\tin", "it's", "-", "=1", "NaN", "null",
         "true", "  pad  ", "back\\slash"]
NUMBERLIKE = ["0", "-0", "12", "-12", "3.5", "-3.50", "1e-3", "1E5", "1e+5", "2.5E-10", "-0.0", "0.0",
              "9007199254740993", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
              "123456789012345678901234567890", "1e400", "-1e400", "1e-400", "0.1000000000000000055511151231257827",
              "007", " 1", "1 ", "1,000", "0x10", "inf", "-inf", "nan", "+1", ".5", "1.", "-", "1e", "1e+",
              "1_000", "١٢", "00", "-01", "1.5.5", "5e-324", "1.7976931348623157e308", "2.2250738585072014e-308"]


def csv_field(rng, sep, long_ok):
    r = rng.random()
    if r < 0.12:
        return ""
    if r < 0.40:
        return rng.choice(NUMBERLIKE)
    if r < 0.55:
        return rng.choice(WORDS)
    if r < 0.62:
        return rng.choice(["a", "b", ""]) + sep + rng.choice(["c", "", " d"])
    if r < 0.70:
        return rng.choice(['say "hi"', '"', '""', 'a"b', '"start', 'end"'])
    if r < 0.80:
        return rng.choice(["line1\nline2", "l1\r\nl2", "cr\ronly", "\n", "\r\n\r\n", "trail\n", "\nlead"])
    if r < 0.83 and long_ok:
        n = rng.choice([70_000, 140_000, 1_100_000, 2_100_000])
        chunk = rng.choice(["x", "é", 'q"', "ab,", "\n"])
        return (chunk * (n // len(chunk)))[:n]
    if r < 0.90:
        return "".join(rng.choice("abc,;\"\r\n \t😀é0123456789.-e\x00") for _ in range(rng.randrange(1, 12)))
    return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0xa0, 0x3000), rng.randrange(0x1f300, 0x1f600)]))
                   for _ in range(rng.randrange(1, 8)))


def csv_encode_field(rng, f, sep):
    must = any(c in f for c in (sep, '"', "\r", "\n"))
    if must or rng.random() < 0.1:
        return '"' + f.replace('"', '""') + '"'
    return f


def gen_csv(rng, d, i, ucount):
    sep = rng.choice([",", ",", ",", ";", "\t"])
    header = rng.random() < 0.8
    numbers = rng.random() < 0.8
    skip = rng.random() < 0.4
    gz = rng.random() < 0.1
    eol_kind = rng.choice(["\n", "\r\n", "\r", "mixed"])
    ncols = rng.randrange(1, 7)
    known = set()
    lines = []   # encoded records (text)

    def eol():
        return rng.choice(["\n", "\r\n", "\r"]) if eol_kind == "mixed" else eol_kind

    names = []
    if header:
        for c in range(ncols):
            r = rng.random()
            if r < 0.05 and c > 0:
                name = ""
            elif r < 0.08 and names:
                name = rng.choice(names)  # duplicate: the last column wins, as in a dict
            else:
                name = rng.choice(["col", "Name", "naïve", "a,b", 'q"t', "x\ny", "日本", "sp ace", "k"]) + str(c)
            names.append(name)
        if all(n == "" for n in names):
            names[0] = "first"
        lines.append(sep.join(csv_encode_field(rng, n, sep) for n in names))
    long_ok = rng.random() < 0.08
    nrows = rng.choice([0, 1, 2, 5, 10, 30])
    for _ in range(nrows):
        n = ncols
        if rng.random() < 0.08:
            n = max(1, ncols + rng.choice([-2, -1, 1, 2]))
        fields = [csv_field(rng, sep, long_ok) for _ in range(n)]
        enc = [csv_encode_field(rng, f, sep) for f in fields]
        if rng.random() < 0.04:  # lenient forms: text after a closing quote, quote inside a field
            k = rng.randrange(n)
            enc[k] = rng.choice(['"ab"cd', 'ab"c', '"a""b"x', 'x"'])
        if n == 1 and enc[0] == "":
            enc[0] = '""'       # a lone empty field is a blank line otherwise
        lines.append(sep.join(enc))
        if rng.random() < 0.05:
            lines.append(rng.choice(["", ""]))  # a blank line inside
    text = ""
    if rng.random() < 0.1 and header:
        text += eol() * rng.randrange(1, 3)     # blank lines before the header
        known.add("csv_blank_before_header")
    text += "".join(l + eol() for l in lines[:-1]) + (lines[-1] if lines else "")
    if lines and rng.random() < 0.75:
        text += eol()
    if rng.random() < 0.2:
        text += eol() * rng.randrange(1, 4)
    if rng.random() < 0.03:
        text += sep + '"unterminated'
    data = text.encode()
    if rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    path = os.path.join(d, "c%d.csv%s" % (i, ".gz" if gz else ""))
    write_file(path, data, gz)
    opts = {}
    if not header:
        opts["header"] = False
    if not numbers:
        opts["numbers"] = False
    if sep != ",":
        opts["separator"] = sep
    if skip:
        opts["on_error"] = "skip"
    return csv_reference(path, data, opts, known)


def csv_reference(path, data, opts, known):
    sep = opts.get("separator", ",")
    header = opts.get("header", True)
    numbers = opts.get("numbers", True)
    skip = opts.get("on_error") == "skip"
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows = []   # (first line, fields)
    prev = 0
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if row == []:
                continue
            rows.append((start, row))
    except csv.Error as e:
        return Case("csv", "csv", path, opts, want_error=True, note="python: %s" % e)
    # the excel dialect keeps a field whose quote is still open at the end; moonlab refuses
    # it when it reaches that record (after any error in the records before it)
    unterminated = _open_quote_at_end(text, sep)
    if unterminated:
        known.add("csv_unterminated_quote")
        rows = rows[:-1]
    want = []
    names = None
    skipped = 0
    for start, row in rows:
        if header and names is None:
            names = row
            continue
        if header and len(row) != len(names):
            known.add("csv_field_count")
            if skip:
                skipped += 1
                continue
            return Case("csv", "csv", path, opts, want_error="%s:%d:" % (path, start), known=known)
        vals = [csv_value(f, numbers, known) for f in row]
        if header:
            rec = {}
            for k, (name, v) in enumerate(zip(names, vals)):
                if name == "":
                    known.add("csv_empty_header")
                    name = str(k + 1)
                rec[name] = v
            want.append(rec)
        else:
            want.append(vals)
    if unterminated:
        return Case("csv", "csv", path, opts, want_error="unterminated quoted field", known=known)
    return Case("csv", "csv", path, opts, want=want, skipped=skipped, known=known)


def _open_quote_at_end(text, sep):
    """Whether the text ends inside a quoted field (the state machine of Python's csv)."""
    state = "start"
    for c in text:
        if state in ("start", "field_start"):
            if c == '"':
                state = "quoted"
            elif c in "\r\n":
                state = "start"
            elif c == sep:
                state = "field_start"
            else:
                state = "unquoted"
        elif state == "unquoted":
            if c in "\r\n":
                state = "start"
            elif c == sep:
                state = "field_start"
        elif state == "quoted":
            if c == '"':
                state = "quote_in_quoted"
        elif state == "quote_in_quoted":
            if c == '"':
                state = "quoted"
            elif c == sep:
                state = "field_start"
            elif c in "\r\n":
                state = "start"
            else:
                state = "unquoted"
    return state == "quoted"


def csv_value(f, numbers, known):
    if numbers and NUMBER_RE.fullmatch(f.encode()):
        known.add("csv_numbers")
        return normalise(json.loads(f))
    return f


# ------------------------------------------------------------------------- json values
def rand_string(rng):
    parts = []
    for _ in range(rng.randrange(0, 6)):
        r = rng.random()
        if r < 0.3:
            parts.append(("plain", rng.choice(["a", "hello", "naïve", "日本", "😀", " ", "/", "'", "\x7f", "\u2028"])))
        elif r < 0.45:
            parts.append(("plain", rng.choice(['"', "\\", "\n", "\t", "\x00", "\x1f", "\r", "\b", "\f"])))
        elif r < 0.6:
            parts.append(("plain", chr(rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xd800),
                                                   rng.randrange(0xe000, 0x10000), rng.randrange(0x10000, 0x110000)]))))
        elif r < 0.7:
            parts.append(("lone", chr(rng.randrange(0xd800, 0xe000))))
        else:
            parts.append(("plain", "".join(rng.choice("abcxyz 019") for _ in range(rng.randrange(1, 10)))))
    return parts


def spell_string(rng, parts):
    out = ['"']
    for kind, s in parts:
        for ch in s:
            cp = ord(ch)
            if kind == "lone" or cp < 0x20 or ch in '"\\' or rng.random() < 0.15:
                if ch in '"\\' and rng.random() < 0.5:
                    out.append("\\" + ch)
                elif ch == "/" and rng.random() < 0.5:
                    out.append("\\/")
                elif ch in "\n\t\r\b\f" and rng.random() < 0.5:
                    out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[ch])
                elif cp >= 0x10000:
                    hi = 0xd800 + ((cp - 0x10000) >> 10)
                    lo = 0xdc00 + ((cp - 0x10000) & 0x3ff)
                    out.append(rng.choice(["\\u%04x\\u%04x", "\\u%04X\\u%04X"]) % (hi, lo))
                else:
                    out.append(rng.choice(["\\u%04x", "\\u%04X"]) % cp)
            else:
                out.append(ch)
    out.append('"')
    return "".join(out)


NUMBER_SPELLINGS = ["0", "-0", "1", "-1", "0.0", "-0.0", "1e400", "-1e400", "1e-400", "5e-324", "4.9e-324",
                    "2.4e-324", "1.7976931348623157e308", "1.7976931348623159e308", "2.2250738585072011e-308",
                    "9007199254740993", "9007199254740993.0", "18014398509481985", "9223372036854775807",
                    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                    "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
                    "1E5", "1e+5", "1e-5", "1.5E+300", "0.1", "0.30000000000000004",
                    "0.1000000000000000055511151231257827021181583404541015625", "1e22", "1e23", "9e22",
                    "123456789012345678.5", "1000000000000000000.05", "100000000000000000000e-2",
                    "0.000000000000000000000000000001", "1.00000000000000011102230246251565404236316680908203125",
                    "1.00000000000000011102230246251565404236316680908203126", "8.98846567431158e307",
                    "1e0", "0e0", "-0e-0", "1.0e+0", "12345678901234567e-5", "1e100000", "1e-100000"]


def spell_number(rng):
    r = rng.random()
    if r < 0.4:
        return rng.choice(NUMBER_SPELLINGS)
    if r < 0.6:
        return str(rng.randrange(-10**rng.randrange(1, 21), 10**rng.randrange(1, 21)))
    if r < 0.8:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if not math.isfinite(x):
            x = 1.5
        return rng.choice([repr(x), "%.17g" % x, "%.25e" % x])
    x = rng.uniform(-1e6, 1e6)
    return rng.choice([repr(x), "%.3f" % x, "%.20f" % x, "%e" % x])


def spell_value(rng, depth, ws, dup_ok=True):
    """Random JSON text (valid)."""
    r = rng.random()
    if depth > 4 or r < 0.35:
        s = rng.random()
        if s < 0.35:
            return spell_number(rng)
        if s < 0.7:
            return spell_string(rng, rand_string(rng))
        return rng.choice(["true", "false", "null"])
    if r < 0.65:
        items = [spell_value(rng, depth + 1, ws) for _ in range(rng.choice([0, 1, 2, 3, 5]))]
        if rng.random() < 0.2:
            items += ["null"] * rng.randrange(1, 3)
        return "[" + ("," + ws(rng)).join(ws(rng) + x + ws(rng) for x in items) + "]"
    keys = [spell_string(rng, rand_string(rng)) for _ in range(rng.choice([0, 1, 2, 4]))]
    if keys and dup_ok and rng.random() < 0.15:
        keys.append(rng.choice(keys))
    return "{" + ",".join(ws(rng) + k + ws(rng) + ":" + ws(rng) + spell_value(rng, depth + 1, ws) + ws(rng)
                          for k in keys) + "}"


def ws_line(rng):
    return rng.choice(["", "", "", " ", "\t", "  "])


def ws_file(rng):
    return rng.choice(["", "", " ", "\n", "\r\n", "\t", "\n  "])


def deep(rng, n):
    kinds = [rng.choice("[{") for _ in range(n)]
    out = "".join('{"k":' if k == "{" else "[" for k in kinds) + "1" + "".join("}" if k == "{" else "]" for k in reversed(kinds))
    return out


INVALID_LINES = ['{"a": 1,}', "{'a': 1}", '{"a": NaN}', '{"a": Infinity}', "[-Infinity]", '{"a": "open', '{"a": 01}',
                 '{"a": 1} // c', '{"a": "\x01"}', '{"a": 1}}', '"\\x"', '"\\u12G4"', "[1 2]", "tru", "nul",
                 "{\"a\" 1}", "1.", ".5", "+1", "-", "[1,]", "\x0c{}", '{"a":1}\r\r']


class NonFinite(Exception):
    pass


def non_finite(name):
    raise NonFinite(name)


def json_reference(text_line, known):
    """json.loads of one line (or file) with moonlab's documented differences; returns
    (ok, value)."""
    def no_const(name):
        raise ValueError("non-finite constant " + name)
    try:
        v = json.loads(text_line, parse_constant=no_const, object_pairs_hook=Pairs)
    except (ValueError, RecursionError):
        return False, None
    if json_depth(v) > MAX_DEPTH:
        known.add("json_depth")
        return False, None
    n = normalise(v)
    if not same(n, json.loads(text_line)):
        known.add("json_normalised")
    return True, n


def json_depth(v):
    d, stack = 0, [(v, 1)]
    while stack:
        x, k = stack.pop()
        if isinstance(x, (list, dict)):
            d = max(d, k)
            stack.extend((y, k + 1) for y in (x.values() if isinstance(x, dict) else
                                              [p[1] for p in x] if isinstance(x, Pairs) else x))
    return d


def gen_jsonl(rng, d, i):
    known = set()
    eol = rng.choice(["\n", "\r\n", "mixed"])
    skip = rng.random() < 0.4
    gz = rng.random() < 0.1
    lines = []
    for _ in range(rng.choice([0, 1, 3, 10, 30])):
        r = rng.random()
        if r < 0.05:
            lines.append(rng.choice(["", " ", "\t \t"]))
        elif r < 0.08:
            lines.append(rng.choice(INVALID_LINES))
        elif r < 0.1:
            lines.append(deep(rng, rng.choice([50, 199, 200, 201, 300, 900])))
        elif r < 0.11:   # a line longer than the 1 MB chunk
            lines.append('{"long": "%s", "n": 1}' % (rng.choice(["x", "\\u00e9", "é", "\\n"]) * rng.choice([300_000, 700_000])))
        else:
            lines.append(ws_line(rng) + spell_value(rng, 0, ws_line) + ws_line(rng))
    data = "".join(l + (rng.choice(["\n", "\r\n"]) if eol == "mixed" else eol) for l in lines)
    if lines and rng.random() < 0.3:
        data = data.rstrip("\r\n")   # a final line without newline
    if rng.random() < 0.2:
        data += "\n" * rng.randrange(1, 3)
    raw = data.encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        raw = b"\xef\xbb\xbf" + raw
    path = os.path.join(d, "j%d.jsonl%s" % (i, ".gz" if gz else ""))
    write_file(path, raw, gz)
    opts = {"on_error": "skip"} if skip else {}
    # reference: split on LF, drop one CR, skip lines of spaces and tabs
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    parts = body.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    want, skipped = [], 0
    for ln, line in enumerate(parts, 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(b" \t") == b"":
            if line != b"":
                known.add("jsonl_blank_spaces")
            continue
        ok, v = json_reference(line.decode("utf-8"), known)
        if not ok:
            if skip:
                skipped += 1
                continue
            return Case("jsonl", "jsonl", path, opts, want_error="%s:%d:" % (path, ln), known=known)
        want.append(v)
    return Case("jsonl", "jsonl", path, opts, want=want, skipped=skipped, known=known)


def gen_json(rng, d, i):
    known = set()
    r = rng.random()
    if r < 0.5:
        text = ws_file(rng) + spell_value(rng, 0, ws_file) + ws_file(rng)
    elif r < 0.75:
        v = json.loads(spell_value(rng, 0, ws_line))
        # a lone surrogate written raw (ensure_ascii=False) is not UTF-8: moonlab passes the
        # bytes through (it does not validate), json.loads(bytes) takes them as 'surrogatepass'
        ascii = rng.random() < 0.5
        text = json.dumps(v if ascii else normalise(v), indent=rng.choice([None, 1, 2, "\t"]), ensure_ascii=ascii)
    elif r < 0.85:
        text = deep(rng, rng.choice([199, 200, 201, 500]))
    else:
        text = spell_value(rng, 0, ws_file) + rng.choice(["x", ",", "]", "\n}", " 1"]) if rng.random() < 0.5 \
            else "[\n" + rng.choice(INVALID_LINES) + "\n]"
    path = os.path.join(d, "f%d.json" % i)
    # a BOM: json.loads of the file's bytes reads it as utf-8-sig
    write_file(path, (b"\xef\xbb\xbf" if rng.random() < 0.1 else b"") + text.encode("utf-8", "surrogatepass"))
    ok, v = json_reference(text, known)
    if not ok:
        try:
            json.loads(text, parse_constant=non_finite)
        except NonFinite:
            pass
        except json.JSONDecodeError as e:
            if "json_depth" not in known:
                return Case("json", "json", path, want_error="%s:%d:" % (path, e.lineno), known=known,
                            note="python: " + e.msg)
        except (ValueError, RecursionError):
            pass
        return Case("json", "json", path, want_error=True, known=known)
    return Case("json", "json", path, want=[v], known=known)


def rand_value(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.5:
        s = rng.random()
        if s < 0.2:
            return rng.choice([0, -1, 1, INT64_MAX, INT64_MIN, 2**53 + 1, -(2**53) - 1, rng.randrange(INT64_MIN, INT64_MAX)])
        if s < 0.5:
            x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if not math.isfinite(x):
                x = rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 1e22, 1e-7, 1.0, 0.1])
            return x
        if s < 0.8:
            return "".join(p for _, p in rand_string(rng) if _ == "plain")
        return rng.choice([True, False, None])
    if r < 0.75:
        return [rand_value(rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 4]))]
    return {"".join(p for _, p in rand_string(rng) if _ == "plain"): rand_value(rng, depth + 1)
            for _ in range(rng.choice([0, 1, 3]))}


def gen_roundtrip(rng, d, i):
    recs = [rand_value(rng) for _ in range(rng.choice([1, 5, 20]))]
    if rng.random() < 0.05:
        v = 1.5
        for _ in range(rng.choice([10, 150, 199])):
            v = [v] if rng.random() < 0.5 else {"k": v}
        recs.append(v)
    text = "".join(json.dumps(r, ensure_ascii=rng.random() < 0.5) + "\n" for r in recs)
    path = os.path.join(d, "r%d.jsonl" % i)
    write_file(path, text.encode())
    kind = rng.choice(["rt", "rt_list", "rt_gz"])
    return Case("roundtrip", kind, path, want=recs)


# ------------------------------------------------------------------------- encode
def lua_bytes(s):
    return '"' + "".join(chr(b) if chr(b).isalnum() and b < 128 else "\\%03d" % b for b in s.encode("utf-8")) + '"'


def lua_literal(v):
    """Lua source that builds v exactly (floats as hex literals, -0.0 and the int64 ends
    included); a ("tensor", dtype, nested list) item builds a tensor."""
    if v is None:
        return "data.null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "math.mininteger" if v == INT64_MIN else str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "math.huge" if v > 0 else "-math.huge"
        if math.isnan(v):
            return "(0/0)"
        return "(%s)" % v.hex()
    if isinstance(v, str):
        return lua_bytes(v)
    if isinstance(v, tuple):
        return "tensor(%s, {dtype = %s})" % (lua_literal(v[2]) if v[2] else "{}", lua_str(v[1]))
    if isinstance(v, list):
        return "{" + ", ".join(lua_literal(x) for x in v) + "}" if v else "data.array()"
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_bytes(k), lua_literal(x)) for k, x in v.items()) + "}"
    raise TypeError(v)


def rand_tensor(rng):
    """(("tensor", dtype, nested list), what json.dumps(np.array(...).tolist()) gives)."""
    dtype = rng.choice(["f64", "f32", "i64", "bool"])
    shape = rng.choice([[3], [2, 2], [1], [2, 3, 1]])
    n = 1
    for k in shape:
        n *= k
    if dtype == "i64":
        flat = [rng.choice([0, -1, 2**53 + 1, INT64_MAX, INT64_MIN + 1, rng.randrange(-10**18, 10**18)]) for _ in range(n)]
    elif dtype == "bool":
        flat = [rng.random() < 0.5 for _ in range(n)]
    else:
        flat = [rng.choice([0.1, -0.0, 1e300, 5e-324, rng.uniform(-10, 10)]) for _ in range(n)]
    if dtype == "f32":
        flat = [struct.unpack("<f", struct.pack("<f", x))[0] if abs(x) < 3e38 else 0.5 for x in flat]

    def nest(xs, sh):
        if len(sh) == 1:
            return xs
        step = len(xs) // sh[0]
        return [nest(xs[i * step:(i + 1) * step], sh[1:]) for i in range(sh[0])]
    nested = nest(flat, shape)
    # the f32 values are given to Lua as the doubles they round to, so the tensor holds them exactly
    return ("tensor", dtype, nested), nested


def gen_encode(rng, d, i):
    recs, want = [], []
    for _ in range(rng.choice([1, 3, 8])):
        v = rand_value(rng)
        w = v
        if rng.random() < 0.3:
            t, tw = rand_tensor(rng)
            v = {"t": t, "v": v}
            w = {"t": tw, "v": w}
        recs.append(v)
        want.append(w)
    return Case("encode", "encode", "", opts={}, want=want, note=lua_literal_list(recs))


def lua_literal_list(recs):
    return "{" + ", ".join(lua_literal(r) for r in recs) + "}"


# ------------------------------------------------------------------------- logprobs
TOKENS = ["the", " the", "The", "a", " ", "", "\n", "日", "😀", "é", "1", "12", "-", "<|eot|>", "Ġcat", "a\"b"]


def rand_lp(rng):
    r = rng.random()
    if r < 0.1:
        return 0.0
    if r < 0.2:
        return rng.choice([-1.0, -0.5, -9999.0, -1e-300, -20.0])
    return -rng.expovariate(0.5)


def sort_top(entries):
    return sorted(entries, key=lambda e: (-e["logprob"], e["token"].encode()))


def gen_logprobs(rng, d, i):
    n = rng.choice([0, 1, 3, 8])
    k = rng.choice([0, 1, 2, 5])
    layout = rng.choice(["chat", "completions", "vllm", "vllm_ids", "vllm_plain_ids", "vllm_single", "vllm_prompt"])
    tokens, lps, tops = [], [], []
    if layout == "chat":
        content = []
        for _ in range(n):
            tok = rng.choice(TOKENS)
            lp = rand_lp(rng)
            top = [{"token": rng.choice(TOKENS), "logprob": rand_lp(rng), "bytes": None} for _ in range(k)]
            if rng.random() < 0.3 and top:
                top[0] = {"token": top[-1]["token"] + "x", "logprob": top[-1]["logprob"], "bytes": [1]}  # a tie
            content.append({"token": tok, "logprob": lp, "bytes": list(tok.encode()), "top_logprobs": top})
            tokens.append(tok)
            lps.append(lp)
            tops.append(sort_top([{"token": e["token"], "logprob": e["logprob"]} for e in top]))
        lp_obj = {"content": content if n or rng.random() < 0.5 else [], "refusal": None}
        choice = {"index": 0, "message": {"role": "assistant", "content": "".join(tokens)}, "logprobs": lp_obj,
                  "finish_reason": "stop"}
    elif layout == "completions":
        echo = rng.random() < 0.3
        toks = [rng.choice(TOKENS) for _ in range(n)]
        tl, tt = [], []
        for j, t in enumerate(toks):
            if echo and j == 0:
                tl.append(None)
                tt.append(None)
                lps.append(None)
                tops.append([])
            else:
                lp = rand_lp(rng)
                alts = {}
                for _ in range(k):
                    alts[rng.choice(TOKENS)] = rand_lp(rng)
                tl.append(lp)
                tt.append(alts)
                lps.append(lp)
                tops.append(sort_top([{"token": a, "logprob": b} for a, b in alts.items()]))
            tokens.append(t)
        lp_obj = {"tokens": toks, "token_logprobs": tl, "top_logprobs": tt if k or rng.random() < 0.5 else None,
                  "text_offset": list(range(n))}
        choice = {"index": 0, "text": "".join(toks), "logprobs": lp_obj, "finish_reason": "length"}
    else:
        ids, positions = [], []
        for _ in range(n):
            m = 1 if layout == "vllm_single" else max(1, k)
            cand = rng.sample(range(0, 200000), m + 1)
            sampled = cand[0]
            pos = {}
            entries = []
            for rank, tid in enumerate(cand[:m] if m > 1 else [sampled]):
                lp = rand_lp(rng)
                if layout == "vllm_plain_ids":
                    pos[str(tid)] = lp
                    tok = str(tid)
                else:
                    dec = rng.choice(TOKENS + [None])
                    pos[str(tid)] = {"logprob": lp, "rank": rank + 1, "decoded_token": dec}
                    tok = dec if dec is not None else str(tid)
                entries.append({"token": tok, "logprob": lp})
                if tid == sampled:
                    tokens.append(tok)
                    lps.append(lp)
            ids.append(sampled)
            positions.append(pos)
            tops.append(sort_top(entries))
        if layout == "vllm_prompt" and n:
            # prompt_logprobs with prompt_token_ids: the first position is None
            positions[0] = None
            tokens[0] = str(ids[0])
            lps[0] = None
            tops[0] = []
            choice = {"token_ids": ids, "logprobs": positions}
        elif layout == "vllm_single":
            choice = positions if rng.random() < 0.5 else {"token_ids": ids, "logprobs": positions}
        else:
            choice = {"token_ids": ids, "logprobs": positions, "text": "", "cumulative_logprob": None}
        lp_obj = None
    if lp_obj is not None and rng.random() < 0.3:
        # vLLM's OpenAI server with return_token_ids: token_ids beside the OpenAI logprobs
        choice["token_ids"] = [rng.randrange(100000) for _ in range(n)]
        layout += "+token_ids"
    wrap = rng.choice(["response", "choice", "object"]) if lp_obj is not None else rng.choice(["response", "choice"])
    if wrap == "object":
        x = lp_obj
    elif wrap == "choice" or isinstance(choice, list):
        x = choice
    elif lp_obj is None and rng.random() < 0.5:
        # vLLM offline: a RequestOutput as LLM.generate returns it, its CompletionOutputs in
        # `outputs` (the first is taken, as a response's first choice), after json.dump
        x = {"request_id": "0", "prompt": "p", "prompt_token_ids": [1, 2], "prompt_logprobs": None,
             "outputs": [dict(choice, index=0, finish_reason="length"), dict(choice, index=1)], "finished": True}
    else:
        x = {"id": "cmpl-1", "object": "chat.completion", "choices": [choice, dict(choice)], "usage": {}}
    path = os.path.join(d, "l%d.json" % i)
    write_file(path, json.dumps(x).encode())
    want = {"tokens": tokens, "logprobs": lps, "top": tops}
    return Case("logprobs", "logprobs", path, want=[want], note=layout + "/" + wrap)


# ------------------------------------------------------------------------- running
LUA_DRIVER = r'''
local cases, results = ...
local rf = assert(io.open(results, "wb"))
for _, c in ipairs(cases) do
  local ok, err = pcall(function()
    if c.kind == "csv" then
      local ds = data.csv(c.path, c.opts); ds:write(c.out); return ds.skipped
    elseif c.kind == "jsonl" or c.kind == "rt" then
      local ds = data.jsonl(c.path, c.opts); ds:write(c.out); return ds.skipped
    elseif c.kind == "rt_list" or c.kind == "rt_gz" then
      local t = {}
      for r in data.jsonl(c.path):each() do t[#t + 1] = r end
      return 0, data.write_jsonl(c.kind == "rt_gz" and c.out .. ".gz" or c.out, t)
    elseif c.kind == "json" then
      local v = data.json(c.path)
      local f = assert(io.open(c.out, "wb")); f:write(data.encode(v), "\n"); f:close(); return 0
    elseif c.kind == "encode" then
      local recs = assert(load("return " .. c.src))()
      data.write_jsonl(c.out, recs); return 0
    elseif c.kind == "logprobs" then
      local lp = data.logprobs(data.json(c.path))
      local f = assert(io.open(c.out, "wb"))
      f:write(data.encode({tokens = lp.tokens, logprobs = lp.logprobs, top = lp.top_logprobs}), "\n"); f:close(); return 0
    end
  end)
  rf:write(data.encode({id = c.id, ok = ok, skipped = ok and err or nil, err = (not ok) and tostring(err) or nil}), "\n")
end
rf:close()
'''


def run_batch(moonlab, d, cases, batch_no):
    lua = ["local cases = {"]
    for c in cases:
        lua.append("{id = %d, kind = %s, path = %s, out = %s, opts = %s, src = %s}," % (
            c.id, lua_str(c.kind), lua_str(c.files), lua_str(c.out), lua_value(c.opts),
            lua_long(c.note) if c.kind == "encode" else "nil"))
    lua.append("}")
    results = os.path.join(d, "results%d.jsonl" % batch_no)
    lua.append("local driver = load(%s)" % lua_long(LUA_DRIVER))
    lua.append("driver(cases, %s)" % lua_str(results))
    script = os.path.join(d, "batch%d.lua" % batch_no)
    with open(script, "w") as f:
        f.write("\n".join(lua))
    p = subprocess.run([moonlab, "--no-plugins", "run", script], capture_output=True, text=True)
    out = {}
    if os.path.exists(results):
        with open(results, "rb") as f:
            for line in f:
                r = json.loads(line)
                out[r["id"]] = r
    return out, p


def lua_long(s):
    return "[==[" + s + "]==]"


def read_output(c):
    path = c.out + ".gz" if c.kind == "rt_gz" else c.out
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return [json.loads(line) for line in f.read().split(b"\n") if line != b""]


def check(c, r):
    """None when moonlab agrees, else a description."""
    if r is None:
        return "no result (moonlab crashed?)"
    if c.want_error is not None:
        if r["ok"]:
            return "moonlab read it (%s skipped), python: error %s" % (r.get("skipped"), c.note or c.want_error)
        if isinstance(c.want_error, str) and c.compare_line and c.want_error not in r["err"]:
            return "error %r does not name %r" % (r["err"], c.want_error)
        return None
    if not r["ok"]:
        return "moonlab error: %s" % r["err"]
    got = read_output(c)
    if c.kind == "logprobs":
        for g in got:
            g["logprobs"] = [x for x in g["logprobs"]] if isinstance(g["logprobs"], list) else g["logprobs"]
            g["top"] = [[] if t == {} else t for t in (g["top"] if g["top"] != {} else [])]
            g["tokens"] = g["tokens"] if g["tokens"] != {} else []
    want = c.want
    if c.kind in ("rt", "rt_list", "rt_gz", "encode"):
        want = [normalise(x) for x in c.want]
    d = first_diff(got, want)
    if d:
        return d
    if c.kind in ("csv", "jsonl") and (r.get("skipped") or 0) != c.skipped:
        return "skipped: moonlab %s, python %d" % (r.get("skipped"), c.skipped)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--moonlab", default=".build/debug/moonlab")
    ap.add_argument("--only", action="append")
    ap.add_argument("--n", type=int, default=400, help="cases per category")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-known", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    d = tempfile.mkdtemp(prefix="data_diff_")
    gens = {"csv": lambda i: gen_csv(rng, d, i, None), "jsonl": lambda i: gen_jsonl(rng, d, i),
            "json": lambda i: gen_json(rng, d, i), "roundtrip": lambda i: gen_roundtrip(rng, d, i),
            "logprobs": lambda i: gen_logprobs(rng, d, i), "encode": lambda i: gen_encode(rng, d, i)}
    cases = []
    for cat, g in gens.items():
        if args.only and cat not in args.only:
            continue
        for _ in range(args.n):
            c = g(len(cases))
            c.id = len(cases)
            c.out = os.path.join(d, "out%d.jsonl" % c.id)
            cases.append(c)
    results = {}
    for b in range(0, len(cases), 200):
        out, p = run_batch(os.path.abspath(args.moonlab), d, cases[b:b + 200], b)
        results.update(out)
        if p.returncode != 0:
            print("batch %d: moonlab exit %d: %s" % (b, p.returncode, p.stderr[-2000:]))
    per = Counter()
    bad = Counter()
    known = Counter()
    for c in cases:
        per[c.cat] += 1
        for k in c.known:
            known[k] += 1
        why = check(c, results.get(c.id))
        if why:
            bad[c.cat] += 1
            print("DIFF %s case %d (%s) %s: %s" % (c.cat, c.id, c.note[:300], c.files, why[:600]))
    print("seed %d: %s" % (args.seed, ", ".join("%s %d (%d differ)" % (k, per[k], bad[k]) for k in per)))
    print("known differences exercised: %s" % dict(known))
    if args.keep:
        print("kept", d)
    else:
        shutil.rmtree(d)
    sys.exit(1 if sum(bad.values()) else 0)


if __name__ == "__main__":
    main()
