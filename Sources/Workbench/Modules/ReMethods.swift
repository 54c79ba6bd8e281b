import LuaKit
import LuaShim

/// The methods of a compiled pattern (`re.pattern`), which the module functions
/// (`re.search(pattern, ...)`) call with the cached compiled pattern in place of the text.
/// Offsets given and returned are 1-based, ends inclusive, as `string.find`'s.
enum ReMethods {
    typealias Method = @Sendable (CompiledRegex, LuaArguments) throws -> Int32

    /// The largest string `sub` builds when the state has no memory ceiling.
    static let maxResultBytes = 1 << 31

    static let all: [(String, String, Method)] = [
        ("match", ReDocs.match, { r, a in try find(r, a, mode: .match) }),
        ("search", ReDocs.search, { r, a in try find(r, a, mode: .search) }),
        ("fullmatch", ReDocs.fullmatch, { r, a in try find(r, a, mode: .fullmatch) }),
        ("findall", ReDocs.findall, findall),
        ("sub", ReDocs.sub, sub),
        ("split", ReDocs.split, split),
        ("finditer_step", ReDocs.step, step),
    ]

    /// `re.NAME(pattern, ...)`: the same as `re.compile(pattern):NAME(...)`.
    static let moduleFunctions: [(String, String, Method)] = [
        ("match", ReDocs.moduleMatch, { r, a in try find(r, a, mode: .match) }),
        ("search", ReDocs.moduleSearch, { r, a in try find(r, a, mode: .search) }),
        ("fullmatch", ReDocs.moduleFullmatch, { r, a in try find(r, a, mode: .fullmatch) }),
        ("findall", ReDocs.moduleFindall, findall),
        ("sub", ReDocs.moduleSub, sub),
        ("split", ReDocs.moduleSplit, split),
        ("gmatch", ReDocs.moduleGmatch, gmatch),
    ]

    /// The subject at `index`: the bytes of a Lua string (numbers are not converted).
    static func subject(_ args: LuaArguments, _ index: Int32) throws -> UnsafeRawBufferPointer {
        guard args.state.type(at: index) == .string, let b = args.state.rawBytes(at: index) else {
            throw args.typeError(index, expected: "string")
        }
        return b
    }

    /// The 0-based offset of a 1-based `init` at `index` (negative counts from the end, as
    /// string.find's); nil when it lies past the end (no match possible).
    static func offset(_ args: LuaArguments, _ index: Int32, count: Int) throws -> Int? {
        guard index <= args.count, !args.state.isNil(index) else { return 0 }
        let i = try args.integer(index)
        let one = i < 0 ? max(1, count + i + 1) : max(1, i)
        return one > count + 1 ? nil : one - 1
    }

    static func find(_ r: CompiledRegex, _ args: LuaArguments, mode: CompiledRegex.Mode) throws -> Int32 {
        let s = try subject(args, 2)
        guard let from = try offset(args, 3, count: s.count) else { args.state.pushNil(); return 1 }
        if try r.exec(s, from: from, mode: mode, checkpoint: args.state) { pushMatch(args.state, r, subject: 2) } else { args.state.pushNil() }
        return 1
    }

    /// `regex:finditer_step(s, offset, after_empty)`: the next match at or after the
    /// 0-based `offset`, refusing an empty one there when the previous match was empty at
    /// that very place (Python 3.7's rule), or nil. What `gmatch` iterates with.
    static func step(_ r: CompiledRegex, _ args: LuaArguments) throws -> Int32 {
        let s = try subject(args, 2)
        let from = try args.integer(3)
        guard from >= 0, from <= s.count else { args.state.pushNil(); return 1 }
        if try r.exec(s, from: from, mode: .search, notEmptyAtStart: args.boolean(4), checkpoint: args.state) { pushMatch(args.state, r, subject: 2) } else { args.state.pushNil() }
        return 1
    }

    /// Calls `body` with each match of `r` in `s` from `from`, in Python's order (an empty
    /// match is allowed right after a non-empty one, not twice at one place), at most
    /// `limit` times (0: no limit). The spans are read from `r` inside `body`. Every
    /// search is a checkpoint (Ctrl-C, the budget), and every 1024 matches the memory
    /// ceiling is checked: what `body` pushes is not refused inside a Swift function.
    static func forEachMatch(_ r: CompiledRegex, _ s: UnsafeRawBufferPointer, from: Int = 0, limit: Int = 0,
                             _ args: LuaArguments, _ body: () throws -> Void) throws {
        var pos = from, emptyAt = -1, found = 0
        while pos <= s.count {
            guard try r.exec(s, from: pos, mode: .search, notEmptyAtStart: emptyAt == pos, checkpoint: args.state),
                  let whole = r.span(0) else { return }
            try body()
            found += 1
            if found & 1023 == 0 { try args.state.checkMemoryCeiling(for: args.function) }
            if limit > 0 && found >= limit { return }
            if whole.isEmpty { emptyAt = whole.lowerBound }
            pos = whole.upperBound
        }
    }

