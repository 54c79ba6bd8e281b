import LuaKit

/// The built-in globals a user can clobber by accident at the prompt (`function reward(s)`
/// replaces the `reward` module): moonlab's modules, `help`, and Lua's own libraries. Their
/// values are kept in the registry when the state is ready, so `moonlab.restore` can put
/// one back and the prompt can warn, once per name, when an entry replaced one.
final class BuiltinGlobals {
    static let registryKey = "moonlab.builtins"
    /// Lua's standard libraries, protected like moonlab's modules.
    static let luaLibraries = ["coroutine", "debug", "io", "math", "os", "package", "string", "table", "utf8"]

    /// Names of the protected globals, sorted.
    private(set) var names: [String] = []
    /// What the user's globals are not: every global name when the state was ready.
    private(set) var initialGlobals: Set<String> = []
    /// Names already warned about (cleared when the value is back).
    private var warned: Set<String> = []

    /// Records the protected values as they are now (after every module and plugin).
    func snapshot(_ lua: LuaState) {
        lua.pushGlobals()
        initialGlobals = Set(lua.stringKeys(of: -1))
        lua.pop()
        let modules = Help.moduleNames(lua)
        names = Array(Set(modules + ["help"] + BuiltinGlobals.luaLibraries)).filter(initialGlobals.contains).sorted()
        lua.pushRegistry()
        lua.newTable(recordCount: names.count)
        for n in names {
            _ = lua.getGlobal(n)
            lua.setField(n)
        }
        lua.setField(BuiltinGlobals.registryKey)
        lua.pop()
    }

    /// Pushes the value a built-in had when the state was ready. Stack: [] -> [v].
    func pushOriginal(_ lua: LuaState, _ name: String) {
        lua.pushRegistry()
        _ = lua.getField(BuiltinGlobals.registryKey)
        if lua.type(at: -1) == .table { _ = lua.getField(name) } else { lua.pushNil() }
        lua.remove(at: -2)
        lua.remove(at: -2)
    }

    /// Built-ins whose global no longer holds the original value. Stack-neutral.
    func replaced(_ lua: LuaState) -> [String] {
        names.filter { n in
            pushOriginal(lua, n)
            _ = lua.getGlobal(n)
            defer { lua.pop(2) }
            return !lua.rawEqual(-1, -2)
        }
    }

    /// One warning per built-in newly replaced since the last call (and none for one that
    /// stays replaced): what it was, what it is now, and how to get it back.
    func warnings(_ lua: LuaState) -> [String] {
        let now = Set(replaced(lua))
        warned.formIntersection(now)
        let fresh = now.subtracting(warned).sorted()
        warned.formUnion(fresh)
        return fresh.map { n in
            _ = lua.getGlobal(n)
            let kind = lua.typeName(at: -1)
            lua.pop()
            let was = BuiltinGlobals.luaLibraries.contains(n) ? "Lua's \(n) library"
                : n == "help" ? "moonlab's help function" : "moonlab's \(n) module"
            let now = kind == "nil" ? "is now nil" : "now holds a \(kind)"
            let back = n == "moonlab" ? ":reset starts over" : "moonlab.restore(\"\(n)\") brings it back, :reset starts over"
            return "warning: '\(n)' was \(was) and \(now); \(back)"
        }
    }

    /// Puts a built-in back. Stack: [] -> [the value].
    func restore(_ lua: LuaState, _ name: String) {
        pushOriginal(lua, name)
        lua.pushValue(at: -1)
        lua.setGlobal(name)
        warned.remove(name)
    }
}

extension Workbench {
    /// `moonlab.restore`, `moonlab.source` and the snapshot of the built-ins: the last step
    /// of setting up a state, once every module and plugin is in.
    func installBuiltinGuard() {
        builtins.snapshot(lua)
        guard lua.getGlobal("moonlab") == .table else { lua.pop(); return }
        let guardian = builtins
        lua.push(function: "moonlab.restore") { args in
            let lua = args.state
            if args.count == 0 || args.isNil(1) {
                let names = guardian.replaced(lua)
                for n in names { guardian.restore(lua, n); lua.pop() }
                lua.push(strings: names)
                return 1
            }
            let name = try args.string(1)
            guard guardian.names.contains(name) else {
                throw args.error(1, "'\(name)' is not a built-in module; built-ins are: " + guardian.names.joined(separator: ", "))
            }
            guardian.restore(lua, name)
            return 1
        }
        Help.register(lua, value: -1, name: "moonlab.restore", doc: """
            moonlab.restore([name]) -> module
            Puts a built-in module (or help, or one of Lua's libraries) back after an assignment
            replaced it, e.g. after `function reward(s) ... end` at the prompt. With no name,
            restores every replaced one and returns their names. The rest of the state stays.
            Example: moonlab.restore("reward")
            """, isModule: false)
        lua.setField("restore")
        installSourceLookup()
        installShow()
        lua.pop()
    }
}
