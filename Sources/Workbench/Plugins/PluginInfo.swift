import LuaKit

/// The table `plugin.info(name)` and each entry of `plugin.list()` are.
enum PluginInfo {
    /// Pushes `{name, version, description, path, origin, status, error, sandbox, requires,
    /// provides = {rewards, detectors, samplers}, registered = {...}}`. Stack: [] -> [t].
    static func push(_ lua: LuaState, _ r: PluginRecord) {
        lua.newTable(recordCount: 11)
        lua.push(r.name); lua.setField("name")
        if let m = r.manifest {
            lua.push(m.version.description); lua.setField("version")
            lua.push(m.description); lua.setField("description")
            if let req = m.requires { lua.push(req.description); lua.setField("requires") }
            lua.push(m.sandbox); lua.setField("sandbox")
        }
        lua.push(r.folder); lua.setField("path")
        lua.push(r.origin); lua.setField("origin")
        lua.push(r.status.rawValue); lua.setField("status")
        if let e = r.error { lua.push(e); lua.setField("error") }
        pushKinds(lua, r.manifest?.provides ?? [:]); lua.setField("provides")
        pushKinds(lua, r.registered); lua.setField("registered")
    }

    private static func pushKinds(_ lua: LuaState, _ d: [String: [String]]) {
        lua.newTable(recordCount: 3)
        for k in PluginManifest.kinds { lua.push(strings: d[k] ?? []); lua.setField(k) }
    }

    /// Text for `moonlab plugins info NAME`.
    static func text(_ r: PluginRecord) -> String {
        var lines = ["\(r.name) \(r.manifest.map { $0.version.description } ?? "?")" + (r.manifest.map { ": " + $0.description } ?? "")]
        lines.append("  path      \(r.folder)")
        lines.append("  from      \(r.origin)")
        lines.append("  status    \(r.status.rawValue)" + (r.sandboxed ? " (sandboxed)" : ""))
        if let req = r.manifest?.requires { lines.append("  requires  moonlab \(req.description)") }
        for k in PluginManifest.kinds {
            let names = r.manifest?.provides[k] ?? []
            if !names.isEmpty { lines.append("  \(k.pluginPadded(9))\(names.joined(separator: ", "))") }
        }
        if let e = r.error { lines.append("  error     \(e)") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func pluginPadded(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count + 1) }
}

extension PluginRecord {
    /// What `moonlab plugins info NAME` prints.
    public var infoText: String { PluginInfo.text(self) }
}
