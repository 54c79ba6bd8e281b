import LuaShim

/// Loading and calling: the one protected entry point for every call into Lua.
extension LuaState {
    /// Compiles a chunk. Stack: [] -> [function]; on a syntax error nothing is pushed and
    /// a `LuaError(.syntax)` is thrown.
    /// - Parameters:
    ///   - name: the chunk name (`"=[3]"` shows as `[3]:1:` in messages).
    ///   - mode: `"t"` for text only (binary chunks refused), `"bt"` for both.
    public func load(_ code: String, name: String, mode: String = "t") throws {
        var code = code
        let status: Int32 = code.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) {
                mlshim_loadbuffer(L, $0.baseAddress, $0.count, name, mode)
            }
        }
        if status != LUA_OK {
            let msg = string(at: -1) ?? "error loading chunk"
            pop()
            throw LuaError(status == LUA_ERRMEM ? .memory : .syntax, msg)
        }
    }

    /// Calls the function below `nargs` arguments under the message handler.
    /// Stack: [f a1..an] -> [r1..rk] (k = nresults, or all with `LUA_MULTRET`).
    /// Errors come back as `LuaError` with message and traceback; the stack is then as
    /// it was below `f`.
    public func pcall(nargs: Int32, nresults: Int32 = LUA_MULTRET) throws {
        let base = top - nargs
        mlshim_pushmsghandler(L)
        insert(at: base)
        let saved = mlshim_enter_lua(L)  // Lua code is held to the memory ceiling again
        let status = mlshim_pcall(L, nargs, nresults, base)
        mlshim_leave_lua(L, saved)
        remove(at: base)
        guard status != LUA_OK else { return }
        throw popError(status: status)
    }

    /// The error that a failed protected call left on top (`status` its non-OK status),
    /// popped, as `pcall` throws it: message and traceback split, `.interrupted` when
    /// Ctrl-C is pending. For C code that calls Lua under LuaKit's message handler itself
    /// (`mlshim_call_rewards`). Stack: [e] -> [].
    public func popError(status: Int32) -> LuaError {
        let raw = type(at: -1) == .string ? (string(at: -1) ?? "") : describe(at: -1)
        pop()
        var e = LuaState.splitError(raw, status: status)
        if interruptible && LuaInterrupt.isPending { e.kind = .interrupted }
        return e
    }

    /// Splits the message handler's output into message and traceback.
    static func splitError(_ raw: String, status: Int32) -> LuaError {
        let kind: LuaError.Kind = status == LUA_ERRMEM ? .memory : status == LUA_ERRERR ? .handler : .runtime
        let marker = Array("\nstack traceback:".utf8)
        let bytes = Array(raw.utf8)
        if bytes.count >= marker.count {
            for i in 0...(bytes.count - marker.count) where bytes[i] == 10 && Array(bytes[i..<(i + marker.count)]) == marker {
                return LuaError(kind, String(decoding: bytes[..<i], as: UTF8.self),
                                traceback: String(decoding: bytes[(i + 1)...], as: UTF8.self))
            }
        }
        return LuaError(kind, raw)
    }

    /// Runs a chunk and returns the number of values it left on the stack.
    /// Stack: [] -> [r1..rk].
    @discardableResult
    public func run(_ code: String, name: String = "=input") throws -> Int32 {
        let before = top
        try load(code, name: name)
        try pcall(nargs: 0)
        return top - before
    }

    /// Runs a chunk and returns its first result as text (tests and `-e` use it).
    public func evaluate(_ code: String) throws -> String {
        let n = try run("return " + code, name: "=input")
        defer { pop(n) }
        return n > 0 ? describe(at: -n) : ""
    }
}

/// The process-wide interrupt flag that SIGINT sets (Ctrl-C), read atomically from any
/// thread. Running Lua code sees it in moonlab's hook (and cannot swallow it with `pcall`:
/// once set, every Lua instruction raises until the host clears it). A main thread with no
/// budget runs without a hook, at lua5.4's speed; raising the flag hooks it, as lua.c's
/// SIGINT handler does, and coroutines keep a count hook of their own. Swift loops poll
/// `isPending` or call `check()` between their steps; AlignMath's kernels read it through
/// the probe that `Workbench` installs (`Interruption`).
public enum LuaInterrupt {
    /// Installs the SIGINT handler (without SA_RESTART, so a blocking read wakes up).
    /// - Parameter secondExits: a second Ctrl-C while the first is still pending ends the
    ///   process with status 130 (scripts); the prompt passes false (Ctrl-C never exits).
    public static func installHandler(secondExits: Bool = false) { mlshim_install_sigint(secondExits ? 1 : 0) }
    /// Whether an interrupt is pending.
    public static var isPending: Bool { mlshim_interrupt_pending() != 0 }
    /// Clears a pending interrupt (the host does this when control is back at the prompt).
    public static func clear() { mlshim_clear_interrupt() }
    /// Raises the flag as SIGINT would (for tests and for a second way to stop work).
    public static func raise() { mlshim_raise_interrupt() }
    /// Throws `LuaError.interrupted` when an interrupt is pending: call it between the rows of
    /// a Swift loop (a worker pool, a loop over records) so Ctrl-C stops the loop.
    public static func check() throws { if isPending { throw LuaError.interrupted } }
    /// A C function that reports the flag (non-zero when pending), for layers that cannot
    /// import LuaKit (AlignMath's `Interruption.install(probe:)`).
    public static let probe: @convention(c) () -> Int32 = { mlshim_interrupt_pending() }
}

extension LuaState {
    /// Compiles a file (a first line starting with `#` is skipped, as lua.c does).
    /// Stack: [] -> [function]. Errors (unreadable file, syntax) throw `LuaError(.syntax)`.
    public func load(file path: String, mode: String = "t") throws {
        let status = luaL_loadfilex(L, path, mode)
        if status != LUA_OK {
            let msg = string(at: -1) ?? "cannot load \(path)"
            pop()
            throw LuaError(status == LUA_ERRMEM ? .memory : .syntax, msg)
        }
    }
}
