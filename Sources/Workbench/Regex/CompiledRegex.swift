import CPCRE2
import LuaKit
import LuaShim
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A pattern compiled by PCRE2 (with its JIT) from Python's syntax (`PythonPattern`), with
/// Python's meanings for what rewards use: `search` finds the first match at or after an
/// offset, `match` one that starts at the offset, `fullmatch` one that spans the rest of
/// the subject. Subjects are bytes; the `u` flag reads them as UTF-8 (with Unicode classes
/// and case folding, as Python's str patterns; bytes that are not UTF-8 never match).
///
/// Used by one thread at a time (a regex belongs to one Lua state): the match data it
/// fills is its own, and `span` reads the last match.
final class CompiledRegex {
    /// The pattern as written and the flags letters it was compiled with.
    let pattern: [UInt8]
    let flags: String
    let isUTF: Bool
    /// Capturing groups (not counting the whole match).
    let groupCount: Int
    /// Named groups: (number, name), by number.
    let names: [(Int, String)]
    private let options: UInt32
    private let translated: PythonPattern
    private let searchCode: OpaquePointer
    private var anchoredCode: OpaquePointer?
    private var fullCode: OpaquePointer?
    private let matchData: OpaquePointer
    private let runtime: RegexRuntime
    /// What LuaShim's fast `match`/`search`/`fullmatch` read (rematch.c): the codes, the
    /// match data and the runtime's context and search window. Kept in step with the above.
    let shared: UnsafeMutablePointer<mlshim_regex>

    enum Mode { case search, match, fullmatch }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let flagLetters = "aimsux"

    /// The longest pattern compiled (PCRE2 refuses compiled patterns over 64 KiB anyway; this
    /// refuses at once what would take seconds to get there).
    static let maxPatternBytes = 1 << 20

