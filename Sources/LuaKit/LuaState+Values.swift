import LuaShim

/// Pushing and reading values. Strings are byte strings in Lua: they may hold zeros and
/// invalid UTF-8, so they round-trip as `[UInt8]`; `String` reads repair invalid UTF-8.
extension LuaState {
    /// Stack: [] -> [nil].
    public func pushNil() { lua_pushnil(L) }
    /// Stack: [] -> [b].
    public func push(_ b: Bool) { lua_pushboolean(L, b ? 1 : 0) }
    /// Stack: [] -> [integer].
    public func push(_ i: Int) { lua_pushinteger(L, lua_Integer(i)) }
    /// Stack: [] -> [number].
    public func push(_ d: Double) { lua_pushnumber(L, d) }
    /// Stack: [] -> [string].
    public func push(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }
    /// Pushes bytes as a Lua string (embedded zeros kept). Stack: [] -> [string].
    public func push(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }
    /// Pushes a Lua array of numbers. Stack: [] -> [table].
    public func push(array: [Double]) {
        lua_createtable(L, Int32(clamping: array.count), 0)
        for (i, x) in array.enumerated() {
            lua_pushnumber(L, x)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }
    /// Pushes a Lua array of strings. Stack: [] -> [table].
    public func push(strings: [String]) {
        lua_createtable(L, Int32(clamping: strings.count), 0)
        for (i, s) in strings.enumerated() {
            push(s)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }
    /// Pushes a new table. Stack: [] -> [table].
    public func newTable(arrayCount: Int = 0, recordCount: Int = 0) {
        lua_createtable(L, Int32(clamping: arrayCount), Int32(clamping: recordCount))
    }

    /// Pushes a value of the `LuaValue` model. Stack: [] -> [v].
    public func push(_ value: LuaValue) {
        // nested tables recurse: keep room for a key, a value and the table at each level
        guard lua_checkstack(L, 3) != 0 else { pushNil(); return }
        switch value {
        case .nil: pushNil()
        case .boolean(let b): push(b)
        case .integer(let i): push(i)
        case .number(let d): push(d)
        case .string(let bytes): push(bytes: bytes)
        case .table(let pairs):
            newTable(recordCount: pairs.count)
            for (k, v) in pairs {
                push(k)
                push(v)
                rawSet(of: -3)  // a nil or NaN key is dropped, never raised across this frame
            }
        }
    }

    // MARK: reading

    /// True if the value at `index` is nil or absent.
    public func isNil(_ index: Int32) -> Bool { lua_type(L, index) <= 0 }

    /// The number at `index`, converting numeric strings as Lua does; nil otherwise.
    public func number(at index: Int32) -> Double? {
        var ok: Int32 = 0
        let d = mlshim_tonumber(L, index, &ok)
        return ok != 0 ? d : nil
    }

    /// The value at `index` as an integer if it is one (or a float with an exact integer value).
    public func integer(at index: Int32) -> Int? {
        var ok: Int32 = 0
        let i = mlshim_tointeger(L, index, &ok)
        return ok != 0 ? Int(i) : nil
    }

    /// Lua truthiness of the value at `index`.
    public func boolean(at index: Int32) -> Bool { lua_toboolean(L, index) != 0 }

    /// The bytes of a string (or number, converted in place as Lua does) at `index`.
    public func bytes(at index: Int32) -> [UInt8]? {
        let t = lua_type(L, index)
        guard t == LUA_TSTRING || t == LUA_TNUMBER else { return nil }
        var len = 0
        guard let p = mlshim_tolstring(L, index, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    /// Runs `body` over the bytes of the string at `index`, read in place (no copy); nil if the
    /// value is not a string. The buffer is valid only inside `body`.
    public func withStringBytes<R>(at index: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var len = 0
        guard let p = mlshim_tolstring(L, index, &len) else { return nil }
        return try body(UnsafeRawBufferPointer(start: p, count: len))
    }

    /// The bytes of each string of the Lua array at `index`, read in place; nil if an entry is
    /// not a string. The strings stay alive while the table holds them, so the buffers are
    /// valid for the rest of a Swift function called with the table as an argument, as long
    /// as the table is not changed.
    public func stringBuffers(arrayAt index: Int32) -> [UnsafeRawBufferPointer]? {
        guard type(at: index) == .table else { return nil }
        let idx = absolute(index)
        let n = rawLength(at: idx)
        var out: [UnsafeRawBufferPointer] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let t = lua_rawgeti(L, idx, lua_Integer(i + 1))
            defer { pop() }
            guard t == LUA_TSTRING else { return nil }
            var len = 0
            guard let p = mlshim_tolstring(L, -1, &len) else { return nil }
            out.append(UnsafeRawBufferPointer(start: p, count: len))
        }
        return out
    }

    /// The string at `index` (numbers converted), decoded as UTF-8 with repair.
    public func string(at index: Int32) -> String? {
        let t = lua_type(L, index)
        guard t == LUA_TSTRING || t == LUA_TNUMBER else { return nil }
        var len = 0
        guard let p = mlshim_tolstring(L, index, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// `tostring(v)` as Lua computes it (honours `__tostring` and `__name`). Leaves the
    /// stack as it was.
    public func describe(at index: Int32) -> String {
        var len = 0
        let p = mlshim_safe_tolstring(L, index, &len)
        defer { pop() }
        guard let p else { return "?" }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// Reads the value at `index` into the `LuaValue` model (tables recursively; functions,
    /// userdata and threads are not representable and give nil). Cycle-safe by depth limit.
    public func value(at index: Int32, depth: Int = 32) -> LuaValue? {
        let idx = absolute(index)
        guard lua_checkstack(L, 3) != 0 else { return nil }  // room for a key and a value per level
        switch type(at: idx) {
        case .nil, .none: return .nil
        case .boolean: return .boolean(boolean(at: idx))
        case .number:
            if lua_isinteger(L, idx) != 0, let i = integer(at: idx) { return .integer(i) }
            return number(at: idx).map { .number($0) }
        case .string: return bytes(at: idx).map { .string($0) }
        case .table:
            guard depth > 0 else { return nil }
            var pairs: [LuaValue: LuaValue] = [:]
            lua_pushnil(L)
            while lua_next(L, idx) != 0 {
                if let k = value(at: -2, depth: depth - 1), let v = value(at: -1, depth: depth - 1) { pairs[k] = v }
                pop()
            }
            return .table(pairs)
        default: return nil
        }
    }

    /// Length of the value at `index` without metamethods (`#t` for a sequence).
    public func rawLength(at index: Int32) -> Int { Int(lua_rawlen(L, index)) }

    /// A Lua array of numbers at `index` read into Swift; nil if any element is not a number.
    public func numberArray(at index: Int32) -> [Double]? {
        guard type(at: index) == .table else { return nil }
        let idx = absolute(index)
        let n = rawLength(at: idx)
        var failed = false
        let out = [Double](unsafeUninitializedCapacity: n) { buf, count in
            if let p = buf.baseAddress { failed = readNumbers(at: idx, count: n, into: p) != nil }
            count = n
        }
        return failed ? nil : out
    }

    /// Reads `t[1...count]` of the table at `index` into `out` in one C loop (numbers as
    /// they are, booleans as 1/0). Returns nil, or the 1-based position of the first entry
    /// that is neither. `out` must hold `count` doubles. Stack-neutral.
    public func readNumbers(at index: Int32, count: Int, into out: UnsafeMutablePointer<Double>) -> Int? {
        let bad = mlshim_read_numbers(L, index, count, out)
        return bad == 0 ? nil : Int(bad)
    }

    /// Reads `t[1...count]` of the table at `index` into `out` as flags in one C loop: true/false
    /// and the numbers 1/0 (RL's `dones`). Returns nil, or the 1-based position of the first
    /// entry that is neither. `out` must hold `count` bytes. Stack-neutral.
    public func readFlags(at index: Int32, count: Int, into out: UnsafeMutablePointer<UInt8>) -> Int? {
        let bad = mlshim_read_flags(L, index, count, out)
        return bad == 0 ? nil : Int(bad)
    }

    /// Whether `readNumbers`/`readFlags` read a table's array part in place (a mirror of Lua
    /// 5.4's table layout, checked against the running library) rather than entry by entry
    /// through the API. Both give the same values either way; only the speed differs.
    public var readsArraysInPlace: Bool { mlshim_table_peek_works(L) != 0 }

    /// A Lua array of strings at `index`; nil if any element is not a string.
    public func stringArray(at index: Int32) -> [String]? {
        guard type(at: index) == .table else { return nil }
        let idx = absolute(index)
        let n = rawLength(at: idx)
        var out: [String] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let t = lua_rawgeti(L, idx, lua_Integer(i + 1))
            defer { pop() }
            guard t == LUA_TSTRING, let s = string(at: -1) else { return nil }
            out.append(s)
        }
        return out
    }
}
