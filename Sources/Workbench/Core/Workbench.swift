import LuaKit
import AlignMath

/// How a workbench is set up: what the command line's global options say.
public struct WorkbenchOptions {
    public var seed: Int = 0
    public var pluginPaths: [String] = []
    /// Load the plugins found along the search path when the state starts. The command line
    /// sets it (true unless `--no-plugins`); library users and tests opt in.
    public var loadPlugins = false
    /// With `loadPlugins`, load only the plugins of these names (a replay: the session's).
    public var onlyPlugins: Set<String>? = nil
    public var sandbox = false
    /// A ceiling on what Lua allocates (bytes); nil for none.
    public var memoryLimit: Int? = nil
    /// Instructions one entry may run; nil for unlimited.
    public var instructionBudget: Int? = nil
    /// Where `print` writes, besides the capture of the current entry (stdout by default).
    public var output: ((String) -> Void)? = nil
    /// True in a state that replays a session: clock values come from the record and
    /// `session.record` does nothing (a replay does not record itself).
    public var replaying = false
    /// The size pictures are drawn at, when fixed (replay uses the recorded one).
    public var pictureSize: (columns: Int, rows: Int)? = nil
    /// Chunk-name prefixes of sandboxed code this state starts with (worker states get their
    /// parent's, so a sandboxed plugin's function sent to a worker stays sandboxed there).
    public var sandboxedSources: [String] = []
    public init() {}
}

/// One Lua state with every moonlab module in it: what the prompt, `moonlab run`, the
/// score workers and replay each hold one of.
public final class Workbench {
    public static let version = "0.1.0"
    public let lua: LuaState
    public let options: WorkbenchOptions
    /// What `print` wrote since `beginCapture()`.
    public private(set) var captured = ""
    private var capturing = false
    private let write: (String) -> Void
    /// Clock readings of the current entry, recorded or served back.
    public let clock = ClockTap()
    /// What `MOONLAB_INIT` ran (`runInit`), for session headers.
    public var initChunk: (name: String, code: String)?
    /// `math.randomseed` as installed (`reseed(row:)`).
    var randomseedRef: LuaRef?
    /// Model calls of the current entry, recorded or served back (see `ModelTap`).
    public let modelTap = ModelTap()
    /// The session being recorded, if any.
    public var recorder: SessionRecorder?
    /// The built-in globals, kept to warn about and undo an accidental assignment.
    let builtins = BuiltinGlobals()
    /// The text of every chunk run by name (`[3]` for prompt entry 3), so that
    /// `moonlab.source` can show a function defined at the prompt.
    var chunkSources: [String: String] = [:]
    /// Chunk-name prefixes of sandboxed code (each sandboxed plugin's folder, and what such a
    /// plugin loads): a function from one of them on the call stack makes `FileAccess` refuse.
    public internal(set) var sandboxedSources: [String] = [FileAccess.sandboxedChunkPrefix]

    public init(options: WorkbenchOptions = WorkbenchOptions()) throws {
        self.options = options
        for p in options.sandboxedSources where !sandboxedSources.contains(p) { sandboxedSources.append(p) }
        lua = try LuaState(memoryLimit: options.memoryLimit, instructionBudget: options.instructionBudget)
        // Lua's generational mode, as the lua5.4 interpreter runs: the collections tensor
        // memory drives are then minor ones, which do not mark a large heap of old tables
        // (TensorMemory); a script may switch back with collectgarbage("incremental").
        lua.generationalCollector = true
        write = options.output ?? Platform.writeStdout
        Interruption.install(probe: LuaInterrupt.probe)
        lua.userInfo["workbench"] = WeakWorkbench(self)  // weak: the state must not keep its owner alive
        installPrint()
        installSettings()
        keepGetinfo()
        try installDeterminism()
        registerGlobal(lua, "help", doc: """
            help([x])
            Prints the docstring of a documented function or module; with no argument lists the
            modules. A string names a path: help("rl.gae").
            Example: help(rl.gae)
            """) { args in
            let wb = Workbench.of(args.state)
            let text = args.count == 0 ? Help.overview(args.state) : Help.text(args.state, at: 1)
            wb?.emit(text + "\n")
            return 0
        }
        for install in Workbench.moduleInstallers { try install(self) }
        installBuiltinGuard()
    }

    /// Built-in globals that an assignment replaced since the last call, one warning each
    /// (`'reward' was moonlab's reward module ...; moonlab.restore("reward") brings it back`).
    public func builtinWarnings() -> [String] { builtins.warnings(lua) }

    /// Global names that were not there when the state was ready: the user's variables.
    public func isUserGlobal(_ name: String) -> Bool { !builtins.initialGlobals.contains(name) && name != "_" }

    /// Keeps the text of a chunk, so functions defined in it can be shown (`??f`).
    public func rememberChunk(_ name: String, _ text: String) {
        let key = name.hasPrefix("=") || name.hasPrefix("@") ? String(name.dropFirst()) : name
        chunkSources[key] = text
    }

    /// Module installers, one per Lua module file (`tensor`, `dist`, ...), run in order.
    static let moduleInstallers: [@Sendable (Workbench) throws -> Void] = [
        installTiming, installSession, installTensor, installDist, installRL, installPref, installMetrics, installData,
        installRandom, installSample, installReward, installDetect, installRe,
        installPlot, installModel, installSynth, installPlugin,  // plugins last: they load now and see every module
    ]

