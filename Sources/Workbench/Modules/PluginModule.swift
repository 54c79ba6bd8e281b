import LuaKit

extension Workbench {
    /// The `plugin` module, the `spec` helpers and the sandbox; then, unless told not to,
    /// the plugins found along the search path are loaded (Docs/design.md, "Plugins").
    static func installPlugin(_ wb: Workbench) throws {
        let lua = wb.lua
        try installSpec(wb)
        try RewardLibrary.install(lua)
        let o = wb.options
        let callInstructions = o.instructionBudget ?? PluginManager.sandboxInstructions
        let callMemory = o.memoryLimit ?? PluginManager.sandboxMemory
        try lua.load(PluginLua.source, name: "=plugin")
        lua.pushRegistry(); lua.getField(RewardLibrary.libraryKey); lua.remove(at: -2)
        lua.push(function: "sandboxed call") { args in
            let lua = args.state
            guard args.type(1) == .function else { throw args.typeError(1, expected: "function") }
            try lua.withCallLimits(instructions: callInstructions, memory: callMemory) {
                try lua.pcall(nargs: args.count - 1)
            }
            return lua.top
        }
        try lua.pcall(nargs: 2, nresults: 1)
        let helper = LuaRef(popping: lua)
        if o.sandbox {
            helper.push(lua); lua.getField("restrict"); lua.remove(at: -2)
            try lua.pcall(nargs: 0, nresults: 0)
            if lua.instructionBudget == nil { lua.instructionBudget = PluginManager.sandboxInstructions }
            if lua.memoryLimit == nil { lua.memoryLimit = PluginManager.sandboxMemory }
        }
        let manager = PluginManager(search: PluginSearch(pluginPaths: o.pluginPaths), sandboxAll: o.sandbox,
                                    helper: helper, callInstructions: callInstructions, callMemory: callMemory)
        lua.userInfo["moonlab.plugins"] = manager
        wb.pluginLister = { wb in
            (PluginManager.of(wb.lua)?.records ?? []).compactMap { r in
                guard r.status == .loaded, let m = r.manifest else { return nil }
                return SessionFormat.Header.Plugin(name: m.name, version: m.version.description)
            }
        }
        installPluginModule(lua)
        if o.loadPlugins {
            manager.discover(lua)
            manager.loadAll(lua, only: o.onlyPlugins)
        }
    }

    /// `moonlab plugins list` and `:plugins`: one entry per plugin found.
    public func pluginListing() -> String {
        guard let m = PluginManager.of(lua) else { return "plugins are not available in this state" }
        m.discoverIfNeeded(lua)
        if m.records.isEmpty { return "no plugins found (searched: \(m.search.roots.map(\.path).joined(separator: ", ")))" }
        return m.records.map(\.summary).joined(separator: "\n")
    }

    private static func installPluginModule(_ lua: LuaState) {
        let m = ModuleBuilder(lua, name: "plugin", doc: PluginDocs.module)
        m.function("list", doc: PluginDocs.list) { args in
            let lua = args.state
            let mgr = try manager(args)
            lua.newTable(arrayCount: mgr.records.count)
            for (i, r) in mgr.records.enumerated() { PluginInfo.push(lua, r); lua.rawSet(i + 1, of: -2) }
            return 1
        }
        m.function("info", doc: PluginDocs.info) { args in
            let r = try record(args)
            PluginInfo.push(args.state, r)
            return 1
        }
        m.function("load", doc: PluginDocs.load) { args in
            try args.checkFileAccess()  // it reads a plugin's files from the search path
            let mgr = try manager(args)
            let name = try args.string(1)
            if mgr.record(named: name) == nil { mgr.discover(args.state) }  // a folder made since start
            let r = try record(args)
            do { try mgr.load(args.state, r) } catch { throw args.failure("\(error)") }
            PluginInfo.push(args.state, r)
            return 1
        }
        m.function("reload", doc: PluginDocs.reload) { args in
            try args.checkFileAccess()
            let mgr = try manager(args)
            let r = try record(args)
            do { try mgr.reload(args.state, r) } catch { throw args.failure("\(error)") }
            PluginInfo.push(args.state, r)
            return 1
        }
        m.function("sampler", doc: PluginDocs.sampler) { args in
            let mgr = try manager(args)
            let name = try args.string(1)
            try mgr.pushHelper(args.state, "samplers")
            let t = args.state.getField(name)
            args.state.remove(at: -2)
            if t == .nil { args.state.pop(); throw args.failure("no plugin provides a sampler '\(name)'") }
            return 1
        }
        m.function("paths", doc: PluginDocs.paths) { args in
            let mgr = try manager(args)
            let lua = args.state
            lua.newTable(arrayCount: mgr.search.roots.count)
            for (i, root) in mgr.search.roots.enumerated() {
                lua.newTable(recordCount: 2)
                lua.push(root.path); lua.setField("path")
                lua.push(root.origin); lua.setField("origin")
                lua.rawSet(i + 1, of: -2)
            }
            return 1
        }
    }

    private static func manager(_ args: LuaArguments) throws -> PluginManager {
        guard let m = PluginManager.of(args.state) else { throw args.failure("plugins are not available in this state") }
        m.discoverIfNeeded(args.state)
        return m
    }

    private static func record(_ args: LuaArguments) throws -> PluginRecord {
        let mgr = try manager(args)
        let name = try args.string(1)
        guard let r = mgr.record(named: name) else { throw args.failure("\(PluginError.unknown(name))") }
        return r
    }
}