    /// Compiles `pattern` with `flags` letters: i (ignore case), m (multiline: ^ and $ at
    /// every line), s (dot matches newline), x (verbose), u (UTF-8 and Unicode classes), a
    /// (ASCII classes: the default, accepted for Python's sake).
    init(pattern: [UInt8], flags: String, runtime: RegexRuntime) throws {
        var options: UInt32 = 0
        for f in flags.unicodeScalars {
            switch f {
            case "i": options |= PCRE2_CASELESS
            case "m": options |= PCRE2_MULTILINE
            case "s": options |= PCRE2_DOTALL
            case "x": options |= PCRE2_EXTENDED
            case "u": options |= PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF
            case "a": break
            default: throw Failure(description: "unknown flag '\(f)' (flags are letters of \"imsxua\")")
            }
        }
        // Python has no \C, and a byte pattern may not switch itself to UTF with (*UTF). In
        // multiline mode Python's ^ also matches after a newline that ends the subject.
        options |= PCRE2_NEVER_BACKSLASH_C | PCRE2_ALT_CIRCUMFLEX
        if options & PCRE2_UTF == 0 { options |= PCRE2_NEVER_UTF | PCRE2_NEVER_UCP }
        guard pattern.count <= CompiledRegex.maxPatternBytes else {
            throw Failure(description: "the pattern is \(pattern.count) bytes long, at most \(CompiledRegex.maxPatternBytes) are accepted")
        }
        let translated: PythonPattern
        do {
            translated = try PythonPattern(pattern, utf: options & PCRE2_UTF != 0, verbose: options & PCRE2_EXTENDED != 0,
                                           caseless: options & PCRE2_CASELESS != 0)
        } catch let e as PythonPattern.Invalid {
            throw Failure(description: "bad pattern at offset \(CompiledRegex.pythonOffset(e.offset, in: pattern, utf: options & PCRE2_UTF != 0)): \(e.message)")
        }
        // ASCII classes in a UTF-8 pattern (flags "ua" or a leading (?a)), as Python's re.ASCII on str.
        if translated.asciiClasses || flags.contains("a") { options &= ~PCRE2_UCP }
        // PCRE2 10.42 is wrong around atomic groups that can be empty: its auto-possessification
        // makes B* possessive in B*(?>(?:ek)*)[A-E] (no match in "_AB" from offset 2), and its
        // JIT's start optimisation finds (?>[^b]+|)\. in "x." (the interpreter does not).
        // Both are off where there is an atomic group (possessive repeats are atomic groups
        // after PythonPattern), which reward patterns seldom have.
        if translated.hasAtomicGroup { options |= PCRE2_NO_AUTO_POSSESS | PCRE2_NO_START_OPTIMIZE }
        self.pattern = pattern
        self.flags = flags
        self.options = options
        self.translated = translated
        self.runtime = runtime
        isUTF = options & PCRE2_UTF != 0
        searchCode = try CompiledRegex.compile(translated, options: options | PCRE2_USE_OFFSET_LIMIT, runtime: runtime, pattern: pattern)
        guard let data = pcre2_match_data_create_from_pattern_8(searchCode, nil) else {
            pcre2_code_free_8(searchCode)
            throw Failure(description: "not enough memory for a match")
        }
        matchData = data
        var count: UInt32 = 0
        pcre2_pattern_info_8(searchCode, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        groupCount = Int(count)
        let names = CompiledRegex.nameTable(searchCode)
        self.names = names
        let shared = UnsafeMutablePointer<mlshim_regex>.allocate(capacity: 1)
        shared.initialize(to: mlshim_regex(
            search_code: UnsafeMutableRawPointer(searchCode), anchored_code: nil, full_code: nil,
            match_data: UnsafeMutableRawPointer(data), match_context: UnsafeMutableRawPointer(runtime.matchContext),
            search_window: runtime.searchWindowPointer, groups: Int32(count), has_names: names.isEmpty ? 0 : 1))
        self.shared = shared
    }

    /// The `mlshim_regex` of a pattern's boxed object (rematch.c calls it after checking
    /// the userdata's metatable is the pattern type's).
    static let lookup: mlshim_regex_fn = { object in
        unsafeDowncast(Unmanaged<AnyObject>.fromOpaque(object!).takeUnretainedValue(), to: CompiledRegex.self).shared
    }

    deinit {
        shared.deallocate()
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(searchCode)
        if let anchoredCode { pcre2_code_free_8(anchoredCode) }
        if let fullCode { pcre2_code_free_8(fullCode) }
    }

    /// Python's offset of byte `offset` of `pattern`: characters before it in a UTF-8
    /// pattern (Python's str patterns count characters), bytes otherwise.
    static func pythonOffset(_ offset: Int, in pattern: [UInt8], utf: Bool) -> Int {
        guard utf else { return offset }
        return pattern.prefix(max(0, offset)).reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// Where Python 3.11 reports a range out of order (`[b-a]`: 1) when PCRE2 reports the
    /// byte where its high end starts: Python counts back from the end of the high end by the
    /// low end's first character (two for an escape), the dash and the high end's first
    /// (two for an escape), so re.compile(r'[\x62-a]') is at 3. Nil when `high` is not there.
    static func rangeOffset(_ p: [UInt8], high: Int, utf: Bool) -> Int? {
        // The elements of every class up to `high`: (start, end) in bytes.
        var i = 0, inClass = false, elements: [(Int, Int)] = []
        func escapeEnd(_ k: Int) -> Int {
            guard k + 1 < p.count else { return p.count }
            let e = p[k + 1]
            let isOctal = { (b: UInt8) in b >= 48 && b <= 55 }
            switch e {
            case UInt8(ascii: "x"): return min(p.count, k + 4)
            case UInt8(ascii: "u"): return min(p.count, k + 6)
            case UInt8(ascii: "U"): return min(p.count, k + 10)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var j = k + 2
                while j < min(p.count, k + 4), isOctal(p[j]) { j += 1 }
                return j
            default:
                var j = k + 2
                if utf { while j < p.count, p[j] & 0xC0 == 0x80 { j += 1 } }
                return j
            }
        }
        while i < p.count, i <= high {
            let c = p[i]
            if c == UInt8(ascii: "\\") {
                let j = escapeEnd(i)
                if inClass { elements.append((i, j)) }
                i = j
                continue
            }
            var j = i + 1
            if utf { while j < p.count, p[j] & 0xC0 == 0x80 { j += 1 } }
            if !inClass {
                if c == UInt8(ascii: "[") {
                    inClass = true
                    elements = []
                    if j < p.count, p[j] == UInt8(ascii: "^") { j += 1 }
                    if j < p.count, p[j] == UInt8(ascii: "]") { elements.append((j, j + 1)); j += 1 }
                }
            } else if c == UInt8(ascii: "]") {
                inClass = false
            } else {
                elements.append((i, j))
            }
            i = j
        }
        guard inClass, let hi = elements.firstIndex(where: { $0.0 == high }), hi >= 2,
              p[elements[hi - 1].0] == UInt8(ascii: "-") else { return nil }
        let low = elements[hi - 2], highEnd = elements[hi].1
        let lowFirst = p[low.0] == UInt8(ascii: "\\") ? 2 : 1
        let highFirst = p[high] == UInt8(ascii: "\\") ? 2 : 1
        return pythonOffset(highEnd, in: p, utf: utf) - lowFirst - 1 - highFirst
    }

    private static func compile(_ p: PythonPattern, options: UInt32, runtime: RegexRuntime, pattern: [UInt8] = []) throws -> OpaquePointer {
        var code: Int32 = 0
        var offset = 0
        let compiled: OpaquePointer? = p.pcre.withUnsafeBufferPointer { b in
            pcre2_compile_8(b.baseAddress ?? UnsafePointer(bitPattern: 1), b.count, options, &code, &offset, runtime.compileContext)
        }
        guard let compiled else {
            // Python names the parenthesis or bracket left open where PCRE2 names the end.
            var at = p.originalOffset(offset)
            if code == PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS, let open = p.unclosedParen { at = open }
            if code == PCRE2_ERROR_MISSING_SQUARE_BRACKET, let open = p.unclosedClass { at = open }
            let utf = options & PCRE2_UTF != 0
            if code == 108, let range = rangeOffset(pattern, high: at, utf: utf) {  // PCRE2_ERROR_CLASS_RANGE_ORDER
                throw Failure(description: "bad pattern at offset \(range): \(errorMessage(code))")
            }
            at = pythonOffset(at, in: pattern, utf: utf)
            throw Failure(description: "bad pattern at offset \(at): \(errorMessage(code))")
        }
        pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE))  // falls back to the interpreter where JIT is missing
        return compiled
    }

