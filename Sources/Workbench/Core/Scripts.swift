import LuaKit

extension Workbench {
    /// Runs a script file as `lua5.4 FILE ARGS...` does: `arg[0]` is the file, `arg[1..]`
    /// the arguments (also passed as `...`). Throws the Lua error with its traceback.
    public func runFile(_ path: String, arguments: [String] = []) throws {
        setArgTable(script: path, arguments: arguments)
        lua.resetBudget()
        try lua.load(file: path)
        for a in arguments { lua.push(a) }
        try lua.pcall(nargs: Int32(arguments.count), nresults: 0)
    }

    /// Runs `MOONLAB_INIT`'s value: Lua code, or `@FILE` (run as `lua5.4` runs a script:
    /// `arg[0]` is FILE). What ran is kept (`initChunk`) for the headers of sessions recorded
    /// from here, so a replay runs it again before the first entry.
    public func runInit(_ value: String) throws {
        var name = "=MOONLAB_INIT", code = value
        if value.hasPrefix("@") {
            let path = String(value.dropFirst())
            guard let text = Platform.readFile(path) else { throw SessionError("cannot read \(path)") }
            name = "@" + path
            code = text
        }
        initChunk = (name, code)
        try runInitChunk(name: name, code: code)
    }

    /// Runs an init chunk as `runInit` does (a replay: the code the session recorded).
    public func runInitChunk(name: String, code: String) throws {
        var code = code
        if name.hasPrefix("@") {
            setArgTable(script: String(name.dropFirst()), arguments: [])
            // as luaL_loadfile: a first line starting with # (a shebang) is skipped, its newline kept
            if code.hasPrefix("#") { code = String(code.drop(while: { $0 != "\n" })) }
        }
        try runChunk(code, name: name)
    }

    /// Runs a chunk of code as a script (no auto-print), e.g. piped standard input.
    public func runChunk(_ code: String, name: String) throws {
        lua.resetBudget()
        try lua.load(code, name: name)
        rememberChunk(name, code)
        try lua.pcall(nargs: 0, nresults: 0)
    }

    /// Sets the global `arg` table as lua.c does.
    public func setArgTable(script: String, arguments: [String]) {
        lua.newTable()
        lua.push("moonlab"); lua.rawSet(-1, of: -2)
        lua.push(script); lua.rawSet(0, of: -2)
        for (i, a) in arguments.enumerated() { lua.push(a); lua.rawSet(i + 1, of: -2) }
        lua.setGlobal("arg")
    }
}
