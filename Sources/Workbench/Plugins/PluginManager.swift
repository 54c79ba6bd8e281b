import Synchronization
import LuaKit

/// The plugins of one workbench: found along the search path, loaded at start or on
/// demand, reloaded in place. Kept in the state's `userInfo`; it holds no reference to the
/// state (every method is handed it), so it never keeps a state alive.
public final class PluginManager {
    /// Defaults of a sandboxed call (a sandboxed plugin's init.lua or one of its functions).
    public static let sandboxInstructions = 100_000_000
    public static let sandboxMemory = 256 << 20

    public private(set) var records: [PluginRecord] = []
    let search: PluginSearch
    let sandboxAll: Bool
    let helper: LuaRef
    let callInstructions: Int
    let callMemory: Int
    private var discovered = false
    /// Plugin problems already written to standard error by this process (each once); worker
    /// states on other threads load plugins too.
    static let reported = Mutex<Set<String>>([])

    init(search: PluginSearch, sandboxAll: Bool, helper: LuaRef, callInstructions: Int, callMemory: Int) {
        self.search = search
        self.sandboxAll = sandboxAll
        self.helper = helper
        self.callInstructions = callInstructions
        self.callMemory = callMemory
    }

    /// Discovers once (with `--no-plugins`, the first time plugins are asked about).
    public func discoverIfNeeded(_ lua: LuaState) { if !discovered { discover(lua) } }

    /// The manager of a state, if the plugin module is installed.
    public static func of(_ lua: LuaState) -> PluginManager? { lua.userInfo["moonlab.plugins"] as? PluginManager }