    /// PCRE2's text for an error code.
    static func errorMessage(_ code: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buf, buf.count)
        return n > 0 ? String(decoding: buf[0..<Int(n)], as: UTF8.self) : "error \(code)"
    }

    private static func nameTable(_ code: OpaquePointer) -> [(Int, String)] {
        var count: UInt32 = 0, entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        guard count > 0 else { return [] }
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard let table else { return [] }
        var out: [(Int, String)] = []
        for e in 0..<Int(count) {
            let entry = table + e * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            var len = 0
            while len < Int(entrySize) - 2, entry[2 + len] != 0 { len += 1 }
            out.append((number, String(decoding: UnsafeBufferPointer(start: entry + 2, count: len), as: UTF8.self)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    private func code(for mode: Mode) throws -> OpaquePointer {
        switch mode {
        case .search: return searchCode
        case .match:
            if let anchoredCode { return anchoredCode }
            let c = try CompiledRegex.compile(translated, options: options | PCRE2_ANCHORED, runtime: runtime)
            anchoredCode = c
            shared.pointee.anchored_code = UnsafeMutableRawPointer(c)
            return c
        case .fullmatch:
            if let fullCode { return fullCode }
            let c = try CompiledRegex.compile(translated, options: options | PCRE2_ANCHORED | PCRE2_ENDANCHORED, runtime: runtime)
            fullCode = c
            shared.pointee.full_code = UnsafeMutableRawPointer(c)
            return c
        }
    }

    /// Looks for a match in `subject` from byte `offset`; true when one was found (read it
    /// with `span`). `notEmptyAtStart` refuses an empty match at `offset` (how iteration
    /// steps past an empty match, as Python 3.7+ does).
    ///
    /// A search tries the start positions a window at a time (PCRE2's offset limit), with a
    /// checkpoint of `lua` (Ctrl-C and the instruction budget) around each window: the
    /// match limit bounds the work at one start position, not the sum over a long subject,
    /// so a pattern that backtracks a little at every position could otherwise run for
    /// minutes out of reach of Ctrl-C. The window grows while calls are quick and shrinks
    /// when one takes long, so a plain search makes few calls. PCRE2 does not say how many
    /// steps a call took, so the budget is charged by time: one instruction per
    /// `RegexRuntime.nanosecondsPerInstruction` (about what Lua runs), at least one per 64
    /// bytes tried.
    ///
    /// When an empty match at `offset` was refused and nothing else was found, the search
    /// is tried again from the next character: PCRE2 10.42 takes `(?:x|\A){0}` for an
    /// anchored pattern and does not move on from a refused empty match (Python's finditer
    /// finds the empty match at every position).
    func exec(_ subject: UnsafeRawBufferPointer, from offset: Int, mode: Mode, notEmptyAtStart: Bool = false,
              checkpoint lua: LuaState) throws -> Bool {
        if try execOnce(subject, from: offset, mode: mode, notEmptyAtStart: notEmptyAtStart, checkpoint: lua) { return true }
        guard notEmptyAtStart, mode == .search else { return false }
        let next = step(subject, from: offset)
        guard next <= subject.count else { return false }
        return try execOnce(subject, from: next, mode: mode, notEmptyAtStart: false, checkpoint: lua)
    }

    private func execOnce(_ subject: UnsafeRawBufferPointer, from offset: Int, mode: Mode, notEmptyAtStart: Bool,
                          checkpoint lua: LuaState) throws -> Bool {
        let c = try code(for: mode)
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)
        var options: UInt32 = notEmptyAtStart ? PCRE2_NOTEMPTY_ATSTART : 0
        guard mode == .search else {
            try lua.checkpoint(cost: 1)
            pcre2_set_offset_limit_8(runtime.matchContext, CompiledRegex.unset)
            let began = RegexRuntime.now()
            let rc = mlshim_re_match(UnsafeRawPointer(c), base, subject.count, offset, options, UnsafeMutableRawPointer(matchData), UnsafeMutableRawPointer(runtime.matchContext))
            try lua.checkpoint(cost: RegexRuntime.cost(nanoseconds: RegexRuntime.now() &- began, bytes: subject.count - offset))
            return try CompiledRegex.outcome(rc)
        }
        var start = offset
        while true {
            let window = runtime.searchWindow
            let last = subject.count - start <= window
            let limit = last ? CompiledRegex.unset : start + window  // the last start position this call tries
            try lua.checkpoint(cost: 1)
            pcre2_set_offset_limit_8(runtime.matchContext, limit)
            let began = RegexRuntime.now()
            let rc = mlshim_re_match(UnsafeRawPointer(c), base, subject.count, start, options, UnsafeMutableRawPointer(matchData), UnsafeMutableRawPointer(runtime.matchContext))
            let took = RegexRuntime.now() &- began
            runtime.adapt(tookNanoseconds: took)
            try lua.checkpoint(cost: RegexRuntime.cost(nanoseconds: took, bytes: last ? subject.count - start : window))
            if last || rc != PCRE2_ERROR_NOMATCH { return try CompiledRegex.outcome(rc) }
            start = step(subject, from: limit)
            if start > subject.count { return false }
            options = 0
        }
    }

    /// PCRE2_UNSET: no offset limit.
    private static let unset = Int(bitPattern: UInt.max)

    private static func outcome(_ rc: Int32) throws -> Bool {
        if rc >= 0 { return true }
        if rc == PCRE2_ERROR_NOMATCH { return false }
        if rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT {
            throw Failure(description: "the match gave up (\(CompiledRegex.errorMessage(rc))): the pattern backtracks too much on this text")
        }
        throw Failure(description: "match failed: \(CompiledRegex.errorMessage(rc))")
    }

    /// Group `k`'s byte range in the last match (0: the whole match), nil when it did not
    /// take part.
    func span(_ k: Int) -> Range<Int>? {
        let ov = pcre2_get_ovector_pointer_8(matchData)
        guard let ov, k <= groupCount else { return nil }
        let s = ov[2 * k], e = ov[2 * k + 1]
        if s == ~0 || e == ~0 { return nil }
        return Int(s)..<Int(e)
    }

    /// The ovector of the last match (pairs of byte offsets for groups 0...groupCount,
    /// `PCRE2_UNSET` for a group that did not take part), for a match object to copy.
    func withOvector<R>(_ body: (UnsafePointer<Int>?) -> R) -> R {
        body(pcre2_get_ovector_pointer_8(matchData).map { UnsafePointer($0) })
    }

    /// Pushes the `{name = group number}` table of this pattern, whose userdata is at
    /// `index`, and returns true; pushes nothing and returns false when it has no named
    /// groups. The table is made once per pattern and kept beside it (weakly).
    func pushNames(_ lua: LuaState, patternAt index: Int32) -> Bool {
        guard !names.isEmpty, let tables = runtime.namesTables else { return false }
        let at = lua.absolute(index)
        tables.push(lua)
        lua.pushValue(at: at)
        if lua.rawGet(of: -2) == .table {
            lua.remove(at: -2)
            return true
        }
        lua.pop()
        lua.createTable(array: 0, record: Int32(names.count))
        for (k, name) in names {
            lua.push(name)
            lua.push(integer: Int64(k))
            lua.rawSetPair(of: -3)
        }
        lua.pushValue(at: at)
        lua.pushValue(at: -2)
        lua.rawSetPair(of: -4)  // [tables, names]
        lua.remove(at: -2)
        return true
    }

    /// The offset just after the character at `offset` (a byte, or a UTF-8 sequence in
    /// UTF mode): where iteration resumes after an empty match that could not be extended.
    func step(_ subject: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var i = offset + 1
        if isUTF { while i < subject.count, subject[i] & 0xC0 == 0x80 { i += 1 } }
        return i
    }
}

/// What every regex of one Lua state shares: the compile context (newline is `\n` only, as
/// Python's), and the match context with its JIT stack and match limit (a pattern that
/// backtracks without end gives up with an error instead of hanging the state).
final class RegexRuntime {
    let compileContext: OpaquePointer?
    let matchContext: OpaquePointer?
    private let jitStack: OpaquePointer?
    /// A weak-keyed table of the state: pattern userdata -> its `{name = group number}`
    /// (set by the `re` module when it installs).
    var namesTables: LuaRef?

    init() {
        compileContext = pcre2_compile_context_create_8(nil)
        if let c = compileContext { pcre2_set_newline_8(c, UInt32(PCRE2_NEWLINE_LF)) }
        matchContext = pcre2_match_context_create_8(nil)
        // Python's re has no stack limit: (.)*$ or ^(\w+\s?)*$ runs over megabytes of text.
        // PCRE2's JIT needs a frame per repeat it may backtrack into (about 16 bytes), so
        // this 8 MiB stack gives up near 500 KB; mlshim_re_match then runs the match again
        // on a 512 MiB stack of its own and frees it (so its pages do not stay resident).
        jitStack = pcre2_jit_stack_create_8(32 << 10, 8 << 20, nil)
        if let m = matchContext {
            mlshim_re_assign_stack(UnsafeMutableRawPointer(m), UnsafeMutableRawPointer(jitStack))
            pcre2_set_match_limit_8(m, 50_000_000)
            pcre2_set_heap_limit_8(m, 64 << 10)  // KiB: the interpreter's backtracking memory (no JIT)
        }
        if let c = compileContext { pcre2_set_max_pattern_length_8(c, CompiledRegex.maxPatternBytes * 4) }  // after translation
    }

    /// Start positions one search call tries (see `CompiledRegex.exec`): doubled after a
    /// call under a millisecond, halved after one over ten.
    /// (Kept in C memory: rematch.c's fast search reads and adapts it too.)
    var searchWindow: Int {
        get { searchWindowPointer.pointee }
        set { searchWindowPointer.pointee = newValue }
    }
    let searchWindowPointer: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 4096)
        return p
    }()

    func adapt(tookNanoseconds ns: UInt64) {
        if ns < 1_000_000 { searchWindow = min(searchWindow << 1, 1 << 24) }
        else if ns > 10_000_000 { searchWindow = max(searchWindow >> 1, 1) }
    }

    static let nanosecondsPerInstruction: UInt64 = 10

    /// Instructions charged for a PCRE2 call that took `ns` over `bytes` of subject.
    static func cost(nanoseconds ns: UInt64, bytes: Int) -> Int {
        max(Int(clamping: ns / nanosecondsPerInstruction), bytes / 64) + 1
    }

    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    deinit {
        if let c = compileContext { pcre2_compile_context_free_8(c) }
        if let m = matchContext { pcre2_match_context_free_8(m) }
        if let j = jitStack { pcre2_jit_stack_free_8(j) }
        searchWindowPointer.deallocate()
    }
}
