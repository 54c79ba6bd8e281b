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
