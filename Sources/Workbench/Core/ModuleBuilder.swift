import LuaKit

/// Builds one Lua module table (`rl`, `dist`, ...): each function is registered with its
/// docstring, so `help(rl.gae)` can print it. Stack-neutral.
public final class ModuleBuilder {
    public let state: LuaState
    public let name: String
    private let table: LuaRef

    /// Starts a module table named `name` with the module's own docstring.
    public init(_ state: LuaState, name: String, doc: String) {
        self.state = state
        self.name = name
        state.newTable()
        state.pushValue(at: -1)
        table = LuaRef(popping: state)
        Help.register(state, value: -1, name: name, doc: doc, isModule: true)
        state.setGlobal(name)
    }

    /// Adds `name.fn` with its docstring (signature line first, then meaning, options with
    /// defaults and one example).
    public func function(_ fn: String, doc: String, _ body: @escaping LuaFunction) {
        table.push(state)
        state.push(function: "\(name).\(fn)", body)
        Help.register(state, value: -1, name: "\(name).\(fn)", doc: doc, isModule: false)
        state.setField(fn, of: -2)
        state.pop()
    }

    /// Adds a constant or table field. The value is popped. Stack: [v] -> [].
    public func field(_ key: String) {
        table.push(state)
        state.insert(at: -2)
        state.setField(key, of: -2)
        state.pop()
    }

    /// Pushes the module table. Stack: [] -> [t].
    public func push() { table.push(state) }
}

/// Registers a global function with a docstring.
public func registerGlobal(_ state: LuaState, _ name: String, doc: String, _ body: @escaping LuaFunction) {
    state.push(function: name, body)
    Help.register(state, value: -1, name: name, doc: doc, isModule: false)
    state.setGlobal(name)
}
