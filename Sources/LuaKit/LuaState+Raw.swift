import LuaShim

/// Raw, inlinable access to the stack for hot loops in the layers above (the JSON decoder
/// and encoder push and read millions of values): thin wrappers over the C API with no
/// conversion, no `String`, no array. Each doc comment states the stack effect.
extension LuaState {
    /// Pushes `count` bytes at `bytes` as a Lua string (copied by Lua).
    /// Stack: [] -> [string].
    @inlinable
    public func push(bytes: UnsafePointer<UInt8>, count: Int) {
        bytes.withMemoryRebound(to: CChar.self, capacity: max(count, 1)) {
            _ = lua_pushlstring(L, $0, count)
        }
    }

    /// Pushes the bytes of a raw buffer as a Lua string. Stack: [] -> [string].
    @inlinable
    public func push(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { lua_pushlstring(L, "", 0); return }
        _ = lua_pushlstring(L, base.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Pushes a Lua integer. Stack: [] -> [integer].
    @inlinable
    public func push(integer: Int64) { lua_pushinteger(L, integer) }

    /// Pushes a Lua float (even when integral: `1.0` stays a float). Stack: [] -> [number].
    @inlinable
    public func push(float: Double) { lua_pushnumber(L, float) }

    /// Pushes a boolean. Stack: [] -> [boolean].
    @inlinable
    public func push(boolean: Bool) { lua_pushboolean(L, boolean ? 1 : 0) }

    /// Pushes a new table with room for `array` sequence items and `record` other fields
    /// (`lua_createtable`). Stack: [] -> [table].
    @inlinable
    public func createTable(array: Int32, record: Int32) { lua_createtable(L, array, record) }

    /// `t[i] = v` without metamethods for the table at `index`, v popped (`lua_rawseti`).
    /// Stack: [v] -> [].
    @inlinable
    public func rawSet(index i: Int64, of index: Int32) { lua_rawseti(L, index, i) }

    /// `t[k] = v` without metamethods for the table at `index`, both popped (`lua_rawset`);
    /// a nil or NaN key is dropped (lua_rawset would raise). Stack: [k v] -> [].
    @inlinable
    public func rawSetPair(of index: Int32) {
        guard isStorableKey(at: -2) else { pop(2); return }
        lua_rawset(L, index)
    }

    /// Pushes `t[i]` without metamethods for the table at `index`; returns the raw type
    /// code (`LUA_TNIL`, ...). Stack: [] -> [v].
    @inlinable
    public func rawGet(index i: Int64, of index: Int32) -> Int32 { lua_rawgeti(L, index, i) }

    /// Makes room for `n` more stack slots; false if the stack cannot grow that far.
    @inlinable
    public func checkStack(_ n: Int32) -> Bool { lua_checkstack(L, n) != 0 }

    /// The raw type code of the value at `index` (`LUA_TNUMBER`, ...).
    @inlinable
    public func rawType(at index: Int32) -> Int32 { lua_type(L, index) }

    /// Whether the number at `index` is a Lua integer (not a float).
    @inlinable
    public func isInteger(at index: Int32) -> Bool { lua_isinteger(L, index) != 0 }

    /// The integer at `index` (0 if it is not a number).
    @inlinable
    public func rawInteger(at index: Int32) -> Int64 { lua_tointegerx(L, index, nil) }

    /// The float at `index` (0 if it is not a number).
    @inlinable
    public func rawNumber(at index: Int32) -> Double { lua_tonumberx(L, index, nil) }

    /// The bytes of the string at `index`, without a copy. Valid while the string stays on
    /// the stack. Numbers are NOT converted (nil for anything but a string).
    @inlinable
    public func rawBytes(at index: Int32) -> UnsafeRawBufferPointer? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var len = 0
        guard let p = lua_tolstring(L, index, &len) else { return nil }
        return UnsafeRawBufferPointer(start: p, count: len)
    }

    /// Table traversal step (`lua_next`) for the table at `index`: pops a key and pushes
    /// the next key and value; false (nothing pushed) at the end. Stack: [k] -> [k' v] or [].
    @inlinable
    public func next(of index: Int32) -> Bool { lua_next(L, index) != 0 }

    /// Copies the value at `from` into slot `to` (which keeps its place). Stack size unchanged.
    @inlinable
    public func copy(from: Int32, to: Int32) { lua_copy(L, from, to) }

    /// Whether the values at two indices are primitively equal (`lua_rawequal`).
    @inlinable
    public func rawEqual(_ a: Int32, _ b: Int32) -> Bool { lua_rawequal(L, a, b) != 0 }

    /// Pushes the value of a registry reference. Stack: [] -> [v].
    @inlinable
    public func push(ref: LuaRef) { lua_rawgeti(L, mlshim_registryindex(), lua_Integer(ref.id)) }

    /// Pushes a new full userdata of `size` bytes with no user values; the caller sets a
    /// metatable. Stack: [] -> [userdata].
    public func newUserdata(size: Int) { _ = lua_newuserdatauv(L, size, 0) }

    /// The main thread of this state (the same for every coroutine view). Use it to release
    /// references from a `deinit`, which may run while a coroutine is gone.
    public var mainThread: OpaquePointer {
        lua_rawgeti(L, mlshim_registryindex(), lua_Integer(LUA_RIDX_MAINTHREAD))
        defer { pop() }
        return lua_tothread(L, -1) ?? L
    }
}

extension LuaRef {
    /// Frees the registry slot given only the raw main thread (for a `deinit` that cannot
    /// hold the `LuaState` without a retain cycle).
    public func release(mainThread L: OpaquePointer) { luaL_unref(L, mlshim_registryindex(), id) }
}
