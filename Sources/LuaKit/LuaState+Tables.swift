import LuaShim

/// Tables and globals. Each doc comment states the stack effect.
extension LuaState {
    /// Pushes `t[key]` (with metamethods) for the value at `index`; returns its type.
    /// A metamethod that raises gives nil here (use `field(_:of:)` to see the error);
    /// nothing unwinds the caller. Stack: [] -> [v].
    @discardableResult
    public func getField(_ key: String, of index: Int32 = -1) -> LuaType {
        var failed: Int32 = 0
        let t = mlshim_safe_getfield(L, index, key, &failed)
        if failed != 0 {
            pop()
            pushNil()
            return .nil
        }
        return LuaType(rawValue: t) ?? .none
    }

    /// Pushes `t[key]` like `getField`, but a raising `__index` is thrown as a `LuaError`
    /// (nothing pushed then).
    @discardableResult
    public func field(_ key: String, of index: Int32 = -1) throws -> LuaType {
        var failed: Int32 = 0
        let t = mlshim_safe_getfield(L, index, key, &failed)
        if failed != 0 {
            let msg = string(at: -1) ?? "error in __index"
            pop()
            throw LuaError(.runtime, msg)
        }
        return LuaType(rawValue: t) ?? .none
    }

    /// `t[key] = v` for the table at `index`, v popped, in protected mode: a `__newindex`
    /// that raises never unwinds the caller. Returns false (the value dropped) when it
    /// raised; use `storeField` to get the error. Stack: [v] -> [].
    @discardableResult
    public func setField(_ key: String, of index: Int32 = -2) -> Bool {
        var failed: Int32 = 0
        mlshim_safe_setfield(L, index, key, &failed)
        if failed != 0 { pop(); return false }
        return true
    }

    /// `t[key] = v` like `setField`, but a raising `__newindex` is thrown as a `LuaError`.
    /// Stack: [v] -> [].
    public func storeField(_ key: String, of index: Int32 = -2) throws {
        var failed: Int32 = 0
        mlshim_safe_setfield(L, index, key, &failed)
        if failed != 0 { throw popError("error in __newindex") }
    }

    /// Pushes the global `name` in protected mode (a strict-mode `_G` whose `__index`
    /// raises gives nil here); returns its type. Stack: [] -> [v].
    @discardableResult
    public func getGlobal(_ name: String) -> LuaType {
        var failed: Int32 = 0
        let t = mlshim_safe_getglobal(L, name, &failed)
        if failed != 0 { pop(); pushNil(); return .nil }
        return LuaType(rawValue: t) ?? .none
    }

    /// Pushes the global `name` like `getGlobal`, but a raising `__index` is thrown (nothing
    /// pushed then). Stack: [] -> [v].
    @discardableResult
    public func global(_ name: String) throws -> LuaType {
        var failed: Int32 = 0
        let t = mlshim_safe_getglobal(L, name, &failed)
        if failed != 0 { throw popError("error in __index") }
        return LuaType(rawValue: t) ?? .none
    }

    /// Pops a value into the global `name` in protected mode; false (the value dropped) when
    /// the globals' `__newindex` raised. Stack: [v] -> [].
    @discardableResult
    public func setGlobal(_ name: String) -> Bool {
        var failed: Int32 = 0
        mlshim_safe_setglobal(L, name, &failed)
        if failed != 0 { pop(); return false }
        return true
    }

    /// Pops a value into the global `name` like `setGlobal`, but a raising `__newindex` is
    /// thrown. Stack: [v] -> [].
    public func storeGlobal(_ name: String) throws {
        var failed: Int32 = 0
        mlshim_safe_setglobal(L, name, &failed)
        if failed != 0 { throw popError("error in __newindex") }
    }

    /// Pops the error value a protected helper left on top as a `LuaError`.
    private func popError(_ fallback: String) -> LuaError {
        let msg = type(at: -1) == .string ? (string(at: -1) ?? fallback) : describe(at: -1)
        pop()
        return LuaError(LuaInterrupt.isPending && interruptible ? .interrupted : .runtime, msg)
    }

    /// Pushes `t[i]` without metamethods. Stack: [] -> [v].
    @discardableResult
    public func rawGet(_ i: Int, of index: Int32 = -1) -> LuaType {
        LuaType(rawValue: lua_rawgeti(L, index, lua_Integer(i))) ?? .none
    }

    /// `t[i] = v` without metamethods, v popped. Stack: [v] -> [].
    public func rawSet(_ i: Int, of index: Int32 = -2) { lua_rawseti(L, index, lua_Integer(i)) }

    /// Pushes `t[k]` without metamethods, k popped. Stack: [k] -> [v].
    @discardableResult
    public func rawGet(of index: Int32) -> LuaType { LuaType(rawValue: lua_rawget(L, index)) ?? .none }

    /// `t[k] = v` without metamethods, both popped. A nil or NaN key (which `lua_rawset`
    /// would raise on, across the caller's frame) is dropped instead: returns false.
    /// Stack: [k v] -> [].
    @discardableResult
    public func rawSet(of index: Int32) -> Bool {
        guard isStorableKey(at: -2) else { pop(2); return false }
        lua_rawset(L, index)
        return true
    }

    /// Whether the value at `index` can be a table key (not nil, not NaN).
    @inlinable
    public func isStorableKey(at index: Int32) -> Bool {
        let t = lua_type(L, index)
        if t == LUA_TNIL || t == LUA_TNONE { return false }
        if t == LUA_TNUMBER, lua_isinteger(L, index) == 0 { return !lua_tonumberx(L, index, nil).isNaN }
        return true
    }

    /// Iterates a table's pairs. Inside `body` the key is at -2 and the value at -1;
    /// leave the stack as you found it. Return false to stop.
    public func forEachPair(of index: Int32, _ body: () throws -> Bool) rethrows {
        let idx = absolute(index)
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            let goOn = try body()
            pop()
            if !goOn { pop(); return }
        }
    }

    /// The string keys of the table at `index` (for completion and option checks).
    public func stringKeys(of index: Int32) -> [String] {
        var keys: [String] = []
        forEachPair(of: index) {
            if lua_type(L, -2) == LUA_TSTRING, let k = string(at: -2) { keys.append(k) }
            return true
        }
        return keys
    }

    /// Pushes the metatable of the value at `index`, if any. Stack: [] -> [mt] or [].
    public func getMetatable(of index: Int32) -> Bool { lua_getmetatable(L, index) != 0 }

    /// Pops a table and sets it as the metatable of the value at `index`. Stack: [mt] -> [].
    public func setMetatable(of index: Int32) { lua_setmetatable(L, index) }

    /// Pushes the registry table. Stack: [] -> [registry].
    public func pushRegistry() { lua_pushvalue(L, mlshim_registryindex()) }

    /// Pushes the global table. Stack: [] -> [_G].
    public func pushGlobals() { mlshim_pushglobaltable(L) }
}

/// A reference to a Lua value held in the registry, so Swift can keep a table or a
/// function across calls. Released with `release()` or when the state goes away.
public struct LuaRef: Hashable {
    public let id: Int32
    /// Pops the top value into the registry. Stack: [v] -> [].
    public init(popping state: LuaState) { id = luaL_ref(state.L, mlshim_registryindex()) }
    /// Pushes the referenced value. Stack: [] -> [v].
    public func push(_ state: LuaState) { lua_rawgeti(state.L, mlshim_registryindex(), lua_Integer(id)) }
    /// Frees the registry slot.
    public func release(_ state: LuaState) { luaL_unref(state.L, mlshim_registryindex(), id) }
}