    /// Finds plugin folders (again) and reads their manifests; records already known keep
    /// their state. A plugin whose name was taken by an earlier one is marked shadowed.
    public func discover(_ lua: LuaState) {
        discovered = true
        let known = Dictionary(records.map { ($0.folder, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [PluginRecord] = []
        for c in search.candidates() {
            if let r = known[c.folder] { out.append(r); continue }
            let r = PluginRecord(folder: c.folder, origin: c.root.origin)
            do {
                let m = try readManifest(lua, r)
                r.manifest = m
                r.name = m.name
            } catch {
                r.status = .failed
                r.error = "\(error)"
            }
            out.append(r)
        }
        var owner: [String: PluginRecord] = [:]
        for r in out where r.manifest != nil {
            if let first = owner[r.name], first !== r {
                r.status = .shadowed
                r.shadowedBy = first.folder
                r.error = "shadowed by \(first.folder) (the first plugin of a name found wins)"
            } else {
                owner[r.name] = r
            }
        }
        records = out
    }

    /// The plugin a name means: the first found with that name (not a shadowed one).
    public func record(named name: String) -> PluginRecord? {
        records.first { $0.name == name && $0.status != .shadowed }
    }

    /// Loads every plugin found that is not loaded yet (with `only`, those of these names);
    /// problems go to standard error once.
    public func loadAll(_ lua: LuaState, only: Set<String>? = nil) {
        for text in search.problems() where PluginManager.reported.withLock({ $0.insert(text).inserted }) {
            Platform.writeStderr("moonlab: " + text + "\n")
        }
        for r in records where r.status == .available && only?.contains(r.name) != false { _ = try? load(lua, r) }
        for r in records where (r.status == .failed || r.status == .shadowed) && only?.contains(r.name) != false {
            let text = r.status == .shadowed
                ? "plugin '\(r.name)' at \(r.folder) is \(r.error ?? "shadowed")"
                : "plugin '\(r.name)' (\(r.folder)) did not load: \(r.error ?? "?")"
            if PluginManager.reported.withLock({ $0.insert(text).inserted }) { Platform.writeStderr("moonlab: " + text + "\n") }
        }
    }

    /// Loads one plugin (again, if it failed before). On failure its names are taken back,
    /// the record says why, and the error is thrown.
    @discardableResult
    public func load(_ lua: LuaState, _ r: PluginRecord) throws -> PluginRecord {
        guard r.status != .loaded else { return r }
        guard r.status != .shadowed else { throw PluginError.failed(file: r.folder, message: r.error ?? "shadowed") }
        do {
            try loadChecked(lua, r)
            r.status = .loaded
            r.error = nil
        } catch {
            r.status = .failed
            r.error = "\(error)"
            throw error
        }
        return r
    }

    /// Reload: `unload()` if the plugin gave one, take back every name it registered, read
    /// its files again and load it. Names the new version does not register are gone.
    @discardableResult
    public func reload(_ lua: LuaState, _ r: PluginRecord) throws -> PluginRecord {
        if r.status == .loaded { unloadPlugin(lua, r) }
        if r.status == .shadowed { throw PluginError.failed(file: r.folder, message: r.error ?? "shadowed") }
        r.status = .available
        return try load(lua, r)
    }

    /// Calls the plugin's `unload()` (errors are written to standard error) and removes what it registered.
    func unloadPlugin(_ lua: LuaState, _ r: PluginRecord) {
        if let u = r.unload {
            u.push(lua)
            do { try lua.pcall(nargs: 0, nresults: 0) } catch let e as LuaError {
                Platform.writeStderr("moonlab: plugin '\(r.name)': unload() failed: \(e.message)\n")
            } catch {}
            u.release(lua)
            r.unload = nil
        }
        for (kind, names) in r.registered { try? callHelper(lua, "remove", kind, names) }
        r.registered = [:]
        r.status = .available
    }

    // MARK: loading steps

    private func loadChecked(_ lua: LuaState, _ r: PluginRecord) throws {
        let m = try readManifest(lua, r)
        r.manifest = m
        r.name = m.name
        if let range = m.requires, let have = SemVer(strict: Workbench.version), !range.contains(have) {
            throw PluginError.requires(file: r.manifestPath, range: range.description, have: Workbench.version)
        }
        for other in records where other !== r && other.status == .loaded {
            guard let om = other.manifest else { continue }
            for (kind, name) in m.providedNames where (om.provides[kind] ?? []).contains(name) {
                throw PluginError.duplicate(kind: kind, name: name, first: other.name, firstPath: other.folder,
                                            second: r.name, secondPath: r.folder)
            }
        }
        guard exists(r.initPath) else { throw PluginError.unreadable(file: r.initPath, message: "no init.lua in the plugin folder") }
        let before = try snapshot(lua)
        defer { before.release(lua) }
        var registered: [String: [String]] = [:]
        do {
            try runInit(lua, r, m)
            registered = try changedNames(lua, since: before)
            registered["samplers"] = try takeSamplers(lua, r)
            lua.pop()  // init's result
            r.registered = registered
            for (kind, name) in m.providedNames where !(registered[kind] ?? []).contains(name) {
                throw PluginError.notRegistered(file: r.folder, kind: kind, name: name)
            }
        } catch {
            if registered.isEmpty, let changed = try? changedNames(lua, since: before) { r.registered = changed }
            unloadPlugin(lua, r)
            if let e = error as? LuaError { throw PluginError.failed(file: r.initPath, message: e.message) }
            throw error
        }
    }

    /// Reads and validates `plugin.lua` (run in an empty environment under a small budget).
    func readManifest(_ lua: LuaState, _ r: PluginRecord) throws -> PluginManifest {
        guard exists(r.manifestPath) else { throw PluginError.unreadable(file: r.manifestPath, message: "no plugin.lua") }
        try pushHelper(lua, "read_manifest")
        lua.push(r.manifestPath)
        do {
            try lua.withCallLimits(instructions: 1_000_000, memory: 16 << 20) { try lua.pcall(nargs: 1, nresults: 1) }
        } catch let e as LuaError {
            throw PluginError.unreadable(file: r.manifestPath, message: e.message)
        }
        defer { lua.pop() }
        guard let v = lua.value(at: -1) else {
            throw PluginError.manifest(file: r.manifestPath, field: "(file)", problem: "must return a table of plain values (strings, numbers, booleans, tables)")
        }
        return try PluginManifest(v, file: r.manifestPath)
    }

    /// Runs init.lua with the plugin's info table as `...`. Stack: [] -> [result].
    private func runInit(_ lua: LuaState, _ r: PluginRecord, _ m: PluginManifest) throws {
        try pushHelper(lua, "run_init")
        lua.push(r.initPath)
        let sandboxed = m.sandbox || sandboxAll
        if sandboxed, let wb = Workbench.of(lua) {
            // everything defined in the plugin's files is sandboxed code, wherever it runs later
            let prefix = "@" + r.folder + "/"
            if !wb.sandboxedSources.contains(prefix) { wb.sandboxedSources.append(prefix) }
        }
        if sandboxed { try pushHelper(lua, "sandbox_env"); try lua.pcall(nargs: 0, nresults: 1) } else { lua.pushNil() }
        PluginInfo.push(lua, r)
        if sandboxed {
            try lua.withCallLimits(instructions: callInstructions, memory: callMemory) {
                try lua.pcall(nargs: 3, nresults: 1)
            }
        } else {
            try lua.pcall(nargs: 3, nresults: 1)
        }
    }

    /// Keeps `unload` and registers `samplers` of the table init.lua returned (on top).
    private func takeSamplers(_ lua: LuaState, _ r: PluginRecord) throws -> [String] {
        guard lua.type(at: -1) == .table else { return [] }
        if lua.getField("unload") == .function { r.unload = LuaRef(popping: lua) } else { lua.pop() }
        guard lua.getField("samplers") == .table else { lua.pop(); return [] }
        let names = lua.stringKeys(of: -1).sorted()
        try pushHelper(lua, "samplers", call: false)
        for n in names {
            lua.getField(n, of: -2)
            lua.setField(n, of: -2)
        }
        lua.pop(2)
        return names
    }

    private func snapshot(_ lua: LuaState) throws -> LuaRef {
        try pushHelper(lua, "snapshot")
        try lua.pcall(nargs: 0, nresults: 1)
        return LuaRef(popping: lua)
    }

    private func changedNames(_ lua: LuaState, since before: LuaRef) throws -> [String: [String]] {
        try pushHelper(lua, "changed")
        before.push(lua)
        try lua.pcall(nargs: 1, nresults: 1)
        defer { lua.pop() }
        var out: [String: [String]] = [:]
        for kind in ["rewards", "detectors"] {
            lua.getField(kind)
            out[kind] = lua.stringArray(at: -1) ?? []
            lua.pop()
        }
        return out
    }

    /// Pushes `H[key]`. Stack: [] -> [v].
    func pushHelper(_ lua: LuaState, _ key: String, call: Bool = true) throws {
        helper.push(lua)
        lua.getField(key)
        lua.remove(at: -2)
    }

    private func callHelper(_ lua: LuaState, _ key: String, _ kind: String, _ names: [String]) throws {
        try pushHelper(lua, key)
        lua.push(kind)
        lua.push(strings: names)
        try lua.pcall(nargs: 2, nresults: 0)
    }
}