    static func findall(_ r: CompiledRegex, _ args: LuaArguments) throws -> Int32 {
        let lua = args.state
        let s = try subject(args, 2)
        guard let from = try offset(args, 3, count: s.count) else { lua.newTable(); return 1 }
        lua.newTable()
        let list = lua.top
        var n = 0
        try forEachMatch(r, s, from: from, args) {
            n += 1
            if r.groupCount <= 1 {
                pushSlice(lua, s, r.span(r.groupCount) ?? 0..<0)
            } else {
                lua.createTable(array: Int32(r.groupCount), record: 0)
                for k in 1...r.groupCount {
                    pushSlice(lua, s, r.span(k) ?? 0..<0)  // Python's findall gives "" for an unmatched group
                    lua.rawSet(k, of: -2)
                }
            }
            lua.rawSet(n, of: list)
        }
        return 1
    }

    /// `regex:gmatch(s)`: set in Lua on the methods table (see `ReMatchLua`), over `finditer_step`.
    static func gmatch(_ r: CompiledRegex, _ args: LuaArguments) throws -> Int32 {
        let lua = args.state
        _ = try subject(args, 2)
        guard lua.getMetatable(of: 1) else { throw args.failure("no methods on the pattern") }
        lua.getField("__methods")
        lua.getField("gmatch")
        lua.pushValue(at: 1)
        lua.pushValue(at: 2)
        try lua.pcall(nargs: 2, nresults: 1)
        return 1
    }

    static func sub(_ r: CompiledRegex, _ args: LuaArguments) throws -> Int32 {
        let lua = args.state
        let replType = lua.type(at: 2)
        guard replType == .string || replType == .function else { throw args.typeError(2, expected: "string or function") }
        let s = try subject(args, 3)
        let count = try args.integer(4, default: 0)
        guard count >= 0 else { throw args.error(4, "count must be >= 0, got \(count)") }
        var template: ReplacementTemplate?
        if replType == .string {
            do { template = try ReplacementTemplate(try args.bytes(2), groups: r.groupCount, names: r.names) } catch let e as ReplacementTemplate.Invalid {
                throw args.error(2, e.description)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var last = 0, n = 0
        // The result is built in Swift memory: it may not pass what the state may still
        // allocate (or 2 GiB without a ceiling): `re.sub("", ("x"):rep(1e6), s)` asks for TBs.
        let most = min(lua.memoryHeadroom ?? Int.max, ReMethods.maxResultBytes)
        try forEachMatch(r, s, limit: count, args) {
            guard let whole = r.span(0) else { return }
            if out.count > most { throw args.failure("the result would be larger than \(most >> 20) MiB (not enough memory)") }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[last..<whole.lowerBound]))
            if let template {
                for piece in template.pieces {
                    switch piece {
                    case .text(let t): out += t
                    case .group(let k): if let g = r.span(k) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[g])) }
                    }
                }
            } else {
                lua.pushValue(at: 2)
                pushMatch(lua, r, subject: 3)
                try lua.pcall(nargs: 1, nresults: 1)
                let t = lua.type(at: -1)
                // nil puts nothing there, as Python's re.sub does where the function returns None.
                guard t == .string || t == .number || t == .nil, let b = t == .nil ? [] : lua.bytes(at: -1) else {
                    let got = lua.typeName(at: -1)
                    lua.pop()
                    throw args.failure("the replacement function returned \(got), expected a string")
                }
                out += b
                lua.pop()
            }
            last = whole.upperBound
            n += 1
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[last...]))
        if out.count > most { throw args.failure("the result would be larger than \(most >> 20) MiB (not enough memory)") }
        lua.push(bytes: out)
        lua.push(n)
        return 2
    }

    static func split(_ r: CompiledRegex, _ args: LuaArguments) throws -> Int32 {
        let lua = args.state
        let s = try subject(args, 2)
        let maxsplit = try args.integer(3, default: 0)
        guard maxsplit >= 0 else { throw args.error(3, "maxsplit must be >= 0, got \(maxsplit)") }
        lua.newTable()
        let list = lua.top
        var n = 0, last = 0
        func append(_ range: Range<Int>?) {
            n += 1
            if let range { pushSlice(lua, s, range) } else { lua.push(boolean: false) }
            lua.rawSet(n, of: list)
        }
        try forEachMatch(r, s, limit: maxsplit, args) {
            guard let whole = r.span(0) else { return }
            append(last..<whole.lowerBound)
            if r.groupCount > 0 { for k in 1...r.groupCount { append(r.span(k)) } }  // unmatched: false
            last = whole.upperBound
        }
        append(last..<s.count)
        return 1
    }

    private static func pushSlice(_ lua: LuaState, _ s: UnsafeRawBufferPointer, _ range: Range<Int>) {
        lua.push(bytes: UnsafeRawBufferPointer(rebasing: s[range]))
    }

    /// Pushes the last match of `r` (whose userdata is argument 1) as a match object over
    /// the subject string at stack index `subject` (LuaShim's rematch.c: the spans and a
    /// reference to the subject; a group's text is cut only when read).
    static func pushMatch(_ lua: LuaState, _ r: CompiledRegex, subject: Int32) {
        let names = r.pushNames(lua, patternAt: 1)
        r.withOvector { ovector in
            mlshim_rematch_push(lua.L, ovector, Int32(r.groupCount), subject, names ? -1 : 0)
        }
        if names { lua.remove(at: -2) }
    }

    /// Python's `re.escape`: every byte that has a meaning in a pattern gets a backslash.
    static func escape(_ s: [UInt8]) -> [UInt8] {
        let special = Set("()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count * 2)
        for b in s {
            if special.contains(b) { out.append(92) }
            out.append(b)
        }
        return out
    }
}
