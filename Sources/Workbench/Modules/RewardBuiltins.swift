import LuaKit

extension Workbench {
    /// Documents the built-in rewards (registered by `RewardLua`) and adds their
    /// constructors `reward.format`, `reward.length`, `reward.accuracy`, `reward.repetition`.
    static func installBuiltinRewards(_ m: ModuleBuilder) throws {
        let lua = m.state
        for (name, doc) in RewardDocs.builtins {
            try RewardLibrary.pushField(lua, "lib", "rewards")
            guard lua.getField(name) == .table else { lua.pop(2); throw LuaScriptError("built-in reward '\(name)' missing") }
            Help.register(lua, value: -1, name: "reward \(name)", doc: doc, isModule: false)
            lua.push(doc)
            lua.setField("doc", of: -2)
            lua.pop(2)
        }
        for (name, doc) in RewardDocs.constructors {
            m.function(name, doc: doc, RewardLibrary.forwarder(name))
        }
    }
}
