import LuaKit

/// One plugin folder that was found: its manifest (when it is valid), where it came from,
/// and what loading it did.
public final class PluginRecord {
    public enum Status: String, Sendable {
        /// Found, not loaded (`--no-plugins`, or not asked for yet).
        case available
        case loaded
        /// Tried and failed; `error` says why.
        case failed
        /// Another plugin of the same name was found first and wins.
        case shadowed
    }

    public let folder: String
    /// What put its folder on the search list: "--plugin-path", "MOONLAB_PATH", "./Plugins", "user", "bundled".
    public let origin: String
    public internal(set) var manifest: PluginManifest?
    public internal(set) var name: String
    public internal(set) var status: Status = .available
    public internal(set) var error: String?
    /// What its last load registered, by kind ("rewards", "detectors", "samplers").
    public internal(set) var registered: [String: [String]] = [:]
    /// The folder of the plugin that shadows this one.
    public internal(set) var shadowedBy: String?
    /// The `unload` function of the table `init.lua` returned.
    var unload: LuaRef?

    init(folder: String, origin: String) {
        self.folder = folder
        self.origin = origin
        name = folder.split(separator: "/").last.map(String.init) ?? folder
    }

    public var manifestPath: String { folder + "/plugin.lua" }
    public var initPath: String { folder + "/init.lua" }
    public var specPath: String { folder + "/spec.lua" }
    public var sandboxed: Bool { manifest?.sandbox ?? false }

    /// One line for `moonlab plugins list` and `:plugins`.
    public var summary: String {
        let version = manifest.map { $0.version.description } ?? "?"
        var s = "\(name) \(version)  \(status.rawValue)  \(folder) (\(origin))"
        if let e = error { s += "\n    " + e }
        return s
    }
}
