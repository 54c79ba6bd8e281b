/// Python's regular-expression syntax rewritten for PCRE2, so that a pattern means what
/// Python 3.11's `re` makes of it, and is refused where Python refuses it (checked against
/// Python by Tests/Differential/re_diff.py):
///
/// - `\Z` is the very end in Python, PCRE2's `\z` (PCRE2's `\Z` also matches before a
///   final newline, which is Python's `$`);
/// - `\v` is the vertical tab (PCRE2: any vertical space); `\B` does not match in an
///   empty string; octal escapes and `\1`..`\99` are read as Python reads them (a group
///   reference must name a group opened and closed before it; `\12` is group 12, never
///   octal);
/// - in UTF-8 mode `\s` also matches U+001C..U+001F, as Python's `str.isspace` does;
/// - `{,n}` is `{0,n}` in Python; PCRE2 10.42 reads it as literal text;
/// - `\uXXXX` and `\UXXXXXXXX` are code points (PCRE2's `\x{...}`);
/// - `[` inside a class is a literal (PCRE2 would read `[:alpha:]` as a POSIX class);
/// - the inline flags `a` (ASCII) and `u` (Unicode) have no PCRE2 spelling: ASCII is the
///   byte mode's only meaning and a global `(?a)` of a UTF-8 pattern sets `asciiClasses`;
///   `L` (locale) is refused;
/// - what Python refuses is refused: escapes of other ASCII letters (PCRE2's `\h`, `\K`,
///   `\Q`, `\e`, `\N`...), `\x` without two hex digits, global flags `(?i)` after the
///   start, `(?-i)` without `:`, extensions Python does not have (`(?<name>`, `(?|`,
///   `(?R)`, `(*VERB)`...).
///
/// `offsets[i]` is the offset in the original pattern of byte `i` of the rewritten one, so
/// an error PCRE2 reports at an offset is shown where the user wrote it.
struct PythonPattern {
    let pcre: [UInt8]
    let offsets: [Int]
    /// A global `(?a)` in a UTF-8 pattern: \d \w \s \b are ASCII (PCRE2 without UCP).
    let asciiClasses: Bool
    /// Where Python reports an error PCRE2 finds at the end: the innermost parenthesis left
    /// open and the class left open (offsets in the pattern).
    let unclosedParen: Int?
    let unclosedClass: Int?
    /// The rewritten pattern has an atomic group `(?>...)` (written so, or a possessive repeat).
    var hasAtomicGroup: Bool {
        let a = Array("(?>".utf8)
        return pcre.count >= 3 && (0...(pcre.count - 3)).contains { pcre[$0] == a[0] && pcre[$0 + 1] == a[1] && pcre[$0 + 2] == a[2] }
    }

    struct Invalid: Error {
        let offset: Int
        let message: String
    }

