/// A port of spaCy's rule-based tokenizer with its English rules (`spacy.blank("en")`),
/// as explosion/spaCy's `spacy/tokenizer.pyx` runs it: split on whitespace (one space after
/// a token is its trailing space; any other whitespace becomes a token), then for each
/// span: a special case (exception) whole, else strip prefixes and suffixes repeatedly
/// (stopping at a special case), then the rest is a special case, a URL, or split at
/// infixes. Rules: `spacy/lang/punctuation.py` TOKENIZER_PREFIXES/SUFFIXES and
/// `spacy/lang/en/punctuation.py` infixes; exceptions: `SpacyEnglishExceptions`.
///
/// Then `_apply_special_cases`: special cases that contain an affix are also found across the
/// tokens (spaCy's `_special_matcher`, a PhraseMatcher of each one's affix tokenization), so
/// "x/y." ends in the token "y." as the exception "y." says (`SpacySpecialMatcher`).
/// Not ported: the IP-address branch of the URL pattern.
public struct SpacyTokenizer: Sendable {
    /// One token: its text and where it starts and ends in the input (code-point offsets).
    public struct Token: Equatable, Sendable {
        public var text: String
        public var start: Int
        public var end: Int
    }

    public init() {}

    /// The token texts of `text`, as `[t.text for t in nlp(text)]`.
    public func tokens(_ text: String) -> [String] { tokenize(text).map(\.text) }

    /// Tokens with their offsets.
    public func tokenize(_ text: String) -> [Token] {
        let s = Array(text.unicodeScalars)
        return ranges(s).map { Token(text: SpacyTokenizer.string(s, $0.0, $0.1), start: $0.0, end: $0.1) }
    }

    /// The tokens of `s` as (start, end) code-point offsets: no string is made per token (a
    /// special case's pieces are pieces of its span, as spaCy requires of them).
    public func ranges(_ s: [Unicode.Scalar]) -> [(Int, Int)] {
        var out = ranges(s, specialCases: true)
        SpacySpecialMatcher.apply(s, &out)
        return out
    }