    /// The header of a session recorded from this workbench now.
    public func sessionHeader() -> SessionFormat.Header {
        var h = SessionFormat.Header()
        h.seed = options.seed
        h.started = SessionFormat.timestamp()
        if lua.getGlobal("_VERSION") == .string, let v = lua.string(at: -1) { h.lua = v }
        lua.pop()
        h.plugins = loadedPlugins()
        h.pictureSize = pictureSize
        h.initChunk = initChunk
        h.sandbox = options.sandbox
        return h
    }

    /// Plugins loaded in this state (name and version), for session headers.
    public func loadedPlugins() -> [SessionFormat.Header.Plugin] {
        pluginLister?(self) ?? []
    }

    /// Set by the plugin system when it is installed in this workbench: lists loaded plugins.
    var pluginLister: ((Workbench) -> [SessionFormat.Header.Plugin])?

    /// Starts recording this session to `path` (the header is written at once).
    public func startRecording(path: String) throws {
        recorder = try SessionRecorder(path: path, header: sessionHeader())
    }

    /// The workbench that owns a state (from inside a Swift function called by Lua).
    public static func of(_ state: LuaState) -> Workbench? { (state.userInfo["workbench"] as? WeakWorkbench)?.value }

    /// Writes text as `print` does: to the output and into the capture.
    public func emit(_ text: String) {
        if capturing { captured += Workbench.strippingANSI(text) }  // sessions hold plain text
        write(text)
    }

    /// Text without ANSI escape sequences (colours), as sessions record it.
    public static func strippingANSI(_ text: String) -> String {
        guard text.utf8.contains(0x1b) else { return text }
        var out = String.UnicodeScalarView()
        var it = text.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\u{1b}" else { out.append(u); continue }
            guard let next = it.next() else { break }
            if next == "[" {  // CSI: parameters, then a final byte in @...~
                while let c = it.next(), !(c.value >= 0x40 && c.value <= 0x7e) {}
            }
        }
        return String(out)
    }

    /// The size pictures are drawn at: the terminal's, or the size a replayed session
    /// recorded, so a replay draws the same picture.
    public var pictureSize: (columns: Int, rows: Int) {
        if let s = options.pictureSize { return s }
        let t = Platform.terminalSize()
        return Platform.isTerminal(1) ? (t.columns, t.rows - 1) : t
    }

    /// Starts collecting what `print` writes (for the session record of one entry).
    public func beginCapture() { captured = ""; capturing = true }

    /// Stops collecting and returns what was printed.
    public func endCapture() -> String { capturing = false; return captured }

    /// `print` that goes through `emit`, so the prompt and sessions see it.
    private func installPrint() {
        registerGlobal(lua, "print", doc: """
            print(...)
            Lua's print: writes its arguments with tostring, tab-separated, and a newline. At the
            prompt what it writes is also recorded in the session.
            Example: print("reward", 0.5)
            """) { args in
            var parts: [String] = []
            for i in 1...max(1, args.count) where i <= args.count {
                parts.append(args.state.describe(at: i))
            }
            Workbench.of(args.state)?.emit(parts.joined(separator: "\t") + "\n")
            return 0
        }
    }

    /// The `moonlab` table: version, prompts and print limits, settable from Lua.
    private func installSettings() {
        lua.newTable()
        lua.push(Workbench.version); lua.setField("version")
        lua.push("> "); lua.setField("prompt")
        lua.push(">> "); lua.setField("prompt2")
        let d = PrintLimits()
        lua.push(d.depth); lua.setField("print_depth")
        lua.push(d.items); lua.setField("print_items")
        lua.push(d.width); lua.setField("print_width")
        lua.push(options.seed); lua.setField("seed")
        lua.push(Platform.wantsColor(1)); lua.setField("color")
        Help.register(lua, value: -1, name: "moonlab", doc: """
            moonlab: settings of this session
            Fields: version, seed, prompt ("> "), prompt2 (">> "), print_depth (4),
            print_items (40), print_width (100), color (true when standard output is a terminal
            and NO_COLOR is unset; false turns off the prompt's and plot's colours).
            Example: moonlab.print_items = 10
            """, isModule: true)
        lua.setGlobal("moonlab")
    }

    /// Reads a setting from the `moonlab` table (or lua.c's `_PROMPT`/`_PROMPT2`).
    public func setting(_ key: String) -> String? {
        if key == "prompt" || key == "prompt2" {
            let g = key == "prompt" ? "_PROMPT" : "_PROMPT2"
            if lua.getGlobal(g) == .string { defer { lua.pop() }; return lua.string(at: -1) }
            lua.pop()
        }
        guard lua.getGlobal("moonlab") == .table else { lua.pop(); return nil }
        lua.getField(key)
        defer { lua.pop(2) }
        return lua.isNil(-1) ? nil : lua.describe(at: -1)
    }

    /// The print limits as the `moonlab` table sets them now.
    public var printLimits: PrintLimits {
        var l = PrintLimits()
        if let s = setting("print_depth"), let v = Int(s) { l.depth = min(max(1, v), LuaLimits.maxDepth) }
        if let s = setting("print_items"), let v = Int(s) { l.items = min(max(1, v), LuaLimits.maxCount) }
        if let s = setting("print_width"), let v = Int(s) { l.width = min(max(20, v), 1_000_000) }
        return l
    }
}

/// The state's link back to its workbench, weak so that dropping a workbench closes its
/// Lua state (a strong link would be a cycle: Workbench -> LuaState -> userInfo).
final class WeakWorkbench {
    weak var value: Workbench?
    init(_ w: Workbench) { value = w }
}