    init(_ pattern: [UInt8], utf: Bool = false, verbose: Bool = false, caseless: Bool = false) throws {
        var out: [UInt8] = []
        var map: [Int] = []
        out.reserveCapacity(pattern.count + 8)
        map.reserveCapacity(pattern.count + 8)
        func emit<S: Sequence>(_ bytes: S, from offset: Int) where S.Element == UInt8 {
            for b in bytes { out.append(b); map.append(offset) }
        }
        func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
        let p = pattern
        let n = p.count
        var i = 0
        var inClass = false
        var verbose = verbose
        var atStart = true           // nothing but global flag groups so far
        var groups = 0               // capturing groups opened so far
        var open: [Int] = []         // per open parenthesis: its group number, 0 if none
        var openAt: [Int] = []       // and where it is in `out`
        var atomStart: Int?          // where in `out` the last thing a quantifier may follow starts
        var afterQuantifier = false  // the last thing read was a quantifier (Python: "multiple repeat")
        var wasQuantifier = false
        var classHasNonSpace = false // UTF-8 mode: the open class has \S
        var classOpen = 0            // where the open class starts in the pattern
        var closed = Set<Int>()
        var names: [[UInt8]: Int] = [:]
        var asciiClasses = false
        func at(_ k: Int) -> UInt8? { k < n ? p[k] : nil }
        var caseless = caseless      // IGNORECASE where the pattern is read, and per open parenthesis
        var caselessOutside: [Bool] = []
        var openLookbehind: [Bool] = []
        func push(_ group: Int, lookbehind: Bool = false) {
            open.append(group); openAt.append(out.count); caselessOutside.append(caseless); openLookbehind.append(lookbehind)
        }
        /// UTF-8 and IGNORECASE: i, I, dotless i and dotted I are one letter to Python
        /// (lower() of each is i), two pairs to PCRE2 (Unicode's case folding).
        let dottedI = ascii("iI\\x{131}\\x{130}")
        func iLetter(_ k: Int) -> Int {
            guard utf, caseless, k < n else { return 0 }
            if p[k] == UInt8(ascii: "i") || p[k] == UInt8(ascii: "I") { return 1 }
            if p[k] == 0xC4, k + 1 < n, p[k + 1] == 0xB1 || p[k + 1] == 0xB0 { return 2 }
            return 0
        }
        /// A quantifier `text` whose last byte in the pattern is before `next`: a lazy `?`
        /// after it is copied; a possessive `+` becomes an atomic group around the atom
        /// (PCRE2 10.42 keeps a capture from a failed try of `(x)*+`; `(?>(x)*)` is right).
        func quantifier(_ text: [UInt8], from offset: Int, next: Int) throws -> Int {
            guard !wasQuantifier else { throw Invalid(offset: offset, message: "multiple repeat") }
            defer { atomStart = nil; afterQuantifier = true }
            // X{0} (and {0,0}, lazy or possessive) matches nothing: written (?:(?!)X)?, as
            // PCRE2 10.42 takes a pattern whose X{0} starts with ^ or \A for an anchored one
            // ((?:^x){0}y finds no y after the start).
            if text == ascii("{0}") || text == ascii("{0,0}"), let a = atomStart {
                let head = ascii("(?:(?!)")
                out.insert(contentsOf: head, at: a)
                map.insert(contentsOf: Array(repeating: map[a], count: head.count), at: a)
                emit(ascii(")?"), from: offset)
                if let s = at(next), s == UInt8(ascii: "?") || s == UInt8(ascii: "+") { return next + 1 }
                return next
            }
            if at(next) == UInt8(ascii: "+"), let a = atomStart {
                out.insert(contentsOf: ascii("(?>"), at: a)
                map.insert(contentsOf: [map[a], map[a], map[a]], at: a)
                emit(text, from: offset)
                emit(ascii(")"), from: next)
                return next + 1
            }
            emit(text, from: offset)
            if at(next) == UInt8(ascii: "?") { emit(ascii("?"), from: next); return next + 1 }
            return next
        }

        /// `\0`, `\0o`, `\0oo` and `\ooo`: a character (at most 0o377).
        func octal(_ start: Int, digits: Int) throws -> Int {
            var value = 0
            for k in 0..<digits { value = value * 8 + Int(p[start + k] - 48) }
            guard value <= 0o377 else {
                throw Invalid(offset: start - 1, message: "octal escape value \\\(String(value, radix: 8)) outside of range 0-0o377")
            }
            return value
        }
        func character(_ value: Int, from offset: Int) {
            emit(ascii("\\x{" + String(value, radix: 16) + "}"), from: offset)
        }
        /// `\u`, `\U` and `\x`: `width` hex digits after `i + 2`.
        func hexEscape(width: Int) throws -> Int {
            let e = p[i + 1]
            let digits = p[min(n, i + 2)..<min(n, i + 2 + width)]
            guard digits.count == width, digits.allSatisfy(PythonPattern.isHex) else {
                throw Invalid(offset: i, message: "incomplete escape \\\(Character(UnicodeScalar(e)))\(String(decoding: digits, as: UTF8.self))")
            }
            let value = Int(String(decoding: digits, as: UTF8.self), radix: 16) ?? 0
            if e == UInt8(ascii: "U"), value > 0x10FFFF {
                throw Invalid(offset: i, message: "bad escape \\U\(String(decoding: digits, as: UTF8.self))")
            }
            if e != UInt8(ascii: "x"), !utf, value > 0x7F {
                throw Invalid(offset: i, message: "\\\(Character(UnicodeScalar(e))) escapes a code point: a byte pattern has none (use the u flag, or \\x for a byte)")
            }
            return value
        }

        while i < n {
            let c = p[i]
            wasQuantifier = afterQuantifier
            afterQuantifier = false
            if c == UInt8(ascii: "\\") {
                if !inClass { atomStart = out.count }
                if !inClass, let e = at(i + 1), "AZbB".utf8.contains(e) { atomStart = nil }  // anchors
                guard let e = at(i + 1) else { throw Invalid(offset: i, message: "bad escape (end of pattern)") }
                let letter = (e | 0x20) &- 97 < 26
                switch e {
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let width = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
                    character(try hexEscape(width: width), from: i)
                    i += 2 + width
                    atStart = false
                    continue
                case UInt8(ascii: "N"):
                    if at(i + 2) == UInt8(ascii: "{") {
                        throw Invalid(offset: i, message: "\\N{name} escapes are not supported (write the character or \\u....)")
                    }
                    throw Invalid(offset: i, message: utf ? "missing {" : "bad escape \\N")
                case UInt8(ascii: "v"):
                    emit(ascii("\\x0b"), from: i)
                case UInt8(ascii: "a"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"),
                     UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "w"), UInt8(ascii: "W"), UInt8(ascii: "\\"):
                    emit(p[i...(i + 1)], from: i)
                case UInt8(ascii: "s") where utf:
                    emit(ascii(inClass ? "\\s\\x{1c}-\\x{1f}" : "[\\s\\x{1c}-\\x{1f}]"), from: i)
                case UInt8(ascii: "S") where utf && !inClass:
                    emit(ascii("[^\\s\\x{1c}-\\x{1f}]"), from: i)
                case UInt8(ascii: "S") where utf:
                    classHasNonSpace = true  // left out here, put back when the class closes
                case UInt8(ascii: "s"), UInt8(ascii: "S"):
                    emit(p[i...(i + 1)], from: i)
                case UInt8(ascii: "b"):
                    emit(p[i...(i + 1)], from: i)  // a word boundary; a backspace in a class (PCRE2's meanings too)
                case UInt8(ascii: "A") where !inClass:
                    emit(p[i...(i + 1)], from: i)
                case UInt8(ascii: "Z") where !inClass:
                    emit(ascii("\\z"), from: i)
                case UInt8(ascii: "B") where !inClass:
                    // Python's \B fails in an empty string; a quantifier after it is
                    // PCRE2's error ("nothing to repeat" in Python).
                    // (Verbose: after the spaces and comments Python skips, re.compile('x\\B *?', re.X)
                    // is "nothing to repeat" too.)
                    var k = i + 2
                    while verbose, k < n {
                        if " \t\n\r\u{0B}\u{0C}".utf8.contains(p[k]) { k += 1 }
                        else if p[k] == UInt8(ascii: "#") { while k < n, p[k] != 10 { k += 1 } }
                        else { break }
                    }
                    if let q = at(k), "*+?{".utf8.contains(q) { emit(p[i...(i + 1)], from: i) }
                    else { emit(ascii("(?:(?!\\A\\z)\\B)"), from: i) }
                case UInt8(ascii: "0")...UInt8(ascii: "7") where inClass:
                    var k = i + 2
                    while k < min(n, i + 4), PythonPattern.isOctal(p[k]) { k += 1 }
                    character(try octal(i + 1, digits: k - i - 1), from: i)
                    i = k
                    continue
                case UInt8(ascii: "0"):
                    var k = i + 2
                    while k < min(n, i + 4), PythonPattern.isOctal(p[k]) { k += 1 }
                    character(try octal(i + 1, digits: k - i - 1), from: i)
                    i = k
                    atStart = false
                    continue
                case UInt8(ascii: "1")...UInt8(ascii: "9") where !inClass:
                    // three octal digits are a character, else one or two digits a group
                    if PythonPattern.isOctal(e), let d2 = at(i + 2), PythonPattern.isOctal(d2), let d3 = at(i + 3), PythonPattern.isOctal(d3) {
                        character(try octal(i + 1, digits: 3), from: i)
                        i += 4
                        atStart = false
                        continue
                    }
                    var k = i + 2
                    var group = Int(e - 48)
                    if let d2 = at(k), PythonPattern.isDigit(d2) { group = group * 10 + Int(d2 - 48); k += 1 }
                    guard group <= groups else { throw Invalid(offset: i + 1, message: "invalid group reference \(group)") }
                    guard closed.contains(group) else { throw Invalid(offset: i, message: "cannot refer to an open group") }
                    emit(ascii("\\g{\(group)}"), from: i)
                    i = k
                    atStart = false
                    continue
                default:
                    if letter || PythonPattern.isDigit(e) {
                        throw Invalid(offset: i, message: "bad escape \\\(Character(UnicodeScalar(e)))")
                    }
                    emit(p[i...(i + 1)], from: i)  // an escaped punctuation or non-ASCII byte: itself
                }
                // A class escape before `-` cannot start a range (Python: bad character range).
                if inClass, "dDsSwW".utf8.contains(e), at(i + 2) == UInt8(ascii: "-"), let after = at(i + 3), after != UInt8(ascii: "]") {
                    throw Invalid(offset: i, message: "bad character range \\\(Character(UnicodeScalar(e)))-\(Character(UnicodeScalar(after)))")
                }
                // nor end one ([*-\S]).
                if inClass, "dDsSwW".utf8.contains(e), PythonPattern.dashStartsRange(p[classOpen..<i]) {
                    throw Invalid(offset: max(i - 2, classOpen + 1), message: "bad character range before \\\(Character(UnicodeScalar(e)))")
                }
                i += 2
                atStart = false
                continue
            }
            if inClass {
                if c == UInt8(ascii: "]") {
                    inClass = false
                    // A range over i or I also holds the dotless i and the dotted I.
                    if utf, caseless, PythonPattern.classRangeHasI(p[classOpen..<i]) { emit(dottedI, from: i) }
                    emit([c], from: i)
                    // UTF-8 mode: \S in a class is PCRE2's, which holds for U+001C..U+001F
                    // (Python's \s matches them). The class [A\S] is rewritten as
                    // (?:[A]|[^\s\x1c-\x1f]) and [^A\S] as (?:(?![A])[\s\x1c-\x1f]).
                    if classHasNonSpace, let start = atomStart {
                        let negated = out[start + 1] == UInt8(ascii: "^")
                        let bodyStart = start + (negated ? 2 : 1)
                        var body = Array(out[bodyStart..<(out.count - 1)])
                        var bodyMap = Array(map[bodyStart..<(map.count - 1)])
                        if body.first == UInt8(ascii: "^") { body.insert(UInt8(ascii: "\\"), at: 0); bodyMap.insert(bodyMap[0], at: 0) }
                        let at = map[start], close = i
                        out.removeSubrange(start...)
                        map.removeSubrange(start...)
                        let space = ascii("[\\s\\x{1c}-\\x{1f}]"), nonSpace = ascii("[^\\s\\x{1c}-\\x{1f}]")
                        if body.isEmpty {
                            emit(negated ? space : nonSpace, from: at)
                        } else {
                            emit(ascii(negated ? "(?:(?![" : "(?:["), from: at)
                            out += body
                            map += bodyMap
                            emit(ascii(negated ? "])" : "]|"), from: close)
                            emit(negated ? space : nonSpace, from: close)
                            emit(ascii(")"), from: close)
                        }
                    }
                }
                else if c == UInt8(ascii: "[") { emit(ascii("\\["), from: i) }  // Python has no [:alpha:]
                else if case let w = iLetter(i), w > 0, i == 0 || p[i - 1] != UInt8(ascii: "-"), at(i + w) != UInt8(ascii: "-") {
                    emit(dottedI, from: i)
                    i += w
                    continue
                }
                else { emit([c], from: i) }
                i += 1
                continue
            }
            if verbose {
                // PCRE2 skips these itself; they are read here only so that a parenthesis
                // in a comment is not counted, and leave atStart as it was.
                if c == UInt8(ascii: "#") {
                    let start = i
                    while i < n, p[i] != 10 { i += 1 }
                    emit(p[start..<i], from: start)
                    afterQuantifier = wasQuantifier
                    continue
                }
                if " \t\n\r\u{0B}\u{0C}".utf8.contains(c) { emit([c], from: i); i += 1; afterQuantifier = wasQuantifier; continue }
            }
            switch c {
            case UInt8(ascii: "["):
                inClass = true
                classOpen = i
                classHasNonSpace = false
                atomStart = out.count
                emit([c], from: i)
                i += 1
                // A `]` right after `[` or `[^` is a literal, as in Python.
                if i < n, p[i] == UInt8(ascii: "^") { emit([p[i]], from: i); i += 1 }
                if i < n, p[i] == UInt8(ascii: "]") { emit(ascii("\\]"), from: i); i += 1 }
                // PCRE2 reads [:...:], [.....] and [=...=] as POSIX classes and collating
                // elements (refused outside a class); in Python they are plain classes.
                if i < n, ":.=".utf8.contains(p[i]) { emit([UInt8(ascii: "\\"), p[i]], from: i); i += 1 }
            case UInt8(ascii: "{"):
                // {m} {m,} {,n} {m,n} {,} are quantifiers ({,n} is {0,n}: PCRE2 10.42 reads
                // {,n} as text); anything else is a literal `{`, as in Python.
                var j = i + 1
                while j < n, PythonPattern.isDigit(p[j]) { j += 1 }
                let lo = p[(i + 1)..<j]
                var hi: ArraySlice<UInt8>? = nil
                if j < n, p[j] == UInt8(ascii: ",") {
                    let start = j + 1
                    j = start
                    while j < n, PythonPattern.isDigit(p[j]) { j += 1 }
                    hi = p[start..<j]
                }
                if j < n, p[j] == UInt8(ascii: "}"), !lo.isEmpty || hi != nil {
                    if let hi, !hi.isEmpty, !lo.isEmpty, let l = Int(String(decoding: lo, as: UTF8.self)),
                       let h = Int(String(decoding: hi, as: UTF8.self)), h < l {
                        throw Invalid(offset: i + 1, message: "min repeat greater than max repeat")
                    }
                    let text = ascii("{") + (lo.isEmpty ? ascii("0") : Array(lo)) + (hi.map { [UInt8(ascii: ",")] + $0 } ?? []) + ascii("}")
                    i = try quantifier(text, from: i, next: j + 1)
                    atStart = false
                    continue
                }
                atomStart = out.count
                emit([c], from: i)
                i += 1
            case UInt8(ascii: "("):
                guard at(i + 1) == UInt8(ascii: "?") else {
                    if at(i + 1) == UInt8(ascii: "*") { throw Invalid(offset: i + 1, message: "nothing to repeat") }
                    groups += 1
                    push(groups)
                    emit([c], from: i)
                    i += 1
                    break
                }
                guard let k = at(i + 2) else { throw Invalid(offset: i + 2, message: "unexpected end of pattern") }
                switch k {
                case UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: ">"):
                    push(0)
                    emit(p[i...(i + 2)], from: i)
                    i += 3
                case UInt8(ascii: "<"):
                    guard let k2 = at(i + 3), k2 == UInt8(ascii: "=") || k2 == UInt8(ascii: "!") else {
                        throw Invalid(offset: i + 1, message: "unknown extension ?<\(at(i + 3).map { String(Character(UnicodeScalar($0))) } ?? "")")
                    }
                    // The body in a group of its own: PCRE2 then wants the whole body of one
                    // width, as Python does ((?<=a|bc) is refused; PCRE2 takes each branch).
                    push(0, lookbehind: true)
                    emit(p[i...(i + 3)] + ascii("(?:"), from: i)
                    i += 4
                case UInt8(ascii: "P"):
                    let kind = at(i + 3)
                    // Python: "unexpected end of pattern at position 3" for (?P
                    guard kind != nil else { throw Invalid(offset: i + 3, message: "unexpected end of pattern") }
                    guard kind == UInt8(ascii: "<") || kind == UInt8(ascii: "=") else {
                        throw Invalid(offset: i + 1, message: "unknown extension ?P\(kind.map { String(Character(UnicodeScalar($0))) } ?? "")")
                    }
                    let close = kind == UInt8(ascii: "<") ? UInt8(ascii: ">") : UInt8(ascii: ")")
                    guard let end = p[(i + 4)...].firstIndex(of: close) else {
                        throw Invalid(offset: i + 4, message: "missing \(Character(UnicodeScalar(close))), unterminated name")
                    }
                    let name = Array(p[(i + 4)..<end])
                    if kind == UInt8(ascii: "<") {
                        guard !name.isEmpty else { throw Invalid(offset: i + 4, message: "missing group name") }
                        if PythonPattern.isDigit(name[0]) || name.contains(where: { $0 < 0x80 && !(PythonPattern.isDigit($0) || ($0 | 0x20) &- 97 < 26 || $0 == UInt8(ascii: "_")) }) {
                            throw Invalid(offset: i + 4, message: "bad character in group name '\(String(decoding: name, as: UTF8.self))'")
                        }
                        if names[name] != nil {
                            throw Invalid(offset: i + 4, message: "redefinition of group name '\(String(decoding: name, as: UTF8.self))'")
                        }
                        groups += 1
                        names[name] = groups
                        push(groups)
                    } else {
                        guard let g = names[name] else {
                            throw Invalid(offset: i + 4, message: "unknown group name '\(String(decoding: name, as: UTF8.self))'")
                        }
                        guard closed.contains(g) else { throw Invalid(offset: i + 4, message: "cannot refer to an open group") }
                        atomStart = out.count
                    }
                    emit(p[i...end], from: i)
                    i = end + 1
                case UInt8(ascii: "#"):
                    // a comment to the next `)` (PCRE2 reads it as Python does)
                    guard let end = p[i...].firstIndex(of: UInt8(ascii: ")")) else {
                        throw Invalid(offset: i, message: "missing ), unterminated comment")
                    }
                    emit(p[i...end], from: i)
                    i = end + 1
                    continue  // a comment leaves atStart as it was
                case UInt8(ascii: "("):
                    // (?(1)yes|no), (?(name)yes|no)
                    push(0)
                    let end = p[(i + 3)...].firstIndex(of: UInt8(ascii: ")")) ?? (n - 1)
                    emit(p[i...end], from: i)
                    i = end + 1
                default:
                    guard PythonPattern.flagLetters.contains(k) || k == UInt8(ascii: "-") else {
                        throw Invalid(offset: i + 1, message: "unknown extension ?\(Character(UnicodeScalar(k)))")
                    }
                    let flags = try PythonPattern.inlineFlags(p, at: i, utf: utf, atStart: atStart)
                    if flags.turnsOnVerbose { verbose = true }
                    if flags.global {
                        if flags.on.contains(UInt8(ascii: "i")) { caseless = true }
                        if flags.ascii { asciiClasses = true }
                        emit(flags.pcre, from: i)
                        i = flags.end
                        continue  // global flags keep atStart
                    }
                    push(0)
                    if flags.on.contains(UInt8(ascii: "i")) { caseless = true }
                    if flags.off.contains(UInt8(ascii: "i")) { caseless = false }
                    emit(flags.pcre, from: i)
                    i = flags.end
                }
            case UInt8(ascii: ")"):
                if let g = open.popLast(), g > 0 { closed.insert(g) }
                atomStart = openAt.popLast()
                if let saved = caselessOutside.popLast() { caseless = saved }
                if openLookbehind.popLast() == true { emit([c], from: i) }
                emit([c], from: i)
                i += 1
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                i = try quantifier([c], from: i, next: i + 1)
            case UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "$"):
                atomStart = nil
                emit([c], from: i)
                i += 1
            default:
                if !(utf && c & 0xC0 == 0x80) { atomStart = out.count }  // a UTF-8 continuation byte is part of its character
                let w = iLetter(i)
                if w > 0 {
                    emit(ascii("[") + dottedI + ascii("]"), from: i)
                    i += w
                    break
                }
                // PCRE2's extended mode also skips NEL (and in UTF-8 mode U+200E, U+200F,
                // U+2028, U+2029); Python's verbose mode only ASCII spaces: written as escapes.
                if !utf, c == 0x85 {
                    emit(ascii("\\x{85}"), from: i)
                    i += 1
                } else if utf, c == 0xC2, at(i + 1) == 0x85 {
                    emit(ascii("\\x{85}"), from: i)
                    i += 2
                } else if utf, c == 0xE2, at(i + 1) == 0x80, let l = at(i + 2), [0x8E, 0x8F, 0xA8, 0xA9].contains(l) {
                    character(0x2000 | Int(l & 0x3F), from: i)
                    i += 3
                } else {
                    emit([c], from: i)
                    i += 1
                }
            }
            atStart = false
        }
        map.append(n)  // an error at the end of the rewritten pattern is at the end of the original
        unclosedParen = openAt.last.map { map[$0] }
        unclosedClass = inClass ? classOpen : nil
        pcre = out
        offsets = map
        self.asciiClasses = asciiClasses
    }

    static let flagLetters = Set("aiLmsux".utf8)

    struct Flags {
        var pcre: [UInt8]
        var end: Int
        var global: Bool
        var ascii: Bool
        var turnsOnVerbose: Bool
        var on: [UInt8] = []
        var off: [UInt8] = []
    }

    /// `(?aiLmsux)` (global: only at the start, as Python 3.11 requires) and
    /// `(?aimsux-imsx:...)` with Python's letters and checks: copied without `a` and `u`.
    private static func inlineFlags(_ p: [UInt8], at start: Int, utf: Bool, atStart: Bool) throws -> Flags {
        let n = p.count
        var j = start + 2
        var on: [UInt8] = [], off: [UInt8] = []
        while j < n, flagLetters.contains(p[j]) {
            let f = p[j]
            if f == UInt8(ascii: "L") { throw Invalid(offset: j, message: "the L (locale) flag is not supported") }
            if f == UInt8(ascii: "u"), !utf { throw Invalid(offset: j, message: "bad inline flags: cannot use 'u' flag with a bytes pattern") }
            on.append(f)
            if on.contains(UInt8(ascii: "a")) && on.contains(UInt8(ascii: "u")) {
                throw Invalid(offset: j, message: "bad inline flags: flags 'a', 'u' and 'L' are incompatible")
            }
            j += 1
        }
        guard j < n else { throw Invalid(offset: j, message: "missing -, : or )") }
        let kept = on.filter { $0 != UInt8(ascii: "a") && $0 != UInt8(ascii: "u") }
        let verbose = on.contains(UInt8(ascii: "x"))
        if p[j] == UInt8(ascii: ")") {
            guard atStart else { throw Invalid(offset: start, message: "global flags not at the start of the expression") }
            let ascii = utf && on.contains(UInt8(ascii: "a"))
            return Flags(pcre: kept.isEmpty ? [] : Array("(?".utf8) + kept + [UInt8(ascii: ")")], end: j + 1,
                         global: true, ascii: ascii, turnsOnVerbose: verbose, on: on)
        }
        if p[j] == UInt8(ascii: "-") {
            j += 1
            guard j < n else { throw Invalid(offset: j, message: "missing flag") }
            guard flagLetters.contains(p[j]) else { throw Invalid(offset: j, message: "unknown flag") }
            while j < n, flagLetters.contains(p[j]) {
                if "aLu".utf8.contains(p[j]) { throw Invalid(offset: j, message: "bad inline flags: cannot turn off flags 'a', 'u' and 'L'") }
                off.append(p[j])
                j += 1
            }
            guard j < n, p[j] == UInt8(ascii: ":") else { throw Invalid(offset: j, message: "missing :") }
            if off.contains(where: { on.contains($0) }) { throw Invalid(offset: j, message: "bad inline flags: flag turned on and off") }
        } else if p[j] != UInt8(ascii: ":") {
            throw Invalid(offset: j, message: (p[j] | 0x20) &- 97 < 26 ? "unknown flag" : "missing -, : or )")
        }
        if utf && on.contains(UInt8(ascii: "a")) {
            throw Invalid(offset: start, message: "(?a:...) in a UTF-8 pattern is not supported (write (?a) at the start, or [0-9] for \\d)")
        }
        let letters = kept + (off.isEmpty ? [] : [UInt8(ascii: "-")] + off)
        return Flags(pcre: Array("(?".utf8) + letters + [UInt8(ascii: ":")], end: j + 1, global: false, ascii: false,
                     turnsOnVerbose: verbose, on: on, off: off)
    }

    /// The offset in the original pattern of offset `k` of the rewritten one.
    func originalOffset(_ k: Int) -> Int { offsets[min(max(0, k), offsets.count - 1)] }

    /// A class's text has a range `a-b` of ASCII characters written as themselves that holds
    /// i or I (ranges with an escaped end are not looked at).
    static func classRangeHasI(_ text: ArraySlice<UInt8>) -> Bool {
        let t = Array(text)
        var items: [UInt8?] = []  // nil: an escape
        var k = t.first == UInt8(ascii: "^") ? 1 : 0
        while k < t.count {
            guard t[k] == UInt8(ascii: "\\"), k + 1 < t.count else { items.append(t[k]); k += 1; continue }
            let e = t[k + 1]
            var length = 2
            if e == UInt8(ascii: "x") { length = 4 } else if e == UInt8(ascii: "u") { length = 6 } else if e == UInt8(ascii: "U") { length = 10 }
            else if isOctal(e) { while length < 4, k + length < t.count, isOctal(t[k + length]) { length += 1 } }
            items.append(nil)
            k += length
        }
        guard items.count >= 3 else { return false }
        for m in 1..<(items.count - 1) where items[m] == UInt8(ascii: "-") {
            guard let lo = items[m - 1], let hi = items[m + 1], lo < 0x80, hi < 0x80, lo <= hi else { continue }
            if (lo...hi).contains(UInt8(ascii: "i")) || (lo...hi).contains(UInt8(ascii: "I")) { return true }
        }
        return false
    }

    /// The items of a class so far (from its `[`) end with a `-` that makes a range of the
    /// item before it and the next one, as Python reads a class.
    static func dashStartsRange(_ text: ArraySlice<UInt8>) -> Bool {
        var t = Array(text.dropFirst())  // after `[`
        if t.first == UInt8(ascii: "^") { t.removeFirst() }
        var items: [(UInt8, Bool)] = []  // (first byte, escaped)
        var k = 0
        while k < t.count {
            if t[k] == UInt8(ascii: "\\"), k + 1 < t.count { items.append((t[k + 1], true)); k += 2; continue }
            items.append((t[k], false))
            k += 1
        }
        var j = 0
        while j < items.count {
            let dash = j + 1 < items.count && items[j + 1] == (UInt8(ascii: "-"), false)
            if dash && j + 2 < items.count { j += 3; continue }
            if dash && j + 2 == items.count { return true }
            j += 1
        }
        return false
    }

    private static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    private static func isOctal(_ b: UInt8) -> Bool { b &- 48 < 8 }
    private static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 97 < 6 }
}