    /// `_tokenize_affixes(string, with_special_cases)`: the tokens before the special-case pass.
    func ranges(_ s: [Unicode.Scalar], specialCases: Bool) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        guard !s.isEmpty else { return out }
        out.reserveCapacity(s.count / 4)
        var i = 0, start = 0
        var inSpace = SpacyClass.isSpace(s[0])
        while i < s.count {
            if SpacyClass.isSpace(s[i]) != inSpace {
                if start < i { span(s, start, i, specialCases, into: &out) }
                start = s[i] == " " ? i + 1 : i
                inSpace.toggle()
            }
            i += 1
        }
        if start < i { span(s, start, i, specialCases, into: &out) }
        return out
    }

    /// The tokens of one whitespace-separated chunk (or one run of whitespace after the first
    /// space), before the special-case pass: what `ranges` gives for it, as offsets into `s`.
    /// They depend on the chunk's code points only, which is why spaCy caches them by chunk
    /// (`SpacyTokenCache` does the same).
    func chunkRanges(_ s: [Unicode.Scalar]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        if !s.isEmpty { span(s, 0, s.count, true, into: &out) }
        return out
    }

    static func string(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s[a..<b])
        return String(v)
    }

    /// The special case of the span, if any. Most spans are not one: a length and hash check
    /// (`SpacyExceptionIndex`) answers without making a string.
    private func special(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> [String]? {
        guard a < b, SpacyExceptionIndex.mayContain(s, a, b) else { return nil }
        return SpacyEnglishExceptions.table[SpacyTokenizer.string(s, a, b)]
    }

    private func emit(_ pieces: [String], at a: Int, into out: inout [(Int, Int)]) {
        var p = a
        for piece in pieces {
            let n = piece.unicodeScalars.count
            out.append((p, p + n))
            p += n
        }
    }

    /// `_try_specials_and_cache` + `_tokenize` for the span `s[a..<b]`.
    private func span(_ s: [Unicode.Scalar], _ a0: Int, _ b0: Int, _ specialCases: Bool, into out: inout [(Int, Int)]) {
        func special(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> [String]? {
            specialCases ? self.special(s, a, b) : nil
        }
        if let sp = special(s, a0, b0) { emit(sp, at: a0, into: &out); return }
        var a = a0, b = b0
        var prefixes: [(Int, Int)] = [], suffixes: [(Int, Int)] = []
        var lastSize = -1
        // _split_affixes
        while a < b && b - a != lastSize {
            if special(s, a, b) != nil { break }
            lastSize = b - a
            let pre = prefixLength(s, a, b)
            if pre > 0, a + pre < b, special(s, a + pre, b) != nil {
                prefixes.append((a, a + pre)); a += pre; break
            }
            let suf = suffixLength(s, a + pre, b)
            if suf > 0, a < b - suf, special(s, a, b - suf) != nil {
                suffixes.append((b - suf, b)); b -= suf; break
            }
            if pre > 0 && suf > 0 && pre + suf <= b - a {
                prefixes.append((a, a + pre)); suffixes.append((b - suf, b))
                a += pre; b -= suf
            } else if pre > 0 {
                prefixes.append((a, a + pre)); a += pre
            } else if suf > 0 {
                suffixes.append((b - suf, b)); b -= suf
            }
        }
        // _attach_tokens
        for (x, y) in prefixes { out.append((x, y)) }
        if a < b {
            if let sp = special(s, a, b) {
                emit(sp, at: a, into: &out)
            } else if s[a..<b].contains("."), SpacyURL.matches(Array(s[a..<b])) {  // a URL's host has a dot
                out.append((a, b))
            } else {
                var cursor = a
                for (x, y) in infixes(s, a, b) where x != a {
                    if x != cursor { out.append((cursor, x)) }
                    if x != y { out.append((x, y)) }
                    cursor = y
                }
                if cursor < b { out.append((cursor, b)) }
            }
        }
        for (x, y) in suffixes.reversed() { out.append((x, y)) }
    }

    /// The length of `lit` if `s[at..<end]` starts with it.
    @inline(__always)
    private func hasLiteral(_ s: [Unicode.Scalar], _ at: Int, _ end: Int, _ lit: [Unicode.Scalar]) -> Int? {
        guard at < end, s[at] == lit[0], at + lit.count <= end else { return nil }
        for k in 1..<lit.count where s[at + k] != lit[k] { return nil }
        return lit.count
    }


    private func dotRun(_ s: [Unicode.Scalar], _ at: Int, _ end: Int) -> Int {
        var j = at
        while j < end && s[j] == "." { j += 1 }
        return j - at
    }

    /// `prefix_search` (`^`-anchored alternation, first alternative that matches).
    func prefixLength(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Int {
        guard a < b else { return 0 }
        for lit in SpacyLiterals.prefixExtra { if let n = hasLiteral(s, a, b, lit) { return n } }
        if s[a] == "+" && !(a + 1 < b && SpacyClass.isDigit(s[a + 1])) { return 1 }
        for lit in SpacyLiterals.punct { if let n = hasLiteral(s, a, b, lit) { return n } }
        let dots = dotRun(s, a, b)
        if dots >= 2 { return dots }
        if s[a] == "…" { return 1 }
        for lit in SpacyLiterals.quotes { if let n = hasLiteral(s, a, b, lit) { return n } }
        for lit in SpacyLiterals.currency { if let n = hasLiteral(s, a, b, lit) { return n } }
        if SpacyClass.isIcon(s[a]) { return 1 }
        return 0
    }

    /// `suffix_search`: the leftmost position from which one alternative matches to the end.
    /// Every alternative is a literal of at most `SpacyClass.maxSuffixLength` code points, or
    /// a run of dots: only the last few positions and the start of a trailing dot run can
    /// match, so those are the only ones tried (in order), not every position of the span.
    func suffixLength(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Int {
        guard a < b else { return 0 }
        var dots = b
        while dots > a && s[dots - 1] == "." { dots -= 1 }
        let near = Swift.max(a, b - SpacyClass.maxSuffixLength)
        if b - dots >= 2, dots < near, suffixMatches(s, a, dots, b) { return b - dots }
        for p in near..<b where suffixMatches(s, a, p, b) { return b - p }
        return 0
    }

    private func suffixMatches(_ s: [Unicode.Scalar], _ a: Int, _ p: Int, _ b: Int) -> Bool {
        let rest = b - p
        // the alternatives are tried as one OR: the literal ones by length and first code point
        if SpacyLiterals.suffixPlain.contains(s, p, b) { return true }  // punct, quotes, 's, dashes
        if rest >= 2 && dotRun(s, p, b) == rest { return true }
        if rest == 1 && s[p] == "…" { return true }
        if rest == 1 && SpacyClass.isIcon(s[p]) { return true }
        let before: Unicode.Scalar? = p > a ? s[p - 1] : nil
        let digitBefore = before.map(SpacyClass.isDigit) ?? false
        if digitBefore && rest == 1 && s[p] == "+" { return true }
        if rest == 1 && s[p] == ".", p - 2 >= a, s[p - 2] == "°", "FfCcKk".unicodeScalars.contains(s[p - 1]) { return true }
        if digitBefore && SpacyLiterals.suffixAfterDigit.contains(s, p, b) { return true }  // currency, units
        if rest == 1 && s[p] == ".", let c = before {
            if SpacyClass.isDigit(c) || SpacyClass.isLower(c) || "%²-+|(?:)".unicodeScalars.contains(c)
                || SpacyClass.punctScalars.contains(c) || SpacyClass.quoteScalars.contains(c) { return true }
            if p - 2 >= a, SpacyClass.isUpper(c), SpacyClass.isUpper(s[p - 2]) { return true }
        }
        return false
    }

    /// `infix_finditer`: non-overlapping matches, left to right, as (start, end).
    func infixes(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var p = a
        while p < b {
            if let n = infixLength(s, a, p, b) { out.append((p, p + n)); p += n } else { p += 1 }
        }
        return out
    }

    private func infixLength(_ s: [Unicode.Scalar], _ a: Int, _ p: Int, _ b: Int) -> Int? {
        let u = s[p]
        let dots = dotRun(s, p, b)
        if dots >= 2 { return dots }
        if u == "…" || SpacyClass.isIcon(u) { return 1 }
        guard p > a else { return nil }
        let before = s[p - 1]
        let after: Unicode.Scalar? = p + 1 < b ? s[p + 1] : nil
        if SpacyClass.isDigit(before), "+-*^".unicodeScalars.contains(u),
           let c = after, SpacyClass.isDigit(c) || c == "-" { return 1 }
        if u == ".", SpacyClass.isLower(before) || SpacyClass.quoteScalars.contains(before),
           let c = after, SpacyClass.isUpper(c) || SpacyClass.quoteScalars.contains(c) { return 1 }
        if u == ",", SpacyClass.isAlpha(before), let c = after, SpacyClass.isAlpha(c) { return 1 }
        if SpacyClass.isAlpha(before) || SpacyClass.isDigit(before) {
            for h in SpacyLiterals.hyphens {
                if let n = hasLiteral(s, p, b, h), p + n < b, SpacyClass.isAlpha(s[p + n]) { return n }
            }
            if ":<>=/".unicodeScalars.contains(u), let c = after, SpacyClass.isAlpha(c) { return 1 }
        }
        return nil
    }
}

/// spaCy's `_apply_special_cases` (spacy/tokenizer.pyx, 3.8): `add_special_case` puts every
/// special case that has a prefix, suffix or infix match (or a space) into a PhraseMatcher as
/// its affix tokenization (`_tokenize_affixes(string, False)`); after tokenizing, every match
/// of those token sequences is found, matches are taken longest first, then leftmost, one kept
/// unless its first or last token was already covered (every token of a match, kept or not,
/// is then covered: `_filter_special_spans`), and a kept match whose text is a special case is
/// replaced by that case's pieces (`_retokenize_special_spans`; a match with whitespace inside,
/// "y ." for the pattern y + ".", is no special case and stays as it is).
enum SpacySpecialMatcher {
    /// Patterns by the hash of their first token: each pattern is its tokens' code points.
    static let patterns: [UInt64: [[[Unicode.Scalar]]]] = {
        let tok = SpacyTokenizer()
        var out: [UInt64: [[[Unicode.Scalar]]]] = [:]
        for key in SpacyEnglishExceptions.table.keys.sorted() {
            let u = Array(key.unicodeScalars), n = u.count
            guard tok.prefixLength(u, 0, n) > 0 || !tok.infixes(u, 0, n).isEmpty || tok.suffixLength(u, 0, n) > 0
                    || key.contains(" ") else { continue }
            let toks = tok.ranges(u, specialCases: false)
            guard toks.count > 1 else { continue }  // one token: a match would replace it by itself
            let pattern = toks.map { Array(u[$0.0..<$0.1]) }
            out[SpacyExceptionIndex.hash(pattern[0], 0, pattern[0].count), default: []].append(pattern)
        }
        return out
    }()

    /// spaCy's `filter_spans` over special-case matches: longest first (then earliest), a
    /// match kept unless its first or last token is already in a kept one; kept in order of
    /// start. Shared by the tokenizer and its cache (`SpacyTokenCache`).
    static func filterSpans(_ matches: [(start: Int, end: Int)]) -> [(start: Int, end: Int)] {
        let ordered = matches.sorted { ($0.end - $0.start, -$0.start) > ($1.end - $1.start, -$1.start) }
        var seen = Set<Int>(), kept: [(start: Int, end: Int)] = []
        for m in ordered {
            if !seen.contains(m.start) && !seen.contains(m.end - 1) { kept.append(m) }
            for t in m.start..<m.end { seen.insert(t) }
        }
        kept.sort { $0.start < $1.start }
        return kept
    }

    static func apply(_ s: [Unicode.Scalar], _ out: inout [(Int, Int)]) {
        let table = patterns
        var matches: [(start: Int, end: Int)] = []
        for i in 0..<out.count {
            let (a, b) = out[i]
            guard let candidates = table[SpacyExceptionIndex.hash(s, a, b)] else { continue }
            for p in candidates where i + p.count <= out.count {
                var ok = true
                for (k, piece) in p.enumerated() {
                    let (x, y) = out[i + k]
                    if y - x != piece.count { ok = false; break }
                    for j in 0..<piece.count where s[x + j] != piece[j] { ok = false; break }
                    if !ok { break }
                }
                if ok { matches.append((i, i + p.count)) }
            }
        }
        if matches.isEmpty { return }
        let kept = SpacySpecialMatcher.filterSpans(matches)
        var result: [(Int, Int)] = []
        result.reserveCapacity(out.count)
        var i = 0, k = 0
        while i < out.count {
            if k < kept.count && kept[k].start == i {
                let m = kept[k]
                k += 1
                let a = out[m.start].0, b = out[m.end - 1].1
                if let pieces = SpacyEnglishExceptions.table[SpacyTokenizer.string(s, a, b)] {
                    var p = a
                    for piece in pieces {
                        let n = piece.unicodeScalars.count
                        result.append((p, p + n))
                        p += n
                    }
                } else {
                    result.append(contentsOf: out[m.start..<m.end])
                }
                i = m.end
            } else {
                result.append(out[i])
                i += 1
            }
        }
        out = result
    }
}

/// A quick filter in front of the exceptions table: the lengths (in code points) and hashes
/// of every special-case text, so a span that is none (almost every span) is answered
/// without making a string.
enum SpacyExceptionIndex {
    /// Bit k: a special case has k code points (all are shorter than 64); the hashes of all.
    static let keys: (lengths: UInt64, hashes: HashTable64) = {
        var lengths: UInt64 = 0, hashes: [UInt64] = []
        for key in SpacyEnglishExceptions.table.keys {
            let u = Array(key.unicodeScalars)
            precondition(u.count < 64, "a special case of \(u.count) code points")
            lengths |= 1 << UInt64(u.count)
            hashes.append(hash(u, 0, u.count))
        }
        return (lengths, HashTable64(hashes.map { ($0, 0) }))
    }()

    @inline(__always)
    static func hash(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in a..<b { h = (h ^ UInt64(s[i].value)) &* 0x100_0000_01B3 }
        return h
    }

    static func mayContain(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Bool {
        let k = keys
        return b - a < 64 && (k.lengths >> UInt64(b - a)) & 1 != 0 && k.hashes[hash(s, a, b)] != nil
    }
}

/// A fixed table from 64-bit hashes to small values (open addressing, multiplicative hashing),
/// for the static tables the tokenizer looks up per span and per token: cheaper than a
/// `Dictionary`, whose hashing is SipHash.
struct HashTable64: Sendable {
    private let keys: [UInt64]
    private let values: [Int32]
    private let used: [Bool]
    private let shift: UInt64

    init(_ pairs: [(UInt64, Int32)]) {
        var c = 16
        while c < pairs.count * 2 { c <<= 1 }
        var keys = [UInt64](repeating: 0, count: c), values = [Int32](repeating: 0, count: c)
        var used = [Bool](repeating: false, count: c)
        let shift = UInt64(64 - c.trailingZeroBitCount)
        for (k, v) in pairs {
            var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while used[i] && keys[i] != k { i = (i + 1) & (c - 1) }
            keys[i] = k
            values[i] = v
            used[i] = true
        }
        self.keys = keys
        self.values = values
        self.used = used
        self.shift = shift
    }

    subscript(key: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while used[i] {
            if keys[i] == key { return values[i] }
            i = (i + 1) & (keys.count - 1)
        }
        return nil
    }
}

/// The literal alternatives of the affix rules as code-point arrays, in rule order (compared
/// scalar by scalar; iterating a `String`'s scalars per comparison was most of the time).
enum SpacyLiterals {
    static func scalars(_ list: [String]) -> [[Unicode.Scalar]] { list.map { Array($0.unicodeScalars) } }
    static let punct = scalars(SpacyClass.punct)
    static let quotes = scalars(SpacyClass.quotes)
    static let currency = scalars(SpacyClass.currency)
    static let hyphens = scalars(SpacyClass.hyphens)
    static let prefixExtra = scalars(["§", "%", "=", "—", "–"])
    static let suffixExtra = scalars(["'s", "'S", "’s", "’S", "—", "–"])
    /// `LIST_UNITS` (equal code points are equal units: none of them has a canonical decomposition).
    static let units = scalars(SpacyClass.units.sorted())
    /// The suffix rule's literals that match anywhere, and those that match after a digit.
    static let suffixPlain = SpacyLiteralSet(punct + quotes + suffixExtra)
    static let suffixAfterDigit = SpacyLiteralSet(currency + units)
}

/// Literals looked up by their length and first code point: whether `s[p..<b]` is one of them.
struct SpacyLiteralSet: Sendable {
    private let byLength: [[[Unicode.Scalar]]]
    private let asciiFirst: (UInt64, UInt64)
    private let otherFirst: Set<Unicode.Scalar>

    init(_ literals: [[Unicode.Scalar]]) {
        var byLength = [[[Unicode.Scalar]]](repeating: [], count: (literals.map(\.count).max() ?? 0) + 1)
        var low: UInt64 = 0, high: UInt64 = 0, other = Set<Unicode.Scalar>()
        for l in literals where !l.isEmpty {
            byLength[l.count].append(l)
            let v = l[0].value
            if v < 64 { low |= 1 << UInt64(v) } else if v < 128 { high |= 1 << UInt64(v - 64) } else { other.insert(l[0]) }
        }
        self.byLength = byLength
        asciiFirst = (low, high)
        otherFirst = other
    }

    func contains(_ s: [Unicode.Scalar], _ p: Int, _ b: Int) -> Bool {
        let rest = b - p
        guard rest > 0, rest < byLength.count, !byLength[rest].isEmpty else { return false }
        let first = s[p], v = first.value
        if v < 64 {
            guard (asciiFirst.0 >> UInt64(v)) & 1 != 0 else { return false }
        } else if v < 128 {
            guard (asciiFirst.1 >> UInt64(v - 64)) & 1 != 0 else { return false }
        } else {
            guard otherFirst.contains(first) else { return false }
        }
        search: for l in byLength[rest] where l[0] == first {
            for k in 1..<rest where s[p + k] != l[k] { continue search }
            return true
        }
        return false
    }
}
