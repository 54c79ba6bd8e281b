import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where plugins are looked for, in order (Docs/design.md, "Plugins"): each `--plugin-path`,
/// each folder of `$MOONLAB_PATH` (colon-separated), `./Plugins`,
/// `~/.local/share/moonlab/plugins`, then the bundled plugins, found from the executable:
/// `<exe dir>/../share/moonlab/plugins` (an install under a prefix), `<exe dir>/Plugins`
/// (a copied folder), and, in a `swift build` tree, the `Plugins/` beside the first
/// `Package.swift` above the executable. A folder that is itself a plugin (it holds a
/// `plugin.lua`) counts as one plugin; otherwise each subfolder with a `plugin.lua` is one.
/// A folder reached twice (same real path) is searched once.
public struct PluginSearch {
    /// A folder to search and what put it on the list ("--plugin-path", "MOONLAB_PATH", ...).
    public struct Root: Equatable { public var path: String; public var origin: String }

    public var roots: [Root]

    /// Whether `./Plugins`, the user folder and the bundled plugins are searched after the
    /// given paths (tests turn it off to see only their own plugins).
    public static var searchDefaultFolders: Bool {
        get { defaultFolders.load(ordering: .relaxed) }
        set { defaultFolders.store(newValue, ordering: .relaxed) }
    }
    private static let defaultFolders = Atomic<Bool>(true)

    public init(pluginPaths: [String], environment: (String) -> String? = Platform.environment,
                executable: String? = PluginSearch.executablePath()) {
        var r: [Root] = pluginPaths.map { Root(path: $0, origin: "--plugin-path") }
        for p in (environment("MOONLAB_PATH") ?? "").split(separator: ":") where !p.isEmpty {
            r.append(Root(path: String(p), origin: "MOONLAB_PATH"))
        }
        if PluginSearch.searchDefaultFolders {
            r.append(Root(path: "Plugins", origin: "./Plugins"))
            // $XDG_DATA_HOME (default ~/.local/share), as the session recordings
            let data = environment("XDG_DATA_HOME").flatMap { $0.isEmpty ? nil : $0 } ?? ((environment("HOME") ?? "/tmp") + "/.local/share")
            r.append(Root(path: data + "/moonlab/plugins", origin: "user"))
            for b in PluginSearch.bundledFolders(executable: executable) { r.append(Root(path: b, origin: "bundled")) }
        }
        roots = r
    }

    /// The folders bundled plugins may be in, from the executable's location.
    static func bundledFolders(executable: String?) -> [String] {
        guard let exe = executable, let dir = parent(exe) else { return [] }
        var out = [dir + "/../share/moonlab/plugins", dir + "/Plugins"]
        var d: String? = dir
        while let cur = d, cur != "/" && !cur.isEmpty {
            if exists(cur + "/Package.swift") { out.append(cur + "/Plugins"); break }
            d = parent(cur)
        }
        return out
    }

    /// Folders given with `--plugin-path` that hold no plugin: missing, not a folder, or with
    /// no `plugin.lua` in it or in a subfolder (a typo would otherwise go unnoticed).
    public func problems() -> [String] {
        roots.filter { $0.origin == "--plugin-path" }.compactMap { root in
            guard let real = PluginSearch.realPath(root.path), isDirectory(real) else {
                return "--plugin-path \(root.path): no such folder"
            }
            if exists(real + "/plugin.lua") || PluginSearch.subfolders(real).contains(where: { exists($0 + "/plugin.lua") }) {
                return nil
            }
            return "--plugin-path \(root.path): no plugin in it (a plugin is a folder with a plugin.lua)"
        }
    }

    /// Plugin folders in search order, each with the root it was found under.
    public func candidates() -> [(folder: String, root: Root)] {
        var seen = Set<String>()
        var out: [(String, Root)] = []
        for root in roots {
            guard let real = PluginSearch.realPath(root.path), isDirectory(real) else { continue }
            let folders = exists(real + "/plugin.lua") ? [real] : PluginSearch.subfolders(real).filter { exists($0 + "/plugin.lua") }
            for f in folders {
                guard let rf = PluginSearch.realPath(f), seen.insert(rf).inserted else { continue }
                out.append((rf, root))
            }
        }
        return out
    }

    /// The running executable (`/proc/self/exe` on Linux, else `argv[0]`).
    public static func executablePath() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 { return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments.first.flatMap { realPath($0) }
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func parent(_ p: String) -> String? {
        guard let slash = p.lastIndex(of: "/") else { return nil }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    static func subfolders(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            if isDirectory(dir + "/" + name) { names.append(name) }
        }
        return names.sorted().map { dir + "/" + $0 }
    }
}

func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}
