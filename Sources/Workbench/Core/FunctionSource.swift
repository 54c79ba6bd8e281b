import LuaKit

/// `moonlab.source(f)`: the text that defined a Lua function, from the chunk it was
/// compiled from (a prompt entry, `-e`, standard input, `load(s)`) or its file.
extension Workbench {
    static let getinfoKey = "moonlab.getinfo"

    /// Keeps `debug.getinfo` where a sandbox cannot take it away (called before plugins
    /// and the sandbox are set up).
    func keepGetinfo() {
        lua.pushRegistry()
        if lua.getGlobal("debug") == .table { _ = lua.getField("getinfo"); lua.remove(at: -2) }
        lua.setField(Workbench.getinfoKey)
        lua.pop()
    }

    /// Adds `moonlab.source` to the table on top of the stack. Stack-neutral.
    func installSourceLookup() {
        lua.push(function: "moonlab.source") { args in
            guard let wb = Workbench.of(args.state) else { throw args.failure("no workbench") }
            var index: Int32 = 1
            if args.type(1) == .string {
                let path = try args.string(1)
                guard Help.pushPath(args.state, path) else { throw args.error(1, "no such name '\(path)'") }
                index = args.state.top
            }
            guard args.state.type(at: index) == .function else { throw args.typeError(1, expected: "function") }
            do { args.state.push(try wb.functionSource(at: index)) } catch let e as FunctionSourceError {
                throw args.failure(e.message)
            }
            return 1
        }
        Help.register(lua, value: -1, name: "moonlab.source", doc: """
            moonlab.source(fn) -> string
            The source text of a Lua function: the lines that define it, from the prompt entry,
            chunk or file it was compiled from (a string names a function: "reward.define").
            A native function has no Lua source: its doc is help(fn). `??fn` at the prompt
            prints the same.
            Example: function double(x) return 2 * x end; moonlab.source(double)
            """, isModule: false)
        lua.setField("source")
    }

    /// The defining lines of the Lua function at `index`; throws `FunctionSourceError`
    /// saying why they are not known (a native function, a chunk whose text is gone).
    public func functionSource(at index: Int32) throws -> String {
        let index = lua.absolute(index)
        let name = Help.entry(lua, at: index)?.name
        lua.pushRegistry()
        _ = lua.getField(Workbench.getinfoKey)
        lua.remove(at: -2)
        guard lua.type(at: -1) == .function else { lua.pop(); throw FunctionSourceError(message: "debug.getinfo is not available") }
        lua.pushValue(at: index)
        lua.push("S")
        try lua.pcall(nargs: 2, nresults: 1)
        defer { lua.pop() }
        _ = lua.getField("what"); let what = lua.string(at: -1) ?? ""; lua.pop()
        _ = lua.getField("source"); let source = lua.string(at: -1) ?? ""; lua.pop()
        _ = lua.getField("linedefined"); let first = lua.integer(at: -1) ?? 0; lua.pop()
        _ = lua.getField("lastlinedefined"); let last = lua.integer(at: -1) ?? 0; lua.pop()
        if what == "C" {
            let shown = name.map { "'\($0)'" } ?? "this function"
            throw FunctionSourceError(message: "\(shown) is native (Swift or C), it has no Lua source; help(\(name ?? "fn")) shows its doc", native: true)
        }
        let text: String
        if source.hasPrefix("=") {
            guard let t = chunkSources[String(source.dropFirst())] else {
                throw FunctionSourceError(message: "the text of chunk \(source.dropFirst()) was not kept")
            }
            text = t
        } else if source.hasPrefix("@") {
            let path = String(source.dropFirst())
            if options.sandbox { throw FunctionSourceError(message: "reading \(path) is not allowed in the sandbox") }
            guard let t = Platform.readFile(path) else { throw FunctionSourceError(message: "cannot read \(path)") }
            text = t
        } else {
            text = source  // load(s) without a chunk name: the source is the code itself
        }
        guard first > 0 else { return text }  // a main chunk: all of it
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first <= lines.count else { throw FunctionSourceError(message: "the text of \(source) changed since the function was defined") }
        return lines[(first - 1)..<min(last, lines.count)].joined(separator: "\n")
    }
}

/// Why `moonlab.source` cannot show a function's text.
public struct FunctionSourceError: Error, CustomStringConvertible {
    public var message: String
    /// The function is Swift or C: it has a doc, not a source.
    public var native = false
    public var description: String { message }
}
